// Plain-text tables for stdout and for pasting into READMEs (GitHub markdown).

export type Align = 'left' | 'right';

export interface Column {
  title: string;
  align?: Align;
}

/** A markdown table whose columns are padded, so it reads well in a terminal too. */
export function formatTable(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.title.length, 3, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number): string =>
    columns[i].align === 'right' ? s.padStart(widths[i]) : s.padEnd(widths[i]);
  const line = (cells: string[]): string => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i].align === 'right' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(columns.map((c) => c.title)), rule, ...rows.map(line)].join('\n');
}

/** A number with `digits` significant digits at most, without exponent notation. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const decimals = abs >= 10 ** digits ? 0 : Math.max(0, digits - 1 - Math.floor(Math.log10(abs || 1)));
  return n.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}
