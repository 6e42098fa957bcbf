// One measurement step: one server, N readers, one cadence. Readers connect first (not timed);
// then, per segment, readers GET (held: before the upload starts; catch-up: halfway through it),
// the uploader sends it chunk by chunk, and every reader's account is collected before the next
// segment, so each keep-alive connection carries one response at a time. The first `warmup`
// segments are checked like the others but not timed: they warm the JIT and the TCP buffers of
// both ends, which otherwise dominate the first segment's tail.
import { now, sleep } from './clock.js';
import type { StreamFixture } from './fixture.js';
import { machineJiffies, peakRssBytes, processCpuSeconds, rssBytes, secondsPerTick } from './proc.js';
import type { ReaderPool } from './reader-pool.js';
import { distribution, Samples, type Distribution } from './stats.js';
import type { RunningTarget } from './targets.js';
import { frameChunks, Uploader } from './uploader.js';

export type JoinMode = 'held' | 'catchup';

export interface StepConfig {
  readers: number;
  cadenceMs: number;
  join: JoinMode;
  /** Timed segments. */
  segments: number;
  /** Untimed segments before them. */
  warmup: number;
  /** Base path of this step's objects, unique per step, e.g. /bench/0412-3-origin. */
  basePath: string;
  /** Wait between the readers' GETs and the upload (held mode), so the server has registered them. */
  settleMs: number;
  /** How long after a segment's upload ended a reader may still take to receive it. */
  timeoutMs: number;
}

/** The raw outcome of one step; several (repeats) are pooled by `summarize`. */
export interface StepMeasurement {
  latencies: Float64Array;
  ttfbs: Float64Array;
  byChunkIndex: Float64Array[];
  bySegment: Float64Array[];
  /**
   * Per timed segment: cores busy with other processes than this bench and the server (machine
   * busy time minus both), averaged over the segment. A stall that coincides with a high figure
   * is the machine's, not the server's.
   */
  otherCoresBySegment: number[];
  /** The untimed warm-up segments' latencies, kept apart: what a freshly started server does. */
  warmupBySegment: Float64Array[];
  chunksPerSegment: number[];
  expected: number;
  received: number;
  mismatchedBytes: number;
  errors: number;
  errorSamples: string[];
  reconnects: number;
  /** Sum over timed segments of (last receipt - first chunk write). */
  streamingMs: number;
  wallMs: number;
  serverCpuSeconds: number | undefined;
  serverPeakRss: number | undefined;
  serverRssAtStart: number | undefined;
  clientCpuSeconds: number;
  machineBusyJiffies: number | undefined;
  machineTotalJiffies: number | undefined;
}

export async function measureStep(target: RunningTarget, pool: ReaderPool, fixture: StreamFixture, config: StepConfig): Promise<StepMeasurement> {
  const errorSamples: string[] = [];
  let errors = 0;
  const error = (message: string): void => {
    errors++;
    if (errorSamples.length < 10 && !errorSamples.includes(message)) errorSamples.push(message);
  };
  const framed = fixture.segments.map(frameChunks);
  const latencies = new Samples();
  const ttfbs = new Samples();
  const byChunkIndex: Samples[] = [];
  const bySegment: Samples[] = [];
  const warmupBySegment: Samples[] = [];
  const otherCoresBySegment: number[] = [];
  const chunksPerSegment: number[] = [];
  let expected = 0;
  let received = 0;
  let mismatchedBytes = 0;
  let reconnects = 0;
  let streamingMs = 0;

  for (const e of await pool.connect(target.host, target.port, config.readers, config.timeoutMs)) error(`connect: ${e}`);
  const uploader = new Uploader(target.ingestHost, target.ingestPort, config.timeoutMs + 10_000);
  const pid = target.pid;
  let serverCpu0: number | undefined;
  let rssAtStart: number | undefined;
  let client0 = process.cpuUsage();
  let machine0 = machineJiffies();
  let t0 = now();
  const startClocks = (): void => {
    serverCpu0 = pid === undefined ? undefined : processCpuSeconds(pid);
    rssAtStart = pid === undefined ? undefined : rssBytes(pid);
    client0 = process.cpuUsage();
    machine0 = machineJiffies();
    t0 = now();
  };
  try {
    // The init segment, as an encoder sends it first; not timed.
    const initStatus = await uploader.putWhole(`${config.basePath}/init.m4s`, fixture.init);
    if (initStatus >= 300) error(`init upload answered ${initStatus}`);
    const total = config.warmup + config.segments;
    for (let s = 0; s < total; s++) {
      const timed = s >= config.warmup;
      // The step's clocks start with its first timed segment, however the warm-up went.
      if (s === config.warmup) startClocks();
      const index = s % fixture.segments.length;
      const chunks = framed[index];
      const path = `${config.basePath}/seg-${s + 1}.m4s`;
      let upload;
      const joinAfter = Math.max(1, Math.floor(chunks.length / 2));
      const segmentStart = { at: now(), machine: machineJiffies(), server: pid === undefined ? undefined : processCpuSeconds(pid), client: process.cpuUsage() };
      try {
        if (config.join === 'held') {
          const got = await pool.get(path, index);
          reconnects += got.reconnects;
          for (const e of got.errors) error(e);
          await sleep(config.settleMs);
          upload = await uploader.putSegment(path, chunks, config.cadenceMs);
        } else {
          let joined: Promise<{ errors: string[]; reconnects: number }> | undefined;
          upload = await uploader.putSegment(path, chunks, config.cadenceMs, (i) => {
            if (i === joinAfter - 1) joined = pool.get(path, index);
          });
          const got = await (joined as Promise<{ errors: string[]; reconnects: number }>);
          reconnects += got.reconnects;
          for (const e of got.errors) error(e);
        }
      } catch (err) {
        error(`upload of ${path}: ${err instanceof Error ? err.message : String(err)}`);
        await pool.collect(now()); // cut the readers off: nothing more is coming
        uploader.close();
        if (timed) expected += config.readers * chunks.length;
        continue;
      }
      if (upload.status >= 300) error(`upload of ${path} answered ${upload.status}`);
      const reports = await pool.collect(now() + config.timeoutMs);
      const writes = upload.writeTimes;
      let lastReceipt = writes[writes.length - 1];
      const segmentSamples = new Samples();
      for (const r of reports) {
        if (r.error !== null) error(`reader: ${r.error}`);
        mismatchedBytes += r.mismatchedBytes;
        // Catch-up readers are timed only on chunks written after they asked (warm-up too, so
        // its per-segment figures show how a fresh server settles, not how old the catch-up is).
        const from = config.join === 'held' ? 0 : writes.findIndex((w) => w > r.getAt);
        if (!timed) {
          if (from >= 0) for (let i = from; i < writes.length; i++) if (!Number.isNaN(r.receipts[i])) segmentSamples.push(r.receipts[i] - writes[i]);
          continue;
        }
        if (from < 0) continue;
        for (let i = from; i < writes.length; i++) {
          expected++;
          const t = r.receipts[i];
          if (Number.isNaN(t)) continue;
          received++;
          const latency = t - writes[i];
          latencies.push(latency);
          segmentSamples.push(latency);
          (byChunkIndex[i] ??= new Samples()).push(latency);
          if (t > lastReceipt) lastReceipt = t;
        }
        if (!Number.isNaN(r.firstByteAt)) ttfbs.push(r.firstByteAt - (config.join === 'held' ? writes[0] : r.getAt));
      }
      if (timed) {
        chunksPerSegment.push(chunks.length);
        bySegment.push(segmentSamples);
        streamingMs += lastReceipt - writes[0];
        const machine = machineJiffies();
        const server = pid === undefined ? undefined : processCpuSeconds(pid);
        const client = process.cpuUsage(segmentStart.client);
        if (machine !== undefined && segmentStart.machine !== undefined && server !== undefined && segmentStart.server !== undefined) {
          const busy = (machine.busy - segmentStart.machine.busy) * secondsPerTick();
          const ours = server - segmentStart.server + (client.user + client.system) / 1e6;
          otherCoresBySegment.push(Math.max(0, busy - ours) / ((now() - segmentStart.at) / 1000));
        } else {
          otherCoresBySegment.push(Number.NaN);
        }
      } else {
        warmupBySegment.push(segmentSamples);
      }
    }

    const wallMs = now() - t0;
    const client1 = process.cpuUsage(client0);
    const machine1 = machineJiffies();
    const serverCpu1 = pid === undefined ? undefined : processCpuSeconds(pid);
    const serverPeakRss = pid === undefined ? undefined : peakRssBytes(pid);
    if (target.spec.kind === 'external') {
      // Leave the server as we found it.
      for (let s = 0; s < total; s++) await uploader.delete(`${config.basePath}/seg-${s + 1}.m4s`).catch(() => 0);
      await uploader.delete(`${config.basePath}/init.m4s`).catch(() => 0);
    }
    return {
      latencies: latencies.toArray(),
      ttfbs: ttfbs.toArray(),
      byChunkIndex: [...byChunkIndex].map((s) => s?.toArray() ?? new Float64Array(0)),
      bySegment: bySegment.map((s) => s.toArray()),
      warmupBySegment: warmupBySegment.map((s) => s.toArray()),
      otherCoresBySegment,
      chunksPerSegment,
      expected,
      received,
      mismatchedBytes,
      errors,
      errorSamples,
      reconnects,
      streamingMs,
      wallMs,
      serverCpuSeconds: serverCpu0 === undefined || serverCpu1 === undefined ? undefined : serverCpu1 - serverCpu0,
      serverPeakRss,
      serverRssAtStart: rssAtStart,
      clientCpuSeconds: (client1.user + client1.system) / 1e6,
      machineBusyJiffies: machine0 && machine1 ? machine1.busy - machine0.busy : undefined,
      machineTotalJiffies: machine0 && machine1 ? machine1.total - machine0.total : undefined,
    };
  } finally {
    uploader.close();
    await pool.disconnect();
  }
}

export interface ServerUsage {
  cpuSeconds: number;
  /** CPU seconds per 1,000 chunk deliveries. */
  cpuPer1000Deliveries: number;
  /** Average cores busy over the timed segments. */
  cores: number;
  /** Highest VmHWM over the repeats (each repeat is a fresh process). */
  peakRssMiB: number | undefined;
  rssAtStartMiB: number | undefined;
}

export interface StepResult {
  server: string;
  kind: string;
  readers: number;
  cadenceMs: number;
  join: JoinMode;
  /** Timed segments per repeat, and repeats pooled into this result. */
  segments: number;
  repeats: number;
  chunksPerSegment: number[];
  /** Per chunk and reader: receipt of the chunk's last byte minus the uploader's write of it, ms. */
  latencyMs: Distribution;
  /** Held: first body byte minus the first chunk's write; catch-up: first body byte minus the GET. */
  ttfbMs: Distribution;
  deliveries: { expected: number; received: number };
  /** Chunk deliveries per second while segments were streaming. */
  deliveriesPerSecond: number;
  wallSeconds: number;
  /** Of the server process; null for an external server without --target-pid. */
  serverUsage: ServerUsage | null;
  /** This bench process, main thread and reader workers together. */
  client: { cpuSeconds: number; cores: number };
  /** Share of the whole machine's CPU time that was busy during the timed segments (0..1). */
  machineBusy: number | undefined;
  /** Where the time goes: latency by chunk position in the segment, and by segment (all repeats in order). */
  byChunkIndex: Brief[];
  bySegment: (Brief & { otherCores: number })[];
  /** The same for the untimed warm-up segments (a freshly started server), not in the figures above. */
  warmupBySegment: Brief[];
  /** p99 of each repeat alone: how much the figure moves from one repeat to the next. */
  p99ByRepeat: number[];
  /** The median of `p99ByRepeat`: robust to one repeat hit by a stall of the machine. */
  p99MedianOfRepeats: number;
  /**
   * The same distribution over the "quiet" timed segments only: those during which other
   * processes kept fewer than QUIET_OTHER_CORES cores busy. On a shared machine the tail is
   * mostly other tenants; this shows what is left when they were idle (null: no quiet segment).
   */
  quiet: { segments: number; of: number; latencyMs: Distribution } | null;
  errors: number;
  errorSamples: string[];
  mismatchedBytes: number;
  reconnects: number;
}

export interface Brief {
  p50: number;
  p99: number;
  max: number;
}

/** Other processes' load below which a segment counts as quiet (see StepResult.quiet). */
export const QUIET_OTHER_CORES = 0.5;

const MiB = 1024 * 1024;
const round = (v: number): number => Math.round(v * 1000) / 1000;
const toMiB = (b: number | undefined): number | undefined => (b === undefined ? undefined : Math.round((b / MiB) * 10) / 10);

function brief(values: ArrayLike<number>): Brief {
  const d = distribution(values);
  return { p50: round(d.p50), p99: round(d.p99), max: round(d.max) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function quietSegments(runs: StepMeasurement[]): StepResult['quiet'] {
  const quiet: Float64Array[] = [];
  let of = 0;
  for (const r of runs) {
    r.bySegment.forEach((samples, i) => {
      of++;
      if ((r.otherCoresBySegment[i] ?? Number.POSITIVE_INFINITY) < QUIET_OTHER_CORES) quiet.push(samples);
    });
  }
  return quiet.length === 0 ? null : { segments: quiet.length, of, latencyMs: distribution(concat(quiet)) };
}

function concat(arrays: Float64Array[]): Float64Array {
  const out = new Float64Array(arrays.reduce((a, b) => a + b.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

const sum = (xs: (number | undefined)[]): number | undefined => (xs.some((x) => x === undefined) ? undefined : xs.reduce<number>((a, b) => a + (b as number), 0));

/** Pools the repeats of one (server, readers, cadence): samples together, counters summed. */
export function summarize(identity: { server: string; kind: string; readers: number; cadenceMs: number; join: JoinMode; segments: number }, runs: StepMeasurement[]): StepResult {
  const received = runs.reduce((a, r) => a + r.received, 0);
  const wallMs = runs.reduce((a, r) => a + r.wallMs, 0);
  const streamingMs = runs.reduce((a, r) => a + r.streamingMs, 0);
  const cpu = sum(runs.map((r) => r.serverCpuSeconds));
  const clientCpu = runs.reduce((a, r) => a + r.clientCpuSeconds, 0);
  const busy = sum(runs.map((r) => r.machineBusyJiffies));
  const total = sum(runs.map((r) => r.machineTotalJiffies));
  const peaks = runs.map((r) => r.serverPeakRss).filter((v): v is number => v !== undefined);
  const starts = runs.map((r) => r.serverRssAtStart).filter((v): v is number => v !== undefined);
  const chunkPositions = Math.max(0, ...runs.map((r) => r.byChunkIndex.length));
  const errorSamples = [...new Set(runs.flatMap((r) => r.errorSamples))].slice(0, 10);
  return {
    ...identity,
    repeats: runs.length,
    chunksPerSegment: runs[0]?.chunksPerSegment ?? [],
    latencyMs: distribution(concat(runs.map((r) => r.latencies))),
    ttfbMs: distribution(concat(runs.map((r) => r.ttfbs))),
    deliveries: { expected: runs.reduce((a, r) => a + r.expected, 0), received },
    deliveriesPerSecond: streamingMs > 0 ? received / (streamingMs / 1000) : Number.NaN,
    wallSeconds: wallMs / 1000,
    serverUsage:
      cpu === undefined
        ? null
        : {
            cpuSeconds: cpu,
            cpuPer1000Deliveries: received === 0 ? Number.NaN : (cpu / received) * 1000,
            cores: wallMs > 0 ? cpu / (wallMs / 1000) : Number.NaN,
            peakRssMiB: peaks.length === 0 ? undefined : toMiB(Math.max(...peaks)),
            rssAtStartMiB: starts.length === 0 ? undefined : toMiB(Math.max(...starts)),
          },
    client: { cpuSeconds: clientCpu, cores: wallMs > 0 ? clientCpu / (wallMs / 1000) : Number.NaN },
    machineBusy: busy === undefined || total === undefined || total === 0 ? undefined : busy / total,
    byChunkIndex: Array.from({ length: chunkPositions }, (_, i) => brief(concat(runs.map((r) => r.byChunkIndex[i] ?? new Float64Array(0))))),
    bySegment: runs.flatMap((r) => r.bySegment.map((seg, i) => ({ ...brief(seg), otherCores: round(r.otherCoresBySegment[i] ?? Number.NaN) }))),
    warmupBySegment: runs.flatMap((r) => r.warmupBySegment.map(brief)),
    p99ByRepeat: runs.map((r) => round(distribution(r.latencies).p99)),
    p99MedianOfRepeats: round(median(runs.map((r) => distribution(r.latencies).p99))),
    quiet: quietSegments(runs),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    errorSamples,
    mismatchedBytes: runs.reduce((a, r) => a + r.mismatchedBytes, 0),
    reconnects: runs.reduce((a, r) => a + r.reconnects, 0),
  };
}
