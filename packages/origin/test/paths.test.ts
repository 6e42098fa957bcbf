import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRequestPath } from '../src/http/paths.js';

const key = (target: string): string => {
  const r = parseRequestPath(target);
  if (!r.ok) throw new Error(`refused ${target}: ${r.reason}`);
  return r.key;
};
const refused = (target: string, max?: number): boolean => !parseRequestPath(target, max).ok;

test('keys keep any depth and drop the query string and fragment', () => {
  assert.is(key('/live/channel-1/out.mpd'), '/live/channel-1/out.mpd');
  assert.is(key('/a/b/c/d/e/f.m4s?token=1&x=/../'), '/a/b/c/d/e/f.m4s');
  assert.is(key('/seg.m4s#frag'), '/seg.m4s');
  assert.is(key('/'), '/');
});

test('percent-encoding is decoded; empty and dot segments are normalised away', () => {
  assert.is(key('/live/my%20stream/out.mpd'), '/live/my stream/out.mpd');
  assert.is(key('/caf%C3%A9/x'), '/café/x');
  assert.is(key('//live///a.m4s'), '/live/a.m4s');
  assert.is(key('/live/./a.m4s'), '/live/a.m4s');
  assert.is(key('/live/%2e/a.m4s'), '/live/a.m4s');
  assert.is(key('/live/'), '/live');
});

test('absolute-form targets are reduced to their path', () => {
  assert.is(key('http://example.com/live/a.m4s?x'), '/live/a.m4s');
  assert.is(key('http://example.com'), '/');
});

test('traversal, encoded separators, NUL, control characters and bad encodings are refused', () => {
  for (const t of [
    '/../etc/passwd',
    '/live/../../etc/passwd',
    '/live/..',
    '/%2e%2e/etc/passwd',
    '/%2E%2E/x',
    '/.%2e/x',
    '/a%2fb',
    '/a%2F..%2Fb',
    '/a%5cb',
    '/a\\b',
    '/..\\x',
    '/a%00b',
    '/a\u0000b',
    '/a%0ab',
    '/a%7fb',
    '/bad%zz',
    '/bad%',
    '/bad%e0%a4%a',
    '/%ff',
    'relative/path',
    '*',
  ]) {
    assert.ok(refused(t), `${JSON.stringify(t)} should be refused`);
  }
});

test('overlong paths are refused, the limit is configurable', () => {
  assert.ok(refused('/' + 'a'.repeat(1100)));
  assert.not.ok(refused('/' + 'a'.repeat(1000)));
  assert.ok(refused('/' + 'a'.repeat(100), 64));
  // The query string does not count towards the path limit.
  assert.not.ok(refused('/a?' + 'q'.repeat(5000)));
});

test.run();
