// Small big-endian readers over Uint8Array. DataView would allocate per box; these do not.

/** Unsigned 32-bit big-endian integer at `i`. */
export function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
}

/** Unsigned 16-bit big-endian integer at `i`. */
export function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

/** Unsigned 64-bit big-endian integer at `i`, exact. */
export function u64(b: Uint8Array, i: number): bigint {
  return (BigInt(u32(b, i)) << 32n) | BigInt(u32(b, i + 4));
}

/**
 * Unsigned 64-bit big-endian integer at `i` as a number, or -1 when it exceeds
 * Number.MAX_SAFE_INTEGER (the caller decides how to report that).
 */
export function u64Number(b: Uint8Array, i: number): number {
  const hi = u32(b, i);
  if (hi > 0x1fffff) return -1;
  return hi * 0x100000000 + u32(b, i + 4);
}

/**
 * A four-character code as a string, one Latin-1 character per byte, so that `©nam`
 * (0xA9 'n' 'a' 'm') reads as "©nam" and every 32-bit value maps to a distinct string.
 */
export function fourcc(b: Uint8Array, i: number): string {
  return String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);
}

/** Lower-case hex of `len` bytes at `i` (uuid usertypes). */
export function hex(b: Uint8Array, i: number, len: number): string {
  let s = '';
  for (let k = 0; k < len; k++) s += (b[i + k] < 16 ? '0' : '') + b[i + k].toString(16);
  return s;
}

/** One fresh Uint8Array holding the given views back to back. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
