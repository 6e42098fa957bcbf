import type { ParseEvent } from './events.js';

/**
 * Why a stream or a box was rejected. Every code is fatal for the parser that raised it.
 *
 * - `BAD_SIZE`: a declared size smaller than the box's own header (sizes 1..7, a largesize below
 *   16, a `uuid` box too small for its usertype), or an open-ended size (0) where it is not allowed.
 * - `OVERFLOW`: a child box whose declared size runs past the end of its parent.
 * - `TOO_LARGE`: a box that must be held in memory declares more than the configured limit, a
 *   unit grows past its limit before its media data, or a size is beyond 2^53 - 1.
 * - `JUNK`: bytes where a top-level box header should be are not one: a type with control bytes,
 *   or a first box whose type is no known top-level type (text, HTML, MPEG-TS sent as MP4).
 * - `TRUNCATED`: the stream ended inside a box, or a box's payload is shorter than its fields.
 * - `MOOF_WITHOUT_MDAT`: a `moof` followed by another `moof`, `ftyp`, `moov` or the end of stream.
 * - `BAD_BOX`: a box boxstream parses (ftyp, moov, moof and their children, styp, prft, emsg,
 *   sidx) is too short for the fields its version and flags announce.
 * - `TOO_DEEP`: boxes nested deeper than the configured depth limit.
 * - `ENDED`: `push()` after `end()`.
 */
export type BoxStreamErrorCode =
  | 'BAD_SIZE'
  | 'OVERFLOW'
  | 'TOO_LARGE'
  | 'JUNK'
  | 'TRUNCATED'
  | 'MOOF_WITHOUT_MDAT'
  | 'BAD_BOX'
  | 'TOO_DEEP'
  | 'ENDED';

/** The typed error every part of boxstream throws for bad input. */
export class BoxStreamError extends Error {
  /** What went wrong; stable, safe to switch on. */
  readonly code: BoxStreamErrorCode;
  /** Absolute byte offset in the stream (or in the bytes given to a helper) of the offending box. */
  readonly offset: number;
  /** Four-character type of the offending box, when its header could be read. */
  readonly boxType: string | undefined;
  /**
   * Declared size of the offending box (0 = open-ended), when its header could be read: a
   * number, or an exact bigint for a 64-bit size beyond 2^53 - 1.
   */
  readonly size: number | bigint | undefined;
  /**
   * Events the failing `push()`/`end()` call completed before the error, in order. They are
   * valid and complete: deliver them before handling the error, so that nothing is lost.
   */
  events: readonly ParseEvent[] = [];

  constructor(code: BoxStreamErrorCode, message: string, offset: number, boxType?: string, size?: number | bigint) {
    const where = boxType === undefined ? `at offset ${offset}` : `in '${printableType(boxType)}' box at offset ${offset}`;
    const declared = size === undefined ? '' : ` (declared size ${size})`;
    super(`${message} ${where}${declared}`);
    this.name = 'BoxStreamError';
    this.code = code;
    this.offset = offset;
    this.boxType = boxType;
    this.size = size;
  }
}

/**
 * A box type as it can be printed: itself when every byte is a printable Latin-1 character
 * (`moof`, `©nam`), else its four bytes in hex (`0x00016d0a`), so that an error message never
 * carries control bytes into a terminal or a log line.
 */
export function printableType(type: string): string {
  let printable = true;
  let hex = '0x';
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) printable = false;
    hex += (c < 16 ? '0' : '') + c.toString(16);
  }
  return printable ? type : hex;
}
