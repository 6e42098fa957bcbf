// The committed CMAF stream (fixtures/lldash, made by fixtures/make-fixture.sh) split into its
// CMAF chunks by boxstream, so the uploader can send exactly one CMAF chunk per HTTP chunk and
// the readers know at which body offset each chunk ends.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from 'boxstream';

/** packages/bench */
export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtureDir = join(benchDir, 'fixtures', 'lldash');

export interface SegmentFixture {
  /** File name, e.g. seg-1.m4s. */
  name: string;
  bytes: Buffer;
  /** End offset (exclusive) of each CMAF chunk in `bytes`: chunk i is [ends[i-1] ?? 0, ends[i]). */
  chunkEnds: number[];
}

export interface StreamFixture {
  init: Buffer;
  segments: SegmentFixture[];
}

/** Chunk boundaries of one media segment, from boxstream's chunk events. */
export function splitChunks(bytes: Uint8Array): number[] {
  const parser = new Parser();
  const ends: number[] = [];
  const events = [...parser.push(bytes), ...parser.end()];
  for (const event of events) {
    if (event.kind !== 'chunk') throw new Error(`unexpected ${event.kind} unit at offset ${event.offset} of a media segment`);
    if (!event.complete) throw new Error(`chunk at ${event.offset} delivered progressively; raise maxChunkSize`);
    ends.push(event.offset + event.size);
  }
  if (ends.length === 0 || ends[ends.length - 1] !== bytes.length) throw new Error('segment does not end on a chunk boundary');
  return ends;
}

export function loadFixture(dir = fixtureDir): StreamFixture {
  const names = readdirSync(dir)
    .filter((n) => /^seg-\d+\.m4s$/.test(n))
    .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  if (names.length === 0) throw new Error(`no seg-N.m4s in ${dir}: run fixtures/make-fixture.sh`);
  const segments = names.map((name) => {
    const bytes = readFileSync(join(dir, name));
    return { name, bytes, chunkEnds: splitChunks(bytes) };
  });
  return { init: readFileSync(join(dir, 'init.m4s')), segments };
}
