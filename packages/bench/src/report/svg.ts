// A hand-made SVG line chart (no dependencies): log or linear axes, one polyline per series,
// dots at the measured points, a legend. Enough for "latency percentiles against readers".

export interface ChartSeries {
  name: string;
  color: string;
  /** SVG stroke-dasharray, e.g. '6 4'; solid when omitted. */
  dash?: string;
  points: { x: number; y: number }[];
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: ChartSeries[];
  width?: number;
  height?: number;
}

/** Colours that stay apart for the usual few servers. */
export const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function tickLabel(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** Ticks at 1, 2, 5 × powers of ten (only powers when the range spans many decades). */
function logTicks(min: number, max: number): number[] {
  const decades = Math.log10(max / min);
  const steps = decades > 4 ? [1] : [1, 2, 5];
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}

function linearTicks(min: number, max: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 8) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(min / nice) * nice; v <= max + 1e-9; v += nice) out.push(+v.toPrecision(12));
  return out;
}

export function lineChartSvg(spec: ChartSpec): string {
  const width = spec.width ?? 760;
  const height = spec.height ?? 460;
  const m = { left: 70, right: 180, top: spec.subtitle ? 62 : 44, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!spec.yLog || p.y > 0));
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  let [x0, x1] = [Math.min(...xs, Infinity), Math.max(...xs, -Infinity)];
  let [y0, y1] = [Math.min(...ys, Infinity), Math.max(...ys, -Infinity)];
  if (!Number.isFinite(x0)) [x0, x1] = [1, 10];
  if (!Number.isFinite(y0)) [y0, y1] = [1, 10];
  if (spec.xLog) {
    x0 = 10 ** Math.floor(Math.log10(x0));
    x1 = 10 ** Math.ceil(Math.log10(x1));
    if (x1 === x0) x1 = x0 * 10;
  } else if (x1 === x0) x1 = x0 + 1;
  if (spec.yLog) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
    if (y1 === y0) y1 = y0 * 10;
  } else {
    y0 = Math.min(0, y0);
    y1 = y1 === y0 ? y0 + 1 : y1 * 1.05;
  }
  const sx = (x: number): number => m.left + (spec.xLog ? Math.log10(x / x0) / Math.log10(x1 / x0) : (x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => m.top + ph - (spec.yLog ? Math.log10(y / y0) / Math.log10(y1 / y0) : (y - y0) / (y1 - y0)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="16" font-weight="bold">${esc(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${m.left}" y="42" fill="#555">${esc(spec.subtitle)}</text>`);
  // Grid and ticks.
  for (const t of spec.xLog ? logTicks(x0, x1) : linearTicks(x0, x1)) {
    const x = num(sx(t));
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${tickLabel(t)}</text>`);
  }
  for (const t of spec.yLog ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    const y = num(sy(t));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${tickLabel(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  // Series.
  spec.series.forEach((s, i) => {
    const points = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!spec.yLog || p.y > 0)).sort((a, b) => a.x - b.x);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    if (points.length > 1) {
      const d = points.map((p) => `${num(sx(p.x))},${num(sy(p.y))}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    }
    for (const p of points) out.push(`<circle cx="${num(sx(p.x))}" cy="${num(sy(p.y))}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${tickLabel(p.x)} → ${+p.y.toPrecision(3)}`)}</title></circle>`);
    const ly = m.top + 10 + i * 20;
    const lx = m.left + pw + 14;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
