// The memory cap bounds uploads in flight (backpressure, then 507) and never evicts the init
// segment of a stream whose media is stored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedUpload, fixture, fixtureChunks, http, put, sleep, startOrigin, waitUntil } from './helpers.js';

const KiB = 1024;
const init = fixture('lldash-init.mp4');
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

/** Bytes the memory cap sees: current versions plus what uploads hold unpublished. */
const charged = (o: { origin: { store: { stats(): { bytes: number; ingestBytes: number } } } }): number => {
  const st = o.origin.store.stats();
  return st.bytes + st.ingestBytes;
};

test('uploads in flight are held under the cap: paused (backpressure) when nothing can be evicted, then 507', async () => {
  const cap = 64 * KiB;
  const o = await startOrigin({ maxMemoryBytes: cap, memoryWaitMs: 1500, ttlMs: 0 });
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, charged(o))), 1);
  o.origin.store.on('publish', () => (peak = Math.max(peak, charged(o))));
  try {
    // Four encoders each push 1 MiB as fast as their sockets take it: 4 MiB against a 64 KiB cap.
    const piece = Buffer.alloc(16 * KiB, 7);
    const uploads = await Promise.all([0, 1, 2, 3].map((i) => ChunkedUpload.start(o.port, `/live/u${i}.bin`)));
    for (const up of uploads) for (let k = 0; k < 64; k++) up.send(piece);
    await waitUntil(() => o.origin.metrics.rejected.memory === 4, 8000, 'four 507s');
    const answers = await Promise.all(uploads.map((up) => up.client.until((r) => r !== undefined, 3000, 'answer')));
    for (const r of answers) {
      assert.is(r.status, 507);
      assert.match(r.body.toString(), /memory cap/);
    }
    // The bound: the cap plus one socket read per upload (what arrived before its pause).
    assert.ok(peak <= cap + 4 * 64 * KiB, `peak ${peak} bytes against a cap of ${cap}`);
    const metrics = (await http(o.port, 'GET', '/metrics')).body.toString();
    assert.ok(Number(/boxstream_origin_upload_pauses_total (\d+)/.exec(metrics)?.[1]) >= 4, 'each upload paused');
    assert.match(metrics, /boxstream_origin_upload_memory_refusals_total 4\n/);
    // Nothing half-written is left visible, and nothing stays charged.
    for (let i = 0; i < 4; i++) assert.is((await http(o.port, 'GET', `/live/u${i}.bin`)).status, 404);
    assert.is(o.origin.store.stats().ingestBytes, 0);
  } finally {
    clearInterval(sample);
    await o.close();
  }
});

test('a paused upload resumes when room appears and completes; other streams go on', async () => {
  const o = await startOrigin({ maxMemoryBytes: 100 * KiB, memoryWaitMs: 20_000, ttlMs: 0 });
  try {
    const a = await ChunkedUpload.start(o.port, '/live/a.bin');
    a.send(Buffer.alloc(80 * KiB, 1));
    await waitUntil(() => o.origin.store.get('/live/a.bin')?.length === 80 * KiB);
    const b = await ChunkedUpload.start(o.port, '/live/b.bin');
    b.send(Buffer.alloc(80 * KiB, 2));
    await waitUntil(() => o.origin.metrics.rejected.memory === 0 && charged(o) > 100 * KiB, 3000, 'b over the cap');
    const paused = await http(o.port, 'GET', '/metrics');
    assert.match(paused.body.toString(), /boxstream_origin_uploads_paused 1\n/);
    // Requests that add nothing to memory are unaffected by the pause.
    assert.is((await http(o.port, 'GET', '/time')).status, 200);
    // A completes, so it can be evicted: B gets the room and finishes.
    assert.is((await a.end()).status, 201);
    assert.is((await b.end()).status, 201);
    assert.is((await http(o.port, 'GET', '/live/b.bin')).body.length, 80 * KiB);
    assert.is(o.origin.store.get('/live/a.bin'), undefined, 'evicted for b');
  } finally {
    await o.close();
  }
});

test('an init segment is never evicted while media of its stream is stored', async () => {
  // Room for the init and about two segments.
  const o = await startOrigin({ maxMemoryBytes: init.length + 2 * segment.length + 100, ttlMs: 0 });
  try {
    assert.is((await put(o.port, '/live/ch/init-0.m4s', init)).status, 201);
    for (let n = 1; n <= 6; n++) assert.is((await put(o.port, `/live/ch/chunk-0-${n}.m4s`, segment)).status, 201);
    // The oldest segments went; the init, uploaded first and never read since, stayed.
    assert.is(o.origin.store.get('/live/ch/chunk-0-1.m4s'), undefined);
    assert.ok(o.origin.store.get('/live/ch/init-0.m4s') !== undefined, 'init kept');
    assert.is((await http(o.port, 'GET', '/live/ch/init-0.m4s')).status, 200);
    // Once its stream has no media stored, an init is evictable like anything else (last).
    for (let n = 1; n <= 6; n++) await http(o.port, 'DELETE', `/live/ch/chunk-0-${n}.m4s`);
    const big = await ChunkedUpload.start(o.port, '/live/other/big.bin');
    big.send(Buffer.alloc(3 * segment.length, 3));
    await waitUntil(() => o.origin.store.get('/live/ch/init-0.m4s') === undefined, 3000, 'init evicted');
    big.abort();
  } finally {
    await o.close();
  }
});

test('a version replaced or deleted mid-upload is still charged; a paused upload cancelled by DELETE is answered', async () => {
  const o = await startOrigin({ maxMemoryBytes: 100 * KiB, memoryWaitMs: 1000, ttlMs: 0 });
  try {
    const up = await ChunkedUpload.start(o.port, '/live/d.bin');
    up.send(Buffer.alloc(20 * KiB, 1));
    await waitUntil(() => o.origin.store.get('/live/d.bin') !== undefined);
    assert.is((await http(o.port, 'DELETE', '/live/d.bin')).status, 200);
    // The upload goes on into a version nobody can see: the cap still applies to it.
    for (let i = 0; i < 16; i++) up.send(Buffer.alloc(64 * KiB, 2));
    const r = await up.client.until((x) => x !== undefined, 5000, 'answer');
    assert.is(r.status, 507);
    assert.is(o.origin.store.stats().ingestBytes, 0);
    // A manifest being buffered is paused by the cap, then DELETEd: it is answered, not left hanging.
    const manifest = await ChunkedUpload.start(o.port, '/live/m.mpd');
    manifest.send(Buffer.alloc(150 * KiB, 0x20));
    const paused = async (): Promise<boolean> => /boxstream_origin_uploads_paused 1\n/.test((await http(o.port, 'GET', '/metrics')).body.toString());
    for (let i = 0; i < 150 && !(await paused()); i++) await sleep(20);
    assert.ok(await paused(), 'manifest paused');
    assert.is((await http(o.port, 'DELETE', '/live/m.mpd')).status, 200);
    manifest.send(Buffer.from('<MPD/>'));
    assert.is((await manifest.end()).status, 201);
    assert.is(o.origin.metrics.uploadsInProgress, 0);
  } finally {
    await o.close();
  }
});

test('the cap counts what uploads hold before they publish (a chunk in progress)', async () => {
  const o = await startOrigin({ ttlMs: 0 });
  try {
    const up = await ChunkedUpload.start(o.port, '/live/c.m4s');
    // Half of the first chunk: nothing can be published yet, but its bytes are in memory.
    up.send(chunks[0].subarray(0, 1000));
    await waitUntil(() => o.origin.store.stats().ingestBytes === 1000, 3000, 'held bytes charged');
    up.send(chunks[0].subarray(1000));
    await waitUntil(() => o.origin.store.stats().bytes === chunks[0].length);
    assert.is(o.origin.store.stats().ingestBytes, 0);
    up.abort();
    await waitUntil(() => o.origin.store.stats().writing === 0);
    assert.is(o.origin.store.stats().ingestBytes, 0);
  } finally {
    await o.close();
  }
});

test.run();
