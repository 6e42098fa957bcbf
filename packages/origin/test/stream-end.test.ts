// When the stream model ends a channel (EXT-X-ENDLIST): driven through the store, as uploads drive
// it, with real CMAF (the boxstream fixture: 1 s segments of five 0.2 s chunks).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Parser } from 'boxstream';
import { ObjectStore } from '../src/store/store.js';
import { StreamModel } from '../src/stream/model.js';
import { fixture } from './helpers.js';

const INIT = fixture('lldash-init.mp4');
const SEGMENT = fixture('lldash-segment.m4s');
const TICKS = 15360;

/** The fixture segment moved to segment `index` (0-based) of a continuous timeline; `lmsg` marks the last. */
function segmentAt(index: number, last = false): Buffer {
  const bytes = Buffer.from(SEGMENT);
  for (let i = bytes.indexOf('tfdt'); i >= 0; i = bytes.indexOf('tfdt', i + 4)) {
    if (bytes[i + 4] === 1) bytes.writeBigUInt64BE(bytes.readBigUInt64BE(i + 8) + BigInt(index * TICKS), i + 8);
    else bytes.writeUInt32BE(bytes.readUInt32BE(i + 8) + index * TICKS, i + 8);
  }
  if (last) bytes.write('lmsg', bytes.indexOf('styp') + 16, 'latin1');
  return bytes;
}

const mpd = (attrs: string, media = 'c-$Number$.m4s') =>
  `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${attrs}><Period id="0"><AdaptationSet contentType="video" frameRate="30/1">` +
  `<Representation id="0" mimeType="video/mp4" codecs="avc1.64000c" bandwidth="150000" width="160" height="90">` +
  `<SegmentTemplate timescale="${TICKS}" duration="${TICKS}" startNumber="1" initialization="init.m4s" media="${media}"/></Representation></AdaptationSet></Period></MPD>`;
const LIVE = 'type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"';

/** A store and its model; `/vod/` channels are event channels (VOD assets). */
function setup() {
  const store = new ObjectStore();
  const model = new StreamModel(store, () => {}, false, ['/vod/']);
  /** An object uploaded whole (its chunks published with their parse events, as an upload does). */
  const put = (key: string, body: Buffer | string, kind: 'manifest' | 'init' | 'media') => {
    const object = begin(key, kind);
    publish(object, Buffer.from(body), kind);
    object.complete();
  };
  const begin = (key: string, kind: 'manifest' | 'init' | 'media') => {
    const object = store.create(key, { contentType: 'application/octet-stream', kind });
    store.insert(object);
    return object;
  };
  const publish = (object: ReturnType<typeof begin>, bytes: Buffer, kind: string) => {
    if (kind !== 'media') return object.publish(new Uint8Array(bytes));
    for (const event of new Parser().push(bytes)) object.publish(bytes.subarray(event.offset, event.offset + event.size), event);
  };
  const ended = (key: string) => model.channel(key)?.ended;
  return { store, put, begin, ended };
}

test('an event channel (VOD asset) whose static MPD declares 3 segments ends once the 3rd is in, not before', () => {
  const { put, begin, ended } = setup();
  put('/vod/a/out.mpd', mpd('type="static" mediaPresentationDuration="PT3S"'), 'manifest');
  put('/vod/a/init.m4s', INIT, 'init');
  put('/vod/a/c-1.m4s', segmentAt(0), 'media');
  put('/vod/a/c-2.m4s', segmentAt(1), 'media');
  assert.is(ended('/vod/a/out.mpd'), false);
  // The last one while it is written: not yet.
  const last = begin('/vod/a/c-3.m4s', 'media');
  const bytes = segmentAt(2);
  const [first] = new Parser().push(bytes);
  last.publish(bytes.subarray(0, first.size), first);
  assert.is(ended('/vod/a/out.mpd'), false);
  last.publish(bytes.subarray(first.size));
  last.complete();
  assert.is(ended('/vod/a/out.mpd'), true);
  // ffmpeg's final MPD (a SegmentTimeline: no last number declared) keeps it ended.
  put('/vod/a/out.mpd', mpd('type="static" mediaPresentationDuration="PT3S"').replace(` duration="${TICKS}"`, '').replace('/></Rep', `><SegmentTimeline><S t="0" d="${TICKS}" r="2"/></SegmentTimeline></SegmentTemplate></Rep`), 'manifest');
  assert.is(ended('/vod/a/out.mpd'), true);
});

test('a live channel ends at its static MPD at once, even one declaring a segment more than it has (its duration runs to the longest track)', () => {
  const { put, ended } = setup();
  put('/live/b/out.mpd', mpd(LIVE), 'manifest');
  put('/live/b/init.m4s', INIT, 'init');
  for (let i = 1; i <= 3; i++) put(`/live/b/c-${i}.m4s`, segmentAt(i - 1), 'media');
  assert.is(ended('/live/b/out.mpd'), false);
  put('/live/b/out.mpd', mpd('type="static" mediaPresentationDuration="PT3.04S"'), 'manifest');
  assert.is(ended('/live/b/out.mpd'), true);
});

test('an end by lmsg survives a static MPD after it; a live MPD again makes the stream live', () => {
  const { put, ended } = setup();
  put('/vod/d/out.mpd', mpd(LIVE), 'manifest');
  put('/vod/d/init.m4s', INIT, 'init');
  put('/vod/d/c-1.m4s', segmentAt(0), 'media');
  put('/vod/d/c-2.m4s', segmentAt(1, true), 'media');
  assert.is(ended('/vod/d/out.mpd'), true, 'lmsg');
  // Declares a 3rd segment that never comes: the stream stays ended all the same.
  put('/vod/d/out.mpd', mpd('type="static" mediaPresentationDuration="PT2.04S"'), 'manifest');
  assert.is(ended('/vod/d/out.mpd'), true, 'still ended');
  put('/vod/d/out.mpd', mpd(LIVE), 'manifest');
  assert.is(ended('/vod/d/out.mpd'), false, 'live again');
});

test('a static MPD with a $Time$ template declares no last number: it ends at once, also on an event channel', () => {
  const { put, ended } = setup();
  put('/vod/t/out.mpd', mpd('type="static" mediaPresentationDuration="PT3S"', 't-$Time$.m4s'), 'manifest');
  put('/vod/t/init.m4s', INIT, 'init');
  put('/vod/t/t-0.m4s', segmentAt(0), 'media');
  assert.is(ended('/vod/t/out.mpd'), true);
});

test.run();
