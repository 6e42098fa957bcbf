// Single byte ranges (RFC 9110 14.1.2): of a complete object, whose length is known, and of an
// object still being written, whose length is not (the cursor delivers the bytes either way).

/** One `bytes=first-last` range; the only form served (several ranges are ignored, as RFC 9110 allows). */
const RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i;

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
  const m = RANGE.exec(header);
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

/** A range of an object still being written: its first byte and its last (inclusive), or none (open). */
export interface LiveRange {
  start: number;
  /** Inclusive; undefined for an open-ended range (`bytes=N-`), which follows the object to its end. */
  last: number | undefined;
}

/**
 * Reads a `Range` header against an object still being written. Returns undefined to serve the
 * whole body (absent, malformed, several ranges, `bytes=0-`, or a suffix range, whose start
 * depends on a length not known yet).
 */
export function parseLiveRange(header: string | undefined): LiveRange | undefined {
  if (header === undefined) return undefined;
  const m = RANGE.exec(header);
  if (!m || m[1] === '') return undefined;
  const start = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (last !== undefined && last < start) return undefined;
  if (start === 0 && last === undefined) return undefined;
  if (!Number.isSafeInteger(start) || (last !== undefined && !Number.isFinite(last))) return undefined;
  return { start, last };
}
