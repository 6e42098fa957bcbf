// Faults and load: the uploader dies mid-chunk or stalls, the encoder restarts and re-uploads
// init and segments, and 2,000 readers come and go at random while a stream runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Socket } from 'node:net';
import { ChunkedUpload, fixture, fixtureChunks, http, parseRawResponse, put, rawGet, sleep, startOrigin, waitUntil } from './helpers.js';

const init = fixture('lldash-init.mp4');
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

test('the uploader dies mid-chunk: readers get the whole chunks only and see a cut; counters return to 0', async () => {
  const o = await startOrigin({ holdMs: 2000 });
  try {
    const store = o.origin.store;
    const key = '/live/die.m4s';
    const early = await rawGet(o.port, key); // held before the upload starts
    const up = await ChunkedUpload.start(o.port, key);
    up.send(chunks[0]);
    up.send(chunks[1]);
    up.send(chunks[2].subarray(0, chunks[2].length >> 1));
    await early.until((r) => (r?.chunks.length ?? 0) === 2);
    up.abort();
    await waitUntil(() => early.closed, 2000, 'reader cut');
    const r = early.response()!;
    assert.is(r.chunks.length, 2);
    assert.ok(r.body.equals(Buffer.concat([chunks[0], chunks[1]])), 'no half chunk reached the reader');
    assert.not.ok(r.terminated);
    assert.is(store.get(key)?.state, 'aborted');
    await waitUntil(() => o.origin.metrics.uploadsInProgress === 0 && store.stats().readers === 0);
    assert.is(store.stats().writing, 0);
    assert.is(o.origin.metrics.uploadsAborted, 1);
    assert.is((await http(o.port, 'GET', key)).status, 404);
    early.destroy();
  } finally {
    await o.close();
  }
});

test('the uploader stalls mid-chunk: cut after the idle timeout, the next upload of the key streams', async () => {
  const o = await startOrigin({ holdMs: 2000, ingestIdleMs: 250 });
  try {
    const key = '/live/stall.m4s';
    const up = await ChunkedUpload.start(o.port, key);
    up.send(chunks[0]);
    up.send(chunks[1].subarray(0, 100));
    await waitUntil(() => o.origin.store.get(key) !== undefined);
    const reader = await rawGet(o.port, key);
    await reader.until((r) => (r?.chunks.length ?? 0) === 1);
    await waitUntil(() => o.origin.store.get(key)?.state === 'aborted', 2000, 'stall detected');
    await waitUntil(() => reader.closed && up.client.closed, 2000, 'both cut');
    // A player retrying gets the encoder's next attempt.
    const retry = await rawGet(o.port, key);
    assert.is((await put(o.port, key, segment)).status, 204);
    const r = await retry.until((x) => x?.body.length === segment.length, 2000, 'retry');
    assert.ok(r.body.equals(segment));
    retry.destroy();
  } finally {
    await o.close();
  }
});

test('the encoder restarts: re-uploads init and segments over old versions; old readers finish intact, new ones get the new bytes', async () => {
  const o = await startOrigin({ holdMs: 2000 });
  try {
    const store = o.origin.store;
    // Run 1: init, segments 1..2 complete, segment 3 in progress with a reader on it.
    assert.is((await put(o.port, '/live/r/init.mp4', init)).status, 201);
    for (const n of [1, 2]) assert.is((await put(o.port, `/live/r/seg-${n}.m4s`, segment)).status, 201);
    const first = await ChunkedUpload.start(o.port, '/live/r/seg-3.m4s');
    first.send(chunks[0]);
    await waitUntil(() => store.get('/live/r/seg-3.m4s') !== undefined);
    const oldReader = await rawGet(o.port, '/live/r/seg-2.m4s');
    const liveReader = await rawGet(o.port, '/live/r/seg-3.m4s');
    await liveReader.until((r) => (r?.chunks.length ?? 0) === 1);
    first.abort(); // the encoder crashes
    await waitUntil(() => liveReader.closed);
    // Run 2: a new init (different bytes) and numbering from 1 again.
    const init2 = Buffer.from(init);
    init2[init2.length - 1] ^= 0xff;
    const seg2 = Buffer.from(segment);
    seg2[seg2.length - 1] ^= 0xff; // inside the last mdat: still valid ISO-BMFF
    const waiting = await rawGet(o.port, '/live/r/seg-3.m4s'); // aborted: held for the restart
    assert.is((await put(o.port, '/live/r/init.mp4', init2)).status, 204);
    for (const n of [1, 2, 3]) assert.is((await put(o.port, `/live/r/seg-${n}.m4s`, seg2)).status, 204, `seg-${n}`);
    const old = await oldReader.until((r) => r?.body.length === segment.length);
    assert.ok(old.body.equals(segment), 'a read that started before the restart finished with the old bytes');
    const w = await waiting.until((r) => r?.body.length === seg2.length);
    assert.ok(w.body.equals(seg2), 'the held read got the re-upload');
    assert.ok((await http(o.port, 'GET', '/live/r/init.mp4')).body.equals(init2));
    for (const n of [1, 2, 3]) assert.ok((await http(o.port, 'GET', `/live/r/seg-${n}.m4s`)).body.equals(seg2));
    assert.is(store.stats().bytes, init2.length + 3 * seg2.length, 'old versions are no longer counted');
    for (const c of [oldReader, liveReader, waiting]) c.destroy();
    await waitUntil(() => store.stats().readers === 0 && store.stats().detachedBytes === 0);
  } finally {
    await o.close();
  }
});

test('2,000 readers connect and vanish at random while a stream runs: no leak, the others get exact bytes', async () => {
  const o = await startOrigin({ holdMs: 5000 });
  try {
    const store = o.origin.store;
    const segments = 8;
    const total = 2000;
    let rng = 12345;
    const random = (): number => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    interface Reader {
      socket: Socket;
      key: string;
      data: Buffer[];
      vanish: boolean;
      closed: boolean;
    }
    const readers: Reader[] = [];
    const connectReader = (n: number): void => {
      const key = `/live/crowd/seg-${n}.m4s`;
      const socket = connect(o.port, '127.0.0.1');
      const r: Reader = { socket, key, data: [], vanish: random() < 0.5, closed: false };
      socket.on('error', () => {});
      socket.on('data', (b: Buffer) => {
        r.data.push(b);
        // Vanish part-way, at a random point of the body.
        if (r.vanish && random() < 0.3) socket.destroy();
      });
      socket.on('close', () => (r.closed = true));
      socket.write(`GET ${key} HTTP/1.1\r\nHost: x\r\n\r\n`);
      if (r.vanish && random() < 0.3) setTimeout(() => socket.destroy(), Math.floor(random() * 40));
      readers.push(r);
    };
    // Readers arrive while segments are uploaded chunk by chunk (early, live and late joins).
    let connected = 0;
    for (let n = 1; n <= segments; n++) {
      const up = await ChunkedUpload.start(o.port, `/live/crowd/seg-${n}.m4s`);
      for (const c of chunks) {
        for (let i = 0; i < total / segments / chunks.length; i++) connectReader(Math.min(segments, n + (random() < 0.2 ? 1 : 0)));
        connected += total / segments / chunks.length;
        up.send(c);
        await sleep(15);
      }
      assert.is((await up.end()).status, 201);
      up.abort(); // the encoder's connection closes too: only readers should be left
    }
    assert.is(connected, total);
    // Done: cut, or a chunked body with its terminator, or a Content-Length body in full.
    const done = (r: Reader): boolean => {
      if (r.closed) return true;
      const res = parseRawResponse(Buffer.concat(r.data));
      if (res === undefined) return false;
      const length = res.headers['content-length'];
      return res.terminated || (length !== undefined && res.body.length === Number(length));
    };
    const deadline = Date.now() + 15_000;
    let pending = readers;
    while ((pending = pending.filter((r) => !done(r))).length > 0) {
      assert.ok(Date.now() < deadline, `${pending.length} readers not done: ${pending.slice(0, 3).map((r) => r.key)}`);
      await sleep(50);
    }
    let complete = 0;
    for (const r of readers) {
      if (r.vanish) continue;
      const res = parseRawResponse(Buffer.concat(r.data));
      assert.ok(res, `${r.key}: a response`);
      assert.is(res!.status, 200, r.key);
      assert.ok(res!.body.equals(segment), `${r.key}: exact bytes`);
      complete++;
    }
    assert.ok(complete > total / 3, `${complete} readers stayed to the end`);
    for (const r of readers) r.socket.destroy();
    await waitUntil(() => {
      const st = store.stats();
      return st.readers === 0 && st.waiters === 0 && st.detachedBytes === 0 && o.sockets.size === 0;
    }, 5000, `readers, waiters and sockets released (${JSON.stringify(store.stats())}, sockets ${o.sockets.size})`);
    assert.is(store.stats().bytes, segments * segment.length);
    assert.is(o.origin.metrics.uploadsInProgress, 0);
  } finally {
    await o.close();
  }
});

test.run();
