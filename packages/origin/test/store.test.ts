import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/store/store.js';
import type { StoredObject } from '../src/store/object.js';

test("publish appends, wakes readers, emits 'publish' with key, object and unit", () => {
  const store = new ObjectStore();
  const seen: unknown[] = [];
  store.on('publish', (key, object, unit) => seen.push([key, object.version, unit]));
  const o = store.create('/a.m4s', { contentType: 'video/iso.segment', kind: 'media' });
  store.insert(o);
  let woken = 0;
  const reader = { wake: () => void woken++ };
  o.addReader(reader);
  assert.is(store.stats().readers, 1);
  const u1 = new Uint8Array([1, 2, 3]);
  o.publish(u1);
  o.publish(new Uint8Array(0)); // empty units are dropped
  assert.is(o.units[0], u1, 'the same array, not a copy');
  assert.is(o.length, 3);
  assert.is(woken, 1);
  assert.equal(seen, [['/a.m4s', o.version, u1]]);
  o.complete();
  assert.is(o.state, 'complete');
  assert.ok(o.tag.length > 0, 'an identity for validators');
  assert.equal(o.ends, [3]);
  assert.is(woken, 2);
  assert.throws(() => o.publish(u1));
  o.removeReader(reader);
  o.removeReader(reader);
  assert.is(store.stats().readers, 0);
});

test('insert replaces and hands the new version to waiters; waiters can leave', () => {
  const store = new ObjectStore();
  const first = store.create('/k', { contentType: 'x', kind: 'opaque' });
  assert.is(store.insert(first), undefined);
  const arrived: StoredObject[] = [];
  const w1 = { arrive: (o: StoredObject) => void arrived.push(o) };
  const w2 = { arrive: (o: StoredObject) => void arrived.push(o) };
  store.wait('/later', w1);
  store.wait('/later', w2);
  store.wait('/later', w2);
  assert.is(store.stats().waiters, 2);
  store.unwait('/later', w2);
  store.unwait('/later', w2);
  assert.is(store.stats().waiters, 1);
  const later = store.create('/later', { contentType: 'x', kind: 'opaque' });
  store.insert(later);
  assert.equal(arrived, [later]);
  assert.is(store.stats().waiters, 0);
  const second = store.create('/k', { contentType: 'x', kind: 'opaque' });
  assert.is(store.insert(second), first);
  assert.is(store.get('/k'), second);
  assert.ok(second.version > first.version);
});

test('abort and delete', () => {
  const store = new ObjectStore();
  const events: string[] = [];
  store.on('abort', (key, _o, reason) => events.push(`abort ${key} ${reason}`));
  store.on('delete', (key) => events.push(`delete ${key}`));
  const o = store.create('/k', { contentType: 'x', kind: 'opaque' });
  store.insert(o);
  o.abort('gone');
  o.complete(); // no effect after abort
  assert.is(o.state, 'aborted');
  assert.is(store.delete('/k'), o);
  assert.is(store.delete('/k'), undefined);
  assert.equal(events, ['abort /k gone', 'delete /k']);
  assert.equal(store.stats(), { objects: 0, readers: 0, waiters: 0, bytes: 0, ingestBytes: 0, detachedBytes: 0, writing: 0 });
});

test('a listener that throws costs that listener one event: the others, and the publisher, go on', () => {
  const store = new ObjectStore();
  const errors: string[] = [];
  store.onListenerError = (err, event) => errors.push(`${event}: ${(err as Error).message}`);
  const seen: number[] = [];
  store.on('publish', () => {
    throw new Error('boom');
  });
  store.on('publish', (_k, _o, unit) => seen.push(unit.byteLength));
  const o = store.create('/k', { contentType: 'x', kind: 'opaque' });
  store.insert(o);
  let woken = 0;
  o.addReader({ wake: () => void woken++ });
  o.publish(new Uint8Array(5));
  o.publish(new Uint8Array(6));
  o.complete();
  assert.is(o.state, 'complete');
  assert.is(o.length, 11);
  assert.is(woken, 3, 'the reader saw both units and the completion');
  assert.equal(seen, [5, 6]);
  assert.equal(errors, ['publish: boom', 'publish: boom']);
});

test.run();
