import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRange, sliceUnits } from '../src/range.js';

test('single ranges', () => {
  assert.equal(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.equal(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.equal(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.equal(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
  assert.equal(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange(' bytes = 1 - 2 ', 1000), { start: 1, end: 2 });
});

test('unsatisfiable ranges', () => {
  assert.is(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.is(parseRange('bytes=1000-2000', 1000), 'unsatisfiable');
  assert.is(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.is(parseRange('bytes=0-', 0), 'unsatisfiable');
});

test('ignored headers: absent, malformed, other units, several ranges', () => {
  assert.is(parseRange(undefined, 10), undefined);
  assert.is(parseRange('bytes=5-2', 10), undefined);
  assert.is(parseRange('items=0-1', 10), undefined);
  assert.is(parseRange('bytes=0-1,3-4', 10), undefined);
  assert.is(parseRange('bytes=-', 10), undefined);
  assert.is(parseRange('bytes=a-b', 10), undefined);
});

test('sliceUnits returns views across unit boundaries', () => {
  const units = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
  const join = (s: number, e: number) => Buffer.concat(sliceUnits(units, s, e)).toString();
  assert.is(join(0, 9), 'abcdefghi');
  assert.is(join(2, 4), 'cd');
  assert.is(join(3, 7), 'defg');
  assert.is(join(8, 9), 'i');
  assert.is(sliceUnits(units, 3, 7)[0], units[1], 'a whole unit is passed through, not copied');
  const view = sliceUnits(units, 4, 6)[0];
  assert.is(view.buffer, units[1].buffer, 'a partial unit is a view');
});

test.run();
