// Track facts from init segments: codec strings, picture and sound facts, edit lists,
// encryption, durations. Hand-made boxes with known answers; the real files are in oracle.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mimeType, parseInit, type TrackInfo } from '../src/index.js';
import { audioEntry, box, fullBox, init, typeBytes, u32Bytes, u64Bytes, visualEntry } from './helpers.js';

/** The one track of an init made with these options. */
function track(opts: Parameters<typeof init>[0]): TrackInfo {
  return parseInit(init(opts)).tracks[0];
}

/** Packs [value, bits] fields into bytes, most significant bit first. */
function bits(...fields: [number, number][]): number[] {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const [value, width] of fields) {
    for (let i = width - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++n === 8) {
        out.push(acc);
        acc = 0;
        n = 0;
      }
    }
  }
  if (n > 0) out.push(acc << (8 - n));
  return out;
}

const video = (type: string, ...children: Uint8Array[]) => track({ entry: visualEntry(type, 1920, 1080, ...children) });
const audio = (type: string, channels: number, rate: number, ...children: Uint8Array[]) =>
  track({ handler: 'soun', timescale: 48000, entry: audioEntry(type, channels, rate, ...children) });

test('avc1 / avc3: avcC profile, constraints and level in hex', () => {
  const avcC = box('avcC', [1, 0x64, 0x00, 0x1f, 0xff]);
  assert.is(video('avc1', avcC).codecString, 'avc1.64001f');
  assert.is(video('avc3', box('avcC', [1, 0x42, 0xc0, 0x0a])).codecString, 'avc3.42c00a');
  const t = video('avc1', avcC, box('pasp', u32Bytes(4), u32Bytes(3)));
  assert.equal([t.width, t.height, t.pixelAspectRatio], [1920, 1080, [4, 3]]);
});

test('hvc1 / hev1: profile space, bit-reversed compatibility flags, tier, level, constraint bytes', () => {
  // Main: space 0, tier 0, profile 1; compatibility flags 1 and 2; progressive + frame-only (0x90); level 93.
  const main = box('hvcC', [1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93]);
  assert.is(video('hvc1', main).codecString, 'hvc1.1.6.L93.90');
  // Main 10, space 2 (B), high tier, level 120, constraint bytes b0 then 00 00 01 (trailing zeros dropped only).
  const main10 = box('hvcC', [1, (2 << 6) | (1 << 5) | 2, 0x20, 0, 0, 0, 0xb0, 0, 0, 1, 0, 0, 120]);
  assert.is(video('hev1', main10).codecString, 'hev1.B2.4.H120.b0.0.0.1');
});

test('av01: profile, two-digit level, tier and bit depth', () => {
  assert.is(video('av01', box('av1C', [0x81, 0x08, 0x0c, 0])).codecString, 'av01.0.08M.08');
  // Profile 2, level 13, high tier, high bit depth + twelve bit.
  assert.is(video('av01', box('av1C', [0x81, (2 << 5) | 13, 0xe0, 0])).codecString, 'av01.2.13H.12');
  assert.is(video('av01', box('av1C', [0x81, (1 << 5) | 4, 0x40, 0])).codecString, 'av01.1.04M.10');
});

test('vp09: profile, level and bit depth, two digits each, from vpcC version 1', () => {
  const vpcC = fullBox('vpcC', 1, 0, [2, 31, (10 << 4) | (1 << 1), 1, 1, 1, 0, 0]);
  assert.is(video('vp09', vpcC).codecString, 'vp09.02.31.10');
});

test('Dolby Vision: dvh1.PP.LL from dvcC', () => {
  const dvcC = box('dvcC', [1, 0, ...bits([5, 7], [6, 6], [1, 1], [0, 1], [1, 1])], new Uint8Array(20));
  assert.is(video('dvh1', dvcC).codecString, 'dvh1.05.06');
});

/** An esds holding an ES_Descriptor with 4-byte descriptor sizes, as ffmpeg writes them. */
function esds(objectType: number, asc: number[]): Uint8Array {
  const desc = (tag: number, body: number[]) => [tag, 0x80, 0x80, 0x80, body.length, ...body];
  const dsi = desc(5, asc);
  const config = desc(4, [objectType, 0x15, 0, 0, 0, ...u32Bytes(192000), ...u32Bytes(128000), ...dsi]);
  return fullBox('esds', 0, 0, desc(3, [0, 1, 0, ...config, ...desc(6, [2])]));
}

test('mp4a: object type in hex, audio object type; channels and rate from the AudioSpecificConfig', () => {
  // AAC-LC, 44.1 kHz (index 4), stereo; the entry says 2 channels at 44100.
  const lc = audio('mp4a', 2, 44100, esds(0x40, bits([2, 5], [4, 4], [2, 4])));
  assert.equal([lc.codecString, lc.channelCount, lc.sampleRate, lc.maxBitrate, lc.avgBitrate], ['mp4a.40.2', 2, 44100, 192000, 128000]);
  // HE-AAC v2 (29), 5.1 (configuration 6) while the entry says 2.
  assert.equal([audio('mp4a', 2, 48000, esds(0x40, bits([29, 5], [3, 4], [6, 4]))).codecString, audio('mp4a', 2, 48000, esds(0x40, bits([29, 5], [3, 4], [6, 4]))).channelCount], ['mp4a.40.29', 6]);
  // An escaped audio object type (31 + 6 bits: 32 + 10 = 42, USAC) and an explicit 96 kHz rate.
  const usac = audio('mp4a', 2, 0, esds(0x40, bits([31, 5], [10, 6], [15, 4], [96000, 24], [2, 4])));
  assert.equal([usac.codecString, usac.sampleRate], ['mp4a.40.42', 96000]);
  // MP3 in MP4: object type 0x6b, no audio object type.
  assert.is(audio('mp4a', 2, 44100, esds(0x6b, [])).codecString, 'mp4a.6b');
  assert.is(audio('mp4a', 2, 44100).codecString, 'mp4a', 'no esds: the four-character code');
});

test('Opus, FLAC (exact rate above 65,535 Hz), AC-3 and E-AC-3 channels, srat', () => {
  const opus = audio('Opus', 2, 48000, box('dOps', [0, 6, 0x01, 0x38, ...u32Bytes(48000), 0, 0, 1]));
  assert.equal([opus.codecString, opus.channelCount], ['opus', 6]);
  // dfLa: FullBox, last-block flag + STREAMINFO (type 0), length 34, then STREAMINFO.
  const streamInfo = [0, 16, 0, 16, 0, 0, 0, 0, 0, 0, ...bits([96000, 20], [1, 3], [23, 5], [0, 4], [0, 32]), ...new Array(16).fill(0)];
  const flac = audio('fLaC', 2, 0, fullBox('dfLa', 0, 0, [0x80, 0, 0, 34], streamInfo));
  assert.equal([flac.codecString, flac.sampleRate, flac.channelCount], ['flac', 96000, 2]);
  // AC-3 5.1: acmod 7 (3/2) + LFE.
  const dac3 = box('dac3', bits([0, 2], [8, 5], [0, 3], [7, 3], [1, 1], [10, 5], [0, 5]));
  assert.equal([audio('ac-3', 2, 48000, dac3).codecString, audio('ac-3', 2, 48000, dac3).channelCount], ['ac-3', 6]);
  // E-AC-3: a 5.1 independent substream + a dependent one whose chan_loc (Table F.6.1, bit 0 =
  // Lc/Rc, bit 1 = Lrs/Rrs, ..., bit 8 = LFE2) adds channels: Lrs/Rrs makes 7.1, LFE2 one more.
  const dec3 = (chanLoc: number) => box('dec3', bits([448, 13], [0, 3], [0, 2], [16, 5], [0, 1], [0, 1], [0, 3], [7, 3], [1, 1], [0, 3], [1, 4], [chanLoc, 9]));
  assert.equal([audio('ec-3', 2, 48000, dec3(0b10)).codecString, audio('ec-3', 2, 48000, dec3(0b10)).channelCount], ['ec-3', 8]);
  assert.is(audio('ec-3', 2, 48000, dec3(1 << 8)).channelCount, 7);
  assert.is(audio('ec-3', 2, 48000, dec3(0b1000)).channelCount, 7, 'Ts: one channel');
  // srat (AudioSampleEntryV1's exact rate).
  assert.is(audio('ipcm', 2, 0, fullBox('srat', 0, 0, u32Bytes(192000))).sampleRate, 192000);
});

test('mp4v video with an esds: a codec string, and no audio facts from its decoder config', () => {
  // A VOS header (00 00 01 b0) as DecoderSpecificInfo: not an AudioSpecificConfig.
  const t = video('mp4v', esds(0x20, [0, 0, 1, 0xb0, 1]));
  assert.is(t.codecString, 'mp4v.20');
  assert.is(t.sampleRate, undefined);
  assert.is(t.channelCount, undefined);
});

test('QuickTime sound description version 2: rate and channels from its own fields', () => {
  const fields = new Uint8Array(64);
  fields.set([0, 2], 8); // version 2
  fields.set([0, 3, 0, 16, 0xff, 0xfe, 0, 0, 0, 1, 0, 0, 0, 0, 0, 72], 16); // always3 ... sizeOfStructOnly
  new DataView(fields.buffer).setFloat64(32, 96000);
  fields.set(u32Bytes(6), 40);
  const t = track({ handler: 'soun', timescale: 96000, entry: box('lpcm', fields) });
  assert.equal([t.sampleRate, t.channelCount], [96000, 6]);
});

test('encrypted entries: codec string of the original format; sinf and pssh facts', () => {
  const kid = Array.from({ length: 16 }, (_, i) => i);
  const sinf = box(
    'sinf',
    box('frma', typeBytes('avc1')),
    fullBox('schm', 0, 0, typeBytes('cbcs'), u32Bytes(0x10000)),
    box('schi', fullBox('tenc', 1, 0, [0, (1 << 4) | 9, 1, 0], kid, [16], new Array(16).fill(0xab))),
  );
  const widevine = [0xed, 0xef, 0x8b, 0xa9, 0x79, 0xd6, 0x4a, 0xce, 0xa3, 0xc8, 0x27, 0xdc, 0xd5, 0x1d, 0x21, 0xed];
  const pssh = fullBox('pssh', 1, 0, widevine, u32Bytes(1), kid, u32Bytes(3), [7, 8, 9]);
  const info = parseInit(init({ entry: visualEntry('encv', 640, 360, box('avcC', [1, 0x4d, 0x40, 0x1e]), sinf), moovExtra: [pssh] }));
  const t = info.tracks[0];
  assert.is(t.codec, 'encv');
  assert.is(t.codecString, 'avc1.4d401e');
  assert.equal(t.encryption, {
    originalFormat: 'avc1',
    scheme: 'cbcs',
    schemeVersion: 0x10000,
    isProtected: true,
    perSampleIvSize: 0,
    defaultKid: '00010203-0405-0607-0809-0a0b0c0d0e0f',
    constantIv: 'ab'.repeat(16),
    cryptByteBlock: 1,
    skipByteBlock: 9,
  });
  assert.is(info.pssh.length, 1);
  assert.is(info.pssh[0].systemId, 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed');
  assert.equal(info.pssh[0].kids, ['00010203-0405-0607-0809-0a0b0c0d0e0f']);
  assert.equal([...info.pssh[0].data], [7, 8, 9]);
  assert.is(mimeType(info), 'video/mp4; codecs="avc1.4d401e"');
});

test('edit list, durations (mvhd, mehd, mdhd) and the mime type of audio-only and text inits', () => {
  const elst = fullBox('elst', 0, 0, u32Bytes(2), u32Bytes(500), u32Bytes(0xffffffff), [0, 1, 0, 0], u32Bytes(9000), u32Bytes(1024), [0, 1, 0, 0]);
  const t = track({ trakExtra: [box('edts', elst)], mediaDuration: 90000 * 9 });
  assert.equal(t.edits, [
    { segmentDuration: 500, mediaTime: -1, rate: 1 },
    { segmentDuration: 9000, mediaTime: 1024, rate: 1 },
  ]);
  assert.is(t.editOffset, 1024);
  assert.is(t.duration, 9);
  const v1 = fullBox('elst', 1, 0, u32Bytes(1), u64Bytes(7n), u64Bytes(-2n & 0xffffffffffffffffn), [0, 1, 0x80, 0]);
  assert.equal(track({ trakExtra: [box('edts', v1)] }).edits, [{ segmentDuration: 7, mediaTime: -2, rate: 1.5 }]);
  assert.is(track({}).editOffset, 0);
  assert.is(parseInit(init({ movieDuration: 12_500 })).duration, 12.5);
  assert.is(parseInit(init({ movieDuration: 1000, mvexExtra: [fullBox('mehd', 0, 0, u32Bytes(60_000))] })).duration, 60);
  assert.is(parseInit(init({})).duration, undefined, 'a live init has no duration');
  assert.is(parseInit(init({ movieDuration: 0xffffffff })).duration, undefined, 'all ones: unknown');
  const aac = parseInit(init({ handler: 'soun', entry: audioEntry('mp4a', 2, 48000, esds(0x40, bits([2, 5], [3, 4], [2, 4]))) }));
  assert.is(mimeType(aac), 'audio/mp4; codecs="mp4a.40.2"');
  assert.is(mimeType(parseInit(init({ handler: 'text', entry: box('wvtt', new Uint8Array(8)) }))), 'application/mp4; codecs="wvtt"');
});

test('a malformed configuration box leaves the codec string undefined instead of failing the stream', () => {
  const t = video('avc1', box('avcC', [1, 0x64]));
  assert.is(t.codecString, undefined);
  assert.equal([t.width, t.height], [1920, 1080]);
  // Children that overflow the entry: the fixed fields still count.
  const broken = box('hvc1', new Uint8Array(78), [0, 0, 0, 99, ...typeBytes('hvcC')]);
  assert.is(track({ entry: broken }).codecString, undefined);
});

test.run();
