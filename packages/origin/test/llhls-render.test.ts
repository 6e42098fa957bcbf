// The playlist writers alone: a channel built by hand in, playlist text out (no HTTP, no store).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { liveEdge, renderMediaPlaylist, renderMultivariant, type ChannelView, type RenditionView, type SegmentFact } from '../src/packaging/hls/index.js';

const TIMING = { targetDuration: 2, partTarget: 0.214, partHoldBack: 0.642, skipUntil: 12 };

/** A segment of `parts` chunks of `chunk` seconds and 1000 bytes, the first independent. */
function segment(msn: number, parts: number, complete: boolean, chunk = 0.2, extra: Partial<SegmentFact> = {}): SegmentFact {
  const chunks = Array.from({ length: parts }, (_, i) => ({ offset: i * 1000, size: 1000, duration: chunk, independent: i === 0 }));
  return {
    msn,
    key: `/live/chunk-0-${String(msn).padStart(5, '0')}.m4s`,
    uri: `chunk-0-${String(msn).padStart(5, '0')}.m4s`,
    chunks,
    size: parts * 1000,
    duration: parts * chunk,
    complete,
    discontinuity: false,
    programDateTime: Date.UTC(2026, 11, 2, 21, 0, 0) + msn * 2000,
    decodeTime: msn * 2,
    ...extra,
  };
}

function rendition(id: string, type: 'video' | 'audio', segments: SegmentFact[], extra: Partial<RenditionView> = {}): RenditionView {
  return {
    info: { id, type, bandwidth: type === 'video' ? 1_000_000 : 64_000, codecs: type === 'video' ? 'avc1.64001e' : 'mp4a.40.2', width: type === 'video' ? 640 : undefined, height: type === 'video' ? 360 : undefined, frameRate: type === 'video' ? 30 : undefined, audioSamplingRate: type === 'audio' ? 48000 : undefined, channels: type === 'audio' ? '2' : undefined, lang: undefined, initUri: `init-${id}.m4s`, segmentDuration: 2 },
    playlistUri: `out_${id}.m3u8`,
    segments,
    nextMsn: (segments.at(-1)?.msn ?? 0) + 1,
    discontinuitySequence: 0,
    nextUri: `chunk-${id}-${String((segments.at(-1)?.msn ?? 0) + 1).padStart(5, '0')}.m4s`,
    averageBandwidth: undefined,
    peakBandwidth: undefined,
    ...extra,
  };
}

function channel(renditions: RenditionView[], ended = false, event = false): ChannelView {
  return { mpdKey: '/live/out.mpd', playlistKey: '/live/out.m3u8', renditions, timing: TIMING, ended, event };
}

const lines = (text: string): string[] => text.trimEnd().split('\n');

test('every chunk of the segment being written is a byte-range part, and the hint is the rest of it', () => {
  const video = rendition('0', 'video', [segment(1, 10, true), segment(2, 10, true), segment(3, 4, false)]);
  const audio = rendition('1', 'audio', [segment(1, 10, true), segment(2, 10, true), segment(3, 3, false)]);
  const text = renderMediaPlaylist(channel([video, audio]), video);
  const l = lines(text);
  assert.is(l[0], '#EXTM3U');
  assert.ok(l.includes('#EXT-X-TARGETDURATION:2'));
  assert.ok(l.includes('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.642,CAN-SKIP-UNTIL=12.0'));
  assert.ok(l.includes('#EXT-X-PART-INF:PART-TARGET=0.214'));
  assert.ok(l.includes('#EXT-X-MEDIA-SEQUENCE:1'));
  const tail = l.slice(l.indexOf('chunk-0-00002.m4s') + 1);
  assert.equal(tail.slice(0, 6), [
    '#EXT-X-PROGRAM-DATE-TIME:2026-12-02T21:00:06.000Z',
    '#EXT-X-PART:DURATION=0.2,URI="chunk-0-00003.m4s",BYTERANGE="1000@0",INDEPENDENT=YES',
    '#EXT-X-PART:DURATION=0.2,URI="chunk-0-00003.m4s",BYTERANGE="1000@1000"',
    '#EXT-X-PART:DURATION=0.2,URI="chunk-0-00003.m4s",BYTERANGE="1000@2000"',
    '#EXT-X-PART:DURATION=0.2,URI="chunk-0-00003.m4s",BYTERANGE="1000@3000"',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00003.m4s",BYTERANGE-START=4000',
  ]);
  assert.equal(tail.slice(6), ['#EXT-X-RENDITION-REPORT:URI="out_1.m3u8",LAST-MSN=3,LAST-PART=2']);
  assert.equal(liveEdge(video), { msn: 3, part: 3, segmentComplete: false });
});

test('parts leave the playlist once their segment ends more than 3 target durations before the live edge', () => {
  const segments = [1, 2, 3, 4, 5].map((n) => segment(n, 10, true));
  const text = renderMediaPlaylist(channel([rendition('0', 'video', segments)]), rendition('0', 'video', segments));
  const withParts = new Set([...text.matchAll(/#EXT-X-PART:.*URI="([^"]+)"/g)].map((m) => m[1]));
  // The playlist ends at 10 s: segments ending at or after 4 s keep their parts.
  assert.equal([...withParts], ['chunk-0-00002.m4s', 'chunk-0-00003.m4s', 'chunk-0-00004.m4s', 'chunk-0-00005.m4s']);
  // Between segments, the hint names the next segment from its start.
  assert.ok(text.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00006.m4s"\n'));
});

test('a delta update skips the complete segments older than CAN-SKIP-UNTIL and keeps counting their numbers', () => {
  const segments = Array.from({ length: 10 }, (_, i) => segment(i + 20, 10, true)).concat(segment(30, 2, false));
  const r = rendition('0', 'video', segments);
  const full = renderMediaPlaylist(channel([r]), r);
  const delta = renderMediaPlaylist(channel([r]), r, { skip: true });
  assert.not.ok(full.includes('EXT-X-SKIP'));
  // 20.4 s listed; 12 s skip boundary: segments ending at or before 8.4 s (the first four) go.
  assert.ok(delta.includes('#EXT-X-MEDIA-SEQUENCE:20\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXT-X-MAP:URI="init-0.m4s"\n'));
  assert.not.ok(delta.includes('chunk-0-00023.m4s'));
  assert.ok(delta.includes('chunk-0-00024.m4s'));
});

test('a discontinuity repeats the map; an ended stream has ENDLIST and no hint', () => {
  const segs = [segment(7, 10, true), segment(8, 10, true, 0.2, { discontinuity: true })];
  const r = rendition('0', 'video', segs);
  const text = renderMediaPlaylist(channel([r], true), r);
  assert.ok(text.includes('chunk-0-00007.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-0.m4s"\n#EXT-X-PROGRAM-DATE-TIME'));
  assert.ok(text.trimEnd().endsWith('#EXT-X-ENDLIST'));
  assert.not.ok(text.includes('PRELOAD-HINT'));
});

test('a segment created but without a chunk yet is not listed; the hint points at it', () => {
  const segs = [segment(1, 10, true), segment(2, 0, false)];
  const r = rendition('0', 'video', segs);
  const text = renderMediaPlaylist(channel([r]), r);
  assert.not.ok(text.includes('chunk-0-00002.m4s",BYTERANGE'));
  assert.ok(text.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00002.m4s"\n'));
  assert.equal(liveEdge(r), { msn: 1, part: 9, segmentComplete: true });
});

test('an empty window keeps counting; an encoder that opened the next segment early shows it after the previous ends', () => {
  const empty = rendition('0', 'video', [], { nextMsn: 42 });
  assert.ok(renderMediaPlaylist(channel([empty]), empty).includes('#EXT-X-MEDIA-SEQUENCE:42\n'));
  const overlapping = rendition('0', 'video', [segment(1, 10, true), segment(2, 4, false), segment(3, 2, false)]);
  const text = renderMediaPlaylist(channel([overlapping]), overlapping);
  assert.ok(text.includes('chunk-0-00002.m4s",BYTERANGE'));
  assert.not.ok(text.includes('chunk-0-00003.m4s",BYTERANGE'), 'segment 3 waits for segment 2 to end');
  assert.ok(text.includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00002.m4s",BYTERANGE-START=4000'));
});

test('ENDLIST waits for the rendition\'s last segment to end', () => {
  const writing = rendition('0', 'video', [segment(1, 10, true), segment(2, 4, false)]);
  assert.not.ok(renderMediaPlaylist(channel([writing], true), writing).includes('ENDLIST'));
  const done = rendition('0', 'video', [segment(1, 10, true), segment(2, 4, true)]);
  assert.ok(renderMediaPlaylist(channel([done], true), done).includes('#EXT-X-ENDLIST'));
});

test('a segment about to end hints the next segment, not a range past its end', () => {
  // 9 of 10 parts: the next part is still this segment's.
  const nine = rendition('0', 'video', [segment(1, 10, true), segment(2, 9, false)]);
  assert.ok(renderMediaPlaylist(channel([nine]), nine).includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00002.m4s",BYTERANGE-START=9000\n'));
  // 10 of 10 parts, upload not ended yet: the next part will be segment 3's first.
  const ten = rendition('0', 'video', [segment(1, 10, true), segment(2, 10, false)]);
  assert.ok(renderMediaPlaylist(channel([ten]), ten).includes('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00003.m4s"\n'));
});

test('multivariant: video variants carry the audio group, its codecs and bandwidth', () => {
  const v0 = rendition('0', 'video', [segment(1, 10, true)], { peakBandwidth: 1_200_000, averageBandwidth: 900_000 });
  const v1 = rendition('2', 'video', [segment(1, 10, true)], { info: { ...rendition('2', 'video', []).info, width: 320, height: 180, bandwidth: 300_000 } });
  const a = rendition('1', 'audio', [segment(1, 10, true)]);
  const text = renderMultivariant(channel([v0, a, v1]));
  const l = lines(text);
  assert.ok(l.includes('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio 1",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="out_1.m3u8"'));
  assert.ok(l.includes('#EXT-X-STREAM-INF:BANDWIDTH=1264000,AVERAGE-BANDWIDTH=964000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO="audio"'));
  assert.is(l[l.indexOf('#EXT-X-STREAM-INF:BANDWIDTH=1264000,AVERAGE-BANDWIDTH=964000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO="audio"') + 1], 'out_0.m3u8');
  assert.ok(l.includes('#EXT-X-STREAM-INF:BANDWIDTH=364000,AVERAGE-BANDWIDTH=364000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=30.000,AUDIO="audio"'));
});

test('multivariant without video: each audio rendition is a variant', () => {
  const text = renderMultivariant(channel([rendition('1', 'audio', [segment(1, 10, true)])]));
  assert.ok(text.includes('#EXT-X-STREAM-INF:BANDWIDTH=64000,AVERAGE-BANDWIDTH=64000,CODECS="mp4a.40.2"\nout_1.m3u8\n'));
  assert.not.ok(text.includes('EXT-X-MEDIA:'));
});

test.run();
