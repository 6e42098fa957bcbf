// Retention and limits: TTL after completion (per prefix, init segments kept), the memory cap
// (LRU of complete objects, never an object being written, readers of an evicted object finish),
// exact memory figures, and the 503 limits on uploads, readers and memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/store/store.js';
import { Retention } from '../src/store/retention.js';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, sleep, startOrigin, waitUntil } from './helpers.js';

const init = fixture('lldash-init.mp4');
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

test('TTL: complete objects leave after their TTL, per prefix; init segments and objects being written stay', async () => {
  const o = await startOrigin({ ttlMs: 150, ttlRules: [{ prefix: '/vod/', ttlMs: 0 }, { prefix: '/live/slow/', ttlMs: 600 }] });
  try {
    const store = o.origin.store;
    assert.is((await put(o.port, '/live/a.m4s', segment)).status, 201);
    assert.is((await put(o.port, '/live/init.mp4', init)).status, 201);
    assert.is((await put(o.port, '/vod/a.m4s', segment)).status, 201);
    assert.is((await put(o.port, '/live/slow/a.m4s', segment)).status, 201);
    const up = await ChunkedUpload.start(o.port, '/live/writing.m4s');
    up.send(chunks[0]);
    await waitUntil(() => store.get('/live/writing.m4s') !== undefined);
    await waitUntil(() => store.get('/live/a.m4s') === undefined, 2000, 'TTL expiry');
    assert.is((await http(o.port, 'GET', '/live/a.m4s')).status, 404);
    assert.ok(store.get('/live/slow/a.m4s'), 'longer prefix TTL not yet over');
    assert.ok(store.get('/live/init.mp4'), 'init segment kept');
    assert.ok(store.get('/vod/a.m4s'), 'ttl 0 prefix kept');
    assert.is(store.get('/live/writing.m4s')?.state, 'writing', 'an object being written never expires');
    await waitUntil(() => store.get('/live/slow/a.m4s') === undefined, 2000, 'slow prefix expiry');
    // The writing object gets its TTL from its completion.
    up.send(chunks[1]);
    assert.is((await up.end()).status, 201);
    await sleep(60);
    assert.ok(store.get('/live/writing.m4s'), 'TTL counts from completion');
    await waitUntil(() => store.get('/live/writing.m4s') === undefined, 2000, 'expiry after completion');
    const m = await http(o.port, 'GET', '/metrics');
    assert.match(m.body.toString(), /boxstream_origin_expired_total 3\n/);
    assert.equal(store.stats().bytes, init.length + segment.length);
  } finally {
    await o.close();
  }
});

test('TTL: one timer for the store, and stale entries do not hold deleted objects', () => {
  const store = new ObjectStore();
  const r = new Retention(store, { ttlMs: 60_000, ttlRules: [], initTtlMs: 0, maxMemoryBytes: 1 << 30 });
  const timers = new Set<unknown>();
  const real = globalThis.setTimeout;
  (globalThis as { setTimeout: unknown }).setTimeout = (fn: () => void, ms: number) => {
    const t = real(fn, ms);
    timers.add(t);
    return t;
  };
  try {
    for (let i = 0; i < 1000; i++) {
      const o = store.create(`/k${i}`, { contentType: 'x', kind: 'opaque' });
      store.insert(o);
      o.publish(new Uint8Array(10));
      o.complete();
    }
  } finally {
    (globalThis as { setTimeout: unknown }).setTimeout = real;
  }
  assert.is(timers.size, 1, 'one timer armed for 1000 objects');
  assert.is(r.scheduled, 1000);
  for (let i = 0; i < 1000; i++) store.delete(`/k${i}`);
  assert.is(store.stats().bytes, 0);
  r.close();
});

test('memory cap: least recently used complete objects go first; objects being written never; their readers finish', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
  const o = await startOrigin({ maxMemoryBytes: big.length + 2 * segment.length + 100, ttlMs: 0 });
  try {
    const store = o.origin.store;
    assert.is((await put(o.port, '/live/b.ts', big)).status, 201);
    for (const k of ['a', 'c']) assert.is((await put(o.port, `/live/${k}.m4s`, segment)).status, 201);
    // A slow reader of 'b' (paused) holds its reference through the eviction.
    const slow = await rawGet(o.port, '/live/b.ts');
    await slow.until((r) => r !== undefined);
    slow.socket.pause();
    // 'a' and 'c' used since: 'b' is the least recently used now.
    assert.is((await http(o.port, 'GET', '/live/a.m4s')).status, 200);
    assert.is((await http(o.port, 'GET', '/live/c.m4s')).status, 200);
    // An upload in progress grows past the cap: complete objects are evicted, never the upload.
    const up = await ChunkedUpload.start(o.port, '/live/d.m4s');
    for (const c of chunks) up.send(c);
    await waitUntil(() => store.get('/live/d.m4s')?.length === segment.length);
    assert.is(store.get('/live/b.ts'), undefined, 'LRU evicted');
    assert.ok(store.get('/live/a.m4s'), 'recently used kept');
    assert.ok(store.get('/live/c.m4s'));
    assert.is(store.get('/live/d.m4s')?.state, 'writing');
    assert.is(store.stats().bytes, 3 * segment.length);
    assert.is(store.stats().detachedBytes, big.length, 'the evicted object is still held by its reader');
    slow.socket.resume();
    const r = await slow.until((x) => x !== undefined && x.body.length === big.length, 5000, 'slow reader finishes');
    assert.ok(r.body.equals(big), 'reader of an evicted object got it whole');
    slow.destroy();
    await waitUntil(() => store.stats().detachedBytes === 0, 2000, 'detached bytes released');
    assert.is((await up.end()).status, 201);
    const m = (await http(o.port, 'GET', '/metrics')).body.toString();
    assert.match(m, /boxstream_origin_evictions_total 1\n/);
  } finally {
    await o.close();
  }
});

test('exact figures: bytes of current versions, detached versions, objects being written, readers', async () => {
  const o = await startOrigin({ ttlMs: 0 });
  try {
    const store = o.origin.store;
    const up = await ChunkedUpload.start(o.port, '/live/x.m4s');
    up.send(chunks[0]);
    await waitUntil(() => store.get('/live/x.m4s') !== undefined);
    const reader = await rawGet(o.port, '/live/x.m4s');
    await reader.until((r) => (r?.chunks.length ?? 0) === 1);
    assert.equal(store.stats(), { objects: 1, readers: 1, waiters: 0, bytes: chunks[0].length, ingestBytes: 0, detachedBytes: 0, writing: 1 });
    // Replaced while written and read: the old version moves to detached, and keeps growing there.
    assert.is((await put(o.port, '/live/x.m4s', segment)).status, 204);
    up.send(chunks[1]);
    await reader.until((r) => (r?.chunks.length ?? 0) === 2);
    const st = store.stats();
    assert.is(st.bytes, segment.length);
    assert.is(st.detachedBytes, chunks[0].length + chunks[1].length);
    assert.is(st.writing, 1);
    await up.end();
    await reader.until((r) => r?.terminated === true);
    await waitUntil(() => store.stats().readers === 0);
    assert.equal(store.stats(), { objects: 1, readers: 0, waiters: 0, bytes: segment.length, ingestBytes: 0, detachedBytes: 0, writing: 0 });
    assert.is((await http(o.port, 'DELETE', '/live/x.m4s')).status, 200);
    assert.equal(store.stats(), { objects: 0, readers: 0, waiters: 0, bytes: 0, ingestBytes: 0, detachedBytes: 0, writing: 0 });
    reader.destroy();
  } finally {
    await o.close();
  }
});

test('limits: concurrent uploads and readers beyond the limit get 503 with Retry-After', async () => {
  const o = await startOrigin({ maxUploads: 2, maxReaders: 3, holdMs: 2000 });
  try {
    const a = await ChunkedUpload.start(o.port, '/live/a.ts');
    const b = await ChunkedUpload.start(o.port, '/live/b.ts');
    a.send(Buffer.from('a'));
    b.send(Buffer.from('b'));
    await waitUntil(() => o.origin.metrics.uploadsInProgress === 2);
    const c = await put(o.port, '/live/c.ts', 'c');
    assert.is(c.status, 503);
    assert.is(c.headers['retry-after'], '1');
    assert.is(c.headers.connection, 'close');
    const readers = [await rawGet(o.port, '/live/a.ts'), await rawGet(o.port, '/live/b.ts'), await rawGet(o.port, '/live/held.ts')];
    await waitUntil(() => o.origin.store.stats().readers + o.origin.store.stats().waiters === 3);
    const d = await http(o.port, 'GET', '/live/a.ts');
    assert.is(d.status, 503);
    assert.is(d.headers['retry-after'], '1');
    for (const r of readers) r.destroy();
    await waitUntil(() => o.origin.store.stats().readers + o.origin.store.stats().waiters === 0);
    assert.is((await a.end()).status, 201);
    assert.is((await put(o.port, '/live/c.ts', 'c')).status, 201, 'room again');
    assert.is((await http(o.port, 'GET', '/live/a.ts')).status, 200);
    b.abort();
    await waitUntil(() => o.origin.metrics.uploadsInProgress === 0);
    const m = (await http(o.port, 'GET', '/metrics')).body.toString();
    assert.match(m, /boxstream_origin_limit_rejections_total\{limit="uploads"\} 1/);
    assert.match(m, /boxstream_origin_limit_rejections_total\{limit="readers"\} 1/);
  } finally {
    await o.close();
  }
});

test.run();
