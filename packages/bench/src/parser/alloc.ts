// Bytes boxstream allocates per chunk. Run by run.ts as a child process (flags: ALLOC_FLAGS there):
//   node --expose-gc --min-semi-space-size=M --max-semi-space-size=M alloc.ts FILE SIZES
// Method: after warm-up passes, gc() twice, read process.memoryUsage(), run one full pass
// (new Parser, push every piece, end), read it again. The young generation is made large enough
// that no GC runs inside that window (checked with a PerformanceObserver on 'gc' entries; a
// window with a GC is reported as invalid), so the growth of heapUsed (JS objects: events,
// views, arrays) plus arrayBuffers (backing stores: copies of boxes split across pieces) is what
// the pass allocated. The same loop around a do-nothing parser is subtracted as the harness cost.
// Three passes are measured per piece size; the middle one is reported.
import { readFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Parser } from 'boxstream';
import { cut, type Piece } from './contenders.js';

export interface AllocResult {
  piece: number;
  chunks: number;
  /** JS heap growth during the pass, harness subtracted. */
  heapBytes: number;
  /** ArrayBuffer backing stores allocated during the pass (copies). */
  arrayBufferBytes: number;
  bytesPerChunk: number;
  heapBytesPerChunk: number;
  arrayBufferBytesPerChunk: number;
  /** Bytes still held after the pass and a full GC, parser dropped (clamped at 0; should be ~0). */
  retainedBytes: number;
  /** GCs seen inside the measured window; > 0 makes the figures unreliable. */
  gcsInWindow: number;
  valid: boolean;
  /** Bytes allocated in each of the three measured passes (sorted); the middle one is reported. */
  windowsBytes: number[];
}

const gcTimes: Array<{ start: number; end: number }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTimes.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ entryTypes: ['gc'] });

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('alloc.ts needs --expose-gc (run it through run.ts)');

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

function passBoxstream(pieces: readonly Piece[]): number {
  let chunks = 0;
  const parser = new Parser();
  for (const piece of pieces) for (const e of parser.push(piece.bytes)) if (e.kind === 'chunk') chunks++;
  for (const e of parser.end()) if (e.kind === 'chunk') chunks++;
  return chunks;
}

const none: Array<{ kind: string }> = [];
class NullParser {
  push(_piece: Uint8Array): Array<{ kind: string }> {
    return none;
  }
  end(): Array<{ kind: string }> {
    return none;
  }
}

function passNull(pieces: readonly Piece[]): number {
  let chunks = 0;
  const parser = new NullParser();
  for (const piece of pieces) for (const e of parser.push(piece.bytes)) if (e.kind === 'chunk') chunks++;
  for (const e of parser.end()) if (e.kind === 'chunk') chunks++;
  return chunks;
}

async function measure(pass: (p: readonly Piece[]) => number, pieces: readonly Piece[]) {
  gc!();
  gc!();
  await tick();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const chunks = pass(pieces);
  const t1 = performance.now();
  const after = process.memoryUsage();
  gc!();
  gc!();
  const settled = process.memoryUsage();
  await tick();
  const gcs = gcTimes.filter((g) => g.end > t0 && g.start < t1).length;
  return {
    chunks,
    heap: after.heapUsed - before.heapUsed,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    retained: settled.heapUsed + settled.arrayBuffers - (before.heapUsed + before.arrayBuffers),
    gcs,
  };
}

async function main(): Promise<void> {
  const [path, sizes] = process.argv.slice(2);
  const file = new Uint8Array(readFileSync(path));
  const out: AllocResult[] = [];
  for (const size of sizes.split(',').map(Number)) {
    const pieces = cut(file, size);
    for (let i = 0; i < 30; i++) {
      passBoxstream(pieces);
      passNull(pieces);
    }
    // Three windows each; the median window (by total) is reported.
    const base = await measure(passNull, pieces);
    const windows = [];
    for (let i = 0; i < 3; i++) windows.push(await measure(passBoxstream, pieces));
    windows.sort((a, b) => a.heap + a.arrayBuffers - (b.heap + b.arrayBuffers));
    const m = windows[1];
    const heapBytes = Math.max(0, m.heap - base.heap);
    const arrayBufferBytes = Math.max(0, m.arrayBuffers - base.arrayBuffers);
    const per = (n: number): number => Math.round(n / Math.max(1, m.chunks));
    out.push({
      piece: size,
      chunks: m.chunks,
      heapBytes,
      arrayBufferBytes,
      bytesPerChunk: per(heapBytes + arrayBufferBytes),
      heapBytesPerChunk: per(heapBytes),
      arrayBufferBytesPerChunk: per(arrayBufferBytes),
      retainedBytes: Math.max(0, m.retained),
      gcsInWindow: m.gcs + base.gcs,
      valid: m.gcs + base.gcs === 0,
      windowsBytes: windows.map((w) => Math.max(0, w.heap + w.arrayBuffers - base.heap - base.arrayBuffers)),
    });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
