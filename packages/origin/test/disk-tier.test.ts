// --dir is a second tier: eviction from memory never deletes a file, an object memory let go of
// is served from its file (Range, ETag, 304 as from memory), and a restart serves every file,
// whatever the memory cap. Only DELETE, a TTL and an aborted upload remove files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkedUpload, fixture, http, put, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const init = fixture('lldash-init.mp4');
const quiet = (): void => {};

function files(dir: string, sub = 'live'): string[] {
  return existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).sort() : [];
}

test('a restart with a memory cap smaller than the directory deletes nothing and serves every file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-tier-'));
  try {
    let o = await startOrigin({ dir, warn: quiet, ttlMs: 0 });
    for (let n = 1; n <= 6; n++) assert.is((await put(o.port, `/live/seg-${n}.m4s`, segment)).status, 201);
    assert.is((await put(o.port, '/live/init.mp4', init)).status, 201);
    await o.close();
    assert.is(files(dir).length, 7);
    // Room for two segments only.
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: 2 * segment.length + init.length });
    try {
      assert.is(files(dir).length, 7, 'nothing deleted by the restart');
      for (let n = 1; n <= 6; n++) {
        const r = await http(o.port, 'GET', `/live/seg-${n}.m4s`);
        assert.is(r.status, 200, `seg-${n}`);
        assert.ok(r.body.equals(segment), `seg-${n} bytes`);
        assert.is(r.headers['content-type'], 'video/iso.segment');
      }
      assert.ok((await http(o.port, 'GET', '/live/init.mp4')).body.equals(init));
      assert.ok(o.origin.metrics.diskReads > 0, 'some were served from disk');
      assert.is(files(dir).length, 7, 'nothing deleted by serving');
    } finally {
      await o.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an object evicted from memory keeps its file and is served from it: Range, ETag, 304, HEAD', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-tier-'));
  const o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: segment.length + 100 });
  try {
    assert.is((await put(o.port, '/live/a.m4s', segment)).status, 201);
    const fromMemory = await http(o.port, 'GET', '/live/a.m4s');
    await waitUntil(() => existsSync(join(dir, 'live/a.m4s')), 3000, 'file written');
    assert.is((await put(o.port, '/live/b.m4s', segment)).status, 201);
    await waitUntil(() => o.origin.store.get('/live/a.m4s') === undefined, 3000, 'a evicted');
    assert.ok(existsSync(join(dir, 'live/a.m4s')), 'eviction kept the file');
    const reads = o.origin.metrics.diskReads;
    const whole = await http(o.port, 'GET', '/live/a.m4s');
    assert.is(whole.status, 200);
    assert.ok(whole.body.equals(segment));
    assert.is(o.origin.metrics.diskReads, reads + 1, 'served from disk');
    assert.is(whole.headers['last-modified'], fromMemory.headers['last-modified'], 'same Last-Modified from either tier');
    const etag = whole.headers.etag as string;
    assert.match(etag, /^"[^"]+"$/);
    assert.is((await http(o.port, 'GET', '/live/a.m4s', undefined, { 'If-None-Match': etag })).status, 304);
    const part = await http(o.port, 'GET', '/live/a.m4s', undefined, { Range: 'bytes=100-199' });
    assert.is(part.status, 206);
    assert.is(part.headers['content-range'], `bytes 100-199/${segment.length}`);
    assert.ok(part.body.equals(segment.subarray(100, 200)));
    assert.is((await http(o.port, 'GET', '/live/a.m4s', undefined, { Range: `bytes=${segment.length}-` })).status, 416);
    const head = await http(o.port, 'HEAD', '/live/a.m4s');
    assert.is(head.headers['content-length'], String(segment.length));
    assert.is(head.body.length, 0);
    // DELETE reaches the file of an object memory no longer holds.
    assert.is((await http(o.port, 'DELETE', '/live/a.m4s')).status, 200);
    await waitUntil(() => !existsSync(join(dir, 'live/a.m4s')), 3000, 'file removed');
    assert.is((await http(o.port, 'GET', '/live/a.m4s')).status, 404);
  } finally {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same ETag from memory and from disk; DELETE during a disk write; a replaced version never comes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-tier-'));
  const o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: segment.length + 100 });
  try {
    assert.is((await put(o.port, '/live/e.m4s', segment)).status, 201);
    const memoryTag = (await http(o.port, 'GET', '/live/e.m4s')).headers.etag as string;
    await waitUntil(() => existsSync(join(dir, 'live/e.m4s')));
    assert.is((await put(o.port, '/live/f.m4s', segment)).status, 201);
    await waitUntil(() => o.origin.store.get('/live/e.m4s') === undefined, 3000, 'e evicted');
    // A CDN revalidating with the tag it got from memory gets 304 from disk; If-Range holds.
    assert.is((await http(o.port, 'GET', '/live/e.m4s', undefined, { 'If-None-Match': memoryTag })).status, 304);
    assert.is((await http(o.port, 'GET', '/live/e.m4s', undefined, { Range: 'bytes=0-9', 'If-Range': memoryTag })).status, 206);
    // DELETE right after an upload, while its file may still be being written: gone at once.
    assert.is((await put(o.port, '/live/g.m4s', segment)).status, 201);
    assert.is((await http(o.port, 'DELETE', '/live/g.m4s')).status, 200);
    assert.is((await http(o.port, 'GET', '/live/g.m4s')).status, 404);
    assert.is((await http(o.port, 'DELETE', '/live/g.m4s')).status, 404);
    // A new version replaces the file's: once it is evicted, the old bytes never come back.
    const v2 = Buffer.from(segment);
    v2[v2.length - 1] ^= 0xff;
    assert.is((await put(o.port, '/live/e.m4s', v2)).status, 204);
    assert.is((await put(o.port, '/live/h.m4s', segment)).status, 201);
    await waitUntil(() => o.origin.store.get('/live/e.m4s') === undefined, 3000, 'v2 evicted');
    const again = await http(o.port, 'GET', '/live/e.m4s');
    assert.is(again.status, 200);
    assert.ok(again.body.equals(v2), 'the current version, from memory or disk, never v1');
  } finally {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a version that completes while memory is over the cap reaches its file, and the old one never comes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-tier-'));
  try {
    let o = await startOrigin({ dir, warn: quiet, ttlMs: 0 });
    assert.is((await put(o.port, '/a.bin', 'OLD-VERSION')).status, 201);
    await o.close();
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: 1000, memoryWaitMs: 5000 });
    const a = await ChunkedUpload.start(o.port, '/a.bin');
    a.send(Buffer.alloc(900, 0x41));
    await waitUntil(() => o.origin.store.get('/a.bin')?.length === 900);
    // B takes memory over the cap and is paused; A, completing, is the only thing evictable.
    const b = await ChunkedUpload.start(o.port, '/b.bin');
    b.send(Buffer.alloc(900, 0x42));
    await waitUntil(() => o.origin.store.stats().ingestBytes + o.origin.store.stats().bytes > 1000, 3000, 'over the cap');
    assert.is((await a.end()).status, 204);
    const got = await http(o.port, 'GET', '/a.bin');
    assert.is(got.status, 200);
    assert.ok(got.body.equals(Buffer.alloc(900, 0x41)), 'the new version, from memory or disk');
    b.abort();
    await o.close();
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0 });
    assert.ok((await http(o.port, 'GET', '/a.bin')).body.equals(Buffer.alloc(900, 0x41)), 'after a restart too');
    await o.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TTL ends an object on disk too, also one memory evicted or never loaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-tier-'));
  try {
    let o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: segment.length + 100, ttlRules: [{ prefix: '/short/', ttlMs: 400 }] });
    assert.is((await put(o.port, '/short/a.m4s', segment)).status, 201);
    assert.is((await put(o.port, '/short/b.m4s', segment)).status, 201);
    await waitUntil(() => o.origin.store.get('/short/a.m4s') === undefined && existsSync(join(dir, 'short/a.m4s')), 3000, 'a evicted, on disk');
    await waitUntil(() => !existsSync(join(dir, 'short/a.m4s')) && !existsSync(join(dir, 'short/b.m4s')), 5000, 'both expired');
    assert.is((await http(o.port, 'GET', '/short/a.m4s')).status, 404);
    await o.close();
    // Files older than their TTL at start are not served, and go.
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0 });
    assert.is((await put(o.port, '/short/c.m4s', segment)).status, 201);
    await o.close();
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0, maxMemoryBytes: 1, ttlRules: [{ prefix: '/short/', ttlMs: 300 }] });
    await waitUntil(() => !existsSync(join(dir, 'short/c.m4s')), 5000, 'c expired from disk');
    await o.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
