// The latency bench's tables: measured figures, then the same as ratios to the floor.
import type { RatedStep } from '../latency/ratios.js';
import { fmt, formatTable, type Column } from './table.js';

const ms = (v: number): string => (Number.isFinite(v) ? fmt(v, 3) : '-');
const opt = (v: number | undefined, digits = 3): string => (v === undefined || !Number.isFinite(v) ? '-' : fmt(v, digits));
const ratio = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : `${fmt(v, 3)}x`);
const cadence = (c: number): string => (c === 0 ? 'asap' : String(c));

export function measuredTable(steps: RatedStep[]): string {
  const columns: Column[] = [
    { title: 'server' },
    { title: 'readers', align: 'right' },
    { title: 'cadence ms', align: 'right' },
    { title: 'p50 ms', align: 'right' },
    { title: 'p90 ms', align: 'right' },
    { title: 'p99 ms', align: 'right' },
    { title: 'p99.9 ms', align: 'right' },
    { title: 'max ms', align: 'right' },
    { title: 'TTFB p50 ms', align: 'right' },
    { title: 'deliveries/s', align: 'right' },
    { title: 'CPU s/1k deliv.', align: 'right' },
    { title: 'peak RSS MiB', align: 'right' },
    { title: 'client cores', align: 'right' },
    { title: 'errors', align: 'right' },
    { title: 'mismatched B', align: 'right' },
  ];
  const rows = steps.map((s) => [
    s.join === 'held' ? s.server : `${s.server} (catch-up)`,
    String(s.readers),
    cadence(s.cadenceMs),
    ms(s.latencyMs.p50),
    ms(s.latencyMs.p90),
    ms(s.latencyMs.p99),
    ms(s.latencyMs.p999),
    ms(s.latencyMs.max),
    ms(s.ttfbMs.p50),
    opt(s.deliveriesPerSecond),
    opt(s.serverUsage?.cpuPer1000Deliveries),
    opt(s.serverUsage?.peakRssMiB),
    opt(s.client.cores, 2),
    String(s.errors),
    String(s.mismatchedBytes),
  ]);
  return formatTable(columns, rows);
}

/** p50/p99 over the quiet segments only (other processes below the threshold). */
export function quietTable(steps: RatedStep[], threshold: number): string {
  const withQuiet = steps.filter((s) => s.quiet !== null);
  if (withQuiet.length === 0) return '';
  const columns: Column[] = [
    { title: `server (segments with other load < ${threshold} core)` },
    { title: 'readers', align: 'right' },
    { title: 'cadence ms', align: 'right' },
    { title: 'quiet segments', align: 'right' },
    { title: 'p50 ms', align: 'right' },
    { title: 'p90 ms', align: 'right' },
    { title: 'p99 ms', align: 'right' },
    { title: 'max ms', align: 'right' },
  ];
  const rows = withQuiet.map((s) => {
    const q = s.quiet!;
    return [s.join === 'held' ? s.server : `${s.server} (catch-up)`, String(s.readers), cadence(s.cadenceMs), `${q.segments}/${q.of}`, ms(q.latencyMs.p50), ms(q.latencyMs.p90), ms(q.latencyMs.p99), ms(q.latencyMs.max)];
  });
  return formatTable(columns, rows);
}

export function ratioTable(steps: RatedStep[]): string {
  const rated = steps.filter((s) => s.ratioToFloor !== null);
  if (rated.length === 0) return '';
  const columns: Column[] = [
    { title: 'server / floor' },
    { title: 'readers', align: 'right' },
    { title: 'cadence ms', align: 'right' },
    { title: 'p50', align: 'right' },
    { title: 'p90', align: 'right' },
    { title: 'p99', align: 'right' },
    { title: 'p99 (median of repeats)', align: 'right' },
    { title: 'p99 quiet', align: 'right' },
    { title: 'p99.9', align: 'right' },
    { title: 'max', align: 'right' },
    { title: 'TTFB p50', align: 'right' },
    { title: 'CPU/1k deliv.', align: 'right' },
    { title: 'peak RSS', align: 'right' },
  ];
  const rows = rated.map((s) => {
    const r = s.ratioToFloor!;
    return [
      s.join === 'held' ? s.server : `${s.server} (catch-up)`,
      String(s.readers),
      cadence(s.cadenceMs),
      ratio(r.p50),
      ratio(r.p90),
      ratio(r.p99),
      s.repeats > 1 ? ratio(r.p99MedianOfRepeats) : '-',
      ratio(r.p99Quiet),
      ratio(r.p999),
      ratio(r.max),
      ratio(r.ttfbP50),
      ratio(r.cpuPer1000Deliveries),
      ratio(r.peakRss),
    ];
  });
  return formatTable(columns, rows);
}
