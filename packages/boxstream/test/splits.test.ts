// Every fixture, fed at every split point, in 1-byte pieces and in seeded random pieces, must give
// the same events and the same bytes as when fed whole.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Parser, type ParseEvent } from '../src/index.js';
import { bytesOf, describe, describeUnits, fixture, parseAll, parseIn, random, sameBytes } from './helpers.js';

const FIXTURES = ['lldash-init.mp4', 'lldash-segment.m4s', 'lldash-stream.mp4', 'fragmented.mp4', 'multitrack.mp4', 'init.mp4'];

for (const name of FIXTURES) {
  const bytes = fixture(name);
  const whole = parseAll(bytes);
  const expected = describe(whole);

  test(`${name}: whole-file events cover every byte`, () => {
    assert.ok(whole.length > 0);
    assert.ok(sameBytes(bytesOf(whole), bytes), 'concatenated parts equal the file');
    let at = 0;
    for (const e of whole) {
      assert.is(e.offset, at, `event at ${at}`);
      at += e.size;
    }
    assert.is(at, bytes.length);
  });

  test(`${name}: every split point gives identical events and bytes`, () => {
    for (let k = 1; k < bytes.length; k++) {
      const parser = new Parser();
      const events: ParseEvent[] = [...parser.push(bytes.subarray(0, k)), ...parser.push(bytes.subarray(k)), ...parser.end()];
      if (describe(events) !== expected) assert.fixture(describe(events), expected, `split at ${k}`);
      // Each event's parts must be views of the pushed bytes at the event's own offsets (no copy,
      // so the same bytes), back to back: checking where they point proves the bytes are equal.
      for (const e of events) {
        let at = e.offset;
        for (const p of e.parts) {
          if (p.buffer !== bytes.buffer || p.byteOffset - bytes.byteOffset !== at) {
            assert.unreachable(`event at ${e.offset}: part at ${at} is not a view of the input (split ${k})`);
          }
          at += p.byteLength;
        }
      }
    }
  });

  test(`${name}: 1-byte pieces give identical events and bytes`, () => {
    const events = parseIn(bytes, new Array(bytes.length).fill(1));
    assert.is(describe(events), expected);
    assert.ok(sameBytes(bytesOf(events), bytes));
  });

  test(`${name}: seeded random pieces give identical events and bytes`, () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rnd = random(seed);
      const lengths: number[] = [];
      for (let total = 0; total < bytes.length; ) {
        // Mostly small pieces, now and then a large one, and some empty ones.
        const r = rnd();
        const n = r < 0.1 ? 0 : r < 0.8 ? 1 + Math.floor(rnd() * 64) : 1 + Math.floor(rnd() * 8192);
        lengths.push(n);
        total += n;
      }
      const events = parseIn(bytes, lengths);
      assert.is(describe(events), expected, `seed ${seed}`);
      assert.ok(sameBytes(bytesOf(events), bytes), `bytes, seed ${seed}`);
    }
  });

  test(`${name}: copy option gives the same events in parts that are not the input`, () => {
    const events = parseIn(bytes, [7, 100, 3000], { copy: true });
    assert.is(describe(events), expected);
    for (const e of events) for (const p of e.parts) assert.is.not(p.buffer, bytes.buffer);
    assert.ok(sameBytes(bytesOf(events), bytes));
  });

  test(`${name}: progressive delivery (small maxChunkSize) gives the same units at any split`, () => {
    const options = { maxChunkSize: 2000 };
    const reference = describeUnits(parseAll(bytes, options));
    for (const seed of [5, 6, 7]) {
      const rnd = random(seed);
      const lengths: number[] = [];
      for (let total = 0; total < bytes.length; total += lengths[lengths.length - 1]) lengths.push(1 + Math.floor(rnd() * 700));
      const events = parseIn(bytes, lengths, options);
      assert.is(describeUnits(events), reference, `seed ${seed}`);
      assert.ok(sameBytes(bytesOf(events), bytes));
    }
  });
}

test.run();
