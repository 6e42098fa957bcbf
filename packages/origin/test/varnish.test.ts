// A real Varnish 7.1 (Debian's varnishd) in front of the origin, with the shipped VCL
// (varnish/origin.vcl, copied with the origin's port): 1,000 players get one segment chunk by
// chunk through Varnish while it is uploaded, from ONE origin request; a hold at the origin is
// kept, a 404 reaches every coalesced player and is not a hit-for-miss; LL-HLS blocking-reload
// queries are cache keys and nothing else in a query is; byte ranges (LL-HLS parts) of a live
// segment are 206s with the origin's bytes, one origin request per range; a cut upload is never
// cached; uploads are refused at the edge; the health probe marks a stopped origin sick.
// varnishd must be installed (Debian: apt-get install -y varnish): without it these tests fail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AccessLogEntry, OriginOptions } from '../src/index.js';
import { requireProgram, startVarnish, type Varnish } from './helpers/varnish.js';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, sleep, startOrigin, waitUntil, type RawClient, type RawResponse, type TestOrigin } from './helpers.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

interface Edge {
  /** Varnish's port: what players use. */
  port: number;
  origin: TestOrigin;
  /** Every request that reached the origin, as `METHOD target` (the query included). */
  seen: string[];
  /** The origin's access log. */
  log: AccessLogEntry[];
  /** GETs (Varnish fetches with GET, also for a HEAD) of `key` that reached the origin so far. */
  gets(key: string): number;
  /** A varnishstat counter (`MAIN.threads`). */
  stat(name: string): Promise<number>;
  /** varnishadm, through the instance's working directory (its secret file is there). */
  adm(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** The origin in process on an ephemeral port and varnishd in front of it with the shipped VCL. */
async function startEdge(options: OriginOptions = {}): Promise<Edge> {
  const log: AccessLogEntry[] = [];
  const seen: string[] = [];
  const origin = await startOrigin({ warn: quiet, ...options, log: (e) => log.push(e) });
  origin.running.server.prependListener('request', (req) => seen.push(`${req.method} ${req.url}`));
  let varnish: Varnish | undefined;
  const close = async (): Promise<void> => {
    await varnish?.close();
    await origin.close().catch(() => undefined);
  };
  try {
    varnish = await startVarnish({ vcl: 'origin.vcl', ports: { '8080': origin.port } });
    const edge: Edge = {
      port: varnish.port,
      origin,
      seen,
      log,
      gets: (key) => seen.filter((s) => s === `GET ${key}` || s.startsWith(`GET ${key}?`)).length,
      stat: varnish.stat,
      adm: varnish.adm,
      close,
    };
    // Through Varnish (passed) to the origin and back.
    const health = await http(edge.port, 'GET', '/healthz');
    assert.is(health.status, 200, `GET /healthz through Varnish: ${health.status} ${health.body}`);
    return edge;
  } catch (err) {
    await close();
    throw err;
  }
}

/** Opens `n` raw GETs at once (in batches, so the test process does not open 1,000 at one instant). */
async function openReaders(port: number, n: number, path: string): Promise<RawClient[]> {
  const readers: RawClient[] = [];
  for (let i = 0; i < n; i += 100) {
    readers.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => rawGet(port, path)))));
  }
  return readers;
}

const bodyLength = (r: RawClient): number => r.response()?.body.length ?? 0;

/** The whole response is there: the terminating chunk, or Content-Length bytes. */
function complete(res: RawResponse | undefined): boolean {
  if (res === undefined) return false;
  const length = res.headers['content-length'];
  return length === undefined ? res.terminated : res.body.length >= Number(length);
}

test('varnishd is installed (Debian: apt-get install -y varnish)', () => {
  requireProgram('varnishd');
  requireProgram('varnishstat');
  requireProgram('varnishadm');
});

test('1,000 players through Varnish get a segment chunk by chunk while it is uploaded, from ONE origin GET', async () => {
  // A long hold: the first half of the players asks before the upload starts.
  const edge = await startEdge({ holdMs: 20_000 });
  const readers: RawClient[] = [];
  let upload: ChunkedUpload | undefined;
  const key = '/live/channel-1/chunk-0-00001.m4s';
  try {
    const sleepsBefore = await edge.stat('MAIN.busy_sleep');
    // 500 players ask before the segment exists: one of them is the fetch the origin holds, the
    // other 499 wait on it in Varnish (its waiting list), and the origin sees one GET.
    readers.push(...(await openReaders(edge.port, 500, key)));
    await waitUntil(() => edge.gets(key) === 1, 10_000, 'the held origin GET');
    const parked = async (): Promise<boolean> => (await edge.stat('MAIN.busy_sleep')) - sleepsBefore >= 499;
    for (const deadline = Date.now() + 15_000; !(await parked()); await sleep(20)) {
      if (Date.now() > deadline) throw new Error(`only ${(await edge.stat('MAIN.busy_sleep')) - sleepsBefore} requests on Varnish's waiting list`);
    }
    assert.ok(
      readers.every((r) => r.response() === undefined),
      'nobody is answered while the origin holds',
    );

    upload = await ChunkedUpload.start(edge.origin.port, key, 'PUT', 'Content-Type: video/iso.segment\r\n');
    let sent = 0;
    for (let i = 0; i < chunks.length; i++) {
      upload.send(chunks[i]);
      sent += chunks[i].length;
      // 500 more join while the segment is being written: hits on the object still streaming.
      if (i === 0) readers.push(...(await openReaders(edge.port, 500, key)));
      await waitUntil(() => readers.every((r) => bodyLength(r) >= sent), 20_000, `chunk ${i} at all ${readers.length} players`);
      // Chunk i is at every player, and chunk i+1 has not been uploaded yet.
      assert.is(edge.origin.origin.store.get(key)!.state, 'writing');
      const want = segment.subarray(0, sent);
      const wrong = readers.filter((r) => !r.response()!.body.equals(want)).length;
      assert.is(wrong, 0, `players whose bytes are not chunks 0..${i} exactly`);
    }
    assert.is((await upload.end()).status, 201);
    await waitUntil(() => readers.every((r) => r.response()?.terminated === true), 20_000, 'every response ended');
    for (const r of readers) {
      const res = r.response()!;
      assert.is(res.status, 200);
      assert.is(res.headers['transfer-encoding'], 'chunked', 'streamed, not stored and forwarded');
    }
    assert.is(readers.filter((r) => !r.response()!.body.equals(segment)).length, 0, 'every body byte-exact');
    assert.is(readers.filter((r) => r.response()!.headers['x-cache'] === 'MISS').length, 1, 'one player caused the fetch');

    // One GET reached the origin for the 1,000 players (its log entry comes when it ends).
    await waitUntil(() => edge.log.some((e) => e.method === 'GET' && e.path === key), 5000, 'the access log entry');
    assert.is(edge.gets(key), 1);
    assert.equal(
      edge.log
        .filter((e) => e.path === key)
        .map((e) => `${e.method} ${e.status} ${e.bytes}`)
        .sort(),
      [`GET 200 ${segment.length}`, `PUT 201 ${segment.length}`],
    );
    // And later players get it from Varnish too.
    const late = await http(edge.port, 'GET', key);
    assert.ok(late.body.equals(segment));
    assert.is(late.headers['x-cache'], 'HIT');
    assert.is(edge.gets(key), 1);
  } finally {
    for (const r of readers) r.destroy();
    upload?.abort();
    await edge.close();
  }
});

test('the origin hold is kept: a GET before the upload gets the segment; a missing key is 404 for every coalesced player, once', async () => {
  const edge = await startEdge({ holdMs: 3000 });
  const readers: RawClient[] = [];
  try {
    // Asked before it exists: held at the origin (through Varnish), answered once it is uploaded.
    const early = await rawGet(edge.port, '/live/late.m4s');
    readers.push(early);
    await waitUntil(() => edge.gets('/live/late.m4s') === 1, 3000, 'the held origin GET');
    assert.is(early.response(), undefined);
    assert.is((await put(edge.origin.port, '/live/late.m4s', segment)).status, 201);
    const got = await early.until((r) => r !== undefined && r.body.length >= segment.length, 5000, 'the held response');
    assert.is(got.status, 200);
    assert.ok(got.body.equals(segment));

    // A key that never comes: 5 players at once, one origin GET (held), the other 4 waiting on
    // it in Varnish, then 404 for all five.
    const missing = '/live/missing.m4s';
    const sleepsBefore = await edge.stat('MAIN.busy_sleep');
    const five = await Promise.all(Array.from({ length: 5 }, () => rawGet(edge.port, missing)));
    readers.push(...five);
    await waitUntil(() => edge.gets(missing) === 1, 3000, 'the held origin GET');
    for (const deadline = Date.now() + 5000; (await edge.stat('MAIN.busy_sleep')) - sleepsBefore < 4; await sleep(20)) {
      if (Date.now() > deadline) throw new Error('the other 4 requests are not waiting on the held fetch');
    }
    await waitUntil(() => five.every((r) => complete(r.response())), 10_000, 'five answers');
    assert.equal(
      five.map((r) => r.response()!.status),
      [404, 404, 404, 404, 404],
    );
    assert.is(edge.gets(missing), 1, 'the 404 answered every coalesced request');
    // The 404 is cached briefly, not made a hit-for-miss: once the key exists, the next miss is
    // one origin GET again and everything after it is a hit.
    assert.is((await put(edge.origin.port, missing, segment)).status, 201);
    let status = 0;
    for (const deadline = Date.now() + 5000; status !== 200; await sleep(20)) {
      if (Date.now() > deadline) throw new Error('the 404 is still served after 5 s');
      status = (await http(edge.port, 'GET', missing)).status;
    }
    assert.is(edge.gets(missing), 2);
    const after = await Promise.all(Array.from({ length: 5 }, () => http(edge.port, 'GET', missing)));
    assert.ok(after.every((r) => r.status === 200 && r.body.equals(segment) && r.headers['x-cache'] === 'HIT'));
    assert.is(edge.gets(missing), 2, 'no hit-for-miss: no request after the 200 reached the origin');
  } finally {
    for (const r of readers) r.destroy();
    await edge.close();
  }
});

test('LL-HLS: each blocking-reload query is its own cache entry, other query parameters are dropped', async () => {
  // Uploaded objects (the origin ignores the query for them) with a long TTL for this test, so
  // a second request is a hit whatever the time between them.
  const edge = await startEdge({ cacheRules: [{ prefix: '/hls/', cacheControl: 'max-age=60' }] });
  try {
    const playlist = '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n';
    assert.is((await put(edge.origin.port, '/hls/out_0.m3u8', playlist)).status, 201);
    assert.is((await put(edge.origin.port, '/hls/chunk-0-00005.m4s', segment)).status, 201);
    const targets = [
      '/hls/out_0.m3u8?_HLS_msn=5&_HLS_part=1', // origin
      '/hls/out_0.m3u8?_HLS_msn=5&_HLS_part=1', // hit
      '/hls/out_0.m3u8?player=x&_HLS_part=1&_HLS_msn=5', // hit: same directives, any order, extra dropped
      '/hls/out_0.m3u8?_HLS_msn=5&_HLS_part=2', // origin
      '/hls/out_0.m3u8?_HLS_msn=6', // origin
      '/hls/out_0.m3u8?_HLS_msn=5&_HLS_part=2&_HLS_skip=YES', // origin
      '/hls/out_0.m3u8', // origin
      '/hls/out_0.m3u8?cachebuster=123', // hit
      '/hls/chunk-0-00005.m4s?t=1', // origin, without the query
      '/hls/chunk-0-00005.m4s?t=2', // hit
      '/hls/chunk-0-00005.m4s', // hit
    ];
    for (const target of targets) {
      const r = await http(edge.port, 'GET', target);
      assert.is(r.status, 200, target);
      assert.ok(r.body.equals(Buffer.from(target.includes('.m3u8') ? playlist : segment)), target);
    }
    assert.equal(
      edge.seen.filter((s) => s.startsWith('GET /hls/')),
      [
        'GET /hls/out_0.m3u8?_HLS_msn=5&_HLS_part=1',
        'GET /hls/out_0.m3u8?_HLS_msn=5&_HLS_part=2',
        'GET /hls/out_0.m3u8?_HLS_msn=6',
        'GET /hls/out_0.m3u8?_HLS_msn=5&_HLS_part=2&_HLS_skip=YES',
        'GET /hls/out_0.m3u8',
        'GET /hls/chunk-0-00005.m4s',
      ],
    );
    assert.is(edge.log.filter((e) => e.method === 'GET' && e.path === '/hls/out_0.m3u8').length, 5);
    assert.is(edge.log.filter((e) => e.method === 'GET' && e.path === '/hls/chunk-0-00005.m4s').length, 1);
  } finally {
    await edge.close();
  }
});

test('byte ranges of a segment being written (LL-HLS parts, the preload hint) are 206s with its bytes, one origin GET per range', async () => {
  const edge = await startEdge();
  const readers: RawClient[] = [];
  let upload: ChunkedUpload | undefined;
  const key = '/live/chunk-0-00007.m4s';
  try {
    upload = await ChunkedUpload.start(edge.origin.port, key, 'PUT', 'Content-Type: video/iso.segment\r\n');
    upload.send(chunks[0]);
    await waitUntil(() => edge.origin.origin.store.get(key)?.length === chunks[0].length, 3000, 'chunk 0 stored');
    // Part 1 (chunk 1) asked before it exists, as hls.js does with a blocking reload's new part;
    // the preload hint: the rest of the segment from chunk 2 on, an open range.
    const a = chunks[0].length;
    const b = a + chunks[1].length;
    const part = `Range: bytes=${a}-${b - 1}\r\n`;
    const hint = `Range: bytes=${b}-\r\n`;
    const parts = await Promise.all(Array.from({ length: 20 }, () => rawGet(edge.port, key, 'GET', part)));
    const hints = await Promise.all(Array.from({ length: 20 }, () => rawGet(edge.port, key, 'GET', hint)));
    const whole = await rawGet(edge.port, key);
    readers.push(...parts, ...hints, whole);
    await waitUntil(() => edge.gets(key) === 3, 5000, 'three origin GETs: part, hint, whole');
    // Chunk 1 uploaded: every player has the part, before chunk 2 is uploaded.
    upload.send(chunks[1]);
    await waitUntil(() => parts.every((r) => complete(r.response())), 5000, 'the part at every player');
    assert.is(edge.origin.origin.store.get(key)!.state, 'writing');
    for (const r of parts) {
      const res = r.response()!;
      assert.is(res.status, 206);
      assert.is(res.headers['content-range'], `bytes ${a}-${b - 1}/*`);
      assert.ok(res.body.equals(segment.subarray(a, b)), 'the part is chunk 1 exactly');
    }
    // Chunk 2: the preload hint's open range has it, before chunk 3 is uploaded.
    upload.send(chunks[2]);
    await waitUntil(() => hints.every((r) => bodyLength(r) >= chunks[2].length), 5000, 'chunk 2 at every hint reader');
    assert.is(edge.origin.origin.store.get(key)!.state, 'writing');
    for (let i = 3; i < chunks.length; i++) upload.send(chunks[i]);
    assert.is((await upload.end()).status, 201);
    for (const r of hints) {
      const res = await r.until(complete, 5000, 'the hint');
      assert.is(res.status, 206);
      assert.match(res.headers['content-range'], new RegExp(`^bytes ${b}-\\d+/\\*$`));
      assert.ok(res.body.equals(segment.subarray(b)), 'the hint is the rest of the segment');
    }
    const res = await whole.until(complete, 5000, 'the whole segment');
    assert.is(res.status, 200, 'not a range: the whole segment, not cut by Varnish');
    assert.ok(res.body.equals(segment));
    // One origin GET per distinct request, then hits: a complete segment's range too.
    assert.is(edge.gets(key), 3);
    const again = await http(edge.port, 'GET', key, undefined, { Range: `bytes=${a}-${b - 1}` });
    assert.is(again.status, 206);
    assert.ok(again.body.equals(segment.subarray(a, b)));
    assert.is(again.headers['x-cache'], 'HIT');
    const tail = await http(edge.port, 'GET', key, undefined, { Range: 'bytes=100-199' });
    assert.is(tail.status, 206);
    assert.is(tail.headers['content-range'], `bytes 100-199/${segment.length}`);
    assert.ok(tail.body.equals(segment.subarray(100, 200)));
    assert.is(edge.gets(key), 4);
    // If-Range goes to the origin, which decides: its ETag matches (206), or not (the whole 200).
    // (Varnish's copy was fetched while the segment was written, before it had an ETag.)
    const etag = (await http(edge.origin.port, 'HEAD', key)).headers.etag as string;
    const same = await http(edge.port, 'GET', key, undefined, { Range: 'bytes=100-199', 'If-Range': etag });
    assert.is(same.status, 206);
    assert.is(same.headers['content-range'], `bytes 100-199/${segment.length}`);
    assert.ok(same.body.equals(segment.subarray(100, 200)));
    const changed = await http(edge.port, 'GET', key, undefined, { Range: 'bytes=100-199', 'If-Range': '"another-version"' });
    assert.is(changed.status, 200);
    assert.ok(changed.body.equals(segment));
    assert.is(edge.gets(key), 6);
  } finally {
    for (const r of readers) r.destroy();
    upload?.abort();
    await edge.close();
  }
});

test('a cut upload is not cached: its players are cut, the next player goes to the origin again', async () => {
  const edge = await startEdge({ holdMs: 300 });
  const readers: RawClient[] = [];
  let upload: ChunkedUpload | undefined;
  const key = '/live/chunk-0-00009.m4s';
  try {
    upload = await ChunkedUpload.start(edge.origin.port, key, 'PUT');
    upload.send(chunks[0]);
    readers.push(...(await Promise.all(Array.from({ length: 10 }, () => rawGet(edge.port, key)))));
    await waitUntil(() => readers.every((r) => bodyLength(r) >= chunks[0].length), 5000, 'chunk 0 at every player');
    upload.abort();
    await waitUntil(() => readers.every((r) => r.closed), 5000, 'every player cut');
    assert.ok(readers.every((r) => r.response()!.terminated === false), 'no player saw the end of a complete body');
    assert.is(edge.gets(key), 1);
    // Nothing was cached: the origin holds the request again, then 404 (the upload failed).
    const next = await http(edge.port, 'GET', key);
    assert.is(next.status, 404);
    assert.is(edge.gets(key), 2);
  } finally {
    for (const r of readers) r.destroy();
    upload?.abort();
    await edge.close();
  }
});

test('uploads are refused at the edge (405), never reach the origin', async () => {
  const edge = await startEdge();
  try {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      const r = await http(edge.port, method, '/live/x.m4s', method === 'DELETE' ? undefined : segment);
      assert.is(r.status, 405, method);
      assert.is(r.headers.allow, 'GET, HEAD, OPTIONS');
    }
    assert.equal(
      edge.seen.filter((s) => !s.startsWith('GET /healthz')),
      [],
    );
    assert.is(edge.origin.origin.store.get('/live/x.m4s'), undefined);
    // A CORS preflight is the origin's to answer.
    const pre = await http(edge.port, 'OPTIONS', '/live/x.m4s', undefined, { Origin: 'https://player.example', 'Access-Control-Request-Method': 'GET' });
    assert.is(pre.status, 204);
    assert.ok(edge.seen.includes('OPTIONS /live/x.m4s'));
  } finally {
    await edge.close();
  }
});

test('redundant.vcl: a fetch that cannot reach origin a goes to b at once, before the probe has noticed', async () => {
  const gets = { a: [] as string[], b: [] as string[] };
  const a = await startOrigin({ warn: quiet, log: (e) => void (e.method === 'GET' && e.path.startsWith('/live/') && gets.a.push(e.path)) });
  const b = await startOrigin({ warn: quiet, log: (e) => void (e.method === 'GET' && e.path.startsWith('/live/') && gets.b.push(e.path)) });
  let varnish: Varnish | undefined;
  try {
    varnish = await startVarnish({ vcl: 'redundant.vcl', ports: { '8081': a.port, '8082': b.port }, threadsPerPool: 20 });
    for (const o of [a, b]) assert.is((await put(o.port, '/live/x.m4s', segment)).status, 201);
    const first = await http(varnish.port, 'GET', '/live/x.m4s');
    assert.is(first.status, 200);
    assert.equal(gets, { a: ['/live/x.m4s'], b: [] }, 'a serves while it is up');
    // a goes away: its port refuses connections from now on.
    await a.close();
    assert.is((await put(b.port, '/live/y.m4s', segment)).status, 201);
    const r = await http(varnish.port, 'GET', '/live/y.m4s');
    assert.is(r.status, 200, 'served by b');
    assert.ok(r.body.equals(segment));
    assert.equal(gets.b, ['/live/y.m4s']);
    assert.match(await varnish.adm('backend.list'), /\ba\b.*\bhealthy\b/, 'the probe had not marked a sick yet: the retry did it');
  } finally {
    await varnish?.close();
    await a.close().catch(() => undefined);
    await b.close();
  }
});

test('the health probe polls /healthz; a stopped origin is marked sick and Varnish stops trying it', async () => {
  const edge = await startEdge();
  try {
    await waitUntil(() => edge.seen.filter((s) => s === 'GET /healthz').length >= 3, 10_000, 'probes at the origin');
    assert.match(await edge.adm('backend.list'), /\bhealthy\b/);
    await edge.origin.close();
    for (const deadline = Date.now() + 15_000; !/\bsick\b/.test(await edge.adm('backend.list')); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`backend not sick: ${await edge.adm('backend.list')}`);
    }
    const before = await edge.stat('MAIN.backend_unhealthy');
    const r = await http(edge.port, 'GET', '/live/anything.m4s');
    assert.is(r.status, 503);
    assert.is((await edge.stat('MAIN.backend_unhealthy')) - before, 1, 'not even a connection attempt');
  } finally {
    await edge.close();
  }
});

test.run();
