// Relay to another origin: every object pushed as it is written (the second origin's readers
// get each chunk before the first origin's upload ends), byte-identical, manifests whole,
// DELETEs mirrored; a dead, refusing or stalled target costs local readers nothing, its queue
// stays bounded, and it catches up when it comes back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOrigin, type OriginOptions } from '../src/index.js';
import { resolveRelayTarget, type RelayTargetOptions } from '../src/relay/options.js';
import { ChunkedUpload, fixture, fixtureChunks, freePort, http, put, rawGet, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();
const init = fixture('lldash-init.mp4');
const mpd = fixture('lldash.mpd');

/** Origin A relaying everything to `url` (fast backoff so tests do not wait long). */
function relaying(url: string, extra: Partial<RelayTargetOptions> = {}, warn: (m: string) => void = quiet): Promise<TestOrigin> {
  return startOrigin({ warn, relays: [{ url, minBackoffMs: 20, maxBackoffMs: 100, ...extra }] });
}

test('each chunk reaches the second origin while the first is still receiving the segment, byte-identical', async () => {
  const b = await startOrigin({ warn: quiet });
  const a = await relaying(`http://127.0.0.1:${b.port}`);
  try {
    const upload = await ChunkedUpload.start(a.port, '/live/seg-1.m4s', 'PUT', 'Content-Type: video/iso.segment\r\n');
    upload.send(chunks[0]);
    // B has the object as soon as A does, and a reader there gets the first chunk now.
    await waitUntil(() => b.origin.store.get('/live/seg-1.m4s') !== undefined, 3000, 'the object at B');
    const reader = await rawGet(b.port, '/live/seg-1.m4s');
    for (let i = 1; i < chunks.length; i++) {
      const want = Buffer.concat(chunks.slice(0, i));
      await reader.until((r) => r !== undefined && r.body.length >= want.length, 3000, `chunk ${i} at B`);
      assert.ok(reader.response()!.body.equals(want), `B's reader has chunks 1..${i}, A's upload still open`);
      assert.is(a.origin.store.get('/live/seg-1.m4s')!.state, 'writing');
      upload.send(chunks[i]);
    }
    assert.is((await upload.end()).status, 201);
    const done = await reader.until((r) => r?.terminated === true, 3000, 'B reader end');
    assert.ok(done.body.equals(segment));
    await waitUntil(() => a.origin.relays()[0].sent === 1, 3000, 'the relay acknowledged');
    const stats = a.origin.relays()[0];
    assert.is(stats.sentBytes, segment.length);
    assert.is(stats.failures, 0);
    assert.is(stats.up, true);
    const atB = await http(b.port, 'GET', '/live/seg-1.m4s');
    assert.ok(atB.body.equals(segment));
    assert.is(atB.headers['content-type'], 'video/iso.segment');
    reader.destroy();
  } finally {
    await a.close();
    await b.close();
  }
});

test('manifests go whole, DELETE is mirrored, and B builds its own stream model from what A relays', async () => {
  const b = await startOrigin({ warn: quiet });
  const a = await relaying(`http://127.0.0.1:${b.port}/`);
  try {
    assert.is((await put(a.port, '/live/out.mpd', mpd, { 'content-type': 'application/dash+xml' })).status, 201);
    assert.is((await put(a.port, '/live/init.mp4', init)).status, 201);
    await waitUntil(() => a.origin.relays()[0].sent === 2, 3000, 'two objects relayed');
    const got = await http(b.port, 'GET', '/live/out.mpd');
    assert.is(got.status, 200);
    assert.ok(got.body.equals(mpd));
    assert.is(got.headers['content-type'], 'application/dash+xml');
    assert.ok(b.origin.streams.channels().length > 0, 'B learnt the channel from the relayed MPD');
    assert.is((await http(a.port, 'DELETE', '/live/init.mp4')).status, 200);
    await waitUntil(() => a.origin.relays()[0].deleted === 1, 3000, 'DELETE relayed');
    assert.is((await http(b.port, 'GET', '/live/init.mp4')).status, 404);
    assert.is((await http(b.port, 'GET', '/live/out.mpd')).status, 200, 'only that key');
    const metrics = (await http(a.port, 'GET', '/metrics')).body.toString();
    assert.match(metrics, `boxstream_origin_relay_sent_total{target="http://127.0.0.1:${b.port}"} 2`);
    assert.match(metrics, `boxstream_origin_relay_deletes_total{target="http://127.0.0.1:${b.port}"} 1`);
  } finally {
    await a.close();
    await b.close();
  }
});

test('only keys under the prefix are relayed, to the base path of the target, names percent-encoded', async () => {
  const seen: string[] = [];
  const target = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(201).end());
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}/edge-1`, { prefix: '/live/' });
  try {
    await put(a.port, '/other/x.m4s', segment);
    await put(a.port, '/live/a%20b.m4s', segment);
    await waitUntil(() => a.origin.relays()[0].sent === 1, 3000, 'one relayed');
    assert.equal(seen, ['PUT /edge-1/live/a%20b.m4s']);
  } finally {
    await a.close();
    target.close();
  }
});

test('a dead target: local readers unaffected, failures counted, and everything arrives once it is back', async () => {
  const deadPort = await freePort();
  const warnings: string[] = [];
  const a = await relaying(`http://127.0.0.1:${deadPort}`, {}, (m) => warnings.push(m));
  let b: TestOrigin | undefined;
  try {
    for (let n = 1; n <= 3; n++) assert.is((await put(a.port, `/live/seg-${n}.m4s`, segment)).status, 201);
    const local = await http(a.port, 'GET', '/live/seg-2.m4s');
    assert.ok(local.body.equals(segment), 'A serves its readers whatever the target does');
    await waitUntil(() => a.origin.relays()[0].failures >= 2, 3000, 'failed attempts');
    assert.is(a.origin.relays()[0].up, false);
    assert.ok(warnings.some((w) => w.includes(`relay to http://127.0.0.1:${deadPort}`)), warnings.join('\n'));
    // The target comes up on that port.
    b = await startOriginOn(deadPort);
    await waitUntil(() => a.origin.relays()[0].sent === 3, 5000, 'caught up');
    for (let n = 1; n <= 3; n++) assert.ok((await http(deadPort, 'GET', `/live/seg-${n}.m4s`)).body.equals(segment), `seg-${n} at B`);
    const stats = a.origin.relays()[0];
    assert.is(stats.up, true);
    assert.is(stats.queued, 0);
    assert.is(stats.dropped, 0);
    assert.ok(stats.retries >= 1);
  } finally {
    await a.close();
    await b?.close();
  }
});

test('the queue stays bounded: beyond maxQueue the oldest waiting objects are dropped and counted', async () => {
  const deadPort = await freePort();
  const a = await relaying(`http://127.0.0.1:${deadPort}`, { maxQueue: 2 });
  let b: TestOrigin | undefined;
  try {
    for (let n = 1; n <= 5; n++) await put(a.port, `/live/seg-${n}.m4s`, segment);
    const stats = a.origin.relays()[0];
    assert.ok(stats.queued <= 2, `queued ${stats.queued}`);
    assert.ok(stats.dropped >= 2, `dropped ${stats.dropped}`);
    b = await startOriginOn(deadPort);
    await waitUntil(() => a.origin.relays()[0].queued === 0 && a.origin.relays()[0].inFlight === 0, 5000, 'queue drained');
    const after = a.origin.relays()[0];
    // Every object is either at B or counted as dropped: nothing vanishes silently.
    let present = 0;
    for (let n = 1; n <= 5; n++) if ((await http(deadPort, 'GET', `/live/seg-${n}.m4s`)).status === 200) present++;
    assert.is(present + after.dropped, 5);
    assert.is((await http(deadPort, 'GET', '/live/seg-5.m4s')).status, 200, 'the newest made it');
  } finally {
    await a.close();
    await b?.close();
  }
});

test('a newer version of a key replaces the one still waiting: a dead target gets the newest manifest only', async () => {
  const deadPort = await freePort();
  const a = await relaying(`http://127.0.0.1:${deadPort}`);
  let b: TestOrigin | undefined;
  try {
    for (let n = 1; n <= 4; n++) await put(a.port, '/live/out.mpd', mpd.toString().replace('</MPD>', `<!-- ${n} --></MPD>`), { 'content-type': 'application/dash+xml' });
    assert.ok(a.origin.relays()[0].queued <= 1);
    b = await startOriginOn(deadPort);
    await waitUntil(() => a.origin.relays()[0].queued === 0 && a.origin.relays()[0].inFlight === 0 && a.origin.relays()[0].up, 5000, 'drained');
    assert.match((await http(deadPort, 'GET', '/live/out.mpd')).body.toString(), '<!-- 4 -->');
    assert.is(a.origin.relays()[0].dropped, 0);
  } finally {
    await a.close();
    await b?.close();
  }
});

test('a target that refuses (403) is not retried: dropped, warned, and the upload here is untouched', async () => {
  const b = await startOrigin({ warn: quiet, ingestSecret: 'right' });
  const warnings: string[] = [];
  const a = await relaying(`http://127.0.0.1:${b.port}`, { secret: 'wrong' }, (m) => warnings.push(m));
  try {
    assert.is((await put(a.port, '/live/seg-1.m4s', segment)).status, 201);
    await waitUntil(() => a.origin.relays()[0].dropped === 1, 3000, 'dropped');
    const stats = a.origin.relays()[0];
    assert.is(stats.retries, 0);
    assert.is(stats.up, true, 'a refusal is an answer, not an outage');
    assert.ok(warnings.some((w) => w.includes('HTTP 403') && w.includes('not retried')), warnings.join('\n'));
    assert.ok((await http(a.port, 'GET', '/live/seg-1.m4s')).body.equals(segment));
  } finally {
    await a.close();
    await b.close();
  }
});

test('the right secret is accepted', async () => {
  const b = await startOrigin({ warn: quiet, ingestSecret: 'right' });
  const a = await relaying(`http://127.0.0.1:${b.port}`, { secret: 'right' });
  try {
    await put(a.port, '/live/seg-1.m4s', segment);
    await waitUntil(() => a.origin.relays()[0].sent === 1, 3000, 'sent');
    assert.ok((await http(b.port, 'GET', '/live/seg-1.m4s')).body.equals(segment));
  } finally {
    await a.close();
    await b.close();
  }
});

test('an upload aborted here is cut at the target too (its readers see it end early), and not retried', async () => {
  const b = await startOrigin({ warn: quiet });
  const a = await relaying(`http://127.0.0.1:${b.port}`);
  try {
    const upload = await ChunkedUpload.start(a.port, '/live/seg-1.m4s');
    upload.send(chunks[0]);
    await waitUntil(() => b.origin.store.get('/live/seg-1.m4s') !== undefined, 3000, 'at B');
    const reader = await rawGet(b.port, '/live/seg-1.m4s');
    await reader.until((r) => r !== undefined && r.body.length >= chunks[0].length, 3000, 'first chunk at B');
    upload.abort();
    await waitUntil(() => reader.closed, 3000, "B's reader cut");
    assert.is(reader.response()!.terminated, false, 'no terminating chunk: the player knows it is incomplete');
    await waitUntil(() => a.origin.relays()[0].inFlight === 0, 3000, 'relay done');
    const stats = a.origin.relays()[0];
    assert.is(stats.sent, 0);
    assert.is(stats.retries, 0);
    await waitUntil(() => b.origin.store.get('/live/seg-1.m4s')?.state === 'aborted' || b.origin.store.get('/live/seg-1.m4s') === undefined, 3000, 'aborted at B');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a target that takes nothing: A still receives and serves at full speed, the attempt times out and is retried', async () => {
  const stalled: IncomingMessage[] = [];
  // Accepts the request and never reads its body: the relay's socket fills up.
  const target = createServer((req) => void stalled.push(req.pause()));
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`, { timeoutMs: 300 });
  try {
    const big = Buffer.concat(Array.from({ length: 64 }, () => segment));
    assert.is((await put(a.port, '/live/big.m4s', big)).status, 201);
    const local = await http(a.port, 'GET', '/live/big.m4s');
    assert.ok(local.body.equals(big), 'local readers get everything');
    await waitUntil(() => a.origin.relays()[0].failures >= 1, 5000, 'timed out');
    assert.ok(a.origin.relays()[0].retries >= 1);
  } finally {
    await a.close();
    for (const r of stalled) r.destroy();
    target.closeAllConnections();
    target.close();
  }
});

test('graceful shutdown lets the relay finish what it holds', async () => {
  const received: number[] = [];
  const target = createServer((req, res) => {
    let n = 0;
    req.on('data', (b: Buffer) => (n += b.length));
    req.on('end', () => {
      received.push(n);
      res.writeHead(201).end();
    });
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`);
  try {
    for (let n = 1; n <= 3; n++) await put(a.port, `/live/seg-${n}.m4s`, segment);
  } finally {
    await a.running.close(2000);
    a.origin.close();
  }
  assert.equal(received, [segment.length, segment.length, segment.length]);
  target.close();
});

test('a relay loop (A to B, B back to A) stops at once: A refuses with 508, B gives the object up', async () => {
  const aPort = await freePort();
  const warnings: string[] = [];
  const b = await relaying(`http://127.0.0.1:${aPort}`, {}, (m) => warnings.push(m));
  const a = await startOriginOn(aPort, { relays: [{ url: `http://127.0.0.1:${b.port}` }] });
  try {
    assert.is((await put(a.port, '/live/seg-1.m4s', segment)).status, 201);
    await waitUntil(() => b.origin.relays()[0].dropped === 1, 3000, 'B gave up relaying back');
    assert.ok((await http(b.port, 'GET', '/live/seg-1.m4s')).body.equals(segment), 'B has it');
    assert.ok((await http(a.port, 'GET', '/live/seg-1.m4s')).body.equals(segment), 'A kept its own');
    assert.is(a.origin.relays()[0].sent, 1);
    assert.is(b.origin.relays()[0].sent, 0);
    assert.is(b.origin.relays()[0].retries, 0);
    assert.ok(warnings.some((w) => w.includes('HTTP 508')), warnings.join('\n'));
    assert.is(a.origin.metrics.uploads, 1, 'the loop never became a second upload at A');
  } finally {
    await a.close();
    await b.close();
  }
});

test('origins relaying to each other: a DELETE does not come back round to remove a newer version', async () => {
  const aPort = await freePort();
  const b = await relaying(`http://127.0.0.1:${aPort}`);
  const a = await startOriginOn(aPort, { relays: [{ url: `http://127.0.0.1:${b.port}` }] });
  try {
    const v2 = Buffer.concat([segment, segment]);
    assert.is((await put(a.port, '/live/x.m4s', segment)).status, 201);
    await waitUntil(() => a.origin.relays()[0].sent === 1, 3000, 'v1 at B');
    assert.is((await http(a.port, 'DELETE', '/live/x.m4s')).status, 200);
    await waitUntil(() => a.origin.relays()[0].deleted === 1, 3000, 'DELETE at B');
    assert.is((await put(a.port, '/live/x.m4s', v2)).status, 201);
    await waitUntil(() => a.origin.relays()[0].sent === 2, 3000, 'v2 at B');
    // B's own relay of the DELETE back to A was refused (508), not applied to v2.
    await waitUntil(() => b.origin.relays()[0].inFlight === 0 && b.origin.relays()[0].queued === 0, 3000, 'B idle');
    assert.ok((await http(a.port, 'GET', '/live/x.m4s')).body.equals(v2), 'A keeps v2');
    assert.ok((await http(b.port, 'GET', '/live/x.m4s')).body.equals(v2), 'B has v2');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a DELETE is sent on even when this origin no longer holds the key (evicted, no disk tier)', async () => {
  const seen: string[] = [];
  const target = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(req.method === 'DELETE' ? 200 : 201).end());
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`);
  try {
    assert.is((await http(a.port, 'DELETE', '/live/gone.m4s')).status, 404, 'nothing here');
    await waitUntil(() => a.origin.relays()[0].deleted === 1, 3000, 'sent on');
    assert.equal(seen, ['DELETE /live/gone.m4s']);
  } finally {
    await a.close();
    target.close();
  }
});

test('a newer version takes the waiting one\'s place: a manifest is not pushed behind every segment queued since', async () => {
  const deadPort = await freePort();
  const a = await relaying(`http://127.0.0.1:${deadPort}`, { maxConnections: 1 });
  const order: string[] = [];
  let target: Server | undefined;
  try {
    const manifest = (n: number): string => mpd.toString().replace('</MPD>', `<!-- ${n} --></MPD>`);
    await put(a.port, '/live/seg-1.m4s', segment);
    await put(a.port, '/live/out.mpd', manifest(1), { 'content-type': 'application/dash+xml' });
    for (let n = 2; n <= 4; n++) await put(a.port, `/live/seg-${n}.m4s`, segment);
    await put(a.port, '/live/out.mpd', manifest(2), { 'content-type': 'application/dash+xml' });
    await waitUntil(() => a.origin.relays()[0].failures >= 1, 3000, 'target down');
    target = createServer((req, res) => {
      let body = '';
      req.on('data', (b: Buffer) => (body += b.toString('latin1')));
      req.on('end', () => {
        order.push(req.url!.endsWith('.mpd') ? `${req.url} ${/<!-- (\d) -->/.exec(body)?.[1]}` : req.url!);
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((r) => target!.listen(deadPort, '127.0.0.1', r));
    await waitUntil(() => a.origin.relays()[0].sent === 5, 5000, 'all sent');
    assert.equal(order, ['/live/seg-1.m4s', '/live/out.mpd 2', '/live/seg-2.m4s', '/live/seg-3.m4s', '/live/seg-4.m4s']);
  } finally {
    await a.close();
    target?.close();
  }
});

test('attempts that fail together count as one failure: a short outage costs one step of backoff, not eight', async () => {
  const target = createServer((req) => {
    // Takes the uploads, then dies with all of them in flight.
    req.resume();
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`, { minBackoffMs: 5000, maxBackoffMs: 60_000 });
  const uploads: ChunkedUpload[] = [];
  try {
    for (let n = 1; n <= 8; n++) {
      const u = await ChunkedUpload.start(a.port, `/live/r${n}/seg-1.m4s`);
      u.send(chunks[0]);
      uploads.push(u);
    }
    await waitUntil(() => a.origin.relays()[0].inFlight === 8, 3000, 'eight relays in flight');
    target.closeAllConnections();
    // (One may reconnect to the still-listening server before it is cut: seven is plenty.)
    await waitUntil(() => a.origin.relays()[0].failures >= 7, 3000, 'the attempts in flight failed');
    const stats = a.origin.relays()[0];
    assert.is(stats.up, false);
    assert.is(stats.backoffMs, 5000, 'one step of backoff');
  } finally {
    for (const u of uploads) u.abort();
    await a.close();
    target.close();
  }
});

test('a refusal after an outage ends the outage: the target answered, so it is up again', async () => {
  let n = 0;
  const target = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(n++ === 0 ? 503 : 413).end());
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`);
  try {
    await put(a.port, '/live/seg-1.m4s', segment);
    await waitUntil(() => a.origin.relays()[0].failures === 2, 3000, '503 then 413');
    const stats = a.origin.relays()[0];
    assert.is(stats.retries, 1);
    assert.is(stats.dropped, 1);
    assert.is(stats.up, true);
    assert.is(stats.backoffMs, 0);
  } finally {
    await a.close();
    target.close();
  }
});

test('a target that says 200 before it has the whole body did not get the object: not counted as sent', async () => {
  const target = createServer((req, res) => {
    res.writeHead(200).end();
    req.resume();
  });
  await listen(target);
  const a = await relaying(`http://127.0.0.1:${port(target)}`);
  const upload = await ChunkedUpload.start(a.port, '/live/seg-1.m4s');
  try {
    upload.send(chunks[0]);
    await waitUntil(() => a.origin.relays()[0].dropped === 1, 3000, 'given up');
    assert.is(a.origin.relays()[0].sent, 0);
    assert.is(a.origin.relays()[0].inFlight, 0);
  } finally {
    upload.abort();
    await a.close();
    target.close();
  }
});

test('an object that expires while its relay is failing is not sent again', async () => {
  const held: import('node:http').ServerResponse[] = [];
  const target = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  await listen(target);
  const a = await startOrigin({ warn: quiet, ttlMs: 100, relays: [{ url: `http://127.0.0.1:${port(target)}`, minBackoffMs: 20 }] });
  try {
    await put(a.port, '/live/seg-1.m4s', segment);
    await waitUntil(() => held.length === 1, 3000, 'the PUT at the target');
    await waitUntil(() => a.origin.store.get('/live/seg-1.m4s') === undefined, 3000, 'expired here');
    held[0].writeHead(503).end();
    await waitUntil(() => a.origin.relays()[0].failures === 1 && a.origin.relays()[0].inFlight === 0, 3000, 'failed');
    const stats = a.origin.relays()[0];
    assert.is(stats.retries, 0);
    assert.is(stats.queued, 0);
    assert.is(held.length, 1, 'no second PUT');
  } finally {
    await a.close();
    target.closeAllConnections();
    target.close();
  }
});

test('the queue is bounded in bytes too: maxQueueBytes drops the oldest waiting objects', async () => {
  const deadPort = await freePort();
  const a = await relaying(`http://127.0.0.1:${deadPort}`, { maxQueueBytes: 3 * segment.length });
  try {
    for (let n = 1; n <= 6; n++) await put(a.port, `/live/seg-${n}.m4s`, segment);
    const stats = a.origin.relays()[0];
    assert.ok(stats.queuedBytes <= 3 * segment.length, `queued ${stats.queuedBytes} bytes`);
    assert.is(stats.queued + stats.inFlight + stats.dropped, 6);
    assert.ok(stats.dropped >= 2);
  } finally {
    await a.close();
  }
});

test('relay targets are checked: scheme, prefix, numbers, S3 bucket and credentials', () => {
  const bad: [RelayTargetOptions, RegExp][] = [
    [{ url: 'not a url' }, /not a URL/],
    [{ url: 'ftp://x/' }, /http:\/\/, https:\/\/ or s3:\/\//],
    [{ url: 'http://x/', prefix: 'live/' }, /prefix must start with '\/'/],
    [{ url: 'http://x/', maxQueue: 0 }, /maxQueue must be an integer of at least 1/],
    [{ url: 'http://x/?a=1' }, /no query/],
    [{ url: 'http://x/', s3: {} }, /s3 settings need an s3:\/\/ URL/],
    [{ url: 's3://A_B/' }, /not a valid bucket name/],
    [{ url: 's3://bucket/' }, /S3 credentials missing/],
    [{ url: 'http://x/', minBackoffMs: 100, maxBackoffMs: 10 }, /maxBackoffMs must be at least minBackoffMs/],
    [{ url: 'http://x/', secret: 'a\nb' }, /secret must be non-empty, on one line/],
    [{ url: 's3://bucket/', s3: { accessKeyId: 'a', secretAccessKey: 'b', endpoint: 'http://h:9000/path' } }, /no path/],
  ];
  for (const [options, message] of bad) assert.throws(() => resolveRelayTarget(options, {}), message, options.url);
  const s = resolveRelayTarget({ url: 's3://media-bucket/live/edge/' }, { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
  assert.is(s.kind, 's3');
  assert.is(s.s3!.bucket, 'media-bucket');
  assert.is(s.s3!.keyPrefix, 'live/edge');
  const spaced = resolveRelayTarget({ url: 's3://media-bucket/my%20prefix/' }, { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
  assert.is(spaced.s3!.keyPrefix, 'my prefix', 'decoded once (the sender encodes)');
  assert.is(s.s3!.endpoint, 'https://s3.us-east-1.amazonaws.com');
  const o = resolveRelayTarget({ url: 'http://user:pw@127.0.0.1:9/base/' });
  assert.is(o.name, 'http://127.0.0.1:9/base', 'no credentials in the name metrics show');
});

/** An origin on a given port (the one a relay was pointed at before it existed). */
async function startOriginOn(p: number, options: OriginOptions = {}): Promise<TestOrigin> {
  const origin = createOrigin({ holdMs: 300, warn: quiet, ...options });
  const running = await origin.listen(p, '127.0.0.1');
  const close = async (): Promise<void> => {
    await running.close(0);
    origin.close();
  };
  return { origin, running, port: running.port, sockets: new Set(), close };
}

function listen(server: Server): Promise<void> {
  return new Promise((r) => server.listen(0, '127.0.0.1', r));
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

test.run();
