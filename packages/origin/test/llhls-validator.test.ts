// The LL-HLS validator the tests run on every playlist: a correct playlist passes, and each rule
// catches a small change that breaks it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MediaPlaylistTracker, checkMultivariant, type MediaCheckOptions } from './helpers/llhls-validator.js';

// ---------------------------------------------------------------------------------------------
// A realistic LL-HLS media playlist, as the origin writes it: 2 s segments of ten 0.2 s CMAF
// chunks, each chunk a byte range of its segment, parts kept for the segments within three
// target durations of the end, the segment being written last, a preload hint for the rest of
// it, and a rendition report for the other rendition.
// ---------------------------------------------------------------------------------------------

const PARTS_PER_SEGMENT = 10;
const START = Date.parse('2025-06-01T12:00:00.000Z');

interface PlaylistOptions {
  /** EXT-X-MEDIA-SEQUENCE. */
  first?: number;
  /** MSN of the last complete segment. */
  last?: number;
  /** Parts of the segment after `last` that are already written. */
  open?: number;
  /** First MSN whose parts are listed (default: the last three complete segments). */
  partsFrom?: number;
  /** EXT-X-SKIP SKIPPED-SEGMENTS (0: no skip). */
  skip?: number;
  /** Part durations other than 0.2 s, by `msn.index`. */
  durations?: Record<string, number>;
  /** INDEPENDENT=YES on parts other than the first of each segment, by `msn.index`. */
  independent?: Record<string, boolean>;
}

const segmentUri = (msn: number): string => `chunk-0-${String(msn).padStart(5, '0')}.m4s`;

/** Chunk sizes: a large first chunk (the key frame), then smaller ones. */
const partSize = (msn: number, i: number): number => (i === 0 ? 61_000 + msn * 7 : 14_000 + ((msn * 31 + i * 577) % 2_000));
const partOffset = (msn: number, i: number): number => Array.from({ length: i }, (_, k) => partSize(msn, k)).reduce((a, b) => a + b, 0);
const partDuration = (msn: number, i: number, o: PlaylistOptions = {}): number => o.durations?.[`${msn}.${i}`] ?? 0.2;

/** Seconds as the origin writes them ("2.0", "0.2", "1.9"). */
function seconds(value: number): string {
  const text = value.toFixed(5).replace(/0+$/, '');
  return text.endsWith('.') ? text + '0' : text;
}

/** The EXT-X-PART line of part `i` of segment `msn`. */
function partLine(msn: number, i: number, o: PlaylistOptions = {}): string {
  const independent = (o.independent?.[`${msn}.${i}`] ?? i === 0) ? ',INDEPENDENT=YES' : '';
  return `#EXT-X-PART:DURATION=${seconds(partDuration(msn, i, o))},URI="${segmentUri(msn)}",BYTERANGE="${partSize(msn, i)}@${partOffset(msn, i)}"${independent}`;
}

function playlist(o: PlaylistOptions = {}): string {
  const first = o.first ?? 38;
  const last = o.last ?? 43;
  const open = o.open ?? 4;
  const partsFrom = o.partsFrom ?? last - 2;
  const skip = o.skip ?? 0;
  const out = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    '#EXT-X-TARGETDURATION:2',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6,CAN-SKIP-UNTIL=12.0',
    '#EXT-X-PART-INF:PART-TARGET=0.2',
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
  ];
  if (skip > 0) out.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skip}`);
  out.push('#EXT-X-MAP:URI="init-0.mp4"');
  const writeParts = (msn: number, count: number): void => {
    for (let i = 0; i < count; i++) out.push(partLine(msn, i, o));
  };
  for (let msn = first + skip; msn <= last; msn++) {
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(START + msn * 2000).toISOString()}`);
    if (msn >= partsFrom) writeParts(msn, PARTS_PER_SEGMENT);
    const duration = Array.from({ length: PARTS_PER_SEGMENT }, (_, i) => partDuration(msn, i, o)).reduce((a, b) => a + b, 0);
    out.push(`#EXTINF:${seconds(duration)},`, segmentUri(msn));
  }
  const next = last + 1;
  if (open > 0) {
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(START + next * 2000).toISOString()}`);
    writeParts(next, open);
    out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${segmentUri(next)}",BYTERANGE-START=${partOffset(next, open)}`);
    out.push(`#EXT-X-RENDITION-REPORT:URI="out_1.m3u8",LAST-MSN=${next},LAST-PART=${open - 1}`);
  } else {
    out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${segmentUri(next)}"`);
    out.push(`#EXT-X-RENDITION-REPORT:URI="out_1.m3u8",LAST-MSN=${last},LAST-PART=${PARTS_PER_SEGMENT - 1}`);
  }
  out.push('');
  return out.join('\n');
}

const BASE = playlist();
const HINT = `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="chunk-0-00044.m4s",BYTERANGE-START=${partOffset(44, 4)}`;
const REPORTS: MediaCheckOptions = { otherRenditionUris: ['out_1.m3u8'] };

/** `text` with the single occurrence of `from` replaced: a mutation that does not apply fails. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  assert.ok(at >= 0, `mutation target not found: ${from}`);
  assert.is(text.indexOf(from, at + 1), -1, `mutation target found twice: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

const tracker = (): MediaPlaylistTracker => new MediaPlaylistTracker('out_0.m3u8');

/** Asserts that `run` throws an Error whose message matches `pattern`. */
function throwsWith(run: () => unknown, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a violation matching ${pattern}`);
}

const rejects = (text: string, pattern: RegExp, opts: MediaCheckOptions = REPORTS): void => throwsWith(() => tracker().check(text, opts), pattern);

// ---------------------------------------------------------------------------------------------
// A correct playlist
// ---------------------------------------------------------------------------------------------

test('a correct LL-HLS playlist passes and is summarized', () => {
  const t = tracker();
  const summary = t.check(BASE, REPORTS);
  assert.equal(summary, { mediaSequence: 38, lastMsn: 44, lastPart: 3, partTarget: 0.2, segments: 6, parts: 34, endList: false, skipped: 0 });
});

test('hls-parser calling kept parts within three target durations an error is recorded, not fatal', () => {
  // Parts of MSN 41 (4.8 s to 6.8 s from the end) are kept: §6.2.2 only says SHOULD remove
  // after three target durations, and hls-parser counts segments instead.
  const t = tracker();
  t.check(BASE, REPORTS);
  const deviations = [...t.parserDeviations];
  assert.is(deviations.length, 1);
  assert.match(deviations[0], /three target durations/);
});

test('other hls-parser complaints are violations: in-progress parts without a preload hint', () => {
  rejects(replaceOnce(BASE, HINT + '\n', ''), /hls-parser: .*EXT-X-PRELOAD-HINT/);
});

test('a playlist growing across reloads passes', () => {
  const t = tracker();
  const edges = [
    t.check(playlist({ open: 2 }), REPORTS),
    t.check(playlist({ open: 4 }), REPORTS),
    t.check(playlist({ last: 44, open: 0 }), REPORTS),
    t.check(playlist({ first: 39, last: 44, open: 1 }), REPORTS),
  ].map((s) => `${s.mediaSequence} ${s.lastMsn}.${s.lastPart}`);
  assert.equal(edges, ['38 44.1', '38 44.3', '38 44.9', '39 45.0']);
});

test('every violation is listed, not just the first', () => {
  const text = replaceOnce(playlist({ durations: { '42.3': 0.25 } }), 'PART-HOLD-BACK=0.6', 'PART-HOLD-BACK=0.4');
  throwsWith(() => tracker().check(text, REPORTS), /longer than PART-TARGET[\s\S]*less than 3 x PART-TARGET|less than 3 x PART-TARGET[\s\S]*longer than PART-TARGET/);
});

// ---------------------------------------------------------------------------------------------
// One playlist: each rule
// ---------------------------------------------------------------------------------------------

test('§4.4.3.1: EXTINF over the target duration', () => {
  rejects(replaceOnce(BASE, '#EXTINF:2.0,\nchunk-0-00040.m4s', '#EXTINF:2.6,\nchunk-0-00040.m4s'), /EXTINF 2\.6 rounds to more than the target duration 2/);
});

test('§4.4.4.9: a part longer than PART-TARGET', () => {
  rejects(playlist({ durations: { '42.3': 0.25 } }), /line \d+: §4\.4\.4\.9 part duration: part DURATION 0\.25 is longer than PART-TARGET 0\.2/);
});

test('§4.4.4.9: a short part that is not independent', () => {
  rejects(playlist({ durations: { '42.4': 0.1 } }), /part DURATION 0\.1 is below 85% of PART-TARGET/);
});

test('§4.4.4.9: a short INDEPENDENT part is allowed (hls-parser objects, recorded as a deviation)', () => {
  const t = tracker();
  assert.is(t.check(playlist({ durations: { '42.4': 0.1 }, independent: { '42.4': true } }), REPORTS).parts, 34);
  assert.ok([...t.parserDeviations].some((d) => /at least 85% of PART-TARGET/.test(d)), 'the 85% deviation is recorded');
});

test('§4.4.4.9: a short final part of a segment is allowed', () => {
  const text = playlist({ durations: { '42.9': 0.1 } });
  assert.ok(text.includes('#EXTINF:1.9,\nchunk-0-00042.m4s'));
  assert.is(tracker().check(text, REPORTS).segments, 6);
});

test('§4.4.4.9: the last part of the in-progress segment is not exempt', () => {
  rejects(playlist({ durations: { '44.3': 0.1 } }), /part DURATION 0\.1 is below 85%/);
});

test('§4.4.3.7: parts without EXT-X-PART-INF', () => {
  rejects(replaceOnce(BASE, '#EXT-X-PART-INF:PART-TARGET=0.2\n', ''), /EXT-X-PART tags but no EXT-X-PART-INF/);
});

test('Apple 14.3: PART-HOLD-BACK of only 2 x PART-TARGET', () => {
  rejects(replaceOnce(BASE, 'PART-HOLD-BACK=0.6', 'PART-HOLD-BACK=0.4'), /PART-HOLD-BACK 0\.4 is less than 3 x PART-TARGET \(0\.6\)/);
});

test('§4.4.4.9: a byte-range gap between parts', () => {
  const line = partLine(42, 3);
  const size = partSize(42, 3);
  rejects(replaceOnce(BASE, line, line.replace(`"${size}@`, `"${size - 100}@`)), /chunk-0-00042\.m4s @\d+ leaves a gap of 100 bytes after the previous part/);
});

test('§4.4.4.9: overlapping byte ranges', () => {
  const line = partLine(42, 3);
  const offset = partOffset(42, 3);
  rejects(replaceOnce(BASE, line, line.replace(`@${offset}"`, `@${offset - 10}"`)), /overlaps by 10 bytes/);
});

test('§3.2: parts that do not sum to the EXTINF', () => {
  rejects(replaceOnce(BASE, '#EXTINF:2.0,\nchunk-0-00042.m4s', '#EXTINF:2.1,\nchunk-0-00042.m4s'), /the 10 parts of MSN 42 last 2 s but EXTINF says 2\.1/);
});

test('§6.2.6: two preload hints of one type', () => {
  rejects(replaceOnce(BASE, HINT, `${HINT}\n${HINT}`), /at most one EXT-X-PRELOAD-HINT per TYPE/);
});

test('§4.4.5.3: a preload hint with EXT-X-ENDLIST', () => {
  rejects(replaceOnce(BASE, HINT, `${HINT}\n#EXT-X-ENDLIST`), /EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST/);
});

test('§4.4.5.3: a preload hint not starting where the last part ended', () => {
  const end = partOffset(44, 4);
  rejects(replaceOnce(BASE, `BYTERANGE-START=${end}`, `BYTERANGE-START=${end + 1}`), new RegExp(`BYTERANGE-START ${end + 1} but the last part of chunk-0-00044\\.m4s ends at ${end}`));
});

test('Appendix B.1: a missing rendition report', () => {
  rejects(BASE, /no EXT-X-RENDITION-REPORT for out_2\.m3u8/, { otherRenditionUris: ['out_1.m3u8', 'out_2.m3u8'] });
});

test('Appendix B.1: a rendition report for the playlist itself', () => {
  const self = '#EXT-X-RENDITION-REPORT:URI="out_0.m3u8",LAST-MSN=44,LAST-PART=3';
  const report = '#EXT-X-RENDITION-REPORT:URI="out_1.m3u8",LAST-MSN=44,LAST-PART=3';
  rejects(replaceOnce(BASE, report, `${report}\n${self}`), /report for the playlist itself \(out_0\.m3u8\)/);
});

test('§4.4.5.4: a rendition report without LAST-PART', () => {
  rejects(replaceOnce(BASE, 'LAST-MSN=44,LAST-PART=3', 'LAST-MSN=44'), /report for out_1\.m3u8 has no LAST-PART/);
});

test('Appendix B.1: no EXT-X-PROGRAM-DATE-TIME', () => {
  const text = BASE.split('\n').filter((line) => !line.startsWith('#EXT-X-PROGRAM-DATE-TIME')).join('\n');
  rejects(text, /no EXT-X-PROGRAM-DATE-TIME before the first segment or part/);
});

test('§4.4.4.9: EXT-X-MAP after a part of its parent segment', () => {
  const first = partLine(44, 0);
  rejects(replaceOnce(BASE, first, `${first}\n#EXT-X-MAP:URI="init-0.mp4"`), /EXT-X-MAP must come before the first EXT-X-PART of its parent segment/);
});

test('§6.2.5.1: EXT-X-SKIP in a playlist requested without _HLS_skip', () => {
  rejects(playlist({ first: 30, skip: 8 }), /EXT-X-SKIP in a playlist requested without _HLS_skip/);
});

test('§6.2.5.1: a skip reaching inside the skip boundary', () => {
  rejects(playlist({ first: 30, skip: 9 }), /skipped segments within the skip boundary/, { ...REPORTS, delta: true });
});

// ---------------------------------------------------------------------------------------------
// Across reloads
// ---------------------------------------------------------------------------------------------

test('across reloads: PART-TARGET changing', () => {
  const t = tracker();
  t.check(BASE, REPORTS);
  // 0.22: the 0.2 s parts stay above 85% of it, so only the change itself is wrong.
  const changed = replaceOnce(replaceOnce(BASE, 'PART-TARGET=0.2', 'PART-TARGET=0.22'), 'PART-HOLD-BACK=0.6', 'PART-HOLD-BACK=0.66');
  throwsWith(() => t.check(changed, REPORTS), /PART-TARGET changed from 0\.2 to 0\.22/);
});

test('across reloads: the media sequence decreasing', () => {
  const t = tracker();
  t.check(playlist({ first: 39 }), REPORTS);
  throwsWith(() => t.check(playlist({ first: 38 }), REPORTS), /MEDIA-SEQUENCE went back from 39 to 38/);
});

test('across reloads: the live edge going back', () => {
  const t = tracker();
  t.check(playlist({ open: 4 }), REPORTS);
  throwsWith(() => t.check(playlist({ open: 3 }), REPORTS), /live edge went back from 44\.3 to 44\.2/);
});

test('across reloads: a segment URI changing for an MSN', () => {
  const t = tracker();
  t.check(BASE, REPORTS);
  throwsWith(() => t.check(replaceOnce(BASE, 'chunk-0-00040.m4s\n', 'chunk-0-00040b.m4s\n'), REPORTS), /URI changed for MSN 40: chunk-0-00040\.m4s before, chunk-0-00040b\.m4s now/);
});

test('across reloads: a published part changing', () => {
  const t = tracker();
  t.check(BASE, REPORTS);
  throwsWith(() => t.check(playlist({ durations: { '44.2': 0.19 } }), REPORTS), /part 44\.2 changed/);
});

test('delta update: the skip counts MSNs right', () => {
  const t = tracker();
  t.check(playlist({ first: 30 }), REPORTS);
  const delta = t.check(playlist({ first: 30, skip: 8 }), { ...REPORTS, delta: true });
  assert.equal(delta, { mediaSequence: 30, lastMsn: 44, lastPart: 3, partTarget: 0.2, segments: 6, parts: 34, endList: false, skipped: 8 });
});

test('delta update: a miscounted skip shifts every MSN and is caught', () => {
  const t = tracker();
  t.check(playlist({ first: 30 }), REPORTS);
  const miscounted = replaceOnce(playlist({ first: 30, skip: 8 }), 'SKIPPED-SEGMENTS=8', 'SKIPPED-SEGMENTS=7');
  throwsWith(() => t.check(miscounted, { ...REPORTS, delta: true }), /URI changed for MSN 37: chunk-0-00037\.m4s before, chunk-0-00038\.m4s now/);
});

test('delta update: a full playlist is an acceptable answer to _HLS_skip', () => {
  assert.is(tracker().check(playlist({ first: 30 }), { ...REPORTS, delta: true }).skipped, 0);
});

// ---------------------------------------------------------------------------------------------
// Multivariant playlists
// ---------------------------------------------------------------------------------------------

const MULTIVARIANT = [
  '#EXTM3U',
  '#EXT-X-VERSION:9',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="en 2",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="out_2.m3u8"',
  '#EXT-X-STREAM-INF:BANDWIDTH=2628000,AVERAGE-BANDWIDTH=2200000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO="audio"',
  'out_0.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=1128000,AVERAGE-BANDWIDTH=950000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=30.000,AUDIO="audio"',
  'out_1.m3u8',
  '',
].join('\n');

test('multivariant: a correct playlist passes', () => {
  assert.equal(checkMultivariant(MULTIVARIANT), {
    variants: [
      { uri: 'out_0.m3u8', bandwidth: 2628000, codecs: 'avc1.64001f,mp4a.40.2', resolution: '1280x720', audio: 'audio' },
      { uri: 'out_1.m3u8', bandwidth: 1128000, codecs: 'avc1.64001e,mp4a.40.2', resolution: '640x360', audio: 'audio' },
    ],
    media: [{ type: 'AUDIO', groupId: 'audio', uri: 'out_2.m3u8' }],
  });
});

test('multivariant: a variant without CODECS', () => {
  throwsWith(() => checkMultivariant(replaceOnce(MULTIVARIANT, 'CODECS="avc1.64001e,mp4a.40.2",', '')), /line 7: §4\.4\.6\.2 EXT-X-STREAM-INF: CODECS is required/);
});

test('multivariant: an AUDIO group with no EXT-X-MEDIA', () => {
  throwsWith(() => checkMultivariant(replaceOnce(MULTIVARIANT, 'GROUP-ID="audio"', 'GROUP-ID="aac"')), /AUDIO group "audio" has no EXT-X-MEDIA with TYPE=AUDIO/);
});

test('multivariant: a FRAME-RATE with more than 3 decimals and a bad RESOLUTION', () => {
  const text = replaceOnce(MULTIVARIANT, 'RESOLUTION=640x360,FRAME-RATE=30.000', 'RESOLUTION=640*360,FRAME-RATE=29.9700');
  throwsWith(() => checkMultivariant(text), /RESOLUTION 640\*360 is not <width>x<height>[\s\S]*FRAME-RATE 29\.9700 is not a number with at most 3 decimals/);
});

test('multivariant: EXT-X-STREAM-INF without its URI line', () => {
  throwsWith(() => checkMultivariant(replaceOnce(MULTIVARIANT, 'out_1.m3u8\n', '')), /EXT-X-STREAM-INF: must be followed by its URI line/);
});

test.run();
