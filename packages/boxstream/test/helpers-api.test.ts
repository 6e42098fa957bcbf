// The standalone helpers: parseInit, parseMoof, walkBoxes, readChildren.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BoxStreamError, Parser, concat, mimeType, parseInit, parseMoof, readChildren, sniff, walkBoxes } from '../src/index.js';
import { box, fixture } from './helpers.js';

test('sniff names the first box of what the parser accepts, and nothing else', () => {
  assert.is(sniff(fixture('init.mp4')), 'ftyp');
  assert.is(sniff(fixture('lldash-segment.m4s')), 'styp');
  assert.is(sniff(box('moof', [])), 'moof');
  assert.is(sniff(new TextEncoder().encode('<html><body>')), undefined);
  assert.is(sniff(new Uint8Array([0x47, 0x40, 0x11, 0x10, 0, 0x42, 0xf0, 0x25])), undefined, 'MPEG-TS');
  assert.is(sniff(new Uint8Array([0, 0, 0, 4, 0x66, 0x74, 0x79, 0x70])), undefined, 'size below a header');
  assert.is(sniff(box('ftyp', []).subarray(0, 7)), undefined, 'too short to tell');
  // Whatever sniff accepts, the parser accepts as a first box (and JUNK otherwise): one list.
  for (const bytes of [box('zzzz', [1]), box('moov', []), box('free', [])]) {
    let junk = false;
    try {
      new Parser().push(bytes);
    } catch (err) {
      junk = (err as BoxStreamError).code === 'JUNK';
    }
    assert.is(sniff(bytes) === undefined, junk);
  }
});

test('parseInit reads brands and tracks of a two-track init segment', () => {
  const info = parseInit(fixture('init.mp4'));
  assert.is(info.majorBrand, 'iso5');
  assert.ok(info.compatibleBrands.includes('iso6'));
  assert.ok(info.fragmented);
  assert.equal(
    info.tracks.map((t) => [t.trackId, t.handler, t.codec, t.timescale]),
    [[1, 'vide', 'avc1', 15360], [2, 'soun', 'mp4a', 48000]],
  );
  assert.equal([info.tracks[0].width, info.tracks[0].height], [160, 90]);
  // The entry's channelcount field says 2; the AudioSpecificConfig says mono (ffmpeg -ac 1).
  assert.equal([info.tracks[1].channelCount, info.tracks[1].sampleRate], [1, 48000]);
  assert.equal([info.tracks[0].codecString, info.tracks[1].codecString], ['avc1.64000b', 'mp4a.40.2']);
  assert.is(mimeType(info), 'video/mp4; codecs="avc1.64000b,mp4a.40.2"');
  assert.is(mimeType(info, [info.tracks[1]]), 'audio/mp4; codecs="mp4a.40.2"');
  assert.equal(info.tracks[0].trex, { sampleDescriptionIndex: 1, sampleDuration: 0, sampleSize: 0, sampleFlags: 0 });
  assert.throws(() => parseInit(box('ftyp', new Uint8Array(8))), (e: unknown) => e instanceof BoxStreamError && e.code === 'BAD_BOX');
});

test('parseMoof reads the first moof of a segment, using the init for timescales', () => {
  const initInfo = parseInit(fixture('lldash-init.mp4'));
  const info = parseMoof(fixture('lldash-segment.m4s'), initInfo);
  assert.is(info.sequenceNumber, 1);
  assert.equal(info.tracks.map((t) => [t.trackId, t.baseMediaDecodeTime, t.sampleCount, t.duration, t.timescale, t.keyframe]), [[1, 0n, 6, 3072, 15360, true]]);
  assert.throws(() => parseMoof(fixture('lldash-init.mp4')), (e: unknown) => e instanceof BoxStreamError && e.code === 'BAD_BOX');
});

test('walkBoxes descends into known containers with depth and path', () => {
  const boxes = [...walkBoxes(fixture('init.mp4'))];
  const avc1 = boxes.find((b) => b.type === 'avc1');
  assert.equal(avc1?.path, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'avc1']);
  assert.is(avc1?.depth, 6);
  assert.ok(boxes.some((b) => b.type === 'avcC' && b.depth === 7));
  assert.ok(boxes.some((b) => b.type === 'trex'));
});

test('readChildren: size 0 runs to the end of the range; absolute offsets with a base', () => {
  const bytes = concat([box('free', [1]), new Uint8Array([0, 0, 0, 0, 0x6d, 0x64, 0x61, 0x74, 1, 2, 3])]);
  const children = readChildren(bytes, 0, bytes.length, 1000);
  assert.equal(children.map((c) => [c.type, c.offset, c.start, c.end]), [['free', 1000, 8, 9], ['mdat', 1009, 17, 20]]);
  assert.throws(() => readChildren(bytes, 0, 12), (e: unknown) => e instanceof BoxStreamError && e.code === 'TRUNCATED');
});

test('parseInit and parseMoof read no further than the box they need', () => {
  const stream = fixture('lldash-stream.mp4');
  const cut = stream.subarray(0, 2000); // init, then part of the first chunk
  assert.is(parseInit(cut).tracks.length, 1);
  const segment = fixture('lldash-segment.m4s');
  assert.is(parseMoof(segment.subarray(0, segment.length - 50)).sequenceNumber, 1);
});

test('walkBoxes copes with QuickTime layouts: udta zero terminator, meta without version, sound entry v1', () => {
  const hdlr = box('hdlr', new Uint8Array(25));
  const qtMeta = box('meta', hdlr, box('ilst', []));
  const udta = box('udta', qtMeta, [0, 0, 0, 0]);
  const types = [...walkBoxes(udta)].map((b) => `${b.depth}:${b.type}`);
  assert.equal(types, ['0:udta', '1:meta', '2:hdlr', '2:ilst']);
  const v1 = new Uint8Array(44);
  v1[9] = 1; // version 1 sound sample entry: 16 more bytes before its children
  const entry = box('mp4a', v1, box('esds', new Uint8Array(4)));
  assert.equal([...walkBoxes(entry)].map((b) => b.type), ['mp4a', 'esds']);
});

test.run();
