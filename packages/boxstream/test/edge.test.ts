// Hand-built edge cases: exact headers, limits, errors and the grouping of unusual layouts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BoxStreamError, Parser, concat, readBoxHeader, walkBoxes, type ChunkEvent, type HeaderEvent, type ParseEvent } from '../src/index.js';
import { box, bytesOf, emsg as emsgBox, fullBox, init, largeBox, moof, parseAll, parseIn, sameBytes, typeBytes, u32Bytes, u64Bytes } from './helpers.js';

function expectError(fn: () => unknown, code: string, fields: { offset?: number; boxType?: string; size?: number } = {}): BoxStreamError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BoxStreamError);
    const e = err as BoxStreamError;
    assert.is(e.code, code, e.message);
    if ('offset' in fields) assert.is(e.offset, fields.offset, 'offset');
    if ('boxType' in fields) assert.is(e.boxType, fields.boxType, 'boxType');
    if ('size' in fields) assert.is(e.size, fields.size, 'size');
    return e;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}

const chunk = (seq = 1) => concat([moof({ seq }), box('mdat', [1, 2, 3, 4])]);
const chunks = (events: ParseEvent[]) => events.filter((e): e is ChunkEvent => e.kind === 'chunk');

test('largesize below 2^32 reads exactly; header size 16', () => {
  const bytes = concat([init(), moof({}), largeBox('mdat', [9, 9, 9])]);
  const [, c] = parseAll(bytes);
  const mdat = c.kind === 'chunk' ? c.boxes[1] : undefined;
  assert.equal({ type: mdat?.type, size: mdat?.size, headerSize: mdat?.headerSize }, { type: 'mdat', size: 19, headerSize: 16 });
});

test('largesize above 2^32 reads exactly (header alone)', () => {
  const h = readBoxHeader(largeBox('mdat', [], 5n * 2n ** 30n), 0, 16);
  assert.is(h?.size, 5 * 2 ** 30);
  assert.is(h?.headerSize, 16);
});

test('largesize above 2^53 is a clear TOO_LARGE error', () => {
  const bytes = concat([init(), moof({}), largeBox('mdat', [], 2n ** 53n + 1n)]);
  const e = expectError(() => parseAll(bytes), 'TOO_LARGE', { boxType: 'mdat' });
  assert.ok(e.events.length === 1 && (e.events[0] as ParseEvent).kind === 'header', 'header delivered before the error');
  // The declared size is reported exactly, not rounded to the nearest double.
  assert.is(e.size, 2n ** 53n + 1n);
  assert.match(e.message, /declared size 9007199254740993\)/);
});

test('a box type that is not printable is shown in hex in error messages', () => {
  const junk = new Uint8Array([0, 0, 0, 16, 0x00, 0x01, 0x6d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0]);
  const e = expectError(() => parseAll(junk), 'JUNK', { offset: 0 });
  assert.match(e.message, /'0x00016d0a'/);
  assert.not.match(e.message, /[\x00-\x1f]/);
  // Printable types (Latin-1 included) stay as they are.
  const copyright = expectError(() => parseAll(concat([box('\u00a9nam', [1])])), 'JUNK');
  assert.match(copyright.message, /'\u00a9nam'/);
});

test('an mdat larger than 4 GiB streams through progressively in constant memory', () => {
  const size = 4n * 2n ** 30n + 123n; // 4 GiB + 123 bytes of payload and header
  const parser = new Parser({ maxChunkSize: 1 << 20 });
  const head = concat([init(), moof({}), largeBox('mdat', [], size)]);
  const first = parser.push(head);
  assert.equal(first.map((e) => e.kind), ['header', 'chunk']);
  const start = first[1] as ChunkEvent;
  assert.is(start.complete, false);
  assert.is(start.size, head.length - start.offset + Number(size) - 16);
  const piece = new Uint8Array(1 << 20);
  let payload = Number(size) - 16;
  let delivered = 0;
  let last = false;
  const heapBefore = process.memoryUsage().heapUsed;
  while (payload > 0) {
    const n = Math.min(piece.length, payload);
    for (const e of parser.push(n === piece.length ? piece : piece.subarray(0, n))) {
      assert.is(e.kind, 'data');
      if (e.kind === 'data') {
        delivered += e.size;
        last = e.last;
      }
    }
    payload -= n;
  }
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.is(delivered, Number(size) - 16);
  assert.ok(last, 'the last data event says so');
  assert.ok(heapGrowth < 64 * 2 ** 20, `heap grew by ${heapGrowth} bytes while 4 GiB went through`);
  assert.equal(parser.end(), []);
});

test('uuid with a 32-bit size and with a 64-bit size', () => {
  const user = Array.from({ length: 16 }, (_, i) => i * 17);
  const small = concat([new Uint8Array([...u32Bytes(28), ...typeBytes('uuid'), ...user]), new Uint8Array([1, 2, 3, 4])]);
  const large = concat([new Uint8Array([...u32Bytes(1), ...typeBytes('uuid'), ...u64Bytes(36n), ...user]), new Uint8Array([1, 2, 3, 4])]);
  const hex = user.map((b) => b.toString(16).padStart(2, '0')).join('');
  for (const [bytes, headerSize] of [[small, 24], [large, 32]] as const) {
    const h = readBoxHeader(bytes, 0, bytes.length);
    assert.equal({ type: h?.type, size: h?.size, headerSize: h?.headerSize, usertype: h?.usertype }, { type: 'uuid', size: bytes.length, headerSize, usertype: hex });
    // As a leading box of a chunk.
    const events = parseAll(concat([init(), bytes, chunk()]));
    assert.equal(events[1].kind === 'chunk' && events[1].boxes.map((b) => b.type), ['uuid', 'moof', 'mdat']);
  }
  // A uuid box too small for its usertype.
  expectError(() => readBoxHeader(new Uint8Array([...u32Bytes(20), ...typeBytes('uuid'), ...user]), 0, 24), 'BAD_SIZE');
});

test('size 0 at the end: open-ended mdat runs to the end of the stream', () => {
  const payload = new Uint8Array(1000).fill(7);
  const bytes = concat([init(), moof({}), new Uint8Array([0, 0, 0, 0, ...typeBytes('mdat')]), payload]);
  for (const lengths of [[], [10, 900, 1], new Array(200).fill(7)]) {
    const events = parseIn(bytes, lengths);
    const start = events[1] as ChunkEvent;
    assert.is(start.kind, 'chunk');
    assert.is(start.complete, false);
    assert.is(start.size, 0);
    assert.is(start.boxes[1].size, 0);
    const data = events.slice(2);
    assert.ok(data.every((e) => e.kind === 'data'));
    assert.ok(data.at(-1)?.kind === 'data' && data.at(-1)?.last);
    assert.ok(sameBytes(bytesOf(events), bytes));
  }
});

test('size 0 in the middle: everything after it is part of that box', () => {
  const tail = concat([chunk(2), chunk(3)]);
  const bytes = concat([init(), moof({}), new Uint8Array([0, 0, 0, 0, ...typeBytes('mdat')]), tail]);
  const events = parseAll(bytes);
  assert.is(chunks(events).length, 1, 'the boxes after it are mdat payload');
  assert.ok(sameBytes(bytesOf(events), bytes));
  // Size 0 on a box that must be held is rejected.
  expectError(() => parseAll(concat([init(), new Uint8Array([0, 0, 0, 0, ...typeBytes('moof')])])), 'BAD_SIZE', { boxType: 'moof', size: 0 });
});

test('sizes 1..7: 1 needs a largesize; 2..7 are smaller than a header', () => {
  for (let size = 2; size <= 7; size++) {
    expectError(() => parseAll(concat([init(), new Uint8Array([...u32Bytes(size), ...typeBytes('free'), 0, 0, 0, 0, 0, 0, 0, 0])])), 'BAD_SIZE', { size, boxType: 'free' });
  }
  // size 1 with only 8 bytes so far: wait, do not guess.
  const parser = new Parser();
  parser.push(init());
  assert.equal(parser.push(new Uint8Array([...u32Bytes(1), ...typeBytes('free')])), []);
  expectError(() => parser.end(), 'TRUNCATED');
  // size 1 with a largesize below 16 (including 0, which is not "open-ended").
  for (const ls of [0n, 8n, 15n]) expectError(() => readBoxHeader(largeBox('free', [], ls), 0, 16), 'BAD_SIZE', { boxType: 'free' });
});

test('over-limit moof is rejected when its header is read, before anything is held', () => {
  const parser = new Parser({ maxBoxSize: 1000 });
  parser.push(init());
  const e = expectError(() => parser.push(new Uint8Array([...u32Bytes(1001), ...typeBytes('moof')])), 'TOO_LARGE', { boxType: 'moof', size: 1001 });
  assert.is(e.offset, init().length);
  // A header or chunk that outgrows maxChunkSize before its media data is rejected too.
  const bigMoov = box('moov', new Uint8Array(2000));
  expectError(() => parseAll(concat([box('ftyp', new Uint8Array(8)), bigMoov]), { maxChunkSize: 1000 }), 'TOO_LARGE', { boxType: 'moov' });
  const prfts = Array.from({ length: 20 }, () => fullBox('prft', 0, 0, new Uint8Array(100)));
  expectError(() => parseAll(concat([init(), ...prfts, chunk()]), { maxChunkSize: 1000 }), 'TOO_LARGE', { boxType: 'prft' });
  // A box past 2^53 - 1 is refused even when its size alone fits.
  const far = new Parser();
  far.push(init());
  expectError(() => far.push(largeBox('free', [], 2n ** 53n - 100n)), 'TOO_LARGE', { boxType: 'free' });
});

test('truncated end: TRUNCATED with the offset, type and size of the open box', () => {
  const whole = concat([init(), chunk()]);
  const cut = whole.subarray(0, whole.length - 2);
  const e = expectError(() => parseAll(cut), 'TRUNCATED', { boxType: 'mdat', size: 12 });
  assert.is(e.offset, whole.length - 12);
  // Stopping inside a header.
  expectError(() => parseAll(whole.subarray(0, init().length + 5)), 'TRUNCATED', { offset: init().length });
  // Stopping after a moof without its mdat.
  expectError(() => parseAll(concat([init(), moof({})])), 'MOOF_WITHOUT_MDAT', { boxType: 'moof' });
});

test('nesting beyond the depth limit throws TOO_DEEP; never reads past a parent', () => {
  let nested = box('free', []);
  for (let i = 0; i < 40; i++) nested = box('moov', nested);
  const e = expectError(() => [...walkBoxes(nested, { maxDepth: 16 })], 'TOO_DEEP');
  assert.is(e.boxType, 'moov');
  assert.is([...walkBoxes(nested, { maxDepth: 64 })].length, 41);
  // A child overflowing its parent.
  const overflowing = box('moov', new Uint8Array([...u32Bytes(100), ...typeBytes('trak')]));
  expectError(() => [...walkBoxes(overflowing)], 'OVERFLOW', { boxType: 'trak', size: 100, offset: 8 });
});

test('a moof whose traf lacks tfdt: decode time unknown, the rest still read', () => {
  const bytes = concat([init({ trexDuration: 3000 }), moof({ tfdt: null, samples: 5 }), box('mdat', [0])]);
  const [c] = chunks(parseAll(bytes));
  assert.is(c.info.tracks[0].baseMediaDecodeTime, undefined);
  assert.is(c.info.tracks[0].sampleCount, 5);
  assert.is(c.info.tracks[0].duration, 15000);
  assert.is(c.info.duration, 15000 / 90000);
});

test('tfdt version 1 above 2^53 is exact; version 0 reads 32 bits', () => {
  const big = 2n ** 60n + 12345n;
  const [c1] = chunks(parseAll(concat([init(), moof({ tfdt: big }), box('mdat', [])])));
  assert.is(c1.info.tracks[0].baseMediaDecodeTime, big);
  const [c0] = chunks(parseAll(concat([init(), moof({ tfdt: 4000000000n, tfdtVersion: 0 }), box('mdat', [])])));
  assert.is(c0.info.tracks[0].baseMediaDecodeTime, 4000000000n);
});

test('keyframe priority: trun per-sample flags > first-sample flags > tfhd default > trex default', () => {
  const SYNC = 0x02000000;
  const NON_SYNC = 0x01010000;
  const keyframe = (initBytes: Uint8Array, m: Uint8Array) => chunks(parseAll(concat([initBytes, m, box('mdat', [])])))[0].info.tracks[0].keyframe;
  const trexSync = init({ trexFlags: SYNC });
  const trexNonSync = init({ trexFlags: NON_SYNC });
  // trex only
  assert.is(keyframe(trexSync, moof({})), true);
  assert.is(keyframe(trexNonSync, moof({})), false);
  // tfhd default beats trex
  assert.is(keyframe(trexSync, moof({ tfhdFlags: 0x020020, tfhdFields: [NON_SYNC] })), false);
  // first-sample flags beat tfhd
  assert.is(keyframe(trexNonSync, moof({ tfhdFlags: 0x020020, tfhdFields: [NON_SYNC], trunFlags: 0x04, trunFields: [SYNC] })), true);
  // per-sample flags beat first-sample flags (duration, size, flags per sample)
  assert.is(keyframe(trexSync, moof({ trunFlags: 0x704, trunFields: [SYNC, 10, 20, NON_SYNC] })), false);
  // nothing says: unknown (no header seen, so no trex)
  const [c] = chunks(parseAll(concat([moof({}), box('mdat', [])])));
  assert.is(c.info.tracks[0].keyframe, undefined);
  assert.is(c.info.independent, undefined);
  assert.is(c.info.tracks[0].duration, undefined);
});

test('durations: trun per-sample > tfhd default > trex default', () => {
  const dur = (initBytes: Uint8Array, m: Uint8Array) => chunks(parseAll(concat([initBytes, m, box('mdat', [])])))[0].info.tracks[0].duration;
  assert.is(dur(init({ trexDuration: 10 }), moof({ samples: 3 })), 30);
  assert.is(dur(init({ trexDuration: 10 }), moof({ samples: 3, tfhdFlags: 0x020008, tfhdFields: [20] })), 60);
  assert.is(dur(init({ trexDuration: 10 }), moof({ samples: 2, trunFlags: 0x100, trunFields: [7, 8] })), 15);
});

test('a trun whose sample count exceeds its box is BAD_BOX, not a spin', () => {
  const bad = moof({ samples: 0x7fffffff, trunFlags: 0x100, trunFields: [1] });
  expectError(() => parseAll(concat([init(), bad, box('mdat', [])])), 'BAD_BOX', { boxType: 'trun' });
});

test('leading boxes in unusual orders all belong to the chunk they precede', () => {
  const styp = box('styp', typeBytes('cmfs'), u32Bytes(0), typeBytes('cmfs'), typeBytes('lmsg'));
  const prft = fullBox('prft', 1, 24, u32Bytes(1), u64Bytes((3913056000n + 10n) << 32n), u64Bytes(90000n));
  const emsg = emsgBox({ time: 9000, data: [1, 2] });
  const orders = [
    [prft, styp, emsg, box('free', [])],
    [emsg, box('free', []), styp, prft],
    [box('sidx', new Uint8Array(24)), styp, prft],
  ];
  for (const leading of orders) {
    const [c] = chunks(parseAll(concat([init(), ...leading, chunk()])));
    assert.is(c.boxes.length, leading.length + 2);
    assert.ok(c.info.segmentStart);
    assert.ok(c.info.lastSegment, 'lmsg brand');
    assert.equal(c.info.brands, ['cmfs', 'cmfs', 'lmsg']);
    if (leading.includes(prft)) {
      assert.is(c.info.prft?.wallclock, Date.UTC(2024, 0, 1, 0, 0, 10));
      assert.is(c.info.prft?.mediaTime, 90000n);
      assert.is(c.info.prft?.flags, 24);
    }
  }
});

test('a second ftyp+moov mid-stream (encoder restart) starts a new header; later chunks use it', () => {
  const a = init({ trexFlags: 0x01010000, timescale: 1000 });
  const b = init({ trexFlags: 0, timescale: 48000, handler: 'soun' });
  const events = parseAll(concat([a, chunk(1), b, chunk(1)]));
  assert.equal(events.map((e) => e.kind), ['header', 'chunk', 'header', 'chunk']);
  const [c1, c2] = chunks(events);
  assert.is(c1.info.tracks[0].keyframe, false);
  assert.is(c1.info.tracks[0].timescale, 1000);
  assert.is(c2.info.tracks[0].keyframe, true);
  assert.is(c2.info.tracks[0].timescale, 48000);
});

test('junk before the first box is JUNK at offset 0; control bytes in a type are JUNK anywhere', () => {
  const junk = new TextEncoder().encode('hello world, this is not an MP4 file');
  expectError(() => parseAll(concat([junk, init()])), 'JUNK', { offset: 0 });
  expectError(() => parseAll(new Uint8Array(64)), 'JUNK', { offset: 0 });
  const mid = concat([init(), new Uint8Array([0, 0, 0, 16, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0])]);
  expectError(() => parseAll(mid), 'JUNK', { offset: init().length });
});

test('©-typed and unknown boxes are opaque top-level box events', () => {
  const copyright = box('\u00a9nam', [1, 2, 3]);
  const events = parseAll(concat([init(), chunk(), copyright, box('zzzz', [])]));
  assert.equal(events.map((e) => e.kind), ['header', 'chunk', 'box', 'box']);
  assert.is(events[2].kind === 'box' && events[2].boxes[0].type, '\u00a9nam');
  assert.is(events[2].size, 11);
});

test('moof followed by moof is MOOF_WITHOUT_MDAT', () => {
  expectError(() => parseAll(concat([init(), moof({}), moof({})])), 'MOOF_WITHOUT_MDAT', { boxType: 'moof' });
});

test('after a fatal error the parser stays failed with the same error; push after end is ENDED', () => {
  const parser = new Parser();
  const first = expectError(() => parser.push(concat([init(), moof({}), moof({})])), 'MOOF_WITHOUT_MDAT');
  assert.is(first.events.length, 1, 'the header completed before the error is on error.events');
  for (const again of [() => parser.push(chunk()), () => parser.end()]) {
    try {
      again();
      assert.unreachable('should throw');
    } catch (err) {
      assert.is(err, first);
    }
  }
  const done = new Parser();
  done.push(init());
  done.end();
  expectError(() => done.push(chunk()), 'ENDED');
  assert.equal(done.end(), [], 'end() twice returns nothing');
});

test('trailing leading-type boxes (an emsg at the end) are box events at end()', () => {
  const emsg = emsgBox({ version: 1, time: 5 });
  const parser = new Parser();
  const during = parser.push(concat([init(), chunk(), emsg]));
  assert.equal(during.map((e) => e.kind), ['header', 'chunk'], 'the emsg waits: it may lead a chunk');
  const atEnd = parser.end();
  assert.equal(atEnd.map((e) => e.kind), ['box']);
  assert.is(atEnd[0].kind === 'box' && atEnd[0].boxes[0].type, 'emsg');
  assert.is(atEnd[0].kind === 'box' && atEnd[0].emsg?.presentationTime, 5n, 'its event is read');
  // A leading box followed by a box that starts no unit is flushed before it.
  const events = parseAll(concat([init(), chunk(), emsg, box('mfra', [])]));
  assert.equal(events.map((e) => (e.kind === 'box' ? e.boxes[0].type : e.kind)), ['header', 'chunk', 'emsg', 'mfra']);
});

test('zero-copy: an event inside one piece is one view of it; empty pushes return nothing', () => {
  const bytes = concat([init(), chunk(), chunk(2)]);
  const parser = new Parser();
  assert.equal(parser.push(new Uint8Array(0)), []);
  const events = parser.push(bytes);
  for (const e of events) {
    assert.is(e.parts.length, 1);
    assert.is(e.parts[0].buffer, bytes.buffer);
    assert.is(e.parts[0].byteOffset, e.offset);
  }
  // Reusing a pushed buffer changes the views (documented); copy: true protects against it,
  // even when the buffer is overwritten between the pushes of one unit.
  const reused = chunk();
  const views = new Parser();
  views.push(init());
  const [v] = views.push(reused);
  reused.fill(0);
  assert.is(v.parts[0][0], 0);
  const whole = concat([init(), chunk(), chunk(2)]);
  const copied = new Parser({ copy: true });
  const scratch = new Uint8Array(16);
  const out: ParseEvent[] = [];
  for (let at = 0; at < whole.length; at += 16) {
    const n = Math.min(16, whole.length - at);
    scratch.set(whole.subarray(at, at + n));
    out.push(...copied.push(scratch.subarray(0, n)));
    scratch.fill(0xaa);
  }
  out.push(...copied.end());
  assert.ok(sameBytes(bytesOf(out), whole));
  assert.equal(out.map((e) => e.kind), ['header', 'chunk', 'chunk']);
});

test('copy: true also copies Node Buffers (whose slice() is a view)', () => {
  const whole = Buffer.from(concat([init(), chunk(), chunk(2)]));
  const copied = new Parser({ copy: true });
  const scratch = Buffer.alloc(16);
  const out: ParseEvent[] = [];
  for (let at = 0; at < whole.length; at += 16) {
    const n = Math.min(16, whole.length - at);
    whole.copy(scratch, 0, at, at + n);
    out.push(...copied.push(scratch.subarray(0, n)));
    scratch.fill(0xaa);
  }
  out.push(...copied.end());
  assert.ok(sameBytes(bytesOf(out), whole));
  for (const e of out) for (const part of e.parts) assert.is.not(part.buffer, scratch.buffer);
});

test('progressive delivery above maxChunkSize keeps order and bytes; small chunks stay whole', () => {
  const big = concat([moof({ seq: 2 }), box('mdat', new Uint8Array(5000).fill(3))]);
  const bytes = concat([init(), chunk(1), big, chunk(3)]);
  const events = parseIn(bytes, new Array(100).fill(97), { maxChunkSize: 2000 });
  assert.equal(
    events.filter((e) => e.kind !== 'data').map((e) => [e.kind, e.complete]),
    [['header', true], ['chunk', true], ['chunk', false], ['chunk', true]],
  );
  const progressive = events.find((e) => e.kind === 'chunk' && !e.complete) as ChunkEvent;
  assert.is(progressive.info.sequenceNumber, 2, 'facts come with the start');
  assert.is(progressive.size, big.length);
  const data = events.filter((e) => e.kind === 'data');
  assert.is(data.filter((e) => e.kind === 'data' && e.last).length, 1);
  assert.ok(sameBytes(bytesOf(events), bytes));
  // A standalone box above the limit streams as well.
  const boxEvents = parseAll(concat([init(), box('zzzz', new Uint8Array(3000))]), { maxChunkSize: 1000 });
  assert.equal(boxEvents.map((e) => [e.kind, e.kind === 'data' ? e.last : e.complete]), [['header', true], ['box', false], ['data', true]]);
});

test('leading boxes boxstream does not parse never fail the limits: pending ones are flushed, the big one streams', () => {
  const pads = Array.from({ length: 20 }, () => box('free', new Uint8Array(100)));
  const events = parseAll(concat([init(), ...pads, chunk()]), { maxChunkSize: 1000 });
  assert.is(events.filter((e) => e.kind === 'chunk').length, 1);
  assert.ok(sameBytes(bytesOf(events), concat([init(), ...pads, chunk()])));
  // An emsg above maxBoxSize, and an open-ended free at the end, are opaque boxes.
  const bigEmsg = emsgBox({ data: new Array(5000).fill(7) });
  const openFree = new Uint8Array([0, 0, 0, 0, ...typeBytes('free'), 1, 2, 3]);
  const more = parseAll(concat([init(), chunk(), bigEmsg, chunk(2), openFree]), { maxBoxSize: 1000, maxChunkSize: 2000 });
  assert.equal(
    more.map((e) => [e.kind, e.kind === 'data' ? e.last : e.complete]),
    // The open-ended box: its bytes as they come, then an empty last data event at end().
    [['header', true], ['chunk', true], ['box', false], ['data', true], ['chunk', true], ['box', false], ['data', false], ['data', true]],
  );
  assert.ok(sameBytes(bytesOf(more), concat([init(), chunk(), bigEmsg, chunk(2), openFree])));
});

test('emsg, prft, styp or sidx before an ftyp are box events; padding joins the header', () => {
  const emsg = emsgBox({});
  const events = parseAll(concat([emsg, box('free', []), init(), chunk()]));
  assert.equal(events.map((e) => (e.kind === 'box' ? e.boxes[0].type : e.kind)), ['emsg', 'free', 'header', 'chunk']);
  const padded = parseAll(concat([box('free', []), init(), chunk()]));
  assert.equal(padded.map((e) => e.kind), ['header', 'chunk']);
  assert.equal((padded[0] as HeaderEvent).boxes.map((b) => b.type), ['free', 'ftyp', 'moov']);
});

test('an styp between moof and mdat does not open a segment', () => {
  const styp = box('styp', typeBytes('msdh'), u32Bytes(0), typeBytes('msdh'));
  const [c] = chunks(parseAll(concat([init(), moof({}), styp, box('mdat', [1])])));
  assert.is(c.info.segmentStart, false);
  assert.equal(c.boxes.map((b) => b.type), ['moof', 'styp', 'mdat']);
});

test('a progressive chunk with an empty mdat still ends with a last data event', () => {
  const m = moof({});
  const events = parseAll(concat([m, box('mdat', [])]), { maxChunkSize: m.length + 4 });
  assert.equal(events.map((e) => [e.kind, e.kind === 'data' ? e.last : e.complete]), [['chunk', false], ['data', true]]);
  assert.is(events[1].size, 0);
});

test('pieces are let go as soon as their events were emitted', () => {
  const parser = new Parser();
  const big = new Uint8Array(1 << 20);
  parser.push(init());
  for (let i = 0; i < 10; i++) parser.push(concat([moof({ seq: i }), box('mdat', big)]));
  // White-box: the queue keeps no reference to delivered pieces.
  const queue = (parser as unknown as { pieces: { pieces: Uint8Array[] } }).pieces;
  const held = queue.pieces.reduce((n, p) => n + p.byteLength, 0);
  assert.is(held, 0);
});

test('segment offsets count from the latest styp, or from the first chunk after the header', () => {
  const styp = box('styp', typeBytes('msdh'), u32Bytes(0), typeBytes('msdh'));
  const c = chunk();
  const events = parseAll(concat([init(), c, c, styp, c, c]));
  assert.equal(chunks(events).map((e) => e.info.segmentOffset), [0, c.length, 0, styp.length + c.length]);
  assert.equal(chunks(events).map((e) => e.info.segmentStart), [false, false, true, false]);
});

test.run();
