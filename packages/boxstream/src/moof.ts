import { u32, u64 } from './bytes.js';
import { BoxCursor, findChild, type ChildBox } from './boxes.js';
import { BoxStreamError } from './errors.js';
import type { InitInfo, TrackInfo } from './moov.js';

/** The facts of one `traf` (one track's part of a chunk). */
export interface TrackFragmentInfo {
  /** `tfhd` track_ID. */
  trackId: number;
  /** `tfdt` baseMediaDecodeTime, exact; undefined when the traf has no tfdt. */
  baseMediaDecodeTime: bigint | undefined;
  /** Samples in all of the traf's `trun` boxes. */
  sampleCount: number;
  /**
   * Sum of the sample durations in timescale units, from trun per-sample durations, else the
   * tfhd default, else the trex default; undefined when none of them says.
   */
  duration: number | undefined;
  /** The track's timescale from the header, when a header was seen. */
  timescale: number | undefined;
  /**
   * Whether the first sample is a sync sample (sample_is_non_sync_sample clear), with flags
   * taken from, in order: trun per-sample flags, trun first_sample_flags, tfhd
   * default_sample_flags, trex default_sample_flags; undefined when none of them says.
   */
  keyframe: boolean | undefined;
}

/** What a `moof` says: mfhd sequence number and one entry per traf. */
export interface MoofInfo {
  /** `mfhd` sequence_number, undefined without an mfhd. */
  sequenceNumber: number | undefined;
  tracks: TrackFragmentInfo[];
}

const NON_SYNC = 0x00010000;

// tfhd flags
const TFHD_BASE_DATA_OFFSET = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02;
const TFHD_DEFAULT_DURATION = 0x08;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;

// trun flags
const TRUN_DATA_OFFSET = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS = 0x04;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;

// Box types as 32-bit integers: compared without building strings.
const MFHD = 0x6d666864;
const TRAF = 0x74726166;
const TFHD = 0x74666864;
const TFDT = 0x74666474;
const TRUN = 0x7472756e;
const TWO_32 = 2 ** 32;

function flagsAt(b: Uint8Array, payload: number): number {
  return (b[payload + 1] << 16) | (b[payload + 2] << 8) | b[payload + 3];
}

/** An exact 64-bit value as a bigint, without BigInt arithmetic when it fits in 53 bits. */
function u64Exact(b: Uint8Array, i: number): bigint {
  const hi = u32(b, i);
  return hi < 0x200000 ? BigInt(hi * TWO_32 + u32(b, i + 4)) : u64(b, i);
}

function trackById(tracks: readonly TrackInfo[] | undefined, trackId: number): TrackInfo | undefined {
  if (tracks === undefined) return undefined;
  for (let i = 0; i < tracks.length; i++) if (tracks[i].trackId === trackId) return tracks[i];
  return undefined;
}

/** What a tfhd says: the track and the defaults its truns fall back on. */
interface TfhdDefaults {
  trackId: number;
  duration: number | undefined;
  flags: number | undefined;
}

function readTfhd(c: BoxCursor): TfhdDefaults {
  const b = c.bytes;
  c.require(8);
  const flags = flagsAt(b, c.start);
  let at = c.start + 8;
  if (flags & TFHD_BASE_DATA_OFFSET) at += 8;
  if (flags & TFHD_SAMPLE_DESCRIPTION_INDEX) at += 4;
  const durationAt = flags & TFHD_DEFAULT_DURATION ? at : -1;
  if (durationAt >= 0) at += 4;
  if (flags & TFHD_DEFAULT_SIZE) at += 4;
  const flagsFieldAt = flags & TFHD_DEFAULT_FLAGS ? at : -1;
  if (flagsFieldAt >= 0) at += 4;
  c.require(at - c.start);
  return {
    trackId: u32(b, c.start + 4),
    duration: durationAt >= 0 ? u32(b, durationAt) : undefined,
    flags: flagsFieldAt >= 0 ? u32(b, flagsFieldAt) : undefined,
  };
}

function readTraf(traf: BoxCursor, tracks: readonly TrackInfo[] | undefined): TrackFragmentInfo {
  const b = traf.bytes;
  // The tfhd comes first in practice (and per spec); look it up before reading the truns.
  const c = new BoxCursor(b, traf.start, traf.end, traf.base);
  let tfhd: TfhdDefaults | undefined;
  while (c.next()) {
    if (c.code === TFHD) {
      tfhd = readTfhd(c);
      break;
    }
  }
  if (tfhd === undefined) throw new BoxStreamError('BAD_BOX', "'traf' without tfhd", traf.offset, traf.type, traf.size);

  const track = trackById(tracks, tfhd.trackId);
  const defaultDuration = tfhd.duration ?? track?.trex?.sampleDuration;
  const fallbackFlags = tfhd.flags ?? track?.trex?.sampleFlags;
  const info: TrackFragmentInfo = {
    trackId: tfhd.trackId,
    baseMediaDecodeTime: undefined,
    sampleCount: 0,
    duration: 0,
    timescale: track?.timescale,
    keyframe: undefined,
  };
  let firstSampleSeen = false;
  const box = new BoxCursor(b, traf.start, traf.end, traf.base);
  while (box.next()) {
    if (box.code === TFDT) {
      const v1 = b[box.start] === 1;
      box.require(v1 ? 12 : 8);
      info.baseMediaDecodeTime = v1 ? u64Exact(b, box.start + 4) : BigInt(u32(b, box.start + 4));
    } else if (box.code === TRUN) {
      box.require(8);
      const flags = flagsAt(b, box.start);
      const count = u32(b, box.start + 4);
      let p = box.start + 8;
      if (flags & TRUN_DATA_OFFSET) p += 4;
      let firstSampleFlags: number | undefined;
      if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
        box.require(p - box.start + 4);
        firstSampleFlags = u32(b, p);
        p += 4;
      }
      const perSample =
        (flags & TRUN_DURATION ? 4 : 0) + (flags & TRUN_SIZE ? 4 : 0) + (flags & TRUN_FLAGS ? 4 : 0) + (flags & TRUN_CTO ? 4 : 0);
      // Checked before the loop: a huge sample_count in a small box must not make us spin.
      box.require(p - box.start + count * perSample);
      info.sampleCount += count;
      if (flags & TRUN_DURATION) {
        // The duration is the first per-sample field.
        let sum = 0;
        for (let i = 0, q = p; i < count; i++, q += perSample) sum += u32(b, q);
        if (info.duration !== undefined) info.duration += sum;
      } else if (defaultDuration !== undefined) {
        if (info.duration !== undefined) info.duration += count * defaultDuration;
      } else {
        info.duration = undefined;
      }
      if (!firstSampleSeen && count > 0) {
        firstSampleSeen = true;
        let sampleFlags: number | undefined;
        if (flags & TRUN_FLAGS) {
          sampleFlags = u32(b, p + (flags & TRUN_DURATION ? 4 : 0) + (flags & TRUN_SIZE ? 4 : 0));
        } else {
          sampleFlags = firstSampleFlags ?? fallbackFlags;
        }
        info.keyframe = sampleFlags === undefined ? undefined : (sampleFlags & NON_SYNC) === 0;
      }
    }
  }
  return info;
}

/** Reads a `moof` box whose payload is `b[moof.start, moof.end)`. */
export function readMoof(b: Uint8Array, moof: ChildBox, base = 0, init?: InitInfo): MoofInfo {
  const info: MoofInfo = { sequenceNumber: undefined, tracks: [] };
  const c = new BoxCursor(b, moof.start, moof.end, base);
  while (c.next()) {
    if (c.code === MFHD) {
      c.require(8);
      info.sequenceNumber = u32(b, c.start + 4);
    } else if (c.code === TRAF) {
      info.tracks.push(readTraf(c, init?.tracks));
    }
  }
  return info;
}

/**
 * Parses the first `moof` box in `bytes` (which may hold more, e.g. a whole segment). With the
 * stream's `init` (from `parseInit`), trex defaults and timescales fill in what the moof omits.
 *
 * @example
 * const { sequenceNumber, tracks } = parseMoof(segmentBytes, parseInit(initBytes));
 */
export function parseMoof(bytes: Uint8Array, init?: InitInfo, base = 0): MoofInfo {
  const moof = findChild(bytes, 0, bytes.length, 'moof', base);
  if (moof === undefined) throw new BoxStreamError('BAD_BOX', 'no moof box in the given bytes', base);
  return readMoof(bytes, moof, base, init);
}
