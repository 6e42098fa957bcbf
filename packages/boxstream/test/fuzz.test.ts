// A seeded, bounded mutation fuzzer: real fixtures with bytes flipped, sizes rewritten, pieces cut
// out or repeated, fed in random pieces. Every failure must be a BoxStreamError, every call must
// return, and the bytes of every event delivered (with the error's events) must be exactly the
// input's first bytes, in order: nothing lost, nothing invented. The facts helpers (samples,
// mimeType, walkBoxes) run on what comes out and may only throw BoxStreamError too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BoxStreamError, Parser, concat, mimeType, samples, walkBoxes, type ParseEvent } from '../src/index.js';
import { fixture, folderFixtures, random } from './helpers.js';

const names = [
  'lldash-stream.mp4',
  'multitrack.mp4',
  'init.mp4',
  ...folderFixtures(),
];
const CASES_PER_FILE = 80;

/** One mutation of `input`, chosen by `rand`. */
function mutate(input: Uint8Array, rand: () => number): Uint8Array {
  const b = new Uint8Array(input);
  const at = Math.floor(rand() * b.length);
  switch (Math.floor(rand() * 6)) {
    case 0: // flip a few bytes
      for (let i = 0; i < 1 + rand() * 8; i++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      return b;
    case 1: // a random 32-bit value somewhere (often a size or a count)
      b.set([rand() * 256, rand() * 256, rand() * 256, rand() * 256].map(Math.floor), Math.min(at, b.length - 4));
      return b;
    case 2: // a small or huge value at a 4-byte boundary
      b.set([0, 0, 0, Math.floor(rand() * 16)], Math.min(at - (at % 4), b.length - 4));
      return b;
    case 3: // truncate
      return b.subarray(0, at);
    case 4: // cut a piece out
      return concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rand() * 200)))]);
    default: // repeat a piece
      return concat([b.subarray(0, at), b.subarray(at, at + Math.floor(rand() * 300)), b.subarray(at)]);
  }
}

/** Runs the facts helpers on an event: they may fail only with BoxStreamError. */
function useFacts(e: ParseEvent): void {
  if (e.kind === 'header') mimeType(e.init);
  if (e.kind === 'chunk') for (const s of samples(e)) void s.offset;
  if (e.kind !== 'data' && e.complete) for (const box of walkBoxes(concat(e.parts))) void box.type;
}

for (const name of names) {
  test(`${name}: ${CASES_PER_FILE} seeded mutations fail only with BoxStreamError and lose no byte`, () => {
    const original = fixture(name);
    let failures = 0;
    for (let n = 0; n < CASES_PER_FILE; n++) {
      const seed = name.length * 1000 + n;
      const rand = random(seed);
      let input = mutate(original, rand);
      if (rand() < 0.3) input = mutate(input, rand);
      // Every other case with small limits, so progressive (streamed) units are fuzzed too.
      const parser = n % 2 === 0 ? new Parser({ maxBoxSize: 1 << 20, maxChunkSize: 1 << 18 }) : new Parser({ maxBoxSize: 4096, maxChunkSize: 1500 });
      const events: ParseEvent[] = [];
      let error: unknown;
      try {
        for (let at = 0; at < input.length; ) {
          const size = 1 + Math.floor(rand() * 3000);
          events.push(...parser.push(input.subarray(at, at + size)));
          at += size;
        }
        events.push(...parser.end());
      } catch (err) {
        error = err;
        if (!(err instanceof BoxStreamError)) throw new Error(`seed ${seed}: ${String(err)}`);
        events.push(...err.events);
        failures++;
      }
      const delivered = concat(events.flatMap((e) => e.parts));
      assert.ok(delivered.length <= input.length, `seed ${seed}: more bytes out than in`);
      assert.ok(delivered.every((v, i) => v === input[i]), `seed ${seed}: the delivered bytes are the input's first bytes`);
      if (error === undefined) assert.is(delivered.length, input.length, `seed ${seed}: a stream that ends well delivers every byte`);
      for (const e of events) {
        try {
          useFacts(e);
        } catch (err) {
          if (!(err instanceof BoxStreamError)) throw new Error(`seed ${seed}: facts of a ${e.kind}: ${String((err as Error).stack)}`);
        }
      }
    }
    // The mutations must really break streams, or the test proves nothing.
    assert.ok(failures > CASES_PER_FILE / 10, `only ${failures} of ${CASES_PER_FILE} mutations failed`);
  });
}

test.run();
