import { fourcc, hex, u32, u64, u64Number } from './bytes.js';
import { BoxStreamError } from './errors.js';

/** One box header, read exactly as ISO/IEC 14496-12 4.2 lays it out. */
export interface BoxHeader {
  /** Four-character type, one Latin-1 character per byte (any 32-bit value is accepted). */
  type: string;
  /** Absolute offset of the box's first byte. */
  offset: number;
  /** Declared size including the header (from `largesize` when size == 1); 0 = open-ended. */
  size: number;
  /** Header length: 8, 16 (largesize), 24 (uuid) or 32 (largesize + uuid). */
  headerSize: number;
  /** For `uuid` boxes, the 16-byte extended type as 32 lower-case hex digits. */
  usertype: string | undefined;
}

/**
 * The top-level types of every chunk, by their 32-bit code: a header names them with these
 * literals instead of a new string per box (no allocation, and Set lookups and comparisons
 * against the parser's constants find an already hashed, internalized string).
 */
const COMMON_TYPES = new Map<number, string>(['moof', 'mdat', 'styp', 'prft', 'emsg', 'sidx', 'free', 'ftyp', 'moov'].map((t) => [codeOf(t), t]));

function codeOf(type: string): number {
  return ((type.charCodeAt(0) << 24) | (type.charCodeAt(1) << 16) | (type.charCodeAt(2) << 8) | type.charCodeAt(3)) >>> 0;
}

/** The longest possible box header: size + type + largesize + usertype. */
export const MAX_HEADER_SIZE = 32;

/**
 * Reads the box header at `at` in `bytes`, using at most the bytes before `end`.
 * Returns `null` when those bytes are not enough to hold the whole header (the caller decides
 * whether that means "wait for more" or "truncated"). `base` is added to `at` to give the
 * absolute offset reported in the header and in errors.
 *
 * Throws `BoxStreamError` with `BAD_SIZE` for a size smaller than the header and
 * `TOO_LARGE` for a 64-bit size beyond 2^53 - 1.
 */
export function readBoxHeader(bytes: Uint8Array, at: number, end: number, base = 0): BoxHeader | null {
  if (end - at < 8) return null;
  let size = u32(bytes, at);
  const type = COMMON_TYPES.get(u32(bytes, at + 4)) ?? fourcc(bytes, at + 4);
  let headerSize = 8;
  const offset = base + at;
  if (size === 1) {
    if (end - at < 16) return null;
    size = u64Number(bytes, at + 8);
    if (size < 0) {
      const exact = u64(bytes, at + 8);
      throw new BoxStreamError('TOO_LARGE', `largesize ${exact} beyond 2^53 - 1 is not supported`, offset, type, exact);
    }
    headerSize = 16;
    // A largesize of 0 is not "open-ended" (only a 32-bit size of 0 is): reject it, since
    // treating it as a zero-length box would never advance.
    if (size < 16) {
      throw new BoxStreamError('BAD_SIZE', 'largesize smaller than its header', offset, type, size);
    }
  } else if (size !== 0 && size < 8) {
    throw new BoxStreamError('BAD_SIZE', 'box size smaller than its header', offset, type, size);
  }
  let usertype: string | undefined;
  if (type === 'uuid') {
    if (end - at < headerSize + 16) return null;
    usertype = hex(bytes, at + headerSize, 16);
    headerSize += 16;
  }
  if (size !== 0 && size < headerSize) {
    throw new BoxStreamError('BAD_SIZE', 'box size smaller than its header', offset, type, size);
  }
  return { type, offset, size, headerSize, usertype };
}
