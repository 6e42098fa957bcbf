// The stream model against uploads an encoder may really make: retries, gaps, restarts, a
// SegmentTimeline, deletes down to an empty window. Real CMAF (the boxstream fixture: 1 s
// segments of five 0.2 s chunks), renumbered in time per segment, uploaded over HTTP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'boxstream';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, startOrigin, waitUntil, type TestOrigin } from './helpers.js';
import { MediaPlaylistTracker } from './helpers/llhls-validator.js';

const INIT = fixture('lldash-init.mp4');
const SEGMENT = fixture('lldash-segment.m4s');
/** The fixture segment's duration in its timescale (15360 per second). */
const SEGMENT_TICKS = 15360;

/** The fixture segment with every tfdt moved to segment `index` (0-based) of a continuous timeline. */
function segmentAt(index: number): Buffer {
  const bytes = Buffer.from(SEGMENT);
  for (let i = bytes.indexOf('tfdt'); i >= 0; i = bytes.indexOf('tfdt', i + 4)) {
    const version = bytes[i + 4];
    if (version === 1) bytes.writeBigUInt64BE(bytes.readBigUInt64BE(i + 8) + BigInt(index * SEGMENT_TICKS), i + 8);
    else bytes.writeUInt32BE(bytes.readUInt32BE(i + 8) + index * SEGMENT_TICKS, i + 8);
  }
  return bytes;
}

function mpd(template: string): string {
  return `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"><Period id="0"><AdaptationSet contentType="video" frameRate="30/1"><Representation id="0" mimeType="video/mp4" codecs="avc1.64000c" bandwidth="150000" width="160" height="90">${template}</Representation></AdaptationSet></Period></MPD>`;
}
const NUMBERED = mpd('<SegmentTemplate timescale="1000000" duration="1000000" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>');

let o: TestOrigin;
let dirs = 0;

test.before(async () => {
  o = await startOrigin({ holdMs: 2000, warn: () => {} });
});
test.after(async () => {
  await o.close();
  o.origin.close();
});

/** A fresh channel directory with its MPD and init uploaded. */
async function channel(manifest = NUMBERED): Promise<string> {
  const dir = `/live/model-${++dirs}`;
  assert.is((await put(o.port, `${dir}/out.mpd`, manifest)).status, 201);
  assert.is((await put(o.port, `${dir}/init-0.m4s`, INIT)).status, 201);
  return dir;
}

const upload = (dir: string, number: number, bytes: Buffer) => put(o.port, `${dir}/chunk-0-${String(number).padStart(5, '0')}.m4s`, bytes);

async function playlist(dir: string, tracker?: MediaPlaylistTracker): Promise<string> {
  const res = await http(o.port, 'GET', `${dir}/out_0.m3u8`);
  assert.is(res.status, 200, res.body.toString());
  const text = res.body.toString();
  tracker?.check(text);
  return text;
}

const uris = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('chunk-'));

test('what the MPD leaves out (codecs, picture size) comes from the init segment', async () => {
  const bare = NUMBERED.replace(' codecs="avc1.64000c"', '').replace(' width="160" height="90"', '');
  const dir = await channel(bare);
  await waitUntil(() => o.origin.streams.channel(`${dir}/out.mpd`)?.renditions[0]?.info.codecs !== undefined, 2000, 'init facts');
  for (let n = 1; n <= 2; n++) assert.is((await upload(dir, n, segmentAt(n - 1))).status, 201);
  const multivariant = await http(o.port, 'GET', `${dir}/out.m3u8`);
  assert.is(multivariant.status, 200, multivariant.body.toString());
  assert.match(multivariant.body.toString(), 'CODECS="avc1.64000c",RESOLUTION=160x90');
});

test('a media playlist is held until its first segment is complete (an empty live playlist is fatal to hls.js)', async () => {
  const dir = await channel();
  const up = await ChunkedUpload.start(o.port, `${dir}/chunk-0-00001.m4s`);
  const chunks = fixtureChunks();
  // Four of the five chunks: enough for the playlist's timing (part target), not a whole segment.
  for (const c of chunks.slice(0, 4)) up.send(c);
  await waitUntil(() => o.origin.streams.channel(`${dir}/out.mpd`)?.renditions[0]?.segments[0]?.chunks.length === 4, 2000, 'four chunks in the model');
  assert.ok(o.origin.streams.channel(`${dir}/out.mpd`)?.timing !== undefined, 'the channel has its timing');
  const holds = o.origin.metrics.holds;
  const reader = await rawGet(o.port, `${dir}/out_0.m3u8`);
  await waitUntil(() => o.origin.metrics.holds > holds, 2000, 'held');
  up.send(chunks[4]);
  assert.is((await up.end()).status, 201);
  const r = await reader.until((x) => x?.status !== undefined && x.body.includes('#EXTINF'), 3000, 'answered with the segment');
  assert.is(r.status, 200);
  assert.match(r.body.toString(), /#EXTINF:1\.0\d*,\nchunk-0-00001\.m4s/);
  reader.destroy();
});

test('a plain load between segments waits for the next segment\'s first part; with none coming, it is answered as it is', async () => {
  // Shaka 5.2 cannot load a playlist that ends with a complete segment (only a hint after it).
  const dir = await channel();
  await upload(dir, 1, segmentAt(0));
  await upload(dir, 2, segmentAt(1));
  // The next segment's upload is open, with no byte yet (a segment without a chunk is not listed).
  const bytes = segmentAt(2);
  const chunks = [...new Parser().push(bytes)].map((e) => bytes.subarray(e.offset, e.offset + e.size));
  const next = await ChunkedUpload.start(o.port, `${dir}/chunk-0-00003.m4s`);
  const before = o.origin.metrics.holds;
  const reader = await rawGet(o.port, `${dir}/out_0.m3u8`);
  await waitUntil(() => o.origin.metrics.holds > before, 2000, 'the load to be held');
  next.send(chunks[0]);
  const res = await reader.until((r) => r !== undefined && r.body.toString().includes('#EXT-X-PRELOAD-HINT'), 3000, 'the playlist');
  assert.is(res.status, 200);
  const text = res.body.toString();
  assert.ok(text.includes('chunk-0-00003.m4s",BYTERANGE'), text);
  for (const c of chunks.slice(1)) next.send(c);
  assert.is((await next.end()).status, 201);
  // An encoder that pauses after a segment: the load is held, then answered as it is.
  const paused = await channel();
  await upload(paused, 1, segmentAt(0));
  const held = o.origin.metrics.holds;
  const answered = await playlist(paused);
  assert.ok(o.origin.metrics.holds > held, 'it was held');
  assert.equal(uris(answered), ['chunk-0-00001.m4s']);
});

test('a segment uploaded again (a retry) keeps its number: no discontinuity, no hole', async () => {
  const dir = await channel();
  const tracker = new MediaPlaylistTracker('retry');
  await upload(dir, 1, segmentAt(0));
  await upload(dir, 2, segmentAt(1));
  await playlist(dir, tracker);
  await upload(dir, 2, segmentAt(1));
  await upload(dir, 3, segmentAt(2));
  const text = await playlist(dir, tracker);
  assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:1\n'), text);
  assert.not.ok(text.includes('DISCONTINUITY'), text);
  assert.equal(uris(text), ['chunk-0-00001.m4s', 'chunk-0-00002.m4s', 'chunk-0-00003.m4s']);
});

test('numbers that jump ahead: a discontinuity, and the window starts again at the new number', async () => {
  const dir = await channel();
  await upload(dir, 1, segmentAt(0));
  await upload(dir, 2, segmentAt(1));
  await playlist(dir);
  await upload(dir, 5, segmentAt(4));
  const text = await playlist(dir);
  // A playlist cannot skip a number in the middle: the segments before the hole leave it.
  assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:5\n'), text);
  assert.ok(text.includes('#EXT-X-DISCONTINUITY-SEQUENCE:1\n'), text);
  assert.equal(uris(text), ['chunk-0-00005.m4s']);
});

test('an encoder restart (numbers back to 1): EXT-X-DISCONTINUITY, numbers go on', async () => {
  const dir = await channel();
  const tracker = new MediaPlaylistTracker('restart');
  for (let n = 1; n <= 3; n++) await upload(dir, n, segmentAt(n - 1));
  await playlist(dir, tracker);
  await upload(dir, 1, segmentAt(0));
  const text = await playlist(dir, tracker);
  const lines = text.split('\n');
  assert.equal(uris(text), ['chunk-0-00002.m4s', 'chunk-0-00003.m4s', 'chunk-0-00001.m4s']);
  assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:2\n'), text);
  assert.ok(lines.indexOf('#EXT-X-DISCONTINUITY') > lines.indexOf('chunk-0-00003.m4s'), text);
});

test('a SegmentTimeline: the target duration comes from the first complete segment', async () => {
  const timeline = mpd('<SegmentTemplate timescale="15360" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1"><SegmentTimeline><S t="0" d="30720" r="-1"/></SegmentTimeline></SegmentTemplate>');
  const dir = await channel(timeline);
  // 2 s segments: two fixture segments back to back.
  const two = (i: number) => Buffer.concat([segmentAt(2 * i), segmentAt(2 * i + 1)]);
  const first = upload(dir, 1, two(0));
  await first;
  await upload(dir, 2, two(1));
  const text = await playlist(dir, new MediaPlaylistTracker('timeline'));
  assert.ok(text.includes('#EXT-X-TARGETDURATION:2\n'), text);
  assert.ok(text.includes('#EXTINF:2.0,\nchunk-0-00001.m4s'), text);
});

test('a plain load held for the channel\'s timing, fixed as its first segment completes, is answered with the next segment\'s first part', async () => {
  // With a SegmentTimeline the timing is fixed when the first segment completes: between segments.
  const timeline = mpd('<SegmentTemplate timescale="15360" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1"><SegmentTimeline><S t="0" d="15360" r="-1"/></SegmentTimeline></SegmentTemplate>');
  const dir = await channel(timeline);
  const chunks = fixtureChunks();
  const first = await ChunkedUpload.start(o.port, `${dir}/chunk-0-00001.m4s`);
  for (const c of chunks.slice(0, 4)) first.send(c);
  await waitUntil(() => o.origin.streams.channel(`${dir}/out.mpd`)?.renditions[0]?.segments[0]?.chunks.length === 4, 2000, 'four chunks in the model');
  assert.is(o.origin.streams.channel(`${dir}/out.mpd`)?.timing, undefined, 'no timing yet');
  const before = o.origin.metrics.holds;
  const reader = await rawGet(o.port, `${dir}/out_0.m3u8`);
  await waitUntil(() => o.origin.metrics.holds > before, 2000, 'the load to be held');
  const bytes = segmentAt(1);
  const next = [...new Parser().push(bytes)].map((e) => bytes.subarray(e.offset, e.offset + e.size));
  const second = await ChunkedUpload.start(o.port, `${dir}/chunk-0-00002.m4s`);
  first.send(chunks[4]);
  assert.is((await first.end()).status, 201);
  second.send(next[0]);
  const res = await reader.until((r) => r !== undefined && r.body.toString().includes('#EXT-X-PRELOAD-HINT'), 3000, 'the playlist');
  assert.ok(res.body.toString().includes('chunk-0-00002.m4s",BYTERANGE'), res.body.toString());
  for (const c of next.slice(1)) second.send(c);
  assert.is((await second.end()).status, 201);
});

test('segments deleted down to an empty window: the media sequence keeps counting', async () => {
  const dir = await channel();
  for (let n = 1; n <= 3; n++) await upload(dir, n, segmentAt(n - 1));
  await playlist(dir);
  for (let n = 1; n <= 3; n++) assert.is((await http(o.port, 'DELETE', `${dir}/chunk-0-${String(n).padStart(5, '0')}.m4s`)).status, 200);
  const text = await playlist(dir);
  assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:4\n'), text);
  assert.equal(uris(text), []);
});

test('$Time$ names: a rendition whose window emptied, and one added later, number each segment as the others do', async () => {
  // Numbers come from times here, not from names: one slot per segment start, shared by renditions.
  const rep = (id: string) => `<Representation id="${id}" mimeType="video/mp4" codecs="avc1.64000c" bandwidth="150000" width="160" height="90"/>`;
  const timed = (ids: string[]) =>
    `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"><Period id="0"><AdaptationSet contentType="video" frameRate="30/1">` +
    `<SegmentTemplate timescale="${SEGMENT_TICKS}" initialization="init-$RepresentationID$.m4s" media="t-$RepresentationID$-$Time$.m4s"><SegmentTimeline><S t="0" d="${SEGMENT_TICKS}" r="-1"/></SegmentTimeline></SegmentTemplate>` +
    `${ids.map(rep).join('')}</AdaptationSet></Period></MPD>`;
  const dir = `/live/model-${++dirs}`;
  assert.is((await put(o.port, `${dir}/out.mpd`, timed(['a', 'b']))).status, 201);
  for (const id of ['a', 'b', 'c']) assert.is((await put(o.port, `${dir}/init-${id}.m4s`, INIT)).status, 201);
  const key = (id: string, index: number) => `${dir}/t-${id}-${index * SEGMENT_TICKS}.m4s`;
  const send = async (id: string, index: number) => assert.is((await put(o.port, key(id, index), segmentAt(index))).status, 201);
  const msns = (id: string) => o.origin.streams.channel(`${dir}/out.mpd`)?.renditions.find((r) => r.info.id === id)?.segments.map((s) => s.msn);
  for (let i = 0; i < 4; i++) {
    await send('a', i);
    await send('b', i);
  }
  assert.equal(msns('b'), [0, 1, 2, 3]);
  // b's encoder falls behind: its segments are deleted, it skips one, and comes back.
  for (let i = 0; i < 4; i++) assert.is((await http(o.port, 'DELETE', key('b', i))).status, 200);
  await send('a', 4);
  await send('a', 5);
  await send('b', 5);
  assert.equal(msns('b'), [5]);
  // A rendition declared mid-stream starts at the number its time has in the others.
  assert.is((await put(o.port, `${dir}/out.mpd`, timed(['a', 'b', 'c']))).status, 204);
  await send('a', 6);
  await send('c', 6);
  assert.equal(msns('c'), [6]);
  assert.equal(msns('a'), [0, 1, 2, 3, 4, 5, 6]);
  const text = (await http(o.port, 'GET', `${dir}/out_c.m3u8`)).body.toString();
  assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:6\n'), text);
});

test('a template with two numbers side by side is refused, with the reason in /streams', async () => {
  const dir = `/live/model-${++dirs}`;
  await put(o.port, `${dir}/out.mpd`, mpd('<SegmentTemplate initialization="init.m4s" media="$Number$$Number$.m4s"/>'));
  const status = JSON.parse((await http(o.port, 'GET', '/streams')).body.toString()) as { channels: { mpd: string; problem?: string }[] };
  assert.match(status.channels.find((c) => c.mpd === `${dir}/out.mpd`)?.problem ?? '', /side by side/);
});

test('with a disk tier: a segment evicted from memory stays listed, and leaves when it is deleted from disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-model-disk-'));
  // Room for about two segments: the older ones go to disk.
  const d = await startOrigin({ holdMs: 2000, warn: () => {}, dir, maxMemoryBytes: 50_000 });
  try {
    assert.is((await put(d.port, '/live/disk/out.mpd', NUMBERED)).status, 201);
    assert.is((await put(d.port, '/live/disk/init-0.m4s', INIT)).status, 201);
    for (let n = 1; n <= 4; n++) await put(d.port, `/live/disk/chunk-0-${String(n).padStart(5, '0')}.m4s`, segmentAt(n - 1));
    await waitUntil(() => d.origin.store.get('/live/disk/chunk-0-00001.m4s') === undefined, 5000, 'segment 1 evicted to disk');
    const get = async () => (await http(d.port, 'GET', '/live/disk/out_0.m3u8')).body.toString();
    assert.equal(uris(await get()), ['chunk-0-00001.m4s', 'chunk-0-00002.m4s', 'chunk-0-00003.m4s', 'chunk-0-00004.m4s']);
    assert.is((await http(d.port, 'DELETE', '/live/disk/chunk-0-00001.m4s')).status, 200);
    const text = await get();
    assert.equal(uris(text), ['chunk-0-00002.m4s', 'chunk-0-00003.m4s', 'chunk-0-00004.m4s']);
    assert.ok(text.includes('#EXT-X-MEDIA-SEQUENCE:2\n'), text);
  } finally {
    await d.close();
    d.origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
