import { fourcc, u16, u32 } from './bytes.js';
import { findChild, readChildren, type ChildBox } from './boxes.js';
import { BoxStreamError } from './errors.js';

/** `trex` defaults: what a track's fragments use when tfhd and trun are silent. */
export interface TrackExtends {
  sampleDescriptionIndex: number;
  sampleDuration: number;
  sampleSize: number;
  sampleFlags: number;
}

/** One track of a CMAF header. */
export interface TrackInfo {
  /** `tkhd` track_ID. */
  trackId: number;
  /** `hdlr` handler type: `vide`, `soun`, `text`, `subt`, `meta`, ... */
  handler: string;
  /** `mdhd` timescale: units per second of decode times and durations. */
  timescale: number;
  /** `mdhd` language (ISO 639-2/T), e.g. `und`, `eng`. */
  language: string;
  /** Four-character code of the first sample entry (`avc1`, `hvc1`, `mp4a`, `encv`, ...). */
  codec: string | undefined;
  /** Visual sample entries: coded width and height in pixels. */
  width?: number;
  height?: number;
  /** Audio sample entries: channel count and sample rate in Hz. */
  channelCount?: number;
  sampleRate?: number;
  /** `mvex/trex` defaults for this track, when present. */
  trex: TrackExtends | undefined;
}

/** What a CMAF header (ftyp + moov) says. */
export interface InitInfo {
  /** `ftyp` major brand, or undefined without an ftyp. */
  majorBrand: string | undefined;
  minorVersion: number | undefined;
  /** `ftyp` compatible brands. */
  compatibleBrands: string[];
  /** `mvhd` timescale. */
  timescale: number | undefined;
  /** True when the moov has an `mvex` box: the media comes in fragments. */
  fragmented: boolean;
  tracks: TrackInfo[];
}

/** Throws `BAD_BOX` unless `box` has at least `need` payload bytes. */
export function requirePayload(box: ChildBox, need: number): void {
  if (box.end - box.start < need) {
    throw new BoxStreamError('BAD_BOX', `'${box.type}' payload shorter than its fields`, box.offset, box.type, box.size);
  }
}

/** Major brand, minor version and compatible brands of an ftyp or styp payload. */
export function readBrands(b: Uint8Array, box: ChildBox): { major: string; minor: number; compatible: string[] } {
  requirePayload(box, 8);
  const compatible: string[] = [];
  for (let i = box.start + 8; i + 4 <= box.end; i += 4) compatible.push(fourcc(b, i));
  return { major: fourcc(b, box.start), minor: u32(b, box.start + 4), compatible };
}

/** Reads a FullBox time field that is 32-bit in version 0 and 64-bit in version 1, as a number. */
function timescaleAfterTimes(b: Uint8Array, box: ChildBox): number {
  const v1 = b[box.start] === 1;
  requirePayload(box, v1 ? 24 : 16);
  return u32(b, box.start + (v1 ? 20 : 12));
}

function language(b: Uint8Array, at: number): string {
  const packed = u16(b, at);
  return String.fromCharCode(((packed >> 10) & 31) + 0x60, ((packed >> 5) & 31) + 0x60, (packed & 31) + 0x60);
}

function readTrak(b: Uint8Array, trak: ChildBox, base: number): TrackInfo {
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
    language: 'und',
    codec: undefined,
    trex: undefined,
  };
  for (const box of readChildren(b, mdia.start, mdia.end, base)) {
    if (box.type === 'mdhd') {
      track.timescale = timescaleAfterTimes(b, box);
      const v = b[box.start] === 1;
      requirePayload(box, v ? 34 : 22);
      track.language = language(b, box.start + (v ? 32 : 20));
    } else if (box.type === 'hdlr') {
      requirePayload(box, 12);
      track.handler = fourcc(b, box.start + 8);
    } else if (box.type === 'minf') {
      const stbl = findChild(b, box.start, box.end, 'stbl', base);
      const stsd = stbl && findChild(b, stbl.start, stbl.end, 'stsd', base);
      if (stsd) {
        requirePayload(stsd, 8);
        const entries = readChildren(b, stsd.start + 8, stsd.end, base);
        if (entries.length > 0) readSampleEntry(b, entries[0], track);
      }
    }
  }
  return track;
}

function readSampleEntry(b: Uint8Array, entry: ChildBox, track: TrackInfo): void {
  track.codec = entry.type;
  const len = entry.end - entry.start;
  if (track.handler === 'vide' && len >= 28) {
    track.width = u16(b, entry.start + 24);
    track.height = u16(b, entry.start + 26);
  } else if (track.handler === 'soun' && len >= 28) {
    track.channelCount = u16(b, entry.start + 16);
    track.sampleRate = u32(b, entry.start + 24) >>> 16;
  }
}

/**
 * Reads the facts of a `moov` box whose payload is `b[box.start, box.end)`.
 * `ftyp` brands are added by the caller when it has one.
 */
export function readMoov(b: Uint8Array, moov: ChildBox, base = 0): InitInfo {
  const info: InitInfo = {
    majorBrand: undefined,
    minorVersion: undefined,
    compatibleBrands: [],
    timescale: undefined,
    fragmented: false,
    tracks: [],
  };
  const trex: TrackExtends[] = [];
  const trexIds: number[] = [];
  for (const box of readChildren(b, moov.start, moov.end, base)) {
    if (box.type === 'mvhd') info.timescale = timescaleAfterTimes(b, box);
    else if (box.type === 'trak') info.tracks.push(readTrak(b, box, base));
    else if (box.type === 'mvex') {
      info.fragmented = true;
      for (const t of readChildren(b, box.start, box.end, base)) {
        if (t.type !== 'trex') continue;
        requirePayload(t, 24);
        trexIds.push(u32(b, t.start + 4));
        trex.push({
          sampleDescriptionIndex: u32(b, t.start + 8),
          sampleDuration: u32(b, t.start + 12),
          sampleSize: u32(b, t.start + 16),
          sampleFlags: u32(b, t.start + 20),
        });
      }
    }
  }
  for (const track of info.tracks) {
    const i = trexIds.indexOf(track.trackId);
    if (i >= 0) track.trex = trex[i];
  }
  return info;
}

/**
 * Parses a CMAF header (init segment): `ftyp` and `moov` and anything around them, given as
 * one byte array. Throws `BoxStreamError` for malformed boxes or when there is no moov.
 *
 * @example
 * const init = parseInit(readFileSync('init.mp4'));
 * console.log(init.tracks.map((t) => `${t.trackId} ${t.handler} ${t.codec} @${t.timescale}`));
 */
export function parseInit(bytes: Uint8Array, base = 0): InitInfo {
  // Reads no further than the moov: the bytes may go on with (part of) a media segment.
  const moov = findChild(bytes, 0, bytes.length, 'moov', base);
  const ftyp = findChild(bytes, 0, moov ? moov.offset - base : bytes.length, 'ftyp', base);
  const info = moov && readMoov(bytes, moov, base);
  const brands = ftyp && readBrands(bytes, ftyp);
  if (!info) throw new BoxStreamError('BAD_BOX', 'init segment without a moov box', base);
  if (brands) {
    info.majorBrand = brands.major;
    info.minorVersion = brands.minor;
    info.compatibleBrands = brands.compatible;
  }
  return info;
}
