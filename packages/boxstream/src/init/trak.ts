// One track of a CMAF header: trak > tkhd, edts/elst, mdia > mdhd, hdlr, minf/stbl/stsd.
import { findChild, readChildren, type ChildBox } from '../boxes.js';
import { fourcc, u16, u32 } from '../bytes.js';
import { BoxStreamError } from '../errors.js';
import { requirePayload } from '../fields.js';
import type { TrackEncryption } from './protection.js';
import { readSampleEntry } from './sample-entry.js';

/** `trex` defaults: what a track's fragments use when tfhd and trun are silent. */
export interface TrackExtends {
  sampleDescriptionIndex: number;
  sampleDuration: number;
  sampleSize: number;
  sampleFlags: number;
}

/** One `elst` entry. */
export interface EditEntry {
  /** segment_duration, in the movie (mvhd) timescale. */
  segmentDuration: number;
  /** media_time in the track's timescale, or -1 for an empty edit (a delay). */
  mediaTime: number;
  /** media_rate (1 = normal speed). */
  rate: number;
}

/** One track of a CMAF header. */
export interface TrackInfo {
  /** `tkhd` track_ID. */
  trackId: number;
  /** `hdlr` handler type: `vide`, `soun`, `text`, `subt`, `meta`, ... */
  handler: string;
  /** `mdhd` timescale: units per second of decode times and durations. */
  timescale: number;
  /** `mdhd` duration in seconds; undefined when 0 or unknown (a live or fragmented track). */
  duration: number | undefined;
  /** `mdhd` language (ISO 639-2/T), e.g. `und`, `eng`. */
  language: string;
  /** Four-character code of the first sample entry (`avc1`, `hvc1`, `mp4a`, `encv`, ...). */
  codec: string | undefined;
  /**
   * RFC 6381 codec string for a `codecs` parameter (MediaSource, HLS CODECS, DASH @codecs):
   * `avc1.64001f`, `hvc1.1.6.L93.b0`, `av01.0.04M.08`, `vp09.00.10.08`, `mp4a.40.2`, `opus`,
   * `flac`, `ac-3`, `ec-3`, `dvh1.05.06`; an encrypted entry gives its original format's.
   * The four-character code for formats without a known configuration; undefined when the
   * configuration box is malformed.
   */
  codecString: string | undefined;
  /** Visual sample entries: coded width and height in pixels. */
  width?: number;
  height?: number;
  /** `pasp` hSpacing and vSpacing: the pixel aspect ratio, when the entry has one. */
  pixelAspectRatio?: [number, number];
  /** Audio: channels (from dOps, dfLa, dac3 or dec3 when present, else the entry's field). */
  channelCount?: number;
  /** Audio: sampling rate in Hz, exact above 65,535 Hz (from srat, dfLa or the esds). */
  sampleRate?: number;
  /** Bits per second from `btrt` or the esds, when given. */
  maxBitrate?: number;
  avgBitrate?: number;
  /** `sinf`: how the track is encrypted (encv, enca, ...), when it is. */
  encryption?: TrackEncryption;
  /** `edts/elst` entries, in order; empty without an edit list. */
  edits: EditEntry[];
  /**
   * The media time (track timescale) the first non-empty edit starts at: what players subtract
   * from presentation times, e.g. the composition offset of the first frame with B-frames.
   * 0 without an edit list.
   */
  editOffset: number;
  /** `mvex/trex` defaults for this track, when present. */
  trex: TrackExtends | undefined;
}

/** Reads a FullBox time field that is 32-bit in version 0 and 64-bit in version 1. */
function timesAndScale(b: Uint8Array, box: ChildBox): { timescale: number; duration: number } {
  const v1 = b[box.start] === 1;
  requirePayload(box, v1 ? 32 : 20);
  const at = box.start + (v1 ? 20 : 12);
  const duration = v1 ? u32(b, at + 4) * 2 ** 32 + u32(b, at + 8) : u32(b, at + 4);
  return { timescale: u32(b, at), duration };
}

/** A duration in seconds, or undefined when it is 0 or all ones (unknown). */
export function seconds(duration: number, timescale: number): number | undefined {
  if (!timescale || duration === 0 || duration === 0xffffffff || duration >= 2 ** 64 - 2 ** 11) return undefined;
  return duration / timescale;
}

function language(b: Uint8Array, at: number): string {
  const packed = u16(b, at);
  return String.fromCharCode(((packed >> 10) & 31) + 0x60, ((packed >> 5) & 31) + 0x60, (packed & 31) + 0x60);
}

function readElst(b: Uint8Array, elst: ChildBox): EditEntry[] {
  requirePayload(elst, 8);
  const v1 = b[elst.start] === 1;
  const count = u32(b, elst.start + 4);
  const size = v1 ? 20 : 12;
  requirePayload(elst, 8 + count * size);
  const edits: EditEntry[] = [];
  for (let i = 0, at = elst.start + 8; i < count; i++, at += size) {
    const duration = v1 ? u32(b, at) * 2 ** 32 + u32(b, at + 4) : u32(b, at);
    // media_time is signed: -1 marks an empty edit.
    const mediaTime = v1 ? (u32(b, at + 8) | 0) * 2 ** 32 + u32(b, at + 12) : u32(b, at + 4) | 0;
    const rateAt = at + (v1 ? 16 : 8);
    edits.push({ segmentDuration: duration, mediaTime, rate: (u16(b, rateAt) << 16 >> 16) + u16(b, rateAt + 2) / 65536 });
  }
  return edits;
}

export function readTrak(b: Uint8Array, trak: ChildBox, base: number): TrackInfo {
  const tkhd = findChild(b, trak.start, trak.end, 'tkhd', base);
  const mdia = findChild(b, trak.start, trak.end, 'mdia', base);
  if (!tkhd || !mdia) {
    throw new BoxStreamError('BAD_BOX', "'trak' without tkhd or mdia", trak.offset, trak.type, trak.size);
  }
  const v1 = b[tkhd.start] === 1;
  requirePayload(tkhd, v1 ? 24 : 16);
  const track: TrackInfo = {
    trackId: u32(b, tkhd.start + (v1 ? 20 : 12)),
    handler: '',
    timescale: 0,
    duration: undefined,
    language: 'und',
    codec: undefined,
    codecString: undefined,
    edits: [],
    editOffset: 0,
    trex: undefined,
  };
  const edts = findChild(b, trak.start, trak.end, 'edts', base);
  const elst = edts && findChild(b, edts.start, edts.end, 'elst', base);
  if (elst) {
    track.edits = readElst(b, elst);
    track.editOffset = track.edits.find((e) => e.mediaTime >= 0)?.mediaTime ?? 0;
  }
  let stsd: ChildBox | undefined;
  for (const box of readChildren(b, mdia.start, mdia.end, base)) {
    if (box.type === 'mdhd') {
      const { timescale, duration } = timesAndScale(b, box);
      track.timescale = timescale;
      track.duration = seconds(duration, timescale);
      requirePayload(box, b[box.start] === 1 ? 34 : 22);
      track.language = language(b, box.start + (b[box.start] === 1 ? 32 : 20));
    } else if (box.type === 'hdlr') {
      requirePayload(box, 12);
      track.handler = fourcc(b, box.start + 8);
    } else if (box.type === 'minf') {
      const stbl = findChild(b, box.start, box.end, 'stbl', base);
      stsd = stbl && findChild(b, stbl.start, stbl.end, 'stsd', base);
    }
  }
  // Read after the loop: the sample entry's layout depends on the handler.
  if (stsd) {
    requirePayload(stsd, 8);
    const entries = readChildren(b, stsd.start + 8, stsd.end, base);
    if (entries.length > 0) Object.assign(track, readSampleEntry(b, entries[0], track.handler, base));
  }
  return track;
}

/** Reads an `mvhd`'s timescale and duration. */
export function readMvhd(b: Uint8Array, mvhd: ChildBox): { timescale: number; duration: number } {
  return timesAndScale(b, mvhd);
}
