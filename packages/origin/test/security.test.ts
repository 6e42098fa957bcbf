// Ingest security and HTTP hardening: a secret for PUT/POST/DELETE (Bearer or Basic, checked
// with real ffmpeg too), egress public, a separate ingest listener, the insecure-binding
// warning, slowloris headers, trickling and stalled bodies, oversized heads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { IngestAuth, insecureIngestWarning, isLoopback } from '../src/ingest/auth.js';
import { createOrigin } from '../src/index.js';
import { ChunkedUpload, RawClient, fixture, fixtureChunks, http, put, rawGet, sleep, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();
const SECRET = 's3cret-ingest';
const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

test('IngestAuth: Bearer, Basic password or user:password; 401 without usable credentials, 403 with wrong ones', () => {
  const auth = new IngestAuth(SECRET);
  assert.ok(auth.check(`Bearer ${SECRET}`).ok);
  assert.ok(auth.check(`bearer  ${SECRET}`).ok, 'scheme is case-insensitive');
  assert.equal(auth.check(basic('enc', SECRET)), { ok: true, user: 'enc' });
  assert.ok(new IngestAuth('enc:pw').check(basic('enc', 'pw')).ok, 'whole user:password as the secret');
  assert.ok(auth.check(basic('', SECRET)).ok);
  for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Digest abc', 'Basic', 'Basic !!!', 'Basic ' + Buffer.from('nocolon').toString('base64')]) {
    const r = auth.check(h);
    assert.ok(!r.ok && r.status === 401, String(h));
  }
  for (const h of [`Bearer ${SECRET}x`, 'Bearer s3cret', basic('enc', 'wrong'), basic(SECRET, ''), `Bearer ${SECRET.toUpperCase()}`]) {
    const r = auth.check(h);
    assert.ok(!r.ok && r.status === 403, h);
  }
  assert.throws(() => new IngestAuth(''));
});

test('isLoopback and the insecure-binding warning', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.not.ok(isLoopback(h), h);
  assert.match(String(insecureIngestWarning('0.0.0.0', false)), /WARNING: ingest .* open to anyone .* 0\.0\.0\.0/);
  assert.is(insecureIngestWarning('0.0.0.0', true), undefined);
  assert.is(insecureIngestWarning('127.0.0.1', false), undefined);
});

test('with a secret: uploads and DELETEs need it, reads stay public', async () => {
  const o = await startOrigin({ ingestSecret: SECRET });
  try {
    const none = await put(o.port, '/live/a.m4s', segment);
    assert.is(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /Bearer realm=.*Basic realm=/);
    assert.is(none.headers.connection, 'close');
    assert.is((await put(o.port, '/live/a.m4s', segment, { Authorization: 'Bearer nope' })).status, 403);
    assert.is((await put(o.port, '/live/a.m4s', segment, { Authorization: `Bearer ${SECRET}` })).status, 201);
    assert.is((await http(o.port, 'POST', '/live/b.m4s', segment, { Authorization: basic('encoder-1', SECRET) })).status, 201);
    const get = await http(o.port, 'GET', '/live/a.m4s');
    assert.is(get.status, 200, 'egress is public');
    assert.ok(get.body.equals(segment));
    assert.is((await http(o.port, 'DELETE', '/live/a.m4s')).status, 401);
    assert.is((await http(o.port, 'DELETE', '/live/a.m4s', undefined, { Authorization: basic('x', 'y') })).status, 403);
    assert.is((await http(o.port, 'DELETE', '/live/a.m4s', undefined, { Authorization: `Bearer ${SECRET}` })).status, 200);
    // A chunked upload refused before its body: the object never appears.
    const up = await ChunkedUpload.start(o.port, '/live/c.m4s');
    up.send(chunks[0]);
    const r = await up.end();
    assert.is(r.status, 401);
    assert.is(o.origin.store.get('/live/c.m4s'), undefined);
    const m = (await http(o.port, 'GET', '/metrics')).body.toString();
    assert.match(m, /boxstream_origin_auth_failures_total 5\n/);
  } finally {
    await o.close();
  }
});

test('a separate ingest listener: the public port refuses PUT/POST/DELETE (405), the ingest port takes them', async () => {
  const warnings: string[] = [];
  const origin = createOrigin({ holdMs: 200, warn: (m) => warnings.push(m) });
  const running = await origin.listen(0, '127.0.0.1', { ingestPort: 0, ingestHost: '127.0.0.1' });
  try {
    const ingest = running.ingest!;
    assert.ok(ingest.port > 0 && ingest.port !== running.port);
    const refused = await put(running.port, '/live/a.m4s', segment);
    assert.is(refused.status, 405);
    assert.is(refused.headers.allow, 'GET, HEAD, OPTIONS');
    assert.is((await http(running.port, 'DELETE', '/live/a.m4s')).status, 405);
    assert.is((await http(running.port, 'POST', '/live/a.m4s', 'x')).status, 405);
    assert.is(origin.store.get('/live/a.m4s'), undefined);
    assert.is((await put(ingest.port, '/live/a.m4s', segment)).status, 201);
    const get = await http(running.port, 'GET', '/live/a.m4s');
    assert.is(get.status, 200);
    assert.ok(get.body.equals(segment));
    assert.is((await http(ingest.port, 'DELETE', '/live/a.m4s')).status, 200);
    assert.equal(warnings, [], 'loopback: no warning');
  } finally {
    await running.close(0);
  }
});

test('slowloris: headers trickled slower than headersTimeout are cut', async () => {
  const o = await startOrigin({ headersTimeoutMs: 400 });
  try {
    const c = await new RawClient(o.port).ready();
    c.write('GET /live/a.m4s HTTP/1.1\r\nHost: x\r\n');
    let lines = 0;
    for (; lines < 40 && !c.closed; lines++) {
      c.write(`X-Slow-${lines}: y\r\n`);
      await sleep(100);
    }
    await waitUntil(() => c.closed, 3000, 'connection cut');
    assert.ok(lines < 40, 'cut before the client finished its head');
    assert.match(c.data.toString('latin1'), /^HTTP\/1\.1 408/);
    // A normal request right after is served.
    assert.is((await http(o.port, 'GET', '/time')).status, 200);
  } finally {
    await o.close();
  }
});

test('a trickling or stalled upload body is aborted after ingestIdleMs; its readers are cut', async () => {
  const o = await startOrigin({ ingestIdleMs: 300 });
  try {
    const key = '/live/trickle.m4s';
    const up = await ChunkedUpload.start(o.port, key);
    up.send(chunks[0]);
    await waitUntil(() => o.origin.store.get(key) !== undefined);
    const reader = await rawGet(o.port, key);
    await reader.until((r) => (r?.chunks.length ?? 0) === 1);
    // Gaps shorter than the idle timeout are fine...
    for (let i = 0; i < 5; i++) {
      up.send(chunks[1].subarray(i * 10, i * 10 + 10));
      await sleep(100);
    }
    assert.is(o.origin.store.get(key)?.state, 'writing', 'slow but alive');
    // ...then the body stops.
    await waitUntil(() => up.client.closed, 3000, 'upload cut');
    assert.match(up.client.data.toString('latin1'), /^HTTP\/1\.1 408/);
    assert.is(o.origin.store.get(key)?.state, 'aborted');
    await waitUntil(() => reader.closed, 2000, 'reader cut');
    assert.not.ok(reader.response()?.terminated, 'the reader can tell the object is incomplete');
    assert.is(o.origin.metrics.uploadsStalled, 1);
    assert.is(o.origin.metrics.uploadsInProgress, 0);
    reader.destroy();
  } finally {
    await o.close();
  }
});

test('an oversized request head gets 431', async () => {
  const o = await startOrigin({ maxHeaderBytes: 4096 });
  try {
    const c = await new RawClient(o.port).ready();
    c.write(`GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
    await waitUntil(() => c.closed || c.data.length > 0, 2000);
    assert.match(c.data.toString('latin1'), /^HTTP\/1\.1 431/);
    c.destroy();
  } finally {
    await o.close();
  }
});

function ffmpeg(url: string, extra: string[]): Promise<{ code: number | null; stderr: string }> {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '5', '-keyint_min', '5', '-sc_threshold', '0', '-f', 'dash', '-seg_duration', '0.5', '-streaming', '1', '-ldash', '1',
    '-window_size', '1', '-extra_window_size', '0', '-remove_at_exit', '1', '-use_template', '1', '-use_timeline', '0',
    '-method', 'PUT', '-http_persistent', '1', ...extra, url,
  ];
  return new Promise((resolve) => {
    const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b: Buffer) => (stderr += b));
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

test('real ffmpeg sends Basic credentials from http://user:pass@host/ URLs (with -http_opts auth_type=basic)', async () => {
  const o = await startOrigin({ ingestSecret: SECRET });
  try {
    const created: string[] = [];
    const deleted: string[] = [];
    o.origin.store.on('create', (k) => created.push(k));
    o.origin.store.on('delete', (k) => deleted.push(k));
    const ok = await ffmpeg(`http://encoder:${SECRET}@127.0.0.1:${o.port}/live/auth/out.mpd`, ['-http_opts', 'auth_type=basic']);
    assert.is(ok.code, 0, ok.stderr);
    assert.ok(created.some((k) => /init-stream0\.m4s$/.test(k)), `created: ${created}`);
    assert.ok(created.filter((k) => /chunk-stream0-\d+\.m4s$/.test(k)).length >= 2);
    // ffmpeg may exit before the origin has handled its last requests (it encodes faster than
    // real time): wait for the window's DELETEs instead of expecting them at its exit.
    await waitUntil(() => deleted.length >= 1, 5000, 'window DELETEs authenticated too');
    assert.is(o.origin.metrics.authFailures, 0);
    // A wrong password is refused (403) and stores nothing.
    const before = created.length;
    await ffmpeg(`http://encoder:wrong@127.0.0.1:${o.port}/live/bad/out.mpd`, ['-http_opts', 'auth_type=basic']);
    assert.is(created.length, before, 'nothing stored with a wrong password');
    assert.ok(o.origin.metrics.authFailures > 0);
    assert.ok(o.origin.metrics.responses.get('PUT 403')! > 0);
  } finally {
    await o.close();
  }
});

test.run();
