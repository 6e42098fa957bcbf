// What a movie fragment (moof) says: ISO/IEC 14496-12 8.8. mfhd, then per traf: tfhd defaults,
// tfdt, and the truns' sample counts, durations, sizes, first-sample flags and composition offsets.
import { u32 } from '../bytes.js';
import { BoxCursor, findChild } from '../boxes.js';
import { BoxStreamError } from '../errors.js';
import type { InitInfo } from '../init/moov.js';
import type { TrackInfo } from '../init/trak.js';
import { newRunLayout, newTfhd, readTfdt, readTfhd, runLayout, TFDT, TFHD, TRUN } from './run.js';

/** The facts of one `traf` (one track's part of a chunk). */
export interface TrackFragmentInfo {
  /** `tfhd` track_ID. */
  trackId: number;
  /** `tfdt` baseMediaDecodeTime, exact; undefined when the traf has no tfdt. */
  baseMediaDecodeTime: bigint | undefined;
  /**
   * The earliest presentation time of the traf's samples: baseMediaDecodeTime plus the smallest
   * (decode offset + composition offset) over its samples (trun version 1 offsets are signed).
   * Equals baseMediaDecodeTime without composition offsets; undefined without a tfdt or when a
   * duration is unknown. In media time: the edit list (`TrackInfo.editOffset`) is not applied.
   */
  earliestPresentationTime: bigint | undefined;
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
  /**
   * Absolute offset one past the last sample byte the truns point at, when the moof says it
   * relative to itself (default-base-is-moof, or no base offset) and every size is known:
   * where the chunk's media data ends, which may lie beyond its first mdat.
   */
  dataEnd: number | undefined;
}

const NON_SYNC = 0x00010000;
// Scratch filled per traf and per trun: the moof reader is not re-entered, so one of each will do.
const TFHD_SCRATCH = newTfhd();
const RUN_SCRATCH = newRunLayout();
/** Where the last traf read's media data ends (NaN when unknown): a second result without a tuple. */
let trafDataEnd = NaN;
const MFHD = 0x6d666864;
const TRAF = 0x74726166;

function trackById(tracks: readonly TrackInfo[] | undefined, trackId: number): TrackInfo | undefined {
  if (tracks === undefined) return undefined;
  for (let i = 0; i < tracks.length; i++) if (tracks[i].trackId === trackId) return tracks[i];
  return undefined;
}

/**
 * Reads one traf. `dataBase` is where its data starts unless its tfhd says otherwise: the moof's
 * first byte for the first traf, the end of the previous traf's data for the next ones.
 * Returns the facts; leaves where the traf's data ends in `trafDataEnd`.
 */
function readTraf(traf: BoxCursor, box: BoxCursor, tracks: readonly TrackInfo[] | undefined, moofOffset: number, dataBase: number): TrackFragmentInfo {
  const b = traf.bytes;
  // The tfhd comes first in practice (and per spec); look it up before reading the truns.
  const c = box.restart(traf.start, traf.end);
  let tfhd: typeof TFHD_SCRATCH | undefined;
  while (c.next()) {
    if (c.code === TFHD) {
      tfhd = readTfhd(c, TFHD_SCRATCH);
      break;
    }
  }
  if (tfhd === undefined) throw new BoxStreamError('BAD_BOX', "'traf' without tfhd", traf.offset, traf.type, traf.size);

  const track = trackById(tracks, tfhd.trackId);
  const defaultDuration = tfhd.duration ?? track?.trex?.sampleDuration ?? NaN;
  const defaultSize = tfhd.size ?? track?.trex?.sampleSize ?? NaN;
  const fallbackFlags = tfhd.flags ?? track?.trex?.sampleFlags;
  const info: TrackFragmentInfo = {
    trackId: tfhd.trackId,
    baseMediaDecodeTime: undefined,
    earliestPresentationTime: undefined,
    sampleCount: 0,
    duration: undefined,
    timescale: track?.timescale,
    keyframe: undefined,
  };
  // An absolute base_data_offset is a file offset, which need not be a stream offset: unknown.
  const trafBase = tfhd.baseDataOffset !== undefined ? NaN : tfhd.baseIsMoof ? moofOffset : dataBase;
  let dataEnd = trafBase;
  // Decode offset reached (NaN once a duration is unknown), earliest decode + composition offset.
  let decodeOffset = 0;
  let earliest = Infinity;
  let firstSampleSeen = false;
  box.restart(traf.start, traf.end);
  while (box.next()) {
    if (box.code === TFDT) {
      info.baseMediaDecodeTime = readTfdt(box);
    } else if (box.code === TRUN) {
      const run = runLayout(box, RUN_SCRATCH);
      const { count, stride, durationAt, sizeAt, ctoAt } = run;
      if (run.dataOffset !== undefined) dataEnd = trafBase + run.dataOffset;
      if (count > 0 && !firstSampleSeen) {
        firstSampleSeen = true;
        const flags = run.flagsAt >= 0 ? u32(b, run.samplesAt + run.flagsAt) : (run.firstSampleFlags ?? fallbackFlags);
        info.keyframe = flags === undefined ? undefined : (flags & NON_SYNC) === 0;
      }
      info.sampleCount += count;
      if (durationAt < 0 && sizeAt < 0 && ctoAt < 0) {
        // Nothing per sample: no loop.
        if (count > 0 && decodeOffset < earliest) earliest = decodeOffset;
        decodeOffset += count * defaultDuration;
        dataEnd += count * defaultSize;
        continue;
      }
      for (let i = 0, q = run.samplesAt; i < count; i++, q += stride) {
        const at = ctoAt < 0 ? decodeOffset : decodeOffset + (run.signedCto ? u32(b, q + ctoAt) | 0 : u32(b, q + ctoAt));
        if (at < earliest) earliest = at;
        decodeOffset += durationAt < 0 ? defaultDuration : u32(b, q + durationAt);
        dataEnd += sizeAt < 0 ? defaultSize : u32(b, q + sizeAt);
      }
    }
  }
  if (!Number.isNaN(decodeOffset)) {
    info.duration = decodeOffset;
    const base = info.baseMediaDecodeTime;
    // Without composition offsets the earliest is the first sample: the same bigint, no arithmetic.
    if (base !== undefined && earliest !== Infinity) info.earliestPresentationTime = earliest === 0 ? base : base + BigInt(earliest);
  }
  trafDataEnd = dataEnd;
  return info;
}

// The moof's cursor and one for the boxes inside every traf, reused by every read (not re-entered).
const NO_BYTES = new Uint8Array(0);
const MOOF_CURSOR = new BoxCursor(NO_BYTES, 0, 0);
const TRAF_CURSOR = new BoxCursor(NO_BYTES, 0, 0);
/** The trafs read so far of the moof being read (`[0, count)`; older entries are overwritten). */
const TRACKS: TrackFragmentInfo[] = [];

/**
 * Reads a `moof` box whose payload is `b[start, end)`; `b[0]` lies at absolute offset `base`, the
 * moof's first byte at `offset`.
 */
export function readMoof(b: Uint8Array, start: number, end: number, offset: number, base: number, init?: InitInfo): MoofInfo {
  const info: MoofInfo = { sequenceNumber: undefined, tracks: [], dataEnd: undefined };
  const c = MOOF_CURSOR.reset(b, start, end, base);
  const inner = TRAF_CURSOR.reset(b, 0, 0, base);
  try {
    readBoxes(c, inner, info, offset, init);
  } finally {
    // The cursors must not keep the pushed piece (it may be large) alive.
    MOOF_CURSOR.reset(NO_BYTES, 0, 0, 0);
    TRAF_CURSOR.reset(NO_BYTES, 0, 0, 0);
  }
  return info;
}

function readBoxes(c: BoxCursor, inner: BoxCursor, info: MoofInfo, moofOffset: number, init: InitInfo | undefined): void {
  const b = c.bytes;
  let dataEnd = moofOffset;
  let last = 0;
  let count = 0;
  while (c.next()) {
    if (c.code === MFHD) {
      c.require(8);
      info.sequenceNumber = u32(b, c.start + 4);
    } else if (c.code === TRAF) {
      TRACKS[count++] = readTraf(c, inner, init?.tracks, moofOffset, dataEnd);
      dataEnd = trafDataEnd;
      // NaN stays NaN through Math.max.
      last = Math.max(last, dataEnd);
    }
  }
  // An exact-size copy: an array grown by push() would allocate room for 17.
  info.tracks = TRACKS.slice(0, count);
  if (count > 0 && !Number.isNaN(last)) info.dataEnd = last;
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
  return readMoof(bytes, moof.start, moof.end, moof.offset, base, init);
}
