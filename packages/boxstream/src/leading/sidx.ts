// `sidx`, ISO/IEC 14496-12 8.16.3: the segment index (subsegment sizes, durations, SAPs).
import { findChild, type ChildBox } from '../boxes.js';
import { BoxStreamError } from '../errors.js';
import { u32 } from '../bytes.js';
import { requirePayload } from '../fields.js';

/** One `sidx` reference: a subsegment (or, with `isIndex`, another sidx). */
export interface SegmentReference {
  /** reference_type: true when it points at a sidx, false for media. */
  isIndex: boolean;
  /** referenced_size in bytes. */
  size: number;
  /** subsegment_duration in the sidx timescale. */
  duration: number;
  /** starts_with_SAP. */
  startsWithSap: boolean;
  /** SAP_type (1-6, 0 = unknown). */
  sapType: number;
  /** SAP_delta_time in the sidx timescale. */
  sapDeltaTime: number;
}

/** A `sidx` box. */
export interface SegmentIndex {
  /** reference_ID: the track it indexes. */
  referenceId: number;
  timescale: number;
  /** earliest_presentation_time, exact. */
  earliestPresentationTime: bigint;
  /** first_offset: bytes from the end of this box to the first referenced byte. */
  firstOffset: number;
  references: SegmentReference[];
}

/** Reads a `sidx` box (held whole in `b`). */
export function readSidx(b: Uint8Array, box: ChildBox): SegmentIndex {
  const v1 = b[box.start] !== 0;
  const fixed = v1 ? 32 : 24;
  requirePayload(box, fixed);
  const at = box.start;
  const earliestPresentationTime = v1 ? (BigInt(u32(b, at + 12)) << 32n) | BigInt(u32(b, at + 16)) : BigInt(u32(b, at + 12));
  const firstOffset = v1 ? u32(b, at + 20) * 2 ** 32 + u32(b, at + 24) : u32(b, at + 16);
  const count = (b[at + fixed - 2] << 8) | b[at + fixed - 1];
  requirePayload(box, fixed + count * 12);
  const references: SegmentReference[] = [];
  for (let i = 0, p = at + fixed; i < count; i++, p += 12) {
    const sizeWord = u32(b, p);
    const sapWord = u32(b, p + 8);
    references.push({
      isIndex: sizeWord >= 0x80000000,
      size: sizeWord & 0x7fffffff,
      duration: u32(b, p + 4),
      startsWithSap: sapWord >= 0x80000000,
      sapType: (sapWord >>> 28) & 7,
      sapDeltaTime: sapWord & 0x0fffffff,
    });
  }
  return { referenceId: u32(b, at + 4), timescale: u32(b, at + 8), earliestPresentationTime, firstOffset, references };
}

/**
 * Parses the first `sidx` box in `bytes` (a box on its own, or a segment that holds one).
 * Throws `BoxStreamError` when there is none or it is malformed.
 */
export function parseSidx(bytes: Uint8Array, base = 0): SegmentIndex {
  const box = findChild(bytes, 0, bytes.length, 'sidx', base);
  if (box === undefined) throw new BoxStreamError('BAD_BOX', 'no sidx box in the given bytes', base);
  return readSidx(bytes, box);
}
