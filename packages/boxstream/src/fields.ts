// Field readers shared by the box readers: payload bounds, FullBox flags, strings.
import type { ChildBox } from './boxes.js';
import { BoxStreamError } from './errors.js';

/** Throws `BAD_BOX` unless `box` has at least `need` payload bytes. */
export function requirePayload(box: ChildBox, need: number): void {
  if (box.end - box.start < need) {
    throw new BoxStreamError('BAD_BOX', `'${box.type}' payload shorter than its fields`, box.offset, box.type, box.size);
  }
}

/** The 24-bit flags of a FullBox whose payload starts at `payload`. */
export function fullBoxFlags(b: Uint8Array, payload: number): number {
  return (b[payload + 1] << 16) | (b[payload + 2] << 8) | b[payload + 3];
}

const utf8 = new TextDecoder('utf-8');

/**
 * A null-terminated UTF-8 string starting at `at` and ending at or before `end`: the string and
 * where the next field starts. A string without its terminator throws `BAD_BOX`.
 */
export function cString(b: Uint8Array, at: number, end: number, box: ChildBox): [string, number] {
  let zero = at;
  while (zero < end && b[zero] !== 0) zero++;
  if (zero >= end) {
    throw new BoxStreamError('BAD_BOX', `'${box.type}' string without its terminating zero`, box.offset, box.type, box.size);
  }
  return [utf8.decode(b.subarray(at, zero)), zero + 1];
}

/** 16 bytes as a lower-case UUID, `8-4-4-4-12` (key ids and DRM system ids). */
export function uuid(b: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += (b[at + i] < 16 ? '0' : '') + b[at + i].toString(16);
  }
  return s;
}
