import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLiveRange, parseRange } from '../src/egress/range.js';

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

test('ranges of an object still being written: closed, open, or ignored', () => {
  assert.equal(parseLiveRange('bytes=100-199'), { start: 100, last: 199 });
  assert.equal(parseLiveRange('bytes=100-'), { start: 100, last: undefined });
  assert.equal(parseLiveRange('bytes=0-99'), { start: 0, last: 99 });
  assert.is(parseLiveRange('bytes=0-'), undefined, 'the whole body: a plain 200');
  assert.is(parseLiveRange('bytes=-100'), undefined, 'a suffix needs the final length');
  assert.is(parseLiveRange('bytes=5-2'), undefined);
  assert.is(parseLiveRange('bytes=0-1,3-4'), undefined);
  assert.is(parseLiveRange(undefined), undefined);
});

test.run();
