// Relay to S3-compatible storage. The signer is checked against the signatures AWS publishes
// for its SigV4 examples (local S3 servers do not verify signatures); the relay itself runs
// against s3rver, a real S3-compatible server from npm, on loopback: objects arrive whole with
// the origin's Content-Type and Cache-Control, DELETEs are mirrored, and a bucket that is down
// for 30 s costs local readers nothing, keeps the queue bounded, and is caught up with after.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { EMPTY_SHA256, signS3 } from '../src/relay/s3-sender.js';
import { ChunkedUpload, fixture, fixtureChunks, http, put, sleep, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const init = fixture('lldash-init.mp4');
const mpd = fixture('lldash.mpd');

// AWS's documented example credentials and time (Amazon S3 API Reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk").
const AWS_EXAMPLE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
const signatureOf = (headers: Record<string, string | number>): string => /Signature=([0-9a-f]{64})$/.exec(String(headers.Authorization))?.[1] ?? '';

// aws4 never signs a Range header (it leaves it out by design), so AWS's GET Object example,
// which signs one, does not apply; its bucket examples (a query string, an empty body) do.
test('SigV4: the GET Bucket lifecycle and list examples sign as AWS documents them', () => {
  const sign = (path: string): Record<string, string | number> =>
    signS3({ method: 'GET', host: 'examplebucket.s3.amazonaws.com', path, headers: { 'X-Amz-Date': '20130524T000000Z' }, payloadHash: EMPTY_SHA256 }, AWS_EXAMPLE);
  const lifecycle = sign('/?lifecycle');
  assert.match(String(lifecycle.Authorization), 'Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request');
  assert.match(String(lifecycle.Authorization), 'SignedHeaders=host;x-amz-content-sha256;x-amz-date');
  assert.is(signatureOf(lifecycle), 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
  assert.is(signatureOf(sign('/?max-keys=2&prefix=J')), '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
});

test('SigV4: the PUT Object example (a key that needs encoding, a signed payload) signs as AWS documents it', () => {
  const headers = signS3(
    {
      method: 'PUT',
      host: 'examplebucket.s3.amazonaws.com',
      path: '/test%24file.text',
      headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY', 'X-Amz-Date': '20130524T000000Z' },
      payloadHash: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    },
    AWS_EXAMPLE,
  );
  assert.match(String(headers.Authorization), 'SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class');
  assert.is(signatureOf(headers), '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
});

interface Bucket {
  server: S3rver;
  port: number;
  dir: string;
}

async function startBucket(port = 0, dir = mkdtempSync(join(tmpdir(), 'boxstream-s3-'))): Promise<Bucket> {
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'media', configs: [] }] });
  const address = (await server.run()) as { port: number };
  return { server, port: address.port, dir };
}

/** An origin relaying `/live/` to the bucket under `edge/`, with s3rver's default credentials. */
function relayingTo(bucketPort: number, extra: { maxQueue?: number } = {}, warn: (m: string) => void = quiet): Promise<TestOrigin> {
  return startOrigin({
    warn,
    relays: [
      {
        url: 's3://media/edge/',
        prefix: '/live/',
        minBackoffMs: 50,
        maxBackoffMs: 1000,
        ...extra,
        s3: { endpoint: `http://127.0.0.1:${bucketPort}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      },
    ],
  });
}

test('completed objects land in the bucket whole, with the origin\'s Content-Type and Cache-Control; DELETE is mirrored', async () => {
  const bucket = await startBucket();
  const warnings: string[] = [];
  const o = await relayingTo(bucket.port, {}, (m) => warnings.push(m));
  try {
    // A live upload goes to the bucket only once complete.
    const upload = await ChunkedUpload.start(o.port, '/live/seg-1.m4s', 'PUT', 'Content-Type: video/iso.segment\r\n');
    const chunks = fixtureChunks();
    upload.send(chunks[0]);
    await waitUntil(() => o.origin.store.get('/live/seg-1.m4s') !== undefined, 3000, 'object here');
    assert.is((await http(bucket.port, 'GET', '/media/edge/live/seg-1.m4s')).status, 404, 'not in the bucket while being written');
    for (const c of chunks.slice(1)) upload.send(c);
    assert.is((await upload.end()).status, 201);
    await put(o.port, '/live/init.mp4', init);
    await put(o.port, '/live/out.mpd', mpd, { 'content-type': 'application/dash+xml' });
    await put(o.port, '/elsewhere/x.m4s', segment);
    await waitUntil(() => o.origin.relays()[0].sent === 3, 5000, 'three objects in the bucket').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(o.origin.relays()[0])} ${warnings.join('; ')}`);
    });
    const seg = await http(bucket.port, 'GET', '/media/edge/live/seg-1.m4s');
    assert.ok(seg.body.equals(segment));
    assert.is(seg.headers['content-type'], 'video/iso.segment');
    assert.is(seg.headers['cache-control'], 'max-age=60');
    const manifest = await http(bucket.port, 'GET', '/media/edge/live/out.mpd');
    assert.ok(manifest.body.equals(mpd));
    assert.is(manifest.headers['content-type'], 'application/dash+xml');
    assert.is(manifest.headers['cache-control'], 'max-age=1');
    assert.is((await http(bucket.port, 'GET', '/media/edge/live/init.mp4')).headers['cache-control'], 'max-age=2');
    assert.is((await http(bucket.port, 'GET', '/media/edge/elsewhere/x.m4s')).status, 404, 'outside the prefix');
    assert.is((await http(o.port, 'DELETE', '/live/init.mp4')).status, 200);
    await waitUntil(() => o.origin.relays()[0].deleted === 1, 3000, 'DELETE mirrored');
    assert.is((await http(bucket.port, 'GET', '/media/edge/live/init.mp4')).status, 404);
    assert.is(o.origin.relays()[0].failures, 0);
  } finally {
    await o.close();
    await bucket.server.close();
    rmSync(bucket.dir, { recursive: true, force: true });
  }
});

test('a bucket down for 30 s: local readers unaffected, the queue bounded, the relay catches up and counts what it dropped', async () => {
  let bucket = await startBucket();
  const { port, dir } = bucket;
  await bucket.server.close();
  const warnings: string[] = [];
  const o = await relayingTo(port, { maxQueue: 20 }, (m) => warnings.push(m));
  const total = 60;
  try {
    // A live stream at two segments a second, for 30 s, while the bucket is unreachable.
    for (let n = 1; n <= total; n++) {
      assert.is((await put(o.port, `/live/seg-${n}.m4s`, segment)).status, 201);
      assert.ok((await http(o.port, 'GET', `/live/seg-${n}.m4s`)).body.equals(segment), `local reader of seg-${n}`);
      const stats = o.origin.relays()[0];
      assert.ok(stats.queued <= 20, `queue bounded (${stats.queued})`);
      await sleep(500);
    }
    assert.is(o.origin.relays()[0].up, false);
    assert.ok(warnings.some((w) => w.includes('relay to s3://media/edge')), warnings.join('\n'));
    bucket = await startBucket(port, dir);
    await waitUntil(() => o.origin.relays()[0].queued === 0 && o.origin.relays()[0].inFlight === 0 && o.origin.relays()[0].up, 10_000, 'caught up');
    const stats = o.origin.relays()[0];
    let present = 0;
    for (let n = 1; n <= total; n++) {
      const r = await http(port, 'GET', `/media/edge/live/seg-${n}.m4s`);
      if (r.status === 200) {
        assert.ok(r.body.equals(segment), `seg-${n} byte-exact`);
        present++;
      }
    }
    assert.is(present, stats.sent);
    assert.is(present + stats.dropped, total, 'every segment is in the bucket or counted as dropped');
    assert.ok(present >= 20, `the newest ones made it (${present})`);
    assert.is((await http(port, 'GET', `/media/edge/live/seg-${total}.m4s`)).status, 200);
  } finally {
    await o.close();
    await bucket.server.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
