// TLS on the main listener: the same origin over https (live chunks reach a reader before the
// upload ends, byte-exact), curl over it, a plain ingest listener beside it, and a certificate
// swapped for new connections while a reader on an old one keeps streaming. Certificates are
// made by Debian's openssl in a temporary directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrigin } from '../src/index.js';
import { fixture, fixtureChunks, http, runCli, waitUntil } from './helpers.js';
import { makeCertificate } from './helpers/certificate.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();
const dir = mkdtempSync(join(tmpdir(), 'boxstream-tls-'));

const makeCert = (name: string) => makeCertificate(dir, name);

/** The SHA-256 fingerprint of the certificate a new connection to `port` is shown. */
function fingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const x509 = (pem: Buffer): string => new X509Certificate(pem).fingerprint256;

/** A GET over https that records each piece of body as it arrives. */
function httpsGet(port: number, path: string, ca: Buffer): { pieces: Buffer[]; done: Promise<number> } {
  const pieces: Buffer[] = [];
  const done = new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, agent: false }, (res) => {
      res.on('data', (b: Buffer) => pieces.push(b));
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return { pieces, done };
}

/** A chunked PUT over https whose chunks are sent one by one. */
function httpsUpload(port: number, path: string, ca: Buffer): { send(b: Buffer): void; end(): Promise<number> } {
  let status: Promise<number>;
  const options: RequestOptions = { host: '127.0.0.1', port, path, method: 'PUT', ca, agent: false, headers: { 'transfer-encoding': 'chunked' } };
  const req = httpsRequest(options);
  status = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { send: (b) => void req.write(b), end: () => (req.end(), status) };
}

test('over https: a reader gets each chunk before the upload ends, byte-exact; curl reads it too', async () => {
  const { cert, key, certFile } = makeCert('a');
  const origin = createOrigin({ warn: quiet, holdMs: 2000 });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert, key } });
  try {
    assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const reader = httpsGet(running.port, '/live/seg-1.m4s', cert);
    const upload = httpsUpload(running.port, '/live/seg-1.m4s', cert);
    for (let i = 0; i < chunks.length; i++) {
      upload.send(chunks[i]);
      const want = chunks.slice(0, i + 1).reduce((n, c) => n + c.length, 0);
      await waitUntil(() => reader.pieces.reduce((n, p) => n + p.length, 0) >= want, 3000, `chunk ${i + 1} over TLS`);
    }
    assert.is(await upload.end(), 201);
    assert.is(await reader.done, 200);
    assert.ok(Buffer.concat(reader.pieces).equals(segment));
    // Asynchronously: the server answering it runs in this process.
    const body = await new Promise<Buffer>((resolve, reject) => {
      execFile('curl', ['-sS', '--fail', '--cacert', certFile, `${running.url}/live/seg-1.m4s`], { encoding: 'buffer', maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) =>
        err ? reject(new Error(`curl: ${err.message} ${stderr}`)) : resolve(stdout),
      );
    });
    assert.ok(body.equals(segment), 'curl over https');
  } finally {
    await running.close(0);
    origin.close();
  }
});

test('a plain ingest listener beside the https one: the encoder pushes over http, players read over https', async () => {
  const { cert, key } = makeCert('b');
  const origin = createOrigin({ warn: quiet });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert, key }, ingestPort: 0 });
  try {
    assert.match(running.ingest!.url, /^http:\/\//);
    assert.is((await http(running.ingest!.port, 'PUT', '/live/a.m4s', segment)).status, 201);
    const r = httpsGet(running.port, '/live/a.m4s', cert);
    assert.is(await r.done, 200);
    assert.ok(Buffer.concat(r.pieces).equals(segment));
  } finally {
    await running.close(0);
    origin.close();
  }
});

test('reloadTls: new connections get the new certificate, a reader on an old one keeps streaming; a bad pair is refused', async () => {
  const a = makeCert('c');
  const b = makeCert('d');
  const origin = createOrigin({ warn: quiet, holdMs: 2000 });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert: a.cert, key: a.key } });
  try {
    assert.is(await fingerprint(running.port), x509(a.cert));
    const reader = httpsGet(running.port, '/live/seg-1.m4s', a.cert);
    const upload = httpsUpload(running.port, '/live/seg-1.m4s', a.cert);
    upload.send(chunks[0]);
    await waitUntil(() => reader.pieces.length > 0, 3000, 'the first chunk');
    running.reloadTls({ cert: b.cert, key: b.key });
    assert.is(await fingerprint(running.port), x509(b.cert), 'new connections: the new certificate');
    for (const c of chunks.slice(1)) upload.send(c);
    assert.is(await upload.end(), 201);
    assert.is(await reader.done, 200);
    assert.ok(Buffer.concat(reader.pieces).equals(segment), 'the reader on the old connection got every byte');
    assert.throws(() => running.reloadTls({ cert: a.cert, key: b.key }));
    assert.is(await fingerprint(running.port), x509(b.cert), 'a bad pair changes nothing');
  } finally {
    await running.close(0);
    origin.close();
  }
});

test('shutdown with a TLS handshake under way, and plain HTTP sent to the TLS port: closed, nothing crashes', async () => {
  const { cert, key } = makeCert('g');
  const origin = createOrigin({ warn: quiet });
  const running = await origin.listen(0, '127.0.0.1', { tls: { cert, key } });
  // A client that connects and never says hello, and one that speaks plain HTTP.
  const silent = netConnect(running.port, '127.0.0.1');
  await new Promise((r) => silent.once('connect', r));
  const plain = await http(running.port, 'GET', '/time').catch((e: Error) => e);
  assert.ok(plain instanceof Error, 'plain HTTP gets no answer on the TLS port');
  const closed = new Promise((r) => silent.once('close', r));
  await running.close(0);
  await closed;
  origin.close();
});

test('the CLI: --tls-cert/--tls-key serve https, SIGHUP reloads the files, one without the other exits 2', async () => {
  const a = makeCert('e');
  const b = makeCert('f');
  const certFile = join(dir, 'live-cert.pem');
  const keyFile = join(dir, 'live-key.pem');
  writeFileSync(certFile, a.cert);
  writeFileSync(keyFile, a.key);
  const p = runCli(['--port', '0', '--quiet', '--tls-cert', certFile, '--tls-key', keyFile]);
  try {
    await waitUntil(() => /listening on https:\/\/127\.0\.0\.1:\d+\n/.test(p.out()) || p.err() !== '', 10_000, 'https listening line');
    const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(p.out())?.[1]);
    assert.ok(port > 0, `${p.out()} ${p.err()}`);
    assert.is(await fingerprint(port), x509(a.cert));
    writeFileSync(certFile, b.cert);
    writeFileSync(keyFile, b.key);
    p.child.kill('SIGHUP');
    await waitUntil(() => /TLS certificate reloaded/.test(p.err()), 5000, 'the reload');
    assert.is(await fingerprint(port), x509(b.cert));
    writeFileSync(keyFile, a.key); // a mismatched pair: refused, the running one stays
    p.child.kill('SIGHUP');
    await waitUntil(() => /NOT reloaded/.test(p.err()), 5000, 'the refusal');
    assert.is(await fingerprint(port), x509(b.cert));
  } finally {
    p.child.kill('SIGKILL');
  }
  const half = runCli(['--tls-cert', certFile]);
  assert.is(await half.exited, 2);
  assert.match(half.err(), /--tls-cert and --tls-key go together/);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  const bad = runCli(['--tls-cert', notPem, '--tls-key', keyFile]);
  assert.is(await bad.exited, 2);
  assert.match(bad.err(), /--tls-cert .*not\.pem/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
