// pnpm bench: per-chunk latency and fan-out of our origin against the floor relay (and any
// --target), on a real CMAF stream. See options.ts for the flags and packages/bench/README.md.
//
// Steps alternate servers per reader count (round-robin, the starting server rotated each step)
// so machine drift hits all alike. Spawned servers are started fresh for every step, so each
// step's peak RSS and CPU are its own.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadavg } from 'node:os';
import { machineInfo } from '../report/machine.js';
import { playersSummary } from '../report/players.js';
import { timestamp, writeResults } from '../report/results.js';
import { latencyChartSvg } from '../report/latency-chart.js';
import { measuredTable, quietTable, ratioTable } from '../report/latency-table.js';
import { benchDir, loadFixture } from './fixture.js';
import { measureStep, QUIET_OTHER_CORES, summarize, type StepMeasurement, type StepResult } from './measure.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { openFileLimit } from './proc.js';
import { checkTargets, hopCosts, P99_TARGET_RATIO, rateAgainstFloor, type RatedStep } from './ratios.js';
import { ReaderPool } from './reader-pool.js';
import { distribution } from './stats.js';
import { killAllChildren, removeFloorModule, startTarget, type TargetSpec } from './targets.js';

function cleanupAndExit(code: number): never {
  killAllChildren();
  removeFloorModule();
  process.exit(code);
}

process.on('exit', () => killAllChildren());
process.on('SIGINT', () => cleanupAndExit(130));
process.on('SIGTERM', () => cleanupAndExit(143));

function failedMeasurement(message: string): StepMeasurement {
  const none = new Float64Array(0);
  return {
    latencies: none,
    ttfbs: none,
    byChunkIndex: [],
    bySegment: [],
    warmupBySegment: [],
    otherCoresBySegment: [],
    chunksPerSegment: [],
    expected: 0,
    received: 0,
    mismatchedBytes: 0,
    errors: 1,
    errorSamples: [message],
    reconnects: 0,
    streamingMs: 0,
    wallMs: 0,
    serverCpuSeconds: undefined,
    serverPeakRss: undefined,
    serverRssAtStart: undefined,
    clientCpuSeconds: 0,
    machineBusyJiffies: undefined,
    machineTotalJiffies: undefined,
  };
}

function distHash(file: string): string | undefined {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : undefined;
}

/** p50 at each cadence for the same server and readers: latency should not depend on cadence. */
function cadenceCheck(steps: RatedStep[], cadences: number[]) {
  if (cadences.length < 2) return [];
  const [a, b] = [cadences[0], cadences[cadences.length - 1]];
  return steps
    .filter((s) => s.cadenceMs === a)
    .flatMap((s) => {
      const other = steps.find((o) => o.server === s.server && o.readers === s.readers && o.join === s.join && o.cadenceMs === b);
      if (other === undefined) return [];
      return [{ server: s.server, readers: s.readers, cadencesMs: [a, b], p50Ms: [s.latencyMs.p50, other.latencyMs.p50], p50Ratio: other.latencyMs.p50 / s.latencyMs.p50 }];
    });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  let options: BenchOptions;
  try {
    const parsed = parseOptions(argv);
    if (parsed === 'help') {
      process.stdout.write(USAGE);
      return;
    }
    options = parsed;
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exit(2);
  }
  // Both ends of every connection live on this machine, the client's in this process.
  const fdLimit = openFileLimit();
  const maxReaders = Math.max(...options.readers);
  if (fdLimit !== undefined && maxReaders + 100 > fdLimit) {
    process.stderr.write(`bench: ${maxReaders} readers need more open files than the limit of ${fdLimit} (ulimit -n)\n`);
    process.exit(2);
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const print = options.json ? log : (text: string): void => void process.stdout.write(`${text}\n`);

  const fixture = loadFixture();
  const machine = machineInfo();
  // Which origin build is measured: its dist changes as the origin is developed.
  const originDist = distHash(options.originCli);
  const startedAt = new Date();
  const runId = timestamp(startedAt).replace(/[-:TZ]/g, '').slice(4); // MMDDhhmmss: short, unique enough per run
  const chunks = fixture.segments.map((s) => s.chunkEnds.length);
  log(
    `latency bench: ${options.targets.map((t) => t.name).join(', ')}; readers ${options.readers.join(',')}; ` +
      `cadence ${options.cadences.join(',')} ms; ${options.segments} segment(s) of ${chunks.join('/')} chunks; join ${options.join}; ${options.workers} reader workers`,
  );
  log(`machine: ${machine.cpuModel}, ${machine.cpuCount} cores, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);
  if (options.cpuProfDir !== undefined) mkdirSync(options.cpuProfDir, { recursive: true });

  const pool = new ReaderPool(fixture, options.workers);
  const steps: StepResult[] = [];
  let stepIndex = 0;

  /** Starts the server (fresh, when it is ours), measures, stops it. Never throws. */
  const runOne = async (spec: TargetSpec, readers: number, cadenceMs: number, index: number): Promise<StepMeasurement> => {
    const settleMs = options.settleMs ?? Math.round(100 + readers / 2);
    const basePath = `${options.pathPrefix}/${runId}-${index}-${spec.name.replace(/[^a-z0-9]/gi, '_')}`;
    // A bound on the whole step, beyond the per-segment ones inside it: never a hang.
    const chunkTime = Math.max(...chunks) * Math.max(cadenceMs, 5);
    const segmentsInStep = options.segments + options.warmup;
    const stepBoundMs = 60_000 + segmentsInStep * (chunkTime + settleMs + options.timeoutMs + 5_000);
    let watchdog: NodeJS.Timeout | undefined;
    try {
      const target = await startTarget(spec, { originCli: options.originCli, originArgs: options.originArgs, cpuProfDir: options.cpuProfDir, startTimeoutMs: 15_000 });
      try {
        watchdog = setTimeout(() => {
          log(`bench: step ${spec.name} x${readers} exceeded ${stepBoundMs} ms; giving up`);
          cleanupAndExit(1);
        }, stepBoundMs);
        return await measureStep(target, pool, fixture, {
          readers,
          cadenceMs,
          join: options.join,
          segments: options.segments,
          warmup: options.warmup,
          basePath,
          settleMs,
          timeoutMs: options.timeoutMs,
        });
      } finally {
        clearTimeout(watchdog);
        await target.stop();
      }
    } catch (err) {
      return failedMeasurement(err instanceof Error ? err.message : String(err));
    }
  };
  for (const cadenceMs of options.cadences) {
    for (const readers of options.readers) {
      const runs = new Map<TargetSpec, StepMeasurement[]>(options.targets.map((t) => [t, []]));
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        const n = options.targets.length;
        const order = options.targets.map((_, i) => options.targets[(i + stepIndex) % n]);
        for (const spec of order) {
          const m = await runOne(spec, readers, cadenceMs, stepIndex);
          runs.get(spec)?.push(m);
          const l = distribution(m.latencies);
          log(
            `  ${spec.name.padEnd(8)} readers ${String(readers).padStart(5)} cadence ${String(cadenceMs).padStart(4)} ms: ` +
              `p50 ${l.p50.toFixed(2)} p99 ${l.p99.toFixed(2)} max ${l.max.toFixed(2)} ms, ` +
              `${m.received}/${m.expected} deliveries, errors ${m.errors}, mismatched ${m.mismatchedBytes} B` +
              (m.errorSamples.length > 0 ? ` [${m.errorSamples[0]}]` : ''),
          );
        }
        stepIndex++;
      }
      for (const spec of options.targets) {
        const identity = { server: spec.name, kind: spec.kind, readers, cadenceMs, join: options.join, segments: options.segments };
        steps.push(summarize(identity, runs.get(spec) ?? []));
      }
    }
  }
  await pool.terminate();
  removeFloorModule();

  const rated = rateAgainstFloor(steps);
  const verdicts = checkTargets(rated);
  const cadences = cadenceCheck(rated, options.cadences);
  const loadAtEnd = loadavg().map((v) => Math.round(v * 100) / 100);
  const command = `pnpm bench${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;

  print('');
  print(`Per-chunk latency (upload write of a chunk's last byte to its receipt by a reader), ${command}`);
  print(`${machine.cpuModel}, ${machine.cpuCount} cores, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')} → ${loadAtEnd.join(' ')}`);
  print('');
  print(measuredTable(rated));
  const ratios = ratioTable(rated);
  if (ratios !== '') {
    print('');
    print('Ratio to the floor measured in the same run:');
    print('');
    print(ratios);
  }
  const quiet = quietTable(rated, QUIET_OTHER_CORES);
  if (quiet !== '') {
    print('');
    print('The same over the segments during which other processes were quiet (the machine is shared):');
    print('');
    print(quiet);
  }
  if (verdicts.length > 0) {
    print('');
    for (const v of verdicts) {
      let robust = options.repeats > 1 ? `; median of the ${options.repeats} repeats' p99: ${v.p99MedianOfRepeatsRatio.toFixed(2)}x, ${v.metOnMedianOfRepeats ? 'met' : 'missed'}` : '';
      if (Number.isFinite(v.p99QuietRatio)) robust += `; quiet segments: ${v.p99QuietRatio.toFixed(2)}x`;
      print(`target: ${v.server} p99 at ${v.readers} readers (${v.cadenceMs} ms) is ${v.p99Ratio.toFixed(2)}x the floor (want <= ${P99_TARGET_RATIO}x): ${v.met ? 'met' : 'MISSED'}${robust}`);
    }
  }
  const hops = hopCosts(rated);
  for (const h of hops.filter((x) => Number.isFinite(x.p50AddedMs))) {
    const sign = (ms: number): string => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`;
    print(`hop: ${h.server} at ${h.readers} readers (${h.cadenceMs} ms) adds p50 ${sign(h.p50AddedMs)} ms (${h.p50Ratio.toFixed(2)}x), p99 ${sign(h.p99AddedMs)} ms (${h.p99Ratio.toFixed(2)}x) to the origin direct`);
  }
  for (const c of cadences) {
    print(`cadence: ${c.server} at ${c.readers} readers: p50 ${c.p50Ms[0].toFixed(2)} ms at ${c.cadencesMs[0]} ms, ${c.p50Ms[1].toFixed(2)} ms at ${c.cadencesMs[1]} ms (${c.p50Ratio.toFixed(2)}x)`);
  }

  const originDistAtEnd = distHash(options.originCli);
  if (originDistAtEnd !== originDist) log(`bench: WARNING: ${options.originCli} changed during the run (${originDist} -> ${originDistAtEnd}); results mix two builds`);
  const data = {
    bench: 'latency',
    originDist: { file: relative(benchDir, options.originCli), sha256: originDist, sha256AtEnd: originDistAtEnd },
    startedAt: startedAt.toISOString(),
    command,
    argv,
    options: { ...options, targets: options.targets, argv: undefined },
    machine: { ...machine, loadAverageAtEnd: loadAtEnd },
    fixture: {
      dir: relative(benchDir, join(benchDir, 'fixtures', 'lldash')),
      segments: fixture.segments.map((s) => ({ name: s.name, bytes: s.bytes.length, chunks: s.chunkEnds.length })),
      initBytes: fixture.init.length,
    },
    definitions: {
      latencyMs: "per chunk and reader: the reader's receipt of the chunk's last byte minus the uploader's write() of it",
      ttfbMs: options.join === 'held' ? 'first body byte minus the write of the first chunk' : 'first body byte minus the GET write',
      cpuPer1000Deliveries: 'server CPU seconds (utime+stime) over the step per 1,000 chunk deliveries',
      clientCores: 'this bench process (uploader + reader workers): CPU seconds per wall second',
      quiet: `timed segments during which processes other than the bench and the server kept fewer than ${QUIET_OTHER_CORES} cores busy`,
    },
    steps: rated,
    targets: verdicts,
    cadenceCheck: cadences,
    hops,
  };
  const written = writeResults(options.resultsDir, 'latency', data, startedAt);
  log(`results: ${written.file}`);
  if (options.chart) {
    const subtitle = `${machine.cpuCount} × ${machine.cpuModel}, Node ${machine.node}; ${options.cadences.join('/')} ms cadence; ${options.join} readers; ${startedAt.toISOString().slice(0, 10)}`;
    const svgFile = join(options.resultsDir, 'latency-latest.svg');
    writeFileSync(svgFile, latencyChartSvg(rated, subtitle));
    log(`chart: ${svgFile}`);
  }
  const players = playersSummary(options.resultsDir);
  if (players !== undefined) log(`\n${players}`);
  if (options.json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  const failed = rated.some((s) => s.errors > 0 || s.mismatchedBytes > 0);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  cleanupAndExit(1);
});
