// HTTP/2 for players on the TLS listener (node:http2, HTTP/1.1 beside it by ALPN): live objects
// stream chunk by chunk over a stream as over a connection, a stream that must end badly is
// reset while its session carries on, flow control bounds what a slow reader costs, uploads and
// refusals work over a stream, and HTTP/1.1 on the same port keeps the origin's settings.
// Clients: node:http2 and Debian's curl (--http2), against certificates made by openssl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2Connect, constants, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Server } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createOrigin, type AccessLogEntry, type OriginOptions } from '../src/index.js';
import { ChunkedUpload, fixture, fixtureChunks, put, runCli, waitUntil } from './helpers.js';
import { makeCertificate, type TestCertificate } from './helpers/certificate.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();
const dir = mkdtempSync(join(tmpdir(), 'boxstream-h2-'));
const certificate: TestCertificate = makeCertificate(dir, 'h2');

/** An origin on https (HTTP/2 and HTTP/1.1) with a plain ingest listener beside it. */
async function startTlsOrigin(options: OriginOptions = {}, http2 = true) {
  const origin = createOrigin({ warn: quiet, holdMs: 2000, ...options });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert: certificate.cert, key: certificate.key }, ingestPort: 0, http2 });
  return {
    origin,
    running,
    ingestPort: running.ingest!.port,
    close: async () => {
      await running.close(0);
      origin.close();
    },
  };
}

function openSession(url: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(url, { ca: certificate.cert });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** One request on `session`: its head, each piece of body as it arrives, and how it ended. */
interface StreamResult {
  pieces: Buffer[];
  head: Promise<IncomingHttpHeaders>;
  /** `'end'` for a body that ended cleanly (END_STREAM), else the RST_STREAM code. */
  ended: Promise<'end' | number>;
  received(): number;
}

function request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer): StreamResult {
  const stream = session.request(headers, { endStream: body === undefined });
  const pieces: Buffer[] = [];
  let clean = false;
  const head = new Promise<IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('close', () => reject(new Error(`stream closed before its head (RST ${stream.rstCode})`)));
  });
  head.catch(() => {});
  stream.on('data', (b: Buffer) => pieces.push(b));
  stream.once('end', () => (clean = true));
  stream.on('error', () => {}); // the reset code is read on 'close'
  const ended = new Promise<'end' | number>((resolve) => stream.once('close', () => resolve(clean ? 'end' : stream.rstCode ?? -1)));
  if (body !== undefined) stream.end(body);
  return { pieces, head, ended, received: () => pieces.reduce((n, p) => n + p.length, 0) };
}

const get = (session: ClientHttp2Session, path: string): StreamResult => request(session, { ':path': path });

function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronously: the server answering it runs in this process.
    execFile('curl', ['-sS', '--cacert', certificate.certFile, ...args], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr: stderr.toString() }),
    );
  });
}

test('HTTP/2: two readers on one session get each chunk before the upload ends, byte-exact; curl --http2 and --http1.1 on the same port', async () => {
  const o = await startTlsOrigin();
  const session = await openSession(o.running.url);
  try {
    assert.is(session.alpnProtocol, 'h2');
    const readers = [get(session, '/live/seg-1.m4s'), get(session, '/live/seg-1.m4s')];
    const upload = await ChunkedUpload.start(o.ingestPort, '/live/seg-1.m4s');
    for (let i = 0; i < chunks.length; i++) {
      upload.send(chunks[i]);
      const want = chunks.slice(0, i + 1).reduce((n, c) => n + c.length, 0);
      for (const r of readers) await waitUntil(() => r.received() >= want, 3000, `chunk ${i + 1} over HTTP/2`);
    }
    assert.is((await upload.end()).status, 201);
    for (const r of readers) {
      assert.is((await r.head)[':status'], 200);
      assert.is(await r.ended, 'end');
      assert.ok(Buffer.concat(r.pieces).equals(segment), 'byte-exact');
    }
    const h2 = await curl(['--http2', '-w', '%{http_version}', '-o', join(dir, 'h2.m4s'), `${o.running.url}/live/seg-1.m4s`]);
    assert.is(h2.code, 0, h2.stderr);
    assert.is(h2.stdout.toString(), '2');
    const h1 = await curl(['--http1.1', '-w', '%{http_version}', '-o', join(dir, 'h1.m4s'), `${o.running.url}/live/seg-1.m4s`]);
    assert.is(h1.code, 0, h1.stderr);
    assert.is(h1.stdout.toString(), '1.1');
    const again = await curl(['--http2', `${o.running.url}/live/seg-1.m4s`]);
    assert.ok(again.stdout.equals(segment), 'curl --http2 body byte-exact');
  } finally {
    session.destroy();
    await o.close();
  }
});

test('HTTP/2: curl --http2 reads a live object as it is written (a held request, then every chunk)', async () => {
  const o = await startTlsOrigin();
  try {
    const reading = curl(['--http2', '-N', '-w', '%{http_version} %{http_code}', '-o', join(dir, 'live.m4s'), `${o.running.url}/live/seg-2.m4s`]);
    // curl's request is held until the upload starts.
    await waitUntil(() => o.origin.metrics.holds >= 1, 5000, "curl's held request");
    const upload = await ChunkedUpload.start(o.ingestPort, '/live/seg-2.m4s');
    for (const c of chunks) upload.send(c);
    assert.is((await upload.end()).status, 201);
    const done = await reading;
    assert.is(done.code, 0, done.stderr);
    assert.is(done.stdout.toString(), '2 200');
    assert.ok(readFileSync(join(dir, 'live.m4s')).equals(segment));
  } finally {
    await o.close();
  }
});

test('HTTP/2: an upload cut mid-object resets the readers\' streams after the bytes they had (never a clean end); the session goes on', async () => {
  const o = await startTlsOrigin();
  const session = await openSession(o.running.url);
  try {
    const reader = get(session, '/live/cut.m4s');
    const upload = await ChunkedUpload.start(o.ingestPort, '/live/cut.m4s');
    upload.send(chunks[0]);
    upload.send(chunks[1]);
    const want = chunks[0].length + chunks[1].length;
    await waitUntil(() => reader.received() >= want, 3000, 'two chunks');
    upload.abort();
    assert.is(await reader.ended, constants.NGHTTP2_INTERNAL_ERROR, 'RST_STREAM INTERNAL_ERROR, not END_STREAM');
    assert.ok(Buffer.concat(reader.pieces).equals(Buffer.concat([chunks[0], chunks[1]])), 'every byte written before the cut');
    const time = get(session, '/time');
    assert.is((await time.head)[':status'], 200);
    assert.is(await time.ended, 'end');
    assert.not.ok(session.destroyed || session.closed, 'the session carried on');
  } finally {
    session.destroy();
    await o.close();
  }
});

test('HTTP/2 flow control: a reader that stops reading is reset after readerStallMs while its session stays busy; so is one cut mid-object that reads no more', async () => {
  const o = await startTlsOrigin({ readerStallMs: 300 });
  const big = randomBytes(4 * 1024 * 1024);
  const small = Buffer.from('still here\n');
  assert.is((await put(o.ingestPort, '/files/big.bin', big)).status, 201);
  assert.is((await put(o.ingestPort, '/files/small.txt', small)).status, 201);
  // The connection's window is large, the stream's the default 64 KiB: only the stalled stream waits.
  const session = await openSession(o.running.url);
  session.setLocalWindowSize(32 * 1024 * 1024);
  // The player's other requests go on meanwhile (Node's own stream timeout would restart with each).
  let busy = true;
  let served = 0;
  const traffic = (async () => {
    while (busy) {
      const r = get(session, '/files/small.txt');
      if ((await r.ended) === 'end') served++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const paused = (path: string) => {
    const stream = session.request({ ':path': path });
    stream.pause();
    stream.on('error', () => {});
    const closed = new Promise<number | undefined>((resolve) => stream.once('close', () => resolve(stream.rstCode)));
    return Promise.race([closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${path}: no reset within 10 s`)), 10_000))]);
  };
  try {
    assert.is(await paused('/files/big.bin'), constants.NGHTTP2_INTERNAL_ERROR);
    assert.is(o.origin.metrics.readerStalls, 1);
    // A live object cut while its reader takes nothing: the reset waits for the bytes, then for the stall.
    const cutReader = paused('/files/live.bin');
    const upload = await ChunkedUpload.start(o.ingestPort, '/files/live.bin');
    upload.send(big.subarray(0, 2 * 1024 * 1024));
    await waitUntil(() => o.origin.store.get('/files/live.bin')?.length === 2 * 1024 * 1024, 3000, 'the upload');
    upload.abort();
    assert.is(await cutReader, constants.NGHTTP2_INTERNAL_ERROR);
    assert.ok(served > 3, `${served} requests served on the session meanwhile`);
    const other = get(session, '/files/small.txt');
    assert.is(await other.ended, 'end');
    assert.ok(Buffer.concat(other.pieces).equals(small));
  } finally {
    busy = false;
    await traffic;
    session.destroy();
    await o.close();
  }
});

test('HTTP/2 uploads: accepted and readable; refused (403) while the body is still coming, and the session goes on; curl --http2 gets the 403', async () => {
  // The combined listener (no ingestPort) takes uploads over HTTP/2 too (the /player page's VOD
  // upload does, from a browser).
  const origin = createOrigin({ warn: quiet, ingestSecret: 'right' });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert: certificate.cert, key: certificate.key } });
  const session = await openSession(running.url);
  try {
    const body = randomBytes(8 * 1024 * 1024);
    const refused = request(session, { ':method': 'PUT', ':path': '/live/a.bin', authorization: 'Bearer wrong' }, body);
    assert.is((await refused.head)[':status'], 403);
    assert.is(await refused.ended, 'end', 'the rest of the body was read and dropped: the stream ended cleanly');
    const ok = request(session, { ':method': 'PUT', ':path': '/live/a.bin', authorization: 'Bearer right' }, segment);
    assert.is((await ok.head)[':status'], 201);
    assert.is(await ok.ended, 'end');
    const read = get(session, '/live/a.bin');
    assert.is(await read.ended, 'end');
    assert.ok(Buffer.concat(read.pieces).equals(segment));
    const file = join(dir, 'upload.bin');
    writeFileSync(file, body);
    const c = await curl(['--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '-T', file, '-H', 'Authorization: Bearer wrong', `${running.url}/live/b.bin`]);
    assert.is(c.stdout.toString(), '2 403', c.stderr);
    assert.is(origin.store.get('/live/b.bin'), undefined);
  } finally {
    session.destroy();
    await running.close(0);
    origin.close();
  }
});

test('a VOD upload cut over HTTP/2 is refused and leaves nothing (a reset stream still ends its body)', async () => {
  // MPEG-TS: its first half is a playable video too, so only the cut can tell.
  const file = join(dir, 'clip.ts');
  await new Promise<void>((resolve, reject) =>
    execFile('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-y', file], (err) => (err ? reject(err) : resolve())),
  );
  const clip = readFileSync(file);
  const vodDir = mkdtempSync(join(dir, 'vod-'));
  const entries: AccessLogEntry[] = [];
  const origin = createOrigin({ warn: quiet, dir: vodDir, vod: { profiles: [{ name: '90p', height: 90, videoKbps: 100 }], segmentSeconds: 2 }, log: (e) => entries.push(e) });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert: certificate.cert, key: certificate.key } });
  const session = await openSession(running.url);
  const vodFiles = (sub: string) => readdirSync(join(vodDir, '.boxstream-vod', sub));
  try {
    const stream = session.request({ ':method': 'PUT', ':path': '/vod/cutclip', 'content-length': String(clip.length) }, { endStream: false });
    stream.on('error', () => {});
    const closed = new Promise((r) => stream.once('close', r));
    stream.write(clip.subarray(0, clip.length >> 1));
    await waitUntil(() => vodFiles('incoming').length > 0, 5000, 'the upload on disk');
    stream.close(constants.NGHTTP2_CANCEL);
    await closed;
    await waitUntil(() => entries.some((e) => e.method === 'PUT') && vodFiles('incoming').length === 0, 5000, 'the upload settled');
    assert.equal(vodFiles('sources'), [], 'half a file never became a source');
    assert.equal(origin.vod!.jobs(), [], 'no job from half a file');
  } finally {
    session.destroy();
    await running.close(0);
    origin.close();
  }
});

test('HTTP/1.1 on the HTTP/2 port keeps the origin settings: a slow request head gets 408 after headersTimeoutMs; no request deadline', async () => {
  const o = await startTlsOrigin({ headersTimeoutMs: 400 });
  try {
    // Node's own deadline for HTTP/1.1 on an HTTP/2 server would cut any request after 5 minutes.
    assert.is((o.running.server as unknown as Server).requestTimeout, 0);
    const socket = tlsConnect({ host: '127.0.0.1', port: o.running.port, ca: certificate.cert, ALPNProtocols: ['http/1.1'] });
    await new Promise((r) => socket.once('secureConnect', r));
    assert.is(socket.alpnProtocol, 'http/1.1');
    let answer = '';
    socket.on('data', (b: Buffer) => (answer += b));
    socket.write('GET /time HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await new Promise((r) => socket.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 408 /);
  } finally {
    await o.close();
  }
});

test('http2: false (--no-http2) offers HTTP/1.1 only; shutdown with an HTTP/2 reader attached ends (GOAWAY, then the cut)', async () => {
  const h1 = await startTlsOrigin({}, false);
  try {
    const c = await curl(['--http2', '-o', '/dev/null', '-w', '%{http_version}', `${h1.running.url}/time`]);
    assert.is(c.stdout.toString(), '1.1');
  } finally {
    await h1.close();
  }
  const o = await startTlsOrigin();
  const session = await openSession(o.running.url);
  const reader = get(session, '/live/open.m4s');
  let readerDone = false;
  void reader.ended.then(() => (readerDone = true));
  const goaways: { code: number; readerOpen: boolean }[] = [];
  session.on('goaway', (code: number) => goaways.push({ code, readerOpen: !readerDone }));
  session.on('error', () => {});
  const upload = await ChunkedUpload.start(o.ingestPort, '/live/open.m4s');
  upload.send(chunks[0]);
  await waitUntil(() => reader.received() >= chunks[0].length, 3000, 'the first chunk');
  // The upload stays open: the grace runs out, then the cut.
  await o.running.close(500);
  o.origin.close();
  assert.is.not(await reader.ended, 'end', 'the open reader was cut, not ended as if complete');
  assert.ok(goaways.length > 0, 'GOAWAY');
  assert.equal(goaways[0], { code: constants.NGHTTP2_NO_ERROR, readerOpen: true }, 'a graceful GOAWAY first, while the reader still read');
  upload.abort();
  session.destroy();
});

test('the access log: HTTP/2 requests marked, a cancelled read logged as aborted, a cancelled held HEAD logged when it is cancelled', async () => {
  const entries: AccessLogEntry[] = [];
  const o = await startTlsOrigin({ log: (e) => entries.push(e), holdMs: 10_000 });
  const session = await openSession(o.running.url);
  try {
    const reader = session.request({ ':path': '/live/log.m4s' });
    reader.on('error', () => {});
    const upload = await ChunkedUpload.start(o.ingestPort, '/live/log.m4s');
    upload.send(chunks[0]);
    await new Promise((r) => reader.once('data', r));
    reader.close(constants.NGHTTP2_CANCEL);
    await waitUntil(() => entries.some((e) => e.path === '/live/log.m4s' && e.method === 'GET'), 3000, 'the GET logged');
    const read = entries.find((e) => e.method === 'GET')!;
    assert.is(read.http, '2.0');
    assert.is(read.aborted, true, 'cancelled by the client');
    upload.abort();
    // A HEAD of a key that does not exist is held; the client gives up long before holdMs.
    const head = session.request({ ':path': '/live/never.m4s', ':method': 'HEAD' });
    head.on('error', () => {});
    await waitUntil(() => o.origin.metrics.holds >= 1, 3000, 'the HEAD held');
    head.close(constants.NGHTTP2_CANCEL);
    await waitUntil(() => entries.some((e) => e.method === 'HEAD'), 3000, 'the cancelled HEAD logged at once, not after holdMs');
    assert.is(entries.find((e) => e.method === 'HEAD')!.aborted, true);
  } finally {
    session.destroy();
    await o.close();
  }
});

test('the CLI: --no-http2 without --tls-cert exits 2', async () => {
  const p = runCli(['--no-http2']);
  assert.is(await p.exited, 2);
  assert.match(p.err(), /--no-http2 goes with --tls-cert/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
