// Chunk facts beyond the basics: presentation times, several trafs per track, media data in
// several mdats, non-fragmented files, emsg and sidx, a seeded header, NTP eras, text input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BoxStreamError, Parser, concat, ntpToUnixMs, parseEmsg, parseInit, parseSidx, samples, type BoxEvent, type ChunkEvent, type HeaderEvent, type ParseEvent } from '../src/index.js';
import { box, bytesOf, emsg, fixture, fullBox, init, moof, parseAll, parseIn, sameBytes, typeBytes, u32Bytes, u64Bytes } from './helpers.js';

const chunks = (events: readonly ParseEvent[]) => events.filter((e): e is ChunkEvent => e.kind === 'chunk');
const kinds = (events: readonly ParseEvent[]) => events.map((e) => (e.kind === 'box' ? `box:${e.boxes[0].type}` : e.kind));

/** A traf with a version 1 trun: per-sample duration, size and signed composition offset. */
function bframeTraf(trackId: number, tfdt: bigint, rows: [duration: number, size: number, cto: number][], dataOffset?: number): Uint8Array {
  const tfhd = fullBox('tfhd', 0, 0x020000, u32Bytes(trackId));
  const flags = 0x000b00 | (dataOffset === undefined ? 0 : 1);
  const head = [...u32Bytes(rows.length), ...(dataOffset === undefined ? [] : u32Bytes(dataOffset))];
  const trun = fullBox('trun', 1, flags, head, rows.flatMap(([d, s, c]) => [...u32Bytes(d), ...u32Bytes(s), ...u32Bytes(c >>> 0)]));
  return box('traf', tfhd, fullBox('tfdt', 1, 0, u64Bytes(tfdt)), trun);
}

test('earliest presentation time: signed (version 1) composition offsets; per-sample iteration', () => {
  // I P B B as an encoder with B-frames writes them: decode 0, 3000, 6000, 9000.
  const rows: [number, number, number][] = [[3000, 10, 3000], [3000, 4, 9000], [3000, 3, -3000], [3000, 3, 0]];
  const m = box('moof', fullBox('mfhd', 0, 0, u32Bytes(1)), bframeTraf(1, 90000n, rows));
  const [c] = chunks(parseAll(concat([init(), m, box('mdat', new Uint8Array(20))])));
  const t = c.info.tracks[0];
  // min(0 + 3000, 3000 + 9000, 6000 - 3000, 9000 + 0) = 3000.
  assert.is(t.earliestPresentationTime, 93000n);
  assert.is(t.duration, 12000);
  const s = [...samples(c)];
  assert.equal(s.map((x) => [x.decodeTime, x.presentationTime, x.compositionOffset, x.size]), [
    [90000n, 93000n, 3000, 10],
    [93000n, 102000n, 9000, 4],
    [96000n, 93000n, -3000, 3],
    [99000n, 99000n, 0, 3],
  ]);
  // Without a data_offset the data starts at the moof (default-base-is-moof).
  assert.equal(s.map((x) => x.offset! - c.offset), [0, 10, 14, 17]);
  // No composition offsets: the earliest presentation time is the decode time.
  const plain = chunks(parseAll(concat([init({ trexDuration: 100 }), moof({ tfdt: 5n, samples: 3 }), box('mdat', [])])))[0];
  assert.is(plain.info.tracks[0].earliestPresentationTime, 5n);
  assert.is(chunks(parseAll(concat([init(), moof({ tfdt: null }), box('mdat', [])])))[0].info.tracks[0].earliestPresentationTime, undefined);
});

test('several trafs of one track in a moof: the chunk duration is their sum, not the longest', () => {
  const m = box('moof', fullBox('mfhd', 0, 0, u32Bytes(1)), bframeTraf(1, 0n, [[45000, 1, 0]]), bframeTraf(1, 45000n, [[45000, 1, 0], [45000, 1, 0]]));
  const [c] = chunks(parseAll(concat([init(), m, box('mdat', [1, 2, 3])])));
  assert.equal(c.info.tracks.map((t) => t.duration), [45000, 90000]);
  assert.is(c.info.duration, 1.5);
  assert.equal([...samples(c)].map((s) => Number(s.decodeTime)), [0, 45000, 90000]);
});

test("trafs without default-base-is-moof: the second traf's data follows the first's", () => {
  // Two tracks, tfhd flags 0: the first traf's data_offset counts from the moof, the second traf
  // has no data_offset, so its data starts where the first traf's ends.
  const traf = (trackId: number, sizes: number[], dataOffset?: number) => {
    const flags = 0x000300 | (dataOffset === undefined ? 0 : 1);
    const head = [...u32Bytes(sizes.length), ...(dataOffset === undefined ? [] : u32Bytes(dataOffset))];
    return box('traf', fullBox('tfhd', 0, 0, u32Bytes(trackId)), fullBox('tfdt', 0, 0, u32Bytes(0)), fullBox('trun', 0, flags, head, sizes.flatMap((n) => [...u32Bytes(100), ...u32Bytes(n)])));
  };
  const build = (offset: number) => box('moof', fullBox('mfhd', 0, 0, u32Bytes(1)), traf(1, [3, 4], offset), traf(2, [5]));
  const m = build(build(0).length + 8);
  const [c] = chunks(parseAll(concat([init(), m, box('mdat', new Uint8Array(12))])));
  assert.equal([...samples(c)].map((s) => [s.trackId, s.offset! - c.offset - m.length - 8, s.size]), [
    [1, 0, 3],
    [1, 3, 4],
    [2, 7, 5],
  ]);
});

test('a moof whose media data spans two mdats is one chunk; the next box ends it otherwise', () => {
  // 2 samples of 4 bytes; data_offset points just past the first mdat's header.
  const build = (dataOffset: number) => box('moof', fullBox('mfhd', 0, 0, u32Bytes(1)), bframeTraf(1, 0n, [[1000, 4, 0], [1000, 4, 0]], dataOffset));
  const moofSize = build(0).length;
  const m = build(moofSize + 8);
  const two = concat([init(), m, box('mdat', [1, 2, 3, 4]), box('mdat', [5, 6, 7, 8]), moof({ seq: 2 }), box('mdat', [])]);
  const events = parseAll(two);
  assert.equal(kinds(events), ['header', 'chunk', 'chunk']);
  assert.equal(chunks(events)[0].boxes.map((b) => b.type), ['moof', 'mdat', 'mdat']);
  assert.ok(sameBytes(bytesOf(events), two));
  // Byte by byte: the first chunk completes with the second mdat's last byte, not before.
  const parser = new Parser();
  const initBytes = init();
  const firstEnd = initBytes.length + m.length + 24;
  let completedAt = -1;
  for (let i = 0; i < two.length; i++) {
    if (parser.push(two.subarray(i, i + 1)).some((e) => e.kind === 'chunk') && completedAt < 0) completedAt = i + 1;
  }
  assert.is(completedAt, firstEnd);
  // The second mdat too large to hold: it streams as part of the chunk, and the next chunk follows.
  const big = concat([init(), m, box('mdat', [1, 2, 3, 4]), box('mdat', new Uint8Array(5000)), moof({ seq: 2 }), box('mdat', [])]);
  const streamed = parseIn(big, [100, 400, 900], { maxChunkSize: 1000 });
  assert.equal(kinds(streamed).filter((k) => k !== 'data'), ['header', 'chunk', 'chunk']);
  assert.ok(sameBytes(bytesOf(streamed), big));
  // A bad box after such a chunk: the complete chunk comes with the error, not lost.
  for (const bad of [new Uint8Array([0, 0, 0, 11, 0, 1, 2, 3, 4, 5, 6]), new Uint8Array([0, 0, 0, 3, 0x6d, 0x6f, 0x6f, 0x66])]) {
    const parser = new Parser();
    try {
      parser.push(concat([init(), m, box('mdat', [1, 2, 3, 4]), bad]));
      assert.unreachable();
    } catch (err) {
      assert.instance(err, BoxStreamError);
      assert.equal((err as BoxStreamError).events.map((e) => e.kind), ['header', 'chunk']);
    }
  }
  // The data it points at never comes: the chunk ends at the next box, or at the end of the stream.
  const short = concat([init(), m, box('mdat', [1, 2, 3, 4])]);
  assert.equal(kinds(parseAll(concat([short, box('free', [])]))), ['header', 'chunk', 'box:free']);
  assert.equal(kinds(parseAll(short)), ['header', 'chunk']);
});

test('non-fragmented MP4: the header, then the mdat as a box, in either order; brands kept', () => {
  for (const name of ['plain/faststart.mp4', 'plain/mdat-first.mp4']) {
    const bytes = fixture(name);
    const events = parseIn(bytes, [100, 5000]);
    assert.ok(sameBytes(bytesOf(events), bytes), 'every byte delivered');
    const header = events.find((e): e is HeaderEvent => e.kind === 'header')!;
    assert.is(header.init.fragmented, false);
    assert.is(header.init.majorBrand, 'isom');
    assert.equal(header.init.tracks.map((t) => t.codecString), ['avc1.640009', 'mp4a.40.2']);
    assert.is(header.init.duration, 1);
    assert.ok(events.some((e) => e.kind === 'box' && e.boxes[0].type === 'mdat'), 'the mdat is a box event');
  }
  // A large mdat streams through: a box event, then data events.
  const events = parseAll(fixture('plain/mdat-first.mp4'), { maxChunkSize: 4096 });
  assert.equal(kinds(events).slice(0, 3), ['box:ftyp', 'box:free', 'box:mdat']);
  assert.ok(events.some((e) => e.kind === 'data' && e.unit === 'box' && e.last));
  assert.is(events.at(-1)!.kind, 'header');
});

test('emsg (v0 and v1) and sidx before a chunk are read into its facts; alone they are box facts', () => {
  const v0 = emsg({ scheme: 'urn:scte:scte35:2013:bin', value: '1', timescale: 90000, time: 180000, duration: 2700000, id: 7, data: [0xfc, 0x30, 0x11] });
  const v1 = emsg({ version: 1, scheme: 'https://aomedia.org/emsg/ID3', time: 2 ** 40, timescale: 1000, id: 9, data: [0x49, 0x44, 0x33] });
  const sidx = fullBox('sidx', 1, 0, u32Bytes(1), u32Bytes(90000), u64Bytes(2n ** 33n), u64Bytes(0n), [0, 0, 0, 1], u32Bytes(0x80001000), u32Bytes(180000), u32Bytes(0x90000000));
  const [c] = chunks(parseAll(concat([init(), sidx, v0, v1, moof({}), box('mdat', [])])));
  assert.equal(c.info.emsg.map((e) => [e.version, e.schemeIdUri, e.value, e.timescale, e.presentationTime, e.presentationTimeDelta, e.eventDuration, e.id, [...e.messageData]]), [
    [0, 'urn:scte:scte35:2013:bin', '1', 90000, undefined, 180000, 2700000, 7, [0xfc, 0x30, 0x11]],
    [1, 'https://aomedia.org/emsg/ID3', '', 1000, 2n ** 40n, undefined, 0, 9, [0x49, 0x44, 0x33]],
  ]);
  assert.equal(c.info.sidx, {
    referenceId: 1,
    timescale: 90000,
    earliestPresentationTime: 2n ** 33n,
    firstOffset: 0,
    references: [{ isIndex: true, size: 0x1000, duration: 180000, startsWithSap: true, sapType: 1, sapDeltaTime: 0 }],
  });
  assert.equal(parseEmsg(v1).id, 9);
  assert.equal(parseSidx(sidx).references.length, 1);
  // A chunk without them shares one empty list; a lone emsg is a box with its event.
  const [plain] = chunks(parseAll(concat([init(), moof({}), box('mdat', [])])));
  assert.equal(plain.info.emsg, []);
  const lone = parseAll(concat([init(), moof({}), box('mdat', []), v0])).at(-1) as BoxEvent;
  assert.is(lone.emsg?.id, 7);
  // A malformed one is BAD_BOX, like any box boxstream reads.
  const broken = fullBox('emsg', 0, 0, typeBytes('abcd'));
  assert.throws(() => parseAll(concat([init(), broken, moof({}), box('mdat', [])])), (e: unknown) => e instanceof BoxStreamError && e.code === 'BAD_BOX' && e.boxType === 'emsg');
});

test('ParserOptions.init: a segment on its own gets timescales, trex defaults and durations', () => {
  const segment = fixture('lldash-segment.m4s');
  const bare = chunks(parseAll(segment));
  assert.is(bare[0].info.duration, undefined, 'without the header nothing says how long');
  const initBytes = fixture('lldash-init.mp4');
  for (const seed of [initBytes, parseInit(initBytes)]) {
    const seeded = chunks(parseAll(segment, { init: seed }));
    assert.equal(seeded.map((c) => c.info.duration), [0.2, 0.2, 0.2, 0.2, 0.2]);
    assert.is(seeded[0].info.init?.tracks[0].timescale, 15360);
  }
  // A header in the stream replaces the seed.
  const other = parseAll(concat([init({ timescale: 1000 }), moof({}), box('mdat', [])]), { init: initBytes });
  assert.is(chunks(other)[0].info.tracks[0].timescale, 1000);
});

test('NTP timestamps: right before and after the 2036 wrap', () => {
  // 2036-02-07T06:28:15Z is NTP second 0xffffffff; one second later NTP seconds are 0 (era 1).
  assert.is(ntpToUnixMs(0xffffffffn << 32n), Date.UTC(2036, 1, 7, 6, 28, 15));
  assert.is(ntpToUnixMs(0n), Date.UTC(2036, 1, 7, 6, 28, 16));
  assert.is(ntpToUnixMs((3913056000n << 32n) | 0x80000000n), Date.UTC(2024, 0, 1) + 500);
  // 2040-01-01 is 2^32 + 3471292800 - 2^32... written as era-1 seconds.
  const s2040 = BigInt(Date.UTC(2040, 0, 1) / 1000 + 2208988800 - 2 ** 32);
  assert.is(ntpToUnixMs(s2040 << 32n), Date.UTC(2040, 0, 1));
});

test('text where MP4 should be: JUNK says what it looks like', () => {
  const page = new TextEncoder().encode('<html><body>404 Not Found</body></html>');
  try {
    parseAll(page);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, BoxStreamError);
    assert.is((err as BoxStreamError).code, 'JUNK');
    assert.match((err as BoxStreamError).message, 'starts with text: "<html><b"');
  }
});

test.run();
