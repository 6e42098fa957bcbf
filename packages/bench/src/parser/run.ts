// pnpm bench:parser [--quick] [--repeats N] [--pieces 1400,16384,65536,whole] [--sample-ms MS] [--warm-ms MS] [--out DIR]
//
// Parser throughput on a real fragmented MP4, every contender on the same pre-cut pieces, in
// one process, round-robin: each repeat runs every (piece size, contender) once, in an order
// rotated per repeat, so machine drift hits all alike. A sample is `passes` full passes over the
// file (calibrated in warm-up to last about --sample-ms); the figure is the median sample. Then
// a child process estimates boxstream's allocations per chunk (see alloc.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from '../report/machine.js';
import { fmt, formatTable } from '../report/table.js';
import { writeResults } from '../report/results.js';
import type { AllocResult } from './alloc.js';
import { DEFAULT_BASELINE, loadBaseline } from './baseline.js';
import { contenders as fixedContenders, cut, type Contender, type Piece, type Tally } from './contenders.js';
import { benchDir, ensureFixture } from './fixture.js';

/** Node flags of the allocation child: a 64 MiB semi-space, so no GC runs inside a measured pass. */
const ALLOC_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
const MB = 1e6;

function options() {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      pieces: { type: 'string' },
      'sample-ms': { type: 'string' },
      'warm-ms': { type: 'string' },
      out: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: bench:parser [--quick] [--repeats N] [--pieces 1400,16384,65536,whole] [--sample-ms MS] [--warm-ms MS] [--out DIR] [--baseline GIT-REF|none]');
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const pieces = (values.pieces ?? '1400,16384,65536,whole').split(',').map((p) => {
    const s = p.trim().toLowerCase();
    const n = s === 'whole' ? 0 : Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--pieces: bad size '${p}'`);
    return n;
  });
  const repeats = Number(values.repeats ?? (quick ? 1 : 15));
  const sampleMs = Number(values['sample-ms'] ?? (quick ? 0 : 150));
  const warmMs = Number(values['warm-ms'] ?? (quick ? 0 : 300));
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats must be a positive integer');
  if (!(sampleMs >= 0) || !(warmMs >= 0)) throw new Error('--sample-ms and --warm-ms must be >= 0');
  const baseline = values.baseline ?? DEFAULT_BASELINE;
  return { quick, pieces, repeats, sampleMs, warmMs, out: values.out ?? join(benchDir, 'results'), baseline: baseline === 'none' ? undefined : baseline, argv };
}

const pieceLabel = (n: number): string => (n === 0 ? 'whole' : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}

/** Which boxstream was measured: its version and a hash of the built code the bench imports. */
function boxstreamBuild(): { version: string; distSha256: string } {
  const dir = dirname(fileURLToPath(import.meta.resolve('boxstream')));
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js')).sort()) hash.update(readFileSync(join(dir, f)));
  const pkg = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { version: string };
  return { version: pkg.version, distSha256: hash.digest('hex').slice(0, 16) };
}

async function main(): Promise<void> {
  const opts = options();
  // The baseline (boxstream at an earlier commit) runs beside today's build when it can be built.
  const contenders: Contender[] = [...fixedContenders];
  const base = opts.baseline === undefined ? undefined : await loadBaseline(opts.baseline);
  if (base?.contender) contenders.splice(2, 0, base.contender);
  else if (base) console.log(`baseline skipped: ${base.why}`);
  const startedAt = new Date();
  const boxstream = boxstreamBuild();
  const machine = machineInfo();
  const fixture = ensureFixture(opts.quick);
  const file = new Uint8Array(readFileSync(fixture.path));
  const sha256 = createHash('sha256').update(file).digest('hex');
  console.log(`parser bench: ${relative(benchDir, fixture.path)} (${fmt(file.byteLength / MB)} MB${fixture.generated ? ', just generated' : ''})`);
  console.log(`machine: ${machine.cpuCount} x ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);

  const cuts = new Map<number, Piece[]>(opts.pieces.map((n) => [n, cut(file, n)]));

  // Warm-up, correctness check and calibration: each (piece size, contender) runs for --warm-ms,
  // then a short timed burst sets how many passes make one sample of about --sample-ms.
  const whole = cuts.get(0) ?? cut(file, 0);
  const reference = contenders[0].run(whole); // the floor's box counts
  const seqRef = contenders.find((c) => c.id === 'mp4box')!.run(whole).seqSum;
  const passes = new Map<string, number>();
  const tallies = new Map<string, Tally>();
  const key = (c: string, n: number): string => `${c}@${n}`;
  const burst = (c: Contender, pieces: Piece[], ms: number): number => {
    const t0 = performance.now();
    let k = 0;
    do {
      c.run(pieces);
      k++;
    } while (performance.now() - t0 < ms);
    return (performance.now() - t0) / k;
  };
  for (const n of opts.pieces) {
    for (const c of contenders) {
      const pieces = cuts.get(n)!;
      tallies.set(key(c.id, n), c.run(pieces));
      burst(c, pieces, opts.warmMs);
      const ms = burst(c, pieces, opts.sampleMs / 3);
      passes.set(key(c.id, n), Math.max(1, Math.round(opts.sampleMs / Math.max(ms, 0.001))));
    }
  }

  // No forced GC between samples: a gc() before a sample made every contender 2-7x slower for a
  // while afterwards (shrunken young generation). Each contender pays for its own garbage.
  const samples = new Map<string, number[]>();
  const order = contenders.map((c) => c.id);
  for (let r = 0; r < opts.repeats; r++) {
    for (const n of opts.pieces) {
      const rot = r % order.length;
      for (const id of [...order.slice(rot), ...order.slice(0, rot)]) {
        const c = contenders.find((x) => x.id === id)!;
        const k = passes.get(key(id, n))!;
        const pieces = cuts.get(n)!;
        const t0 = performance.now();
        for (let i = 0; i < k; i++) c.run(pieces);
        const ms = (performance.now() - t0) / k;
        (samples.get(key(id, n)) ?? samples.set(key(id, n), []).get(key(id, n))!).push(ms);
      }
    }
    if (!opts.quick) process.stdout.write(`\rrepeat ${r + 1}/${opts.repeats}`);
  }
  if (!opts.quick) process.stdout.write('\n');

  // Allocations: a child with its own flags (see alloc.ts for the method).
  const allocScript = fileURLToPath(new URL('./alloc.ts', import.meta.url));
  const child = spawnSync(process.execPath, [...process.execArgv, ...ALLOC_FLAGS, allocScript, fixture.path, opts.pieces.join(',')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`allocation child failed (exit ${child.status})`);
  const allocations = JSON.parse(child.stdout.trim().split('\n').pop()!) as AllocResult[];

  const results = opts.pieces.flatMap((n) => {
    const ms = (id: string): number => median(samples.get(key(id, n))!);
    return contenders.map((c) => {
      const s = samples.get(key(c.id, n))!;
      const med = ms(c.id);
      const tally = tallies.get(key(c.id, n))!;
      const check =
        tally.moof === reference.moof && tally.mdat === reference.mdat && tally.chunks === reference.chunks &&
        (!c.readsSequence || tally.seqSum === seqRef);
      return {
        contender: c.id,
        piece: n,
        pieceLabel: pieceLabel(n),
        pieceCount: cuts.get(n)!.length,
        passesPerSample: passes.get(key(c.id, n))!,
        samplesMs: s.map((x) => Math.round(x * 1000) / 1000),
        medianMs: med,
        minMs: Math.min(...s),
        maxMs: Math.max(...s),
        /** Half the interquartile range of the sample times, relative to the median. */
        spread: (quantile(s, 0.75) - quantile(s, 0.25)) / 2 / med,
        bestMbPerSec: file.byteLength / MB / (Math.min(...s) / 1000),
        mbPerSec: file.byteLength / MB / (med / 1000),
        chunksPerSec: tally.chunks / (med / 1000),
        timeVsFloor: med / ms('floor'),
        speedupVsMp4box: ms('mp4box') / med,
        timeVsBaseline: samples.has(key('baseline', n)) ? med / ms('baseline') : undefined,
        tally,
        check,
      };
    });
  });

  const columns = [
    { title: 'piece' },
    { title: 'contender' },
    { title: 'MB/s', align: 'right' as const },
    { title: 'spread', align: 'right' as const },
    { title: 'chunks/s', align: 'right' as const },
    { title: 'time ÷ floor', align: 'right' as const },
    { title: 'speed × mp4box', align: 'right' as const },
    { title: 'time ÷ baseline', align: 'right' as const },
    { title: 'chunks', align: 'right' as const },
    { title: 'check', align: 'left' as const },
  ];
  const label = new Map(contenders.map((c) => [c.id, c.mode === 'reassembled' ? `${c.label} *` : c.label]));
  const rows = results.map((r) => [
    r.pieceLabel,
    label.get(r.contender)!,
    fmt(r.mbPerSec),
    `±${fmt(r.spread * 100, 2)}%`,
    fmt(r.chunksPerSec),
    `${fmt(r.timeVsFloor)}x`,
    `${fmt(r.speedupVsMp4box)}x`,
    r.timeVsBaseline === undefined ? '' : `${fmt(r.timeVsBaseline)}x`,
    String(r.tally.chunks),
    r.check ? 'ok' : `MISMATCH ${JSON.stringify(r.tally)}`,
  ]);
  const table = formatTable(columns, rows);
  console.log(`\n${table}`);
  console.log(`\nMB = 10^6 bytes; median of ${opts.repeats} samples; spread = half the interquartile range of the sample times, relative to the median.`);
  console.log('* parses whole buffers only: the bench frames top-level boxes and joins pieces for it (the joins are timed).');
  console.log(`check: moof/mdat/chunk counts equal the floor's (${reference.moof}/${reference.mdat}/${reference.chunks}) and, for those that read mfhd, the sum of sequence numbers equals mp4box's (${seqRef}).`);

  const allocRows = allocations.map((a) => [
    pieceLabel(a.piece),
    a.valid ? fmt(a.bytesPerChunk) : 'n/a (GC ran)',
    fmt(a.heapBytesPerChunk),
    fmt(a.arrayBufferBytesPerChunk),
  ]);
  const allocTable = formatTable(
    [{ title: 'piece' }, { title: 'bytes/chunk', align: 'right' }, { title: 'JS heap', align: 'right' }, { title: 'ArrayBuffer (copies)', align: 'right' }],
    allocRows,
  );
  console.log(`\nboxstream allocations per chunk (median of 3 passes, no GC inside any; method in alloc.ts):\n${allocTable}`);

  const at64 = results.find((r) => r.contender === 'boxstream' && r.piece === 65536);
  const targets = at64 && {
    piece: 65536,
    speedupVsMp4box: at64.speedupVsMp4box,
    speedupTarget: 20,
    speedupMet: at64.speedupVsMp4box >= 20,
    timeVsBaseline: at64.timeVsBaseline,
    baselineTarget: 1.2,
    baselineMet: at64.timeVsBaseline === undefined ? undefined : at64.timeVsBaseline <= 1.2,
    timeVsFloor: at64.timeVsFloor,
  };
  if (targets) {
    const vsBase = targets.timeVsBaseline === undefined ? 'no baseline' : `${fmt(targets.timeVsBaseline)}x the baseline's time (target <= 1.2x: ${targets.baselineMet ? 'met' : 'MISSED'})`;
    console.log(`\ntargets at 64 KiB: boxstream ${fmt(targets.speedupVsMp4box)}x mp4box.js (target >= 20x: ${targets.speedupMet ? 'met' : 'MISSED'}), ${vsBase}`);
  }

  const scriptRel = relative(benchDir, fileURLToPath(import.meta.url));
  const data = {
    bench: 'parser',
    startedAt: startedAt.toISOString(),
    durationSec: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    command: {
      line: ['tsx', scriptRel, ...opts.argv].join(' '),
      script: process.env.npm_lifecycle_event ? `pnpm ${process.env.npm_lifecycle_event}` : undefined,
      argv: process.argv,
      execArgv: process.execArgv,
      allocChildFlags: ALLOC_FLAGS,
    },
    machine,
    boxstream,
    baseline: base?.sha ? { ref: opts.baseline, commit: base.sha } : { skipped: base?.why ?? 'disabled (--baseline none)' },
    fixture: {
      file: relative(benchDir, fixture.path),
      size: file.byteLength,
      sha256,
      generated: fixture.generated,
      ffmpeg: fixture.command.map((a) => (a === fixture.path ? relative(benchDir, fixture.path) : a)).join(' '),
      boxes: reference,
    },
    options: { quick: opts.quick, repeats: opts.repeats, pieces: opts.pieces, sampleMs: opts.sampleMs, warmMs: opts.warmMs },
    units: { mbPerSec: '10^6 bytes per second', timeVsFloor: 'median time / floor median time', speedupVsMp4box: 'mp4box median time / median time', timeVsBaseline: 'median time / baseline median time' },
    contenders: contenders.map(({ id, label: l, mode, method, readsSequence }) => ({ id, label: l, mode, method, readsSequence })),
    results,
    allocations: {
      method:
        'child process with ' + ALLOC_FLAGS.join(' ') +
        ': after warm-up, gc() x2, then one full pass (new Parser, push all pieces, end); ' +
        'allocated = growth of process.memoryUsage().heapUsed + arrayBuffers over the pass, minus the same loop around a do-nothing parser; ' +
        'valid only when no GC entry (PerformanceObserver "gc") falls inside the pass',
      boxstream: allocations,
    },
    targets,
    table,
  };
  const written = writeResults(opts.out, 'parser', data, startedAt);
  console.log(`\nwrote ${relative(process.cwd(), written.file)} and ${relative(process.cwd(), written.latest)}`);
  if (results.some((r) => !r.check)) {
    console.error('error: a contender found a different set of boxes (see check column)');
    process.exitCode = 1;
  }
}

await main();
