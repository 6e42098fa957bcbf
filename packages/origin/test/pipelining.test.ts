// Pipelined requests (several on one connection, answered in order) and clients that stop
// reading: Node never emits 'close' on a response still queued behind another one, so every
// per-request cleanup must also follow the connection. Raw node:net sockets throughout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccessLogEntry } from '../src/index.js';
import { BURST_BYTES } from '../src/egress/http-reader.js';
import { ChunkedUpload, RawClient, fixture, http, parseRawResponse, put, sleep, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

test('pipelined GETs queued behind a held GET: the client leaving releases every reader, and DELETE frees the object', async () => {
  // Node stops reading a connection whose queued responses buffer a lot, so it learns that the
  // client left only when it next writes: here, when the held GET's 404 goes out.
  const o = await startOrigin({ holdMs: 300 });
  try {
    const store = o.origin.store;
    const big = Buffer.concat([segment, segment, segment, segment, segment, segment, segment, segment]);
    assert.is((await put(o.port, '/big.m4s', big)).status, 201);
    const c = await new RawClient(o.port).ready();
    c.socket.pause(); // never reads
    c.write(GET('/missing.ts') + GET('/big.m4s').repeat(3));
    await waitUntil(() => store.stats().readers === 3 && store.stats().waiters === 1, 3000, 'queued readers registered');
    c.destroy();
    await waitUntil(() => o.sockets.size === 0, 3000, 'the server saw the connection close');
    await waitUntil(() => store.stats().readers === 0 && store.stats().waiters === 0, 1000, 'queued readers released');
    assert.is((await http(o.port, 'DELETE', '/big.m4s')).status, 200);
    assert.is(store.stats().detachedBytes, 0, 'nothing holds the deleted object');
  } finally {
    await o.close();
  }
});

test('a pipelined PUT whose client leaves: the upload count returns to 0, the request is logged and counted', async () => {
  const log: AccessLogEntry[] = [];
  const o = await startOrigin({ holdMs: 2000, maxUploads: 2, log: (e) => log.push(e) });
  try {
    for (let i = 0; i < 2; i++) {
      const c = await new RawClient(o.port).ready();
      c.write(GET(`/missing-${i}.ts`) + `PUT /up-${i}.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd`);
      await waitUntil(() => o.origin.store.get(`/up-${i}.ts`)?.state === 'complete', 2000, 'pipelined upload stored');
      c.destroy();
    }
    await waitUntil(() => o.origin.metrics.uploadsInProgress === 0, 2000, 'uploads no longer in progress');
    assert.is((await put(o.port, '/fresh.ts', 'hello')).status, 201, 'ingest is not refused');
    await waitUntil(() => log.filter((e) => e.method === 'PUT').length === 3, 2000, 'access log lines');
    const queued = log.filter((e) => e.path.startsWith('/up-'));
    assert.is(queued.length, 2);
    for (const e of queued) assert.ok(e.aborted, 'logged as aborted');
    assert.ok((o.origin.metrics.responses.get('PUT 201') ?? 0) >= 3, 'every PUT counted');
    // Graceful close waits for uploads in flight: none may be left counted by requests that are gone.
    assert.is(o.origin.metrics.uploadsInProgress, 0, 'no phantom uploads for a graceful close to wait for');
    await o.running.close(3000);
  } finally {
    await o.close();
  }
});

test('an aborted upload cuts a reader queued behind another live response on the same connection', async () => {
  const o = await startOrigin({ holdMs: 2000 });
  try {
    const a = await ChunkedUpload.start(o.port, '/a.ts');
    a.send(Buffer.from('AAAAAAAA'));
    const b = await ChunkedUpload.start(o.port, '/b.ts');
    b.send(Buffer.from('BBBBBBBB'));
    await waitUntil(() => o.origin.store.get('/a.ts') !== undefined && o.origin.store.get('/b.ts') !== undefined);
    const reader = await new RawClient(o.port).ready();
    reader.write(GET('/a.ts') + GET('/b.ts'));
    await waitUntil(() => o.origin.store.stats().readers === 2, 2000, 'both readers');
    b.abort();
    await waitUntil(() => o.origin.store.get('/b.ts')?.state === 'aborted');
    assert.is((await a.end()).status, 201);
    await waitUntil(() => reader.closed, 3000, 'the connection is cut once b\'s turn came');
    const text = reader.data.toString('latin1');
    const second = text.indexOf('HTTP/1.1 200', 10);
    assert.ok(second > 0, 'b\'s response started');
    const first = parseRawResponse(reader.data.subarray(0, second));
    assert.ok(first?.terminated, 'a complete');
    const cut = parseRawResponse(reader.data.subarray(second));
    assert.is(cut?.body.toString(), 'BBBBBBBB');
    assert.not.ok(cut?.terminated, 'b has no terminating chunk');
    assert.is(o.origin.store.stats().readers, 0);
  } finally {
    await o.close();
  }
});

test('opaque bodies in 1-byte HTTP chunks: units are bounded by reads, not by the chunk framing', async () => {
  const o = await startOrigin();
  try {
    const c = await new RawClient(o.port).ready();
    const n = 50_000;
    let body = '';
    for (let i = 0; i < n; i++) body += `1\r\n${String.fromCharCode(97 + (i % 26))}\r\n`;
    c.write(`PUT /tiny.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}0\r\n\r\n`);
    const r = await c.until((x) => x !== undefined, 10_000, 'upload answer');
    assert.is(r.status, 201);
    const object = o.origin.store.get('/tiny.bin');
    assert.is(object?.length, n);
    assert.ok((object?.units.length ?? Infinity) < n / 20, `${object?.units.length} units for ${n} one-byte chunks`);
    const got = await http(o.port, 'GET', '/tiny.bin');
    let expected = '';
    for (let i = 0; i < n; i++) expected += String.fromCharCode(97 + (i % 26));
    assert.is(got.body.toString(), expected);
    c.destroy();
  } finally {
    await o.close();
  }
});

test('a reader that stops reading is dropped after readerStallMs, also when its upload aborts meanwhile', async () => {
  const o = await startOrigin({ readerStallMs: 300 });
  try {
    const store = o.origin.store;
    const big = Buffer.alloc(16 * 1024 * 1024, 7);
    assert.is((await put(o.port, '/vod/big.ts', big)).status, 201);
    const stalled = await new RawClient(o.port).ready();
    stalled.socket.pause();
    stalled.write(GET('/vod/big.ts'));
    await waitUntil(() => store.stats().readers === 1);
    assert.is((await http(o.port, 'DELETE', '/vod/big.ts')).status, 200);
    assert.ok(store.stats().detachedBytes > 0, 'the paused reader holds the deleted object');
    await waitUntil(() => store.stats().readers === 0, 5000, 'stalled reader dropped');
    assert.is(store.stats().detachedBytes, 0);
    assert.is(o.origin.metrics.readerStalls, 1);

    // A live reader that stops reading, then its upload aborts: the reader cannot be cut
    // cleanly (nothing flushes), and is still dropped by the same inactivity timeout.
    const up = await ChunkedUpload.start(o.port, '/live/cut.ts');
    up.send(Buffer.alloc(64 * 1024, 1));
    await waitUntil(() => store.get('/live/cut.ts') !== undefined);
    const paused = await new RawClient(o.port).ready();
    paused.write(GET('/live/cut.ts'));
    await paused.until((r) => (r?.body.length ?? 0) > 0);
    paused.socket.pause();
    for (let i = 0; i < 64; i++) up.send(Buffer.alloc(64 * 1024, i));
    await waitUntil(() => store.get('/live/cut.ts')?.length === 65 * 64 * 1024, 5000, 'uploaded');
    up.abort();
    await waitUntil(() => store.get('/live/cut.ts')?.state === 'aborted');
    await waitUntil(() => o.sockets.size === 0, 5000, 'every server socket closed');
    assert.is(store.stats().readers, 0);
  } finally {
    await o.close();
  }
});

test('a reader that stops reading: the origin buffers more than the socket mark for it (catch-up in one turn), and at most BURST_BYTES plus one unit', async () => {
  const o = await startOrigin({ readerStallMs: 0 });
  try {
    assert.is((await put(o.port, '/vod/big.ts', Buffer.alloc(16 * 1024 * 1024, 7))).status, 201);
    const paused = await new RawClient(o.port).ready();
    paused.socket.pause();
    paused.write(GET('/vod/big.ts'));
    // The cursor writes synchronously until it must wait for 'drain': once past the mark, what
    // is buffered stays until the client reads (the kernel's buffers fill first).
    const buffered = () => Math.max(0, ...[...o.sockets].map((s) => s.writableLength));
    await waitUntil(() => buffered() >= BURST_BYTES, 5000, 'a burst past the socket mark');
    await sleep(100);
    const unit = 64 * 1024; // a Content-Length upload is stored in socket reads of at most 64 KiB
    assert.ok(buffered() <= BURST_BYTES + unit + 1024, `${buffered()} bytes buffered for one reader`);
    assert.is(o.origin.store.stats().readers, 1);
    paused.destroy();
  } finally {
    await o.close();
  }
});

/**
 * A live object read by a client that stopped reading, pushed until the origin itself buffers
 * for it (the kernel's buffers full): the reader's server socket and the upload.
 */
async function stuckLiveReader(o: TestOrigin, path: string) {
  const up = await ChunkedUpload.start(o.port, path);
  up.send(Buffer.alloc(64 * 1024, 1));
  await waitUntil(() => o.origin.store.get(path) !== undefined);
  const before = new Set(o.sockets);
  const paused = await new RawClient(o.port).ready();
  paused.write(GET(path));
  await paused.until((r) => (r?.body.length ?? 0) > 0);
  paused.socket.pause();
  const server = [...o.sockets].find((s) => !before.has(s));
  assert.ok(server !== undefined, "the reader's server socket");
  // The kernel's buffers fill first; then Node's hold what the client does not take.
  for (let i = 0; server.writableLength === 0 && i < 2000; i++) {
    up.send(Buffer.alloc(64 * 1024, i));
    await waitUntil(() => o.origin.store.get(path)?.length === (i + 2) * 64 * 1024);
  }
  assert.ok(server.writableLength > 0, 'the origin buffers for the reader');
  return { up, paused, server };
}

test('a client that stops reading is dropped when the rest of its object fit in what the origin buffers for it', async () => {
  const o = await startOrigin({ readerStallMs: 200 });
  try {
    const { up, paused, server } = await stuckLiveReader(o, '/live/tail.ts');
    up.send(Buffer.alloc(1024, 2));
    assert.is((await up.end()).status, 201); // the reader's cursor ends with its tail buffered
    await waitUntil(() => o.origin.metrics.readerStalls === 1, 5000, 'the stalled reader dropped');
    await waitUntil(() => server.destroyed, 2000, 'its connection closed');
    paused.destroy();
  } finally {
    await o.close();
  }
});

test('chunks still coming to a client that stopped reading do not count as its progress', async () => {
  const o = await startOrigin({ readerStallMs: 200 });
  try {
    const { up, paused } = await stuckLiveReader(o, '/live/trickle.ts');
    // An audio-like trickle: far less than the burst allowance in the time it takes to be cut.
    let sent = 0;
    const trickle = setInterval(() => up.send(Buffer.alloc(1024, sent++)), 50);
    try {
      await waitUntil(() => o.origin.metrics.readerStalls === 1, 5000, 'the stalled reader dropped while chunks come');
    } finally {
      clearInterval(trickle);
    }
    paused.destroy();
    up.abort();
  } finally {
    await o.close();
  }
});

test('a response queued behind a live one on a pipelined connection is not cut by the stall timeout while it waits its turn', async () => {
  const o = await startOrigin({ readerStallMs: 150 });
  try {
    const big = Buffer.alloc(1024 * 1024, 9);
    assert.is((await put(o.port, '/big.ts', big)).status, 201);
    const up = await ChunkedUpload.start(o.port, '/live/first.ts');
    up.send(Buffer.from('first piece;'));
    await waitUntil(() => o.origin.store.get('/live/first.ts') !== undefined);
    const reader = await new RawClient(o.port).ready();
    reader.write(GET('/live/first.ts') + GET('/big.ts'));
    await waitUntil(() => o.origin.store.stats().readers === 2, 2000, 'both readers');
    for (let i = 0; i < 6; i++) {
      await sleep(100); // four stall periods for the queued response, which cannot send a byte
      up.send(Buffer.from(`piece-${i};`));
    }
    assert.is((await up.end()).status, 201);
    await waitUntil(() => reader.received > big.length, 5000, 'the queued response delivered');
    const text = reader.data.toString('latin1');
    const second = text.indexOf('HTTP/1.1 200', 10);
    assert.ok(second > 0, 'the queued response started');
    const first = parseRawResponse(reader.data.subarray(0, second));
    assert.ok(first?.terminated, 'the live response completed');
    await waitUntil(() => parseRawResponse(reader.data.subarray(second))?.body.length === big.length, 5000, 'the whole queued body');
    assert.ok(parseRawResponse(reader.data.subarray(second))?.body.equals(big));
    assert.is(o.origin.metrics.readerStalls, 0);
    reader.destroy();
  } finally {
    await o.close();
  }
});

test('readers that keep up are not cut by the stall timeout', async () => {
  const o = await startOrigin({ readerStallMs: 200 });
  try {
    const up = await ChunkedUpload.start(o.port, '/live/steady.ts');
    up.send(Buffer.from('first piece;'));
    await waitUntil(() => o.origin.store.get('/live/steady.ts') !== undefined);
    const reader = await new RawClient(o.port).ready();
    reader.write(GET('/live/steady.ts'));
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      up.send(Buffer.from(`piece-${i}`));
    }
    await sleep(300); // idle upload, reader caught up: nothing to stall on
    assert.is((await up.end()).status, 201);
    const r = await reader.until((x) => x?.terminated === true, 3000, 'complete body');
    assert.is(r.body.toString(), 'first piece;piece-0piece-1piece-2piece-3piece-4');
    assert.is(o.origin.metrics.readerStalls, 0);
    reader.destroy();
  } finally {
    await o.close();
  }
});

test.run();
