// Complete objects: static-file answers (length, validators, ranges, HEAD), manifests swapped in
// whole, replacement, DELETE, and no uploader header ever reaching a player.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, sleep, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const init = fixture('lldash-init.mp4');
const mpd = fixture('lldash.mpd');
const chunks = fixtureChunks();

let o: TestOrigin;
test.before.each(async () => {
  o = await startOrigin({ holdMs: 200 });
});
test.after.each(async () => {
  await o.close();
});

test('a complete object: Content-Length, ETag, Last-Modified, type and caching by class', async () => {
  assert.is((await put(o.port, '/live/init-0.m4s', init)).status, 201);
  assert.is((await put(o.port, '/live/chunk-0-00001.m4s', segment)).status, 201);
  assert.is((await put(o.port, '/live/out.mpd', mpd)).status, 201);
  const seg = await http(o.port, 'GET', '/live/chunk-0-00001.m4s');
  assert.is(seg.status, 200);
  assert.ok(seg.body.equals(segment));
  assert.is(seg.headers['content-length'], String(segment.length));
  assert.is(seg.headers['content-type'], 'video/iso.segment');
  // Bounded, never immutable: an encoder restart uploads the same names again.
  assert.is(seg.headers['cache-control'], 'max-age=60');
  assert.is(seg.headers['accept-ranges'], 'bytes');
  assert.match(String(seg.headers.etag), /^"[^"]+"$/);
  assert.ok(Number.isFinite(Date.parse(String(seg.headers['last-modified']))));
  const ini = await http(o.port, 'GET', '/live/init-0.m4s');
  assert.ok(ini.body.equals(init));
  assert.is(ini.headers['cache-control'], 'max-age=2', 'an init segment is replaced under the same name: short, then revalidated');
  const man = await http(o.port, 'GET', '/live/out.mpd');
  assert.ok(man.body.equals(mpd));
  assert.is(man.headers['content-type'], 'application/dash+xml');
  assert.is(man.headers['cache-control'], 'max-age=1');
});

test('cache classes are configurable', async () => {
  const c = await startOrigin({ manifestCacheControl: 'no-cache', segmentCacheControl: 'max-age=60', liveCacheControl: 'no-cache' });
  try {
    await put(c.port, '/a.m3u8', '#EXTM3U\n');
    await put(c.port, '/a.m4s', segment);
    assert.is((await http(c.port, 'GET', '/a.m3u8')).headers['cache-control'], 'no-cache');
    assert.is((await http(c.port, 'GET', '/a.m4s')).headers['cache-control'], 'max-age=60');
    const up = await ChunkedUpload.start(c.port, '/b.m4s');
    up.send(chunks[0]);
    await waitUntil(() => c.origin.store.get('/b.m4s') !== undefined);
    const r = await rawGet(c.port, '/b.m4s');
    assert.is((await r.until((x) => x !== undefined)).headers['cache-control'], 'no-cache');
    r.destroy();
    up.abort();
  } finally {
    await c.close();
  }
});

test('no default lets a CDN keep replaced bytes for long: no immutable, bounded lifetimes, every class', async () => {
  // An encoder restart re-uploads init and segments under the same names.
  for (const key of ['/r/init-0.m4s', '/r/chunk-0-00001.m4s', '/r/x.ts', '/r/out.mpd']) {
    assert.is((await put(o.port, key, key.endsWith('.mpd') ? mpd : key.includes('init') ? init : segment)).status, 201);
    const cc = String((await http(o.port, 'GET', key)).headers['cache-control']);
    assert.not.match(cc, /immutable/, key);
    const maxAge = Number(/max-age=(\d+)/.exec(cc)?.[1]);
    assert.ok(maxAge <= 60, `${key}: ${cc}`);
  }
  // The replacement gets a new validator, so a CDN revalidating the old one learns of it.
  const before = (await http(o.port, 'GET', '/r/init-0.m4s')).headers.etag as string;
  assert.is((await http(o.port, 'GET', '/r/init-0.m4s', undefined, { 'If-None-Match': before })).status, 304);
  assert.is((await put(o.port, '/r/init-0.m4s', segment)).status, 204);
  const after = await http(o.port, 'GET', '/r/init-0.m4s', undefined, { 'If-None-Match': before });
  assert.is(after.status, 200);
  assert.is.not(after.headers.etag, before);
});

test('Cache-Control per path prefix (longest wins) and a setHeaders hook', async () => {
  const seen: string[] = [];
  const c = await startOrigin({
    cacheRules: [
      { prefix: '/vod/', cacheControl: 'public, max-age=31536000, immutable' },
      { prefix: '/vod/drafts/', cacheControl: 'no-cache' },
    ],
    setHeaders(headers, object) {
      seen.push(`${object.kind} ${object.state} ${object.key}`);
      headers['Surrogate-Key'] = object.key.split('/')[1];
    },
  });
  try {
    await put(c.port, '/vod/a/seg.m4s', segment);
    await put(c.port, '/vod/a/out.mpd', mpd);
    await put(c.port, '/vod/drafts/seg.m4s', segment);
    await put(c.port, '/live/seg.m4s', segment);
    const vod = await http(c.port, 'GET', '/vod/a/seg.m4s');
    assert.is(vod.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.is(vod.headers['surrogate-key'], 'vod');
    assert.is((await http(c.port, 'GET', '/vod/a/out.mpd')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.is((await http(c.port, 'GET', '/vod/drafts/seg.m4s')).headers['cache-control'], 'no-cache');
    assert.is((await http(c.port, 'GET', '/live/seg.m4s')).headers['cache-control'], 'max-age=60');
    // The hook sees 304s too, and objects still being written.
    const etag = vod.headers.etag as string;
    const nm = await http(c.port, 'GET', '/vod/a/seg.m4s', undefined, { 'If-None-Match': etag });
    assert.is(nm.status, 304);
    assert.is(nm.headers['surrogate-key'], 'vod');
    const up = await ChunkedUpload.start(c.port, '/live/w.m4s');
    up.send(chunks[0]);
    await waitUntil(() => c.origin.store.get('/live/w.m4s') !== undefined);
    const r = await rawGet(c.port, '/live/w.m4s');
    const head = await r.until((x) => x !== undefined);
    assert.is(head.headers['surrogate-key'], 'live');
    assert.is(head.headers['cache-control'], 'max-age=60', 'while written: the class it will have');
    r.destroy();
    up.abort();
    assert.ok(seen.includes('media writing /live/w.m4s'));
    assert.ok(seen.includes('manifest complete /vod/a/out.mpd'));
  } finally {
    await c.close();
  }
});

test('HEAD answers the same headers without a body', async () => {
  await put(o.port, '/h.m4s', segment);
  const g = await http(o.port, 'GET', '/h.m4s');
  const h = await http(o.port, 'HEAD', '/h.m4s');
  assert.is(h.status, 200);
  assert.is(h.body.length, 0);
  for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'cache-control', 'accept-ranges']) {
    assert.is(h.headers[name], g.headers[name], name);
  }
  // Over a raw socket: nothing follows the head.
  const raw = await rawGet(o.port, '/h.m4s', 'HEAD');
  const r = await raw.until((x) => x !== undefined);
  await sleep(50);
  assert.is(raw.data.length, raw.data.indexOf('\r\n\r\n') + 4, 'no body bytes after a HEAD');
  assert.is(r.headers['content-length'], String(segment.length));
  raw.destroy();
});

test('Range: 206 with Content-Range across unit boundaries, suffix and open ranges, 416', async () => {
  await put(o.port, '/r.m4s', segment);
  const boundary = chunks[0].length; // a range that straddles the first two units
  const r = await http(o.port, 'GET', '/r.m4s', undefined, { Range: `bytes=${boundary - 10}-${boundary + 9}` });
  assert.is(r.status, 206);
  assert.is(r.headers['content-range'], `bytes ${boundary - 10}-${boundary + 9}/${segment.length}`);
  assert.is(r.headers['content-length'], '20');
  assert.ok(r.body.equals(segment.subarray(boundary - 10, boundary + 10)));
  const suffix = await http(o.port, 'GET', '/r.m4s', undefined, { Range: 'bytes=-100' });
  assert.is(suffix.status, 206);
  assert.ok(suffix.body.equals(segment.subarray(segment.length - 100)));
  const open = await http(o.port, 'GET', '/r.m4s', undefined, { Range: 'bytes=22000-' });
  assert.ok(open.body.equals(segment.subarray(22000)));
  const bad = await http(o.port, 'GET', '/r.m4s', undefined, { Range: `bytes=${segment.length}-` });
  assert.is(bad.status, 416);
  assert.is(bad.headers['content-range'], `bytes */${segment.length}`);
  const several = await http(o.port, 'GET', '/r.m4s', undefined, { Range: 'bytes=0-1,5-6' });
  assert.is(several.status, 200, 'several ranges: the whole object');
  const etag = String(several.headers.etag);
  const ifRange = await http(o.port, 'GET', '/r.m4s', undefined, { Range: 'bytes=0-9', 'If-Range': etag });
  assert.is(ifRange.status, 206);
  const stale = await http(o.port, 'GET', '/r.m4s', undefined, { Range: 'bytes=0-9', 'If-Range': '"old"' });
  assert.is(stale.status, 200);
  assert.is(stale.body.length, segment.length);
});

test('conditional GET: If-None-Match and If-Modified-Since give 304', async () => {
  await put(o.port, '/c.m4s', segment);
  const first = await http(o.port, 'GET', '/c.m4s');
  const etag = String(first.headers.etag);
  const nm = await http(o.port, 'GET', '/c.m4s', undefined, { 'If-None-Match': `"x", ${etag}` });
  assert.is(nm.status, 304);
  assert.is(nm.body.length, 0);
  assert.is(nm.headers.etag, etag);
  assert.is((await http(o.port, 'GET', '/c.m4s', undefined, { 'If-None-Match': '"other"' })).status, 200);
  const ims = await http(o.port, 'GET', '/c.m4s', undefined, { 'If-Modified-Since': String(first.headers['last-modified']) });
  assert.is(ims.status, 304);
  // A new version has a new ETag.
  await put(o.port, '/c.m4s', segment);
  assert.is((await http(o.port, 'GET', '/c.m4s', undefined, { 'If-None-Match': etag })).status, 200);
});

test('the uploader headers are never replayed to players', async () => {
  await put(o.port, '/p.m4s', segment, {
    'Content-Type': 'text/html',
    'X-Secret-Token': 'hunter2',
    'Set-Cookie': 'a=b',
    'Cache-Control': 'private',
    'User-Agent': 'Lavf/59.27.100',
  });
  const r = await http(o.port, 'GET', '/p.m4s');
  assert.is(r.headers['content-type'], 'video/iso.segment');
  assert.is(r.headers['x-secret-token'], undefined);
  assert.is(r.headers['set-cookie'], undefined);
  assert.is(r.headers['cache-control'], 'max-age=60');
  assert.is((await put(o.port, '/gz.m4s', segment, { 'Content-Encoding': 'gzip' })).status, 415);
});

test('query strings are not part of the key; POST equals PUT', async () => {
  assert.is((await http(o.port, 'POST', '/q.m4s?upload=1', segment)).status, 201);
  const r = await http(o.port, 'GET', '/q.m4s?cachebust=123');
  assert.ok(r.body.equals(segment));
});

test('manifests are atomic: during a slow upload readers get the previous version whole', async () => {
  const v1 = Buffer.from(mpd.toString().replace('type="static"', 'type="dynamic"'));
  const v2 = mpd;
  assert.is((await put(o.port, '/live/out.mpd', v1)).status, 201);
  const up = await ChunkedUpload.start(o.port, '/live/out.mpd');
  up.send(v2.subarray(0, 300));
  await sleep(30);
  up.send(v2.subarray(300, 900));
  const during = await Promise.all(Array.from({ length: 20 }, () => http(o.port, 'GET', '/live/out.mpd')));
  for (const r of during) {
    assert.is(r.status, 200);
    assert.ok(r.body.equals(v1), 'previous version, never a partial one');
    assert.is(r.headers['content-length'], String(v1.length));
  }
  up.send(v2.subarray(900));
  const done = await up.end();
  assert.is(done.status, 204, 'a replaced manifest');
  const after = await http(o.port, 'GET', '/live/out.mpd');
  assert.ok(after.body.equals(v2));
  // An aborted manifest upload leaves the current one in place.
  const broken = await ChunkedUpload.start(o.port, '/live/out.mpd');
  broken.send(Buffer.from('<?xml half'));
  await sleep(20);
  broken.abort();
  await sleep(20);
  assert.ok((await http(o.port, 'GET', '/live/out.mpd')).body.equals(v2));
  // A manifest by content type, without a manifest extension, is atomic too.
  const ct = await ChunkedUpload.start(o.port, '/live/playlist', 'PUT', 'Content-Type: application/vnd.apple.mpegurl\r\n');
  ct.send(Buffer.from('#EXTM3U\n'));
  await sleep(20);
  assert.is(o.origin.store.get('/live/playlist'), undefined, 'not visible before it is complete');
  ct.send(Buffer.from('#EXT-X-VERSION:6\n'));
  assert.is((await ct.end()).status, 201);
  const pl = await http(o.port, 'GET', '/live/playlist');
  assert.is(pl.body.toString(), '#EXTM3U\n#EXT-X-VERSION:6\n');
  assert.is(pl.headers['content-type'], 'application/vnd.apple.mpegurl');
});

test('replacement: readers of the old version finish it intact, new readers get the new one', async () => {
  const key = '/live/replace.m4s';
  const other = Buffer.concat([chunks[0], chunks[2]]); // a different, valid body
  const upA = await ChunkedUpload.start(o.port, key);
  upA.send(chunks[0]);
  upA.send(chunks[1]);
  await waitUntil(() => o.origin.store.get(key)?.units.length === 2);
  const oldReader = await rawGet(o.port, key);
  await oldReader.until((r) => (r?.chunks.length ?? 0) === 2);
  const upB = await ChunkedUpload.start(o.port, key);
  upB.send(other.subarray(0, 64));
  await waitUntil(() => o.origin.store.get(key)?.units.length === 0, 2000, 'new version visible');
  const newReader = await rawGet(o.port, key);
  await newReader.until((r) => r !== undefined);
  for (const c of chunks.slice(2)) upA.send(c);
  assert.is((await upA.end()).status, 201, 'A created the key');
  upB.send(other.subarray(64));
  assert.is((await upB.end()).status, 204, 'B replaced it');
  const a = await oldReader.until((r) => r?.terminated === true);
  assert.ok(a.body.equals(segment), 'old reader got the whole old version');
  const b = await newReader.until((r) => r?.terminated === true);
  assert.ok(b.body.equals(other), 'new reader got the new version');
  assert.ok((await http(o.port, 'GET', key)).body.equals(other));
  oldReader.destroy();
  newReader.destroy();
});

test('DELETE: 404 when absent, 200 then gone; never crashes', async () => {
  assert.is((await http(o.port, 'DELETE', '/nothing.m4s')).status, 404);
  await put(o.port, '/d.m4s', segment);
  const del = await http(o.port, 'DELETE', '/d.m4s');
  assert.is(del.status, 200);
  assert.is((await http(o.port, 'DELETE', '/d.m4s')).status, 404);
  const gone = await http(o.port, 'GET', '/d.m4s');
  assert.is(gone.status, 404);
  assert.is(gone.headers['cache-control'], 'no-store');
  assert.is((await http(o.port, 'DELETE', '/%2e%2e/x')).status, 400);
  assert.is((await http(o.port, 'GET', '/time')).status, 200, 'still serving');
});

test('DELETE during reads: readers in flight finish with what they were following', async () => {
  // A complete object larger than the socket buffers, read by a reader that is not reading yet.
  const big = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 255;
  await put(o.port, '/big.bin', big);
  const slow = await rawGet(o.port, '/big.bin');
  slow.socket.pause();
  await sleep(50);
  assert.is((await http(o.port, 'DELETE', '/big.bin')).status, 200);
  slow.socket.resume();
  await waitUntil(() => slow.data.length >= big.length, 5000, 'whole body');
  const r = slow.response();
  assert.is(r?.status, 200);
  assert.ok(r?.body.equals(big), 'the deleted object was sent whole');
  slow.destroy();
  // An object still being written: its readers keep following the upload to its end.
  const up = await ChunkedUpload.start(o.port, '/live/del.m4s');
  up.send(chunks[0]);
  await waitUntil(() => o.origin.store.get('/live/del.m4s') !== undefined);
  const live = await rawGet(o.port, '/live/del.m4s');
  await live.until((x) => (x?.chunks.length ?? 0) === 1);
  assert.is((await http(o.port, 'DELETE', '/live/del.m4s')).status, 200);
  for (const c of chunks.slice(1)) up.send(c);
  assert.is((await up.end()).status, 201);
  const lr = await live.until((x) => x?.terminated === true);
  assert.ok(lr.body.equals(segment));
  assert.is((await http(o.port, 'GET', '/live/del.m4s')).status, 404, 'deleted stays deleted');
  live.destroy();
});

test('a plain (non-fragmented) MP4 is accepted in both layouts and served byte for byte, live too', async () => {
  for (const name of ['plain/faststart.mp4', 'plain/mdat-first.mp4']) {
    const file = fixture(name);
    const key = `/vod/${name.replace('/', '-')}`;
    const up = await ChunkedUpload.start(o.port, key);
    up.send(file.subarray(0, 100));
    await waitUntil(() => o.origin.store.get(key) !== undefined);
    const reader = await rawGet(o.port, key);
    up.send(file.subarray(100));
    assert.is((await up.end()).status, 201, `${name} accepted`);
    const live = await reader.until((r) => r?.body.length === file.length);
    assert.ok(live.body.equals(file), `${name}: the reader that asked mid-upload got every byte`);
    reader.destroy();
    const whole = await http(o.port, 'GET', key);
    assert.is(whole.status, 200);
    assert.ok(whole.body.equals(file));
    assert.is(whole.headers['content-type'], 'video/mp4');
  }
});

test.run();
