// Every client gets its real answer: a refused upload reads its status instead of a reset, a
// store listener that throws costs nothing, small answers are counted in the access log, the
// operational endpoints stay off the public listener when asked, If-Range takes HTTP dates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { createOrigin } from '../src/index.js';
import type { AccessLogEntry } from '../src/index.js';
import { ChunkedUpload, RawClient, fixture, fixtureChunks, http, parseRawResponse, put, rawGet, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

/**
 * A chunked PUT that sends `bytes` of body as fast as the socket takes it, without waiting for
 * an answer (as ffmpeg and curl do), then reads whatever comes back until the server closes.
 */
function floodingPut(port: number, path: string, headers: string, bytes: number): Promise<{ response: Buffer; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (b) => got.push(b));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ response: Buffer.concat(got), error }));
    socket.on('connect', () => {
      socket.write(`PUT ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${headers}\r\n`);
      const piece = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes && !socket.destroyed) {
          sent += piece.length;
          const more = socket.write(`${piece.length.toString(16)}\r\n`) && socket.write(piece) && socket.write('\r\n');
          if (!more) return void socket.once('drain', pump);
        }
        if (!socket.destroyed) socket.write('0\r\n\r\n');
      };
      pump();
    });
  });
}

test('a refused upload whose client keeps sending reads its status, never a reset (lingering close)', async () => {
  const o = await startOrigin({ ingestSecret: 's3cret', maxObjectSize: 1024 * 1024 });
  try {
    for (let i = 0; i < 5; i++) {
      const wrong = await floodingPut(o.port, `/live/x${i}.m4s`, 'Authorization: Bearer nope\r\n', 8 * 1024 * 1024);
      assert.is(parseRawResponse(wrong.response)?.status, 403, `try ${i}: ${wrong.error ?? 'no error'}, ${wrong.response.length} bytes`);
      assert.is(wrong.error, undefined, `try ${i}: no reset`);
    }
    const none = await floodingPut(o.port, '/live/y.m4s', '', 4 * 1024 * 1024);
    assert.is(parseRawResponse(none.response)?.status, 401);
    // Too large, found mid-body: 413, read by the client.
    const big = await floodingPut(o.port, '/live/big.bin', 'Authorization: Bearer s3cret\r\n', 6 * 1024 * 1024);
    assert.is(parseRawResponse(big.response)?.status, 413);
    assert.is(big.error, undefined);
  } finally {
    await o.close();
  }
});

test('a store listener that throws does not touch the upload or its readers', async () => {
  const warnings: string[] = [];
  const o = await startOrigin({ warn: (m) => warnings.push(m) });
  try {
    o.origin.store.on('publish', () => {
      throw new Error('listener bug');
    });
    o.origin.store.on('complete', () => {
      throw new Error('another one');
    });
    const up = await ChunkedUpload.start(o.port, '/live/l.m4s');
    up.send(chunks[0]);
    await waitUntil(() => o.origin.store.get('/live/l.m4s') !== undefined);
    const reader = await rawGet(o.port, '/live/l.m4s');
    await waitUntil(() => o.origin.store.stats().readers === 1);
    for (const c of chunks.slice(1)) up.send(c);
    assert.is((await up.end()).status, 201);
    const r = await reader.until((x) => x?.terminated === true);
    assert.ok(r.body.equals(segment));
    assert.ok(o.origin.metrics.listenerErrors >= chunks.length);
    assert.match((await http(o.port, 'GET', '/metrics')).body.toString(), /boxstream_origin_listener_errors_total [1-9]/);
    assert.ok(warnings.some((w) => /'publish' listener threw/.test(w)), 'reported');
    assert.ok(warnings.length < 5, 'reported once, not once per chunk');
  } finally {
    await o.close();
  }
});

test('a throwing setHeaders costs only its request: held readers, HTTP/1.0 readers, and the upload go on', async () => {
  const o = await startOrigin({
    holdMs: 3000,
    warn: () => undefined,
    setHeaders: (_headers, object) => {
      if (object.key.startsWith('/bad/')) throw new Error('hook bug');
    },
  });
  try {
    const held = await rawGet(o.port, '/bad/s.m4s');
    const old = await new RawClient(o.port).ready();
    await waitUntil(() => o.origin.store.stats().waiters === 1);
    const up = await ChunkedUpload.start(o.port, '/bad/s.m4s');
    up.send(chunks[0]);
    assert.is((await held.until((x) => x !== undefined)).status, 500);
    old.write('GET /bad/s.m4s HTTP/1.0\r\n\r\n');
    await waitUntil(() => o.origin.store.stats().readers >= 1);
    for (const c of chunks.slice(1)) up.send(c);
    assert.is((await up.end()).status, 201, 'the upload is unaffected');
    assert.is((await old.until((x) => x !== undefined)).status, 500);
    assert.is(o.origin.store.get('/bad/s.m4s')?.state, 'complete');
  } finally {
    await o.close();
  }
});

test('requests pipelined after a refused body are not run; ordinary errors keep the connection', async () => {
  const o = await startOrigin();
  try {
    await put(o.port, '/keep.bin', 'x');
    const c = await new RawClient(o.port).ready();
    // Refused (415) mid-body, then a DELETE pipelined behind the body.
    c.write('PUT /x.m4s HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\n<html>not mp4..>');
    c.write('DELETE /keep.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => c.closed, 8000, 'closed');
    assert.is(parseRawResponse(c.data)?.status, 415);
    assert.is((await http(o.port, 'GET', '/keep.bin')).status, 200, 'the pipelined DELETE did not run');
    // A bad path on a GET: 400, and the same connection serves the next request.
    const k = await new RawClient(o.port).ready();
    k.write('GET /a/%2e%2e/b HTTP/1.1\r\nHost: x\r\n\r\nGET /keep.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => (k.data.toString('latin1').match(/HTTP\/1\.1 /g) ?? []).length === 2, 3000, 'two answers');
    assert.match(k.data.toString('latin1'), /^HTTP\/1\.1 400[\s\S]*HTTP\/1\.1 200/);
    k.destroy();
  } finally {
    await o.close();
  }
});

test('the access log counts the bytes of small answers too: /metrics, /healthz, /time, 404', async () => {
  const entries: AccessLogEntry[] = [];
  const o = await startOrigin({ holdMs: 0, log: (e) => entries.push(e) });
  try {
    const sizes = new Map<string, number>();
    for (const path of ['/metrics', '/healthz', '/time', '/missing.m4s']) sizes.set(path, (await http(o.port, 'GET', path)).body.length);
    await waitUntil(() => entries.length === 4);
    for (const e of entries) {
      assert.ok(e.bytes > 0, `${e.path}: bytes=${e.bytes}`);
      assert.is(e.bytes, sizes.get(e.path), e.path);
    }
  } finally {
    await o.close();
  }
});

test('opsListener ingest: /metrics and /healthz only on the ingest listener', async () => {
  const origin = createOrigin({ opsListener: 'ingest', warn: () => undefined });
  const running = await origin.listen(0, '127.0.0.1', { ingestPort: 0 });
  try {
    const ingestPort = running.ingest!.port;
    assert.is((await http(running.port, 'GET', '/metrics')).status, 404);
    assert.is((await http(running.port, 'GET', '/healthz')).status, 404);
    assert.is((await http(ingestPort, 'GET', '/metrics')).status, 200);
    assert.is((await http(ingestPort, 'GET', '/healthz')).status, 200);
  } finally {
    await running.close(0);
    origin.close();
  }
});

test('If-Range with an HTTP date in any format: the range applies while Last-Modified matches', async () => {
  const o = await startOrigin();
  try {
    await put(o.port, '/d.m4s', segment);
    const lastModified = (await http(o.port, 'HEAD', '/d.m4s')).headers['last-modified'] as string;
    const at = new Date(lastModified);
    // RFC 850 and asctime forms of the same second (RFC 9110 5.6.7 asks servers to accept them).
    const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
    const mon = at.toUTCString().slice(8, 11);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const time = `${p2(at.getUTCHours())}:${p2(at.getUTCMinutes())}:${p2(at.getUTCSeconds())}`;
    const rfc850 = `${days[at.getUTCDay()]}, ${p2(at.getUTCDate())}-${mon}-${String(at.getUTCFullYear()).slice(2)} ${time} GMT`;
    for (const date of [lastModified, rfc850]) {
      const r = await http(o.port, 'GET', '/d.m4s', undefined, { Range: 'bytes=0-9', 'If-Range': date });
      assert.is(r.status, 206, date);
    }
    const older = new Date(at.getTime() - 60_000).toUTCString();
    assert.is((await http(o.port, 'GET', '/d.m4s', undefined, { Range: 'bytes=0-9', 'If-Range': older })).status, 200);
  } finally {
    await o.close();
  }
});

test.run();
