import { u32, u64 } from './bytes.js';
import { readChildren, type ChildBox } from './boxes.js';
import { BoxStreamError } from './errors.js';
import { requirePayload, type InitInfo, type TrackInfo } from './moov.js';

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

function flagsOf(b: Uint8Array, box: ChildBox): number {
  return (b[box.start + 1] << 16) | (b[box.start + 2] << 8) | b[box.start + 3];
}

function readTraf(b: Uint8Array, traf: ChildBox, base: number, tracks: readonly TrackInfo[] | undefined): TrackFragmentInfo {
  const children = readChildren(b, traf.start, traf.end, base);
  const tfhd = children.find((c) => c.type === 'tfhd');
  if (!tfhd) throw new BoxStreamError('BAD_BOX', "'traf' without tfhd", traf.offset, traf.type, traf.size);
  requirePayload(tfhd, 8);
  const tfhdFlags = flagsOf(b, tfhd);
  const trackId = u32(b, tfhd.start + 4);
  let at = tfhd.start + 8;
  if (tfhdFlags & TFHD_BASE_DATA_OFFSET) at += 8;
  if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION_INDEX) at += 4;
  let defaultDuration: number | undefined;
  let defaultFlags: number | undefined;
  const need = (n: number) => requirePayload(tfhd, at - tfhd.start + n);
  if (tfhdFlags & TFHD_DEFAULT_DURATION) {
    need(4);
    defaultDuration = u32(b, at);
    at += 4;
  }
  if (tfhdFlags & TFHD_DEFAULT_SIZE) at += 4;
  if (tfhdFlags & TFHD_DEFAULT_FLAGS) {
    need(4);
    defaultFlags = u32(b, at);
    at += 4;
  }
  need(0);

  const track = tracks?.find((t) => t.trackId === trackId);
  if (defaultDuration === undefined) defaultDuration = track?.trex?.sampleDuration;
  const fallbackFlags = defaultFlags ?? track?.trex?.sampleFlags;

  const info: TrackFragmentInfo = {
    trackId,
    baseMediaDecodeTime: undefined,
    sampleCount: 0,
    duration: 0,
    timescale: track?.timescale,
    keyframe: undefined,
  };
  let firstSampleSeen = false;
  for (const box of children) {
    if (box.type === 'tfdt') {
      const v1 = b[box.start] === 1;
      requirePayload(box, v1 ? 12 : 8);
      info.baseMediaDecodeTime = v1 ? u64(b, box.start + 4) : BigInt(u32(b, box.start + 4));
    } else if (box.type === 'trun') {
      requirePayload(box, 8);
      const flags = flagsOf(b, box);
      const count = u32(b, box.start + 4);
      let p = box.start + 8;
      if (flags & TRUN_DATA_OFFSET) p += 4;
      let firstSampleFlags: number | undefined;
      if (flags & TRUN_FIRST_SAMPLE_FLAGS) {
        requirePayload(box, p - box.start + 4);
        firstSampleFlags = u32(b, p);
        p += 4;
      }
      const perSample =
        (flags & TRUN_DURATION ? 4 : 0) + (flags & TRUN_SIZE ? 4 : 0) + (flags & TRUN_FLAGS ? 4 : 0) + (flags & TRUN_CTO ? 4 : 0);
      // Checked before the loop: a huge sample_count in a small box must not make us spin.
      requirePayload(box, p - box.start + count * perSample);
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
  for (const box of readChildren(b, moof.start, moof.end, base)) {
    if (box.type === 'mfhd') {
      requirePayload(box, 8);
      info.sequenceNumber = u32(b, box.start + 4);
    } else if (box.type === 'traf') {
      info.tracks.push(readTraf(b, box, base, init?.tracks));
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
  for (const box of readChildren(bytes, 0, bytes.length, base)) {
    if (box.type === 'moof') return readMoof(bytes, box, base, init);
  }
  throw new BoxStreamError('BAD_BOX', 'no moof box in the given bytes', base);
}
