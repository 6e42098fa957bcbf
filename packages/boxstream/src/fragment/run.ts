// Field layouts of tfhd and trun (ISO/IEC 14496-12 8.8.7, 8.8.8): where each optional field
// lies, read once per box so that the per-sample loops only add offsets.
import { u32, u64 } from '../bytes.js';
import type { BoxCursor } from '../boxes.js';
import { fullBoxFlags } from '../fields.js';

export const TFHD = 0x74666864;
export const TFDT = 0x74666474;
export const TRUN = 0x7472756e;

// tfhd flags
const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

// trun flags
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;

const TWO_32 = 2 ** 32;

/** The tfdt the cursor is on: baseMediaDecodeTime, exact, without BigInt arithmetic below 2^53. */
export function readTfdt(c: BoxCursor): bigint {
  const b = c.bytes;
  const v1 = b[c.start] === 1;
  c.require(v1 ? 12 : 8);
  if (!v1) return BigInt(u32(b, c.start + 4));
  const hi = u32(b, c.start + 4);
  return hi < 0x200000 ? BigInt(hi * TWO_32 + u32(b, c.start + 8)) : u64(b, c.start + 4);
}

/** What a tfhd says: the track, where its data is based, and the defaults its truns fall back on. */
export interface Tfhd {
  trackId: number;
  /** base_data_offset (an absolute file offset), when present. */
  baseDataOffset: number | undefined;
  /** default-base-is-moof: data offsets count from the moof's first byte. */
  baseIsMoof: boolean;
  duration: number | undefined;
  size: number | undefined;
  flags: number | undefined;
}

/** A Tfhd to fill (the moof reader keeps one and reuses it: no allocation per traf). */
export function newTfhd(): Tfhd {
  return { trackId: 0, baseDataOffset: undefined, baseIsMoof: false, duration: undefined, size: undefined, flags: undefined };
}

/** Reads the tfhd the cursor is on into `into`. */
export function readTfhd(c: BoxCursor, into: Tfhd = newTfhd()): Tfhd {
  const b = c.bytes;
  c.require(8);
  const flags = fullBoxFlags(b, c.start);
  let at = c.start + 8;
  const baseAt = flags & TFHD_BASE_DATA_OFFSET ? at : -1;
  if (baseAt >= 0) at += 8;
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) at += 4;
  const durationAt = flags & TFHD_DEFAULT_DURATION ? at : -1;
  if (durationAt >= 0) at += 4;
  const sizeAt = flags & TFHD_DEFAULT_SIZE ? at : -1;
  if (sizeAt >= 0) at += 4;
  const flagsFieldAt = flags & TFHD_DEFAULT_FLAGS ? at : -1;
  if (flagsFieldAt >= 0) at += 4;
  c.require(at - c.start);
  into.trackId = u32(b, c.start + 4);
  into.baseDataOffset = baseAt >= 0 ? u32(b, baseAt) * 2 ** 32 + u32(b, baseAt + 4) : undefined;
  into.baseIsMoof = (flags & TFHD_DEFAULT_BASE_IS_MOOF) !== 0;
  into.duration = durationAt >= 0 ? u32(b, durationAt) : undefined;
  into.size = sizeAt >= 0 ? u32(b, sizeAt) : undefined;
  into.flags = flagsFieldAt >= 0 ? u32(b, flagsFieldAt) : undefined;
  return into;
}

/** Where a trun's fields lie: per-sample field offsets are relative to each sample's record. */
export interface RunLayout {
  count: number;
  /** data_offset (signed), when present. */
  dataOffset: number | undefined;
  firstSampleFlags: number | undefined;
  /** Index of the first sample record. */
  samplesAt: number;
  /** Bytes per sample record. */
  stride: number;
  /** Offsets within a record, -1 when the field is absent. */
  durationAt: number;
  sizeAt: number;
  flagsAt: number;
  ctoAt: number;
  /** Version 1: composition offsets are signed. */
  signedCto: boolean;
}

/** A RunLayout to fill (reused like `newTfhd()`'s). */
export function newRunLayout(): RunLayout {
  return { count: 0, dataOffset: undefined, firstSampleFlags: undefined, samplesAt: 0, stride: 0, durationAt: -1, sizeAt: -1, flagsAt: -1, ctoAt: -1, signedCto: false };
}

/** Reads the layout of the trun the cursor is on into `into`; checks that every record fits the box. */
export function runLayout(c: BoxCursor, into: RunLayout = newRunLayout()): RunLayout {
  const b = c.bytes;
  c.require(8);
  const flags = fullBoxFlags(b, c.start);
  const count = u32(b, c.start + 4);
  let p = c.start + 8;
  let dataOffset: number | undefined;
  if (flags & TRUN_DATA_OFFSET) {
    c.require(p - c.start + 4);
    dataOffset = u32(b, p) | 0;
    p += 4;
  }
  let firstSampleFlags: number | undefined;
  if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
    c.require(p - c.start + 4);
    firstSampleFlags = u32(b, p);
    p += 4;
  }
  let stride = 0;
  into.durationAt = flags & TRUN_DURATION ? (stride += 4) - 4 : -1;
  into.sizeAt = flags & TRUN_SIZE ? (stride += 4) - 4 : -1;
  into.flagsAt = flags & TRUN_FLAGS ? (stride += 4) - 4 : -1;
  into.ctoAt = flags & TRUN_CTO ? (stride += 4) - 4 : -1;
  // Checked before any loop: a huge sample_count in a small box must not make us spin.
  c.require(p - c.start + count * stride);
  into.count = count;
  into.dataOffset = dataOffset;
  into.firstSampleFlags = firstSampleFlags;
  into.samplesAt = p;
  into.stride = stride;
  into.signedCto = b[c.start] !== 0;
  return into;
}
