// The latency chart: p50 (dashed) and p99 (solid) per-chunk latency against readers, log-log,
// one colour per server (and per cadence when several were measured).
import type { RatedStep } from '../latency/ratios.js';
import { lineChartSvg, PALETTE, type ChartSeries } from './svg.js';

export function latencyChartSvg(steps: RatedStep[], subtitle: string): string {
  const cadences = [...new Set(steps.map((s) => s.cadenceMs))];
  const joins = [...new Set(steps.map((s) => s.join))];
  const keys = [...new Set(steps.map((s) => `${s.server}\u0000${s.cadenceMs}\u0000${s.join}`))];
  const series: ChartSeries[] = [];
  keys.forEach((key, i) => {
    const [server, cadence, join] = key.split('\u0000');
    const mine = steps.filter((s) => s.server === server && String(s.cadenceMs) === cadence && s.join === join);
    let label = server;
    if (cadences.length > 1) label += ` @${cadence === '0' ? 'asap' : `${cadence} ms`}`;
    if (joins.length > 1) label += ` ${join}`;
    const color = PALETTE[i % PALETTE.length];
    series.push({ name: `${label} p99`, color, points: mine.map((s) => ({ x: s.readers, y: s.latencyMs.p99 })) });
    series.push({ name: `${label} p50`, color, dash: '6 4', points: mine.map((s) => ({ x: s.readers, y: s.latencyMs.p50 })) });
  });
  return lineChartSvg({
    title: 'Per-chunk latency against readers',
    subtitle,
    xLabel: 'readers (log scale)',
    yLabel: 'latency, ms (log scale): upload write → reader receipt',
    xLog: true,
    yLog: true,
    series,
  });
}
