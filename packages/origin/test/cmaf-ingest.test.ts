// DASH-IF Live Media Ingest, Interface-1: CMAF tracks pushed to `<publishing point>/Streams(<track>)`,
// per segment (a small client: one request per segment) and as one long-running chunked POST from
// real ffmpeg, as in the spec's informative example. Segments under stable URLs, readable while
// written; the status codes the spec asks for; other tracks undisturbed by a bad one.
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Parser, type ChunkEvent } from 'boxstream';
import { ChunkedUpload, fixture, http, rawGet, startOrigin, waitUntil, type TestOrigin } from './helpers.js';
import { MediaPlaylistTracker } from './helpers/llhls-validator.js';
import { readMpd } from '../src/stream/mpd.js';

const STREAM = fixture('lldash-stream.mp4');
const INIT = STREAM.subarray(0, 795);
const SEGMENT_1 = STREAM.subarray(795, 795 + 22169);
const SEGMENT_2 = STREAM.subarray(795 + 22169);
const chunksOf = (bytes: Buffer) => [...new Parser({ init: INIT }).push(bytes)].map((e) => bytes.subarray(e.offset, e.offset + e.size));
const post = (o: TestOrigin, path: string, body?: Uint8Array) => http(o.port, 'POST', path, body);

let o: TestOrigin;
test.before.each(async () => {
  o = await startOrigin({ holdMs: 3000, warn: () => {} });
});
test.after.each(async () => {
  await o.close();
});

test('per-segment requests: the header, then one segment per request; stable URLs, bytes kept', async () => {
  const track = '/live/pp/Streams(video.cmfv)';
  assert.is((await post(o, track)).status, 200, 'an empty body is a probe');
  assert.is((await post(o, track, INIT)).status, 200);
  assert.is((await post(o, track, SEGMENT_1)).status, 200);
  assert.is((await post(o, track, SEGMENT_2)).status, 200);
  const init = await http(o.port, 'GET', '/live/pp/video/init.mp4');
  assert.is(init.status, 200);
  assert.ok(init.body.equals(INIT));
  // The fixture marks its 1 s segments with styp: they are the encoder's, numbered by time slot
  // (2 s by default) and counting up when shorter.
  const first = await http(o.port, 'GET', '/live/pp/video/0.m4s');
  const second = await http(o.port, 'GET', '/live/pp/video/1.m4s');
  assert.is(first.status, 200);
  assert.ok(first.body.equals(SEGMENT_1));
  assert.ok(second.body.equals(SEGMENT_2));
  assert.is(first.headers['content-type'], 'video/mp4');
});

test('a segment is readable chunk by chunk while its request is still sending it', async () => {
  const track = '/live/pp2/Streams(video.cmfv)';
  assert.is((await post(o, track, INIT)).status, 200);
  const up = await ChunkedUpload.start(o.port, track, 'POST');
  const [c1, ...rest] = chunksOf(SEGMENT_1);
  up.send(c1);
  await waitUntil(() => o.origin.store.get('/live/pp2/video/0.m4s') !== undefined, 3000, 'segment object');
  const reader = await rawGet(o.port, '/live/pp2/video/0.m4s');
  await reader.until((r) => (r?.body.length ?? 0) === c1.length, 3000, 'first chunk');
  for (const c of rest) up.send(c);
  assert.is((await up.end()).status, 200);
  const r = await reader.until((x) => x?.terminated === true, 3000, 'segment complete');
  assert.ok(r.body.equals(SEGMENT_1));
  reader.destroy();
});

test('bad pushes: media before its header 412 (nothing stored), not CMAF 415, decode time back 400; other tracks go on', async () => {
  // A healthy track, mid-push.
  const good = '/live/pp3/Streams(audio.cmfa)';
  assert.is((await post(o, good, INIT)).status, 200);
  const up = await ChunkedUpload.start(o.port, good, 'POST');
  const goodChunks = chunksOf(SEGMENT_1);
  up.send(goodChunks[0]);
  await waitUntil(() => o.origin.store.get('/live/pp3/audio/0.m4s') !== undefined, 3000, 'good segment');

  const early = await post(o, '/live/pp3/Streams(video.cmfv)', SEGMENT_1);
  assert.is(early.status, 412);
  assert.match(early.body.toString(), /header must come before media/);
  assert.is(o.origin.store.get('/live/pp3/video/0.m4s'), undefined, 'nothing stored');

  const text = await post(o, '/live/pp3/Streams(text.cmfv)', new TextEncoder().encode('<html>502 Bad Gateway</html>'));
  assert.is(text.status, 415);

  const back = '/live/pp3/Streams(back.cmfv)';
  assert.is((await post(o, back, INIT)).status, 200);
  assert.is((await post(o, back, SEGMENT_2)).status, 200);
  const again = await post(o, back, SEGMENT_1);
  assert.is(again.status, 400);
  assert.match(again.body.toString(), /decode time goes back \(tfdt 0 after 27648\)/);

  const badName = await post(o, '/live/pp3/Streams(../x)', INIT);
  assert.is(badName.status, 400);

  for (const c of goodChunks.slice(1)) up.send(c);
  assert.is((await up.end()).status, 200);
  const segment = await http(o.port, 'GET', '/live/pp3/audio/0.m4s');
  assert.ok(segment.body.equals(SEGMENT_1), 'the healthy track did not notice');
});

test('marked segments: the MPD says their length; a cut segment sent again replaces it; a restart starts the numbers again', async () => {
  const track = '/live/pp5/Streams(video.cmfv)';
  assert.is((await post(o, track, INIT)).status, 200);
  // Segment 0 is cut after two chunks (the encoder's connection dropped)...
  const up = await ChunkedUpload.start(o.port, track, 'POST');
  const chunks = chunksOf(SEGMENT_1);
  up.send(chunks[0]);
  up.send(chunks[1]);
  await waitUntil(() => o.origin.store.get('/live/pp5/video/0.m4s')?.units.length === 2, 3000, 'two chunks in');
  up.abort();
  await waitUntil(() => o.origin.store.get('/live/pp5/video/0.m4s')?.state === 'aborted', 3000, 'cut');
  // ...and sent again whole: the same number, now complete; then the next one.
  assert.is((await post(o, track, SEGMENT_1)).status, 200);
  assert.is((await post(o, track, SEGMENT_2)).status, 200);
  assert.is(o.origin.store.get('/live/pp5/video/0.m4s')?.state, 'complete');
  assert.ok((await http(o.port, 'GET', '/live/pp5/video/0.m4s')).body.equals(SEGMENT_1));
  // The encoder's 1 s segments set the template's duration (timescale 15360).
  const mpd = (await http(o.port, 'GET', '/live/pp5/manifest.mpd')).body.toString();
  assert.match(mpd, /<SegmentTemplate timescale="15360" duration="15360" startNumber="0"/);
  // A restart with its timestamps from 0 again: allowed after the header, numbers start again.
  assert.is((await post(o, track, Buffer.concat([INIT, SEGMENT_1]))).status, 200);
  assert.is(o.origin.store.get('/live/pp5/video/0.m4s')?.state, 'complete');
  assert.is(o.origin.store.stats().ingestBytes, 0, 'every byte charged was discharged');
});

test('a probe or a refused body never takes a live track; the MPD comes back after it expired', async () => {
  const short = await startOrigin({ ttlMs: 300, warn: () => {} });
  try {
    const track = '/live/pp6/Streams(video.cmfv)';
    const up = await ChunkedUpload.start(short.port, track, 'POST');
    up.send(INIT);
    up.send(SEGMENT_1);
    await waitUntil(() => short.origin.store.get('/live/pp6/video/0.m4s')?.units.length === 5, 3000, 'segment 0');
    assert.is((await http(short.port, 'POST', track)).status, 200, 'a probe');
    assert.is((await http(short.port, 'POST', track, new TextEncoder().encode('junk junk junk'))).status, 415);
    const gzipped = await http(short.port, 'POST', track, gzipSync(SEGMENT_2), { 'Content-Encoding': 'gzip' });
    assert.is(gzipped.status, 415);
    assert.match(gzipped.body.toString(), /Content-Encoding 'gzip' is not supported/);
    up.send(SEGMENT_2);
    assert.is((await up.end()).status, 200, 'the push went on untouched');
    assert.is(short.origin.store.get('/live/pp6/video/0.m4s')?.state, 'complete');
    // The manifest expires like any object when nothing is pushed...
    await waitUntil(() => short.origin.store.get('/live/pp6/manifest.mpd') === undefined, 3000, 'MPD expired');
    // ...and the next segment writes it again.
    const segment3 = Buffer.from(SEGMENT_2);
    for (let i = segment3.indexOf('tfdt'); i >= 0; i = segment3.indexOf('tfdt', i + 4)) segment3.writeBigUInt64BE(segment3.readBigUInt64BE(i + 8) + 15360n, i + 8);
    for (let i = segment3.indexOf('mfhd'); i >= 0; i = segment3.indexOf('mfhd', i + 4)) segment3.writeUInt32BE(segment3.readUInt32BE(i + 8) + 5, i + 8);
    assert.is((await http(short.port, 'POST', track, segment3)).status, 200);
    assert.is((await http(short.port, 'GET', '/live/pp6/manifest.mpd')).status, 200);
  } finally {
    await short.close();
  }
});

test('a newer push of the same track with another header takes it over; the older one is told why', async () => {
  const track = '/live/pp4/Streams(video.cmfv)';
  const first = await ChunkedUpload.start(o.port, track, 'POST');
  first.send(INIT);
  await waitUntil(() => o.origin.store.get('/live/pp4/video/init.mp4') !== undefined, 3000, 'init');
  // The same encoder reconfigured: its header differs (here in mvhd's creation time).
  const other = Buffer.from(INIT);
  other[other.indexOf('mvhd') + 8] ^= 1;
  const second = await ChunkedUpload.start(o.port, track, 'POST');
  second.send(other);
  const refused = await first.client.until((r) => r !== undefined, 3000, 'first refused');
  assert.is(refused.status, 400);
  assert.match(refused.body.toString(), /pushed by a newer request/);
  for (const c of chunksOf(SEGMENT_1)) second.send(c);
  assert.is((await second.end()).status, 200);
  assert.ok((await http(o.port, 'GET', '/live/pp4/video/0.m4s')).body.equals(SEGMENT_1));
  assert.ok((await http(o.port, 'GET', '/live/pp4/video/init.mp4')).body.equals(other));
});

/** Segment `n` of the fixture's timeline: its 1 s segments, the second one shifted on. */
function segment(n: number): Buffer {
  if (n === 0) return SEGMENT_1;
  const out = Buffer.from(SEGMENT_2);
  for (let i = out.indexOf('tfdt'); i >= 0; i = out.indexOf('tfdt', i + 4)) out.writeBigUInt64BE(out.readBigUInt64BE(i + 8) + BigInt(15360 * (n - 1)), i + 8);
  for (let i = out.indexOf('mfhd'); i >= 0; i = out.indexOf('mfhd', i + 4)) out.writeUInt32BE(out.readUInt32BE(i + 8) + 5 * (n - 1), i + 8);
  return out;
}

/** The numbers of the complete segments of `dir`, in order. */
const completeSegments = (dir: string): number[] =>
  [...o.origin.store.keys()]
    .filter((k) => k.startsWith(dir) && k.endsWith('.m4s') && o.origin.store.get(k)?.state === 'complete')
    .map((k) => Number(k.slice(dir.length, -4)))
    .sort((a, b) => a - b);

test('redundant encoders: the live push dies mid-segment; the standby, pushing the same track, serves that segment whole and goes on: no gap, no duplicate', async () => {
  const track = '/live/red/Streams(video.cmfv)';
  const a = await ChunkedUpload.start(o.port, track, 'POST');
  const b = await ChunkedUpload.start(o.port, track, 'POST');
  a.send(INIT);
  await waitUntil(() => o.origin.store.get('/live/red/video/init.mp4') !== undefined, 3000, 'init');
  b.send(INIT); // the same header while A is live: B stands by
  for (const c of chunksOf(segment(0))) a.send(c);
  const one = chunksOf(segment(1));
  a.send(one[0]);
  a.send(one[1]);
  await waitUntil(() => o.origin.store.get('/live/red/video/1.m4s')?.units.length === 2, 3000, "A's first two chunks of segment 1");
  for (const c of [...chunksOf(segment(0)), ...one]) b.send(c);
  await waitUntil(() => o.origin.metrics.receivedBytes >= INIT.length * 2 + segment(0).length * 2 + segment(1).length + one[0].length + one[1].length, 3000, "B's chunks in");
  // B keeps its newest two segments, and they count against the memory cap.
  assert.is(o.origin.store.stats().ingestBytes, segment(0).length + segment(1).length);
  const cut = await rawGet(o.port, '/live/red/video/1.m4s');
  await cut.until((r) => (r?.body.length ?? 0) === one[0].length + one[1].length, 3000, 'a reader of A');
  // B is a little ahead but not a second: A stays live.
  assert.ok(o.origin.store.get('/live/red/video/1.m4s')?.units.length === 2, 'B published nothing while A was live');
  assert.is(o.origin.metrics.ingestFailovers, 0);
  a.abort();
  await waitUntil(() => o.origin.metrics.ingestFailovers === 1, 3000, 'the failover');
  // A's reader saw the cut (never a clean end); segment 1 is now B's, whole so far.
  await waitUntil(() => cut.closed, 3000, "A's reader cut");
  assert.is(cut.response()?.terminated ?? false, false);
  assert.is(o.origin.store.get('/live/red/video/1.m4s')?.units.length, 5);
  for (const c of chunksOf(segment(2))) b.send(c);
  assert.is((await b.end()).status, 200);
  assert.equal(completeSegments('/live/red/video/'), [0, 1, 2]);
  for (const n of [0, 1, 2]) assert.ok((await http(o.port, 'GET', `/live/red/video/${n}.m4s`)).body.equals(segment(n)), `segment ${n}`);
  assert.is(o.origin.store.stats().ingestBytes, 0, 'every byte charged was discharged');
});

test('redundant encoders: a live push that hangs (connection open) is overtaken once the standby is a second ahead, and stands by in turn', async () => {
  const track = '/live/red2/Streams(video.cmfv)';
  const a = await ChunkedUpload.start(o.port, track, 'POST');
  a.send(INIT);
  await waitUntil(() => o.origin.store.get('/live/red2/video/init.mp4') !== undefined, 3000, 'init');
  const b = await ChunkedUpload.start(o.port, track, 'POST');
  b.send(INIT);
  const one = chunksOf(segment(1));
  for (const c of chunksOf(segment(0))) a.send(c);
  a.send(one[0]); // ...and then nothing: A hangs
  await waitUntil(() => o.origin.store.get('/live/red2/video/1.m4s')?.units.length === 1, 3000, "A's chunk of segment 1");
  for (const c of [...chunksOf(segment(0)), ...one]) b.send(c);
  const two = chunksOf(segment(2));
  b.send(two[0]); // B ends at 2.2 s, A at 1.2 s: a second ahead
  await waitUntil(() => o.origin.metrics.ingestFailovers === 1, 3000, 'the takeover');
  assert.equal(completeSegments('/live/red2/video/'), [0, 1]);
  assert.ok((await http(o.port, 'GET', '/live/red2/video/1.m4s')).body.equals(segment(1)), "segment 1 whole, from B");
  // A wakes up: it stands by now (the rest of its segment 1 is not used), and keeps up.
  for (const c of [...one.slice(1), ...two]) a.send(c);
  const three = chunksOf(segment(3));
  for (const c of two.slice(1)) b.send(c);
  b.send(three[0]);
  await waitUntil(() => o.origin.store.get('/live/red2/video/3.m4s')?.units.length === 1, 3000, "B's segment 3");
  a.send(three[0]);
  a.send(three[1]);
  await waitUntil(() => o.origin.metrics.receivedBytes >= 2 * (INIT.length + segment(0).length + segment(1).length + segment(2).length) + three[0].length * 2 + three[1].length, 3000, "A's chunks in");
  // Now B dies mid-segment 3: A, standing by, takes over with its copy of segment 3.
  b.abort();
  await waitUntil(() => o.origin.metrics.ingestFailovers === 2, 3000, 'the second failover');
  for (const c of three.slice(2)) a.send(c);
  assert.is((await a.end()).status, 200);
  assert.equal(completeSegments('/live/red2/video/'), [0, 1, 2, 3]);
  for (const n of [0, 1, 2, 3]) assert.ok((await http(o.port, 'GET', `/live/red2/video/${n}.m4s`)).body.equals(segment(n)), `segment ${n}`);
  assert.is(o.origin.store.stats().ingestBytes, 0, 'every byte charged was discharged');
});

test('redundant encoders: an overtaken push that wakes up after long stands by (no restart); a standby that joined mid-segment numbers and times segments like the live one', async () => {
  // A hangs at 1.2 s, B takes over and goes on to 6 s; then A sends its next chunk: it stays on standby.
  const track = '/live/red4/Streams(video.cmfv)';
  const a = await ChunkedUpload.start(o.port, track, 'POST');
  a.send(INIT);
  await waitUntil(() => o.origin.store.get('/live/red4/video/init.mp4') !== undefined, 3000, 'init');
  const one = chunksOf(segment(1));
  for (const c of [...chunksOf(segment(0)), one[0]]) a.send(c);
  await waitUntil(() => o.origin.store.get('/live/red4/video/1.m4s')?.units.length === 1, 3000, "A's chunk of segment 1");
  const b = await ChunkedUpload.start(o.port, track, 'POST');
  b.send(INIT);
  for (let n = 0; n < 6; n++) for (const c of chunksOf(segment(n))) b.send(c);
  await waitUntil(() => o.origin.store.get('/live/red4/video/5.m4s')?.units.length === 5, 3000, "B's segment 5");
  a.send(one[1]);
  for (const c of chunksOf(segment(6))) b.send(c);
  await waitUntil(() => o.origin.store.get('/live/red4/video/6.m4s')?.units.length === 5, 3000, "B's segment 6");
  assert.is(a.client.response(), undefined, 'A was not cut');
  assert.is((await b.end()).status, 200);
  assert.is((await a.end()).status, 200);
  assert.equal(completeSegments('/live/red4/video/'), [0, 1, 2, 3, 4, 5, 6]);
  assert.is(o.origin.metrics.ingestFailovers, 1);

  // C live; D joins at 0.4 s on a chunk without styp; C is cut at 3.2 s: D's numbers and length are C's.
  const track2 = '/live/red5/Streams(video.cmfv)';
  const c = await ChunkedUpload.start(o.port, track2, 'POST');
  c.send(INIT);
  await waitUntil(() => o.origin.store.get('/live/red5/video/init.mp4') !== undefined, 3000, 'init');
  const zero = chunksOf(segment(0));
  c.send(zero[0]);
  c.send(zero[1]);
  await waitUntil(() => o.origin.store.get('/live/red5/video/0.m4s')?.units.length === 2, 3000, "C's first chunks");
  const d = await ChunkedUpload.start(o.port, track2, 'POST');
  d.send(INIT);
  const three = chunksOf(segment(3));
  for (const x of [...zero.slice(2), ...chunksOf(segment(1)), ...chunksOf(segment(2)), three[0]]) c.send(x);
  await waitUntil(() => o.origin.store.get('/live/red5/video/3.m4s')?.units.length === 1, 3000, "C's segment 3");
  for (const x of [...zero.slice(2), ...chunksOf(segment(1)), ...chunksOf(segment(2)), ...three.slice(0, 3)]) d.send(x);
  await waitUntil(() => o.origin.store.stats().ingestBytes >= segment(2).length, 3000, "D's chunks kept");
  c.abort();
  await waitUntil(() => o.origin.metrics.ingestFailovers === 2, 3000, 'the failover to D');
  for (const x of [...three.slice(3), ...chunksOf(segment(4)), ...chunksOf(segment(5))]) d.send(x);
  assert.is((await d.end()).status, 200);
  assert.equal(completeSegments('/live/red5/video/'), [0, 1, 2, 3, 4, 5]);
  for (const n of [0, 1, 2, 3, 4, 5]) assert.ok((await http(o.port, 'GET', `/live/red5/video/${n}.m4s`)).body.equals(segment(n)), `segment ${n}`);
  assert.match((await http(o.port, 'GET', '/live/red5/manifest.mpd')).body.toString(), /duration="15360"/);
  assert.is(o.origin.store.stats().ingestBytes, 0);
});

test('redundancy is not restart or reconfiguration: another header refuses the standbys; a second push far behind the live one is a restart and takes over', async () => {
  const track = '/live/red3/Streams(video.cmfv)';
  const a = await ChunkedUpload.start(o.port, track, 'POST');
  a.send(INIT);
  for (let n = 0; n < 6; n++) for (const c of chunksOf(segment(n))) a.send(c);
  await waitUntil(() => o.origin.store.get('/live/red3/video/5.m4s') !== undefined, 3000, 'six segments from A');
  // B: the same header, its timestamps from 0 while A's connection still hangs at 6 s: a restart.
  const b = await ChunkedUpload.start(o.port, track, 'POST');
  b.send(INIT);
  for (const c of chunksOf(segment(0))) b.send(c);
  const cutA = await a.client.until((r) => r !== undefined, 3000, 'A cut');
  assert.is(cutA.status, 400);
  assert.match(cutA.body.toString(), /pushed by a newer request/);
  assert.is(o.origin.metrics.ingestFailovers, 0);
  // C stands by behind B; D brings another header: B is cut, and so is C.
  const c = await ChunkedUpload.start(o.port, track, 'POST');
  c.send(INIT);
  for (const x of chunksOf(segment(0))) c.send(x);
  await waitUntil(() => o.origin.store.stats().ingestBytes > 0, 3000, 'C standing by');
  const other = Buffer.from(INIT);
  other[other.indexOf('mvhd') + 8] ^= 1;
  const d = await ChunkedUpload.start(o.port, track, 'POST');
  d.send(other);
  const cutC = await c.client.until((r) => r !== undefined, 3000, 'C refused');
  assert.is(cutC.status, 400);
  assert.match(cutC.body.toString(), /reconfigured/);
  assert.is((await b.client.until((r) => r !== undefined, 3000, 'B cut')).status, 400);
  for (const x of chunksOf(segment(0))) d.send(x);
  assert.is((await d.end()).status, 200);
  assert.ok((await http(o.port, 'GET', '/live/red3/video/0.m4s')).body.equals(segment(0)));
  assert.is(o.origin.store.stats().ingestBytes, 0);
});

test('lmsg ends the stream: the MPD gets its duration and no more updates, the LL-HLS playlist ENDLIST; media after it goes live again', async () => {
  const track = '/live/end/Streams(video.cmfv)';
  const last = Buffer.from(segment(2));
  const styp = last.indexOf('styp');
  last.write('lmsg', styp + 12); // its first compatible brand
  assert.is((await post(o, track, Buffer.concat([INIT, segment(0), segment(1), last]))).status, 200);
  const mpd = (await http(o.port, 'GET', '/live/end/manifest.mpd')).body.toString();
  assert.match(mpd, /mediaPresentationDuration="PT3S"/);
  assert.not.match(mpd, /minimumUpdatePeriod/);
  assert.match(mpd, /type="dynamic"/);
  await waitUntil(() => o.origin.streams.channel('/live/end/manifest.mpd')?.ended === true, 3000, 'the channel ended');
  const playlist = (await http(o.port, 'GET', '/live/end/manifest_video.m3u8')).body.toString();
  assert.match(playlist, /#EXT-X-ENDLIST/);
  // The encoder goes on after all: live again.
  assert.is((await post(o, track, segment(3))).status, 200);
  const again = (await http(o.port, 'GET', '/live/end/manifest.mpd')).body.toString();
  assert.not.match(again, /mediaPresentationDuration/);
  assert.match(again, /minimumUpdatePeriod/);
});

test('with an ingest secret: no credentials 401, wrong ones 403', async () => {
  const locked = await startOrigin({ ingestSecret: 's3cret', warn: () => {} });
  try {
    const none = await http(locked.port, 'POST', '/live/pp/Streams(video.cmfv)', INIT);
    assert.is(none.status, 401);
    const wrong = await http(locked.port, 'POST', '/live/pp/Streams(video.cmfv)', INIT, { authorization: 'Bearer nope' });
    assert.is(wrong.status, 403);
    const right = await http(locked.port, 'POST', '/live/pp/Streams(video.cmfv)', INIT, { authorization: 'Bearer s3cret' });
    assert.is(right.status, 200);
  } finally {
    await locked.close();
  }
});

test('real ffmpeg, the spec example: one long-running chunked POST per track, cut into 2 s segments at keyframes', async () => {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-t', '5',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
    '-f', 'mp4', '-movflags', 'empty_moov+separate_moof+default_base_moof+cmaf', '-frag_duration', '200000',
    '-method', 'POST', `http://127.0.0.1:${o.port}/live/ff/Streams(video.cmfv)`,
  ];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (b: Buffer) => (stderr += b));
  const code = await new Promise<number | null>((resolve) => ffmpeg.on('exit', resolve));
  assert.is(code, 0, stderr);
  const init = (await http(o.port, 'GET', '/live/ff/video/init.mp4')).body;
  const numbers = [...o.origin.store.keys()].filter((k) => /^\/live\/ff\/video\/\d+\.m4s$/.test(k)).map((k) => Number(/(\d+)\.m4s$/.exec(k)![1])).sort((a, b) => a - b);
  // 5 s of video, keyframes every second: segments start at 0, 2 and 4 s.
  assert.equal(numbers, [0, 1, 2]);
  let expected = 0n;
  for (const n of numbers) {
    const bytes = (await http(o.port, 'GET', `/live/ff/video/${n}.m4s`)).body;
    const chunks = [...new Parser({ init }).push(bytes)].filter((e): e is ChunkEvent => e.kind === 'chunk');
    assert.ok(chunks.length > 0);
    assert.is(chunks[0].info.independent, true, `segment ${n} starts with a keyframe`);
    assert.is(Number(chunks[0].info.tracks[0].baseMediaDecodeTime) / chunks[0].info.tracks[0].timescale!, n * 2, `segment ${n} starts at ${n * 2} s`);
    // Continuous: each chunk starts where the one before it ended.
    for (const c of chunks) {
      assert.is(c.info.tracks[0].baseMediaDecodeTime, expected);
      expected += BigInt(c.info.tracks[0].duration!);
    }
  }

  // The publishing point's generated LL-DASH MPD: the stream model reads it like an encoder's.
  const mpd = await http(o.port, 'GET', '/live/ff/manifest.mpd');
  assert.is(mpd.status, 200);
  assert.is(mpd.headers['content-type'], 'application/dash+xml');
  const text = mpd.body.toString();
  assert.match(text, /<Representation id="video" mimeType="video\/mp4" codecs="avc1\.64000d" bandwidth="\d+" width="320" height="180" frameRate="30">/);
  assert.match(text, /<SegmentTemplate timescale="15360" duration="30720" startNumber="0" presentationTimeOffset="0" availabilityTimeOffset="1\.8" availabilityTimeComplete="false" initialization="\$RepresentationID\$\/init\.mp4" media="\$RepresentationID\$\/\$Number\$\.m4s"\/>/);
  assert.match(text, /<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="\/time"\/>/);
  const read = readMpd(text, '/live/ff/manifest.mpd');
  assert.ok(read.ok, read.ok ? '' : read.reason);
  // And LL-HLS from the same segments.
  await waitUntil(() => o.origin.streams.channel('/live/ff/manifest.mpd')?.renditions[0]?.segments.length === 3, 3000, 'model');
  const media = await http(o.port, 'GET', '/live/ff/manifest_video.m3u8');
  assert.is(media.status, 200, media.body.toString());
  // The RFC 8216bis / Apple rules validator of the LL-HLS tests (it throws on a finding).
  new MediaPlaylistTracker('manifest_video.m3u8').check(media.body.toString());
  assert.match(media.body.toString(), /#EXT-X-MAP:URI="video\/init\.mp4"/);
  assert.match(media.body.toString(), /#EXT-X-PART:DURATION=0\.2\d*,URI="video\/2\.m4s",BYTERANGE="\d+@0",INDEPENDENT=YES/);
  const multivariant = await http(o.port, 'GET', '/live/ff/manifest.m3u8');
  assert.match(multivariant.body.toString(), /CODECS="avc1\.64000d",RESOLUTION=320x180,FRAME-RATE=30\.000/);
});

test.run();
