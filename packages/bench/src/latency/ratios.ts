// Every figure of a server as a ratio to the floor measured in the same run at the same load,
// and the targets checked against those ratios.
import type { StepResult } from './measure.js';

export interface FloorRatios {
  p50: number;
  p90: number;
  p99: number;
  /** Median over repeats of each repeat's p99, for both. */
  p99MedianOfRepeats: number;
  /** p99 over quiet segments (other processes < QUIET_OTHER_CORES), both sides; NaN if either has none. */
  p99Quiet: number;
  p999: number;
  max: number;
  ttfbP50: number;
  deliveriesPerSecond: number;
  cpuPer1000Deliveries: number | undefined;
  peakRss: number | undefined;
}

export interface RatedStep extends StepResult {
  /** null for the floor itself, or when no floor step matches. */
  ratioToFloor: FloorRatios | null;
}

/** The bar: p99 within 1.5x of the floor at 100 and 1,000 readers, zero mismatches. */
export const P99_TARGET_RATIO = 1.5;
export const TARGET_READERS = [100, 1000];

const div = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !(b > 0) ? undefined : a / b;

export function rateAgainstFloor(steps: StepResult[]): RatedStep[] {
  return steps.map((step) => {
    if (step.kind === 'floor') return { ...step, ratioToFloor: null };
    const floor = steps.find((f) => f.kind === 'floor' && f.readers === step.readers && f.cadenceMs === step.cadenceMs && f.join === step.join);
    if (floor === undefined) return { ...step, ratioToFloor: null };
    const l = step.latencyMs;
    const fl = floor.latencyMs;
    return {
      ...step,
      ratioToFloor: {
        p50: l.p50 / fl.p50,
        p90: l.p90 / fl.p90,
        p99: l.p99 / fl.p99,
        p99MedianOfRepeats: step.p99MedianOfRepeats / floor.p99MedianOfRepeats,
        p99Quiet: step.quiet === null || floor.quiet === null ? Number.NaN : step.quiet.latencyMs.p99 / floor.quiet.latencyMs.p99,
        p999: l.p999 / fl.p999,
        max: l.max / fl.max,
        ttfbP50: step.ttfbMs.p50 / floor.ttfbMs.p50,
        deliveriesPerSecond: step.deliveriesPerSecond / floor.deliveriesPerSecond,
        cpuPer1000Deliveries: div(step.serverUsage?.cpuPer1000Deliveries, floor.serverUsage?.cpuPer1000Deliveries),
        peakRss: div(step.serverUsage?.peakRssMiB, floor.serverUsage?.peakRssMiB),
      },
    };
  });
}

export interface TargetVerdict {
  server: string;
  readers: number;
  cadenceMs: number;
  p99Ratio: number;
  /** The same on the median of the repeats' p99s (one repeat hit by a machine stall does not decide). */
  p99MedianOfRepeatsRatio: number;
  p99QuietRatio: number;
  met: boolean;
  metOnMedianOfRepeats: boolean;
  mismatchedBytes: number;
}

/** One verdict per non-floor step at a target reader count. */
export function checkTargets(steps: RatedStep[]): TargetVerdict[] {
  return steps
    .filter((s) => s.ratioToFloor !== null && TARGET_READERS.includes(s.readers))
    .map((s) => {
      const r = s.ratioToFloor as FloorRatios;
      const clean = s.mismatchedBytes === 0 && s.errors === 0;
      return {
        server: s.server,
        readers: s.readers,
        cadenceMs: s.cadenceMs,
        p99Ratio: r.p99,
        p99MedianOfRepeatsRatio: r.p99MedianOfRepeats,
        p99QuietRatio: r.p99Quiet,
        met: r.p99 <= P99_TARGET_RATIO && clean,
        metOnMedianOfRepeats: r.p99MedianOfRepeats <= P99_TARGET_RATIO && clean,
        mismatchedBytes: s.mismatchedBytes,
      };
    });
}

/** What a hop in front of the origin (a relayed second origin, Varnish) adds to the origin direct. */
export interface HopCost {
  server: string;
  readers: number;
  cadenceMs: number;
  /** Milliseconds added at the median and at p99 (hop minus origin, same run). */
  p50AddedMs: number;
  p99AddedMs: number;
  p50Ratio: number;
  p99Ratio: number;
}

export function hopCosts(steps: StepResult[]): HopCost[] {
  const out: HopCost[] = [];
  for (const step of steps) {
    if (step.kind !== 'relay' && step.kind !== 'varnish') continue;
    const direct = steps.find((o) => o.kind === 'origin' && o.readers === step.readers && o.cadenceMs === step.cadenceMs && o.join === step.join);
    if (direct === undefined) continue;
    out.push({
      server: step.server,
      readers: step.readers,
      cadenceMs: step.cadenceMs,
      p50AddedMs: step.latencyMs.p50 - direct.latencyMs.p50,
      p99AddedMs: step.latencyMs.p99 - direct.latencyMs.p99,
      p50Ratio: step.latencyMs.p50 / direct.latencyMs.p50,
      p99Ratio: step.latencyMs.p99 / direct.latencyMs.p99,
    });
  }
  return out;
}
