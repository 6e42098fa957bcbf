// Single byte ranges (RFC 9110 14.1.2) over a complete object's unit list, served as views.

/** An inclusive byte range, as in `Content-Range`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header against an object of `length` bytes. Returns the range to serve,
 * `'unsatisfiable'` (answer 416), or undefined to ignore the header and serve everything
 * (absent, not `bytes`, malformed, or several ranges: all of which RFC 9110 lets a server ignore).
 */
export function parseRange(header: string | undefined, length: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, first, last] = m;
  if (first === '') {
    if (last === '') return undefined;
    const suffix = Number(last);
    if (suffix === 0 || length === 0) return 'unsatisfiable';
    return { start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(first);
  const end = last === '' ? length - 1 : Number(last);
  if (last !== '' && end < start) return undefined;
  if (start >= length) return 'unsatisfiable';
  return { start, end: Math.min(end, length - 1) };
}

/** Views (no copies) of `units` covering bytes [start, end). */
export function sliceUnits(units: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  for (const unit of units) {
    const next = pos + unit.byteLength;
    if (next > start && pos < end) {
      const from = Math.max(start, pos) - pos;
      const to = Math.min(end, next) - pos;
      out.push(from === 0 && to === unit.byteLength ? unit : unit.subarray(from, to));
    }
    if (next >= end) break;
    pos = next;
  }
  return out;
}
