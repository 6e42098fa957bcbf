// What a CMAF header (ftyp + moov) says: brands, movie timescale and duration, tracks, trex
// defaults, pssh boxes.
import { findChild, readChildren, type ChildBox } from '../boxes.js';
import { fourcc, u32 } from '../bytes.js';
import { BoxStreamError } from '../errors.js';
import { requirePayload } from '../fields.js';
import { readPssh, type ProtectionSystem } from './protection.js';
import { readMvhd, readTrak, seconds, type TrackExtends, type TrackInfo } from './trak.js';

/** What a CMAF header (ftyp + moov) says. */
export interface InitInfo {
  /** `ftyp` major brand, or undefined without an ftyp. */
  majorBrand: string | undefined;
  minorVersion: number | undefined;
  /** `ftyp` compatible brands. */
  compatibleBrands: string[];
  /** `mvhd` timescale. */
  timescale: number | undefined;
  /**
   * Seconds: `mvex/mehd` fragment_duration when present (the whole fragmented presentation),
   * else `mvhd` duration; undefined when 0 or unknown, as in a live stream.
   */
  duration: number | undefined;
  /** True when the moov has an `mvex` box: the media comes in fragments. */
  fragmented: boolean;
  tracks: TrackInfo[];
  /** The moov's `pssh` boxes: DRM systems that can decrypt the content. */
  pssh: ProtectionSystem[];
}

/** Major brand, minor version and compatible brands of an ftyp or styp payload. */
export function readBrands(b: Uint8Array, box: ChildBox): { major: string; minor: number; compatible: string[] } {
  requirePayload(box, 8);
  const compatible: string[] = [];
  for (let i = box.start + 8; i + 4 <= box.end; i += 4) compatible.push(fourcc(b, i));
  return { major: fourcc(b, box.start), minor: u32(b, box.start + 4), compatible };
}

function readTrex(b: Uint8Array, trex: ChildBox): [trackId: number, defaults: TrackExtends] {
  requirePayload(trex, 24);
  return [
    u32(b, trex.start + 4),
    {
      sampleDescriptionIndex: u32(b, trex.start + 8),
      sampleDuration: u32(b, trex.start + 12),
      sampleSize: u32(b, trex.start + 16),
      sampleFlags: u32(b, trex.start + 20),
    },
  ];
}

/** `mehd` fragment_duration (32-bit in version 0, 64-bit in version 1), in the movie timescale. */
function readMehd(b: Uint8Array, mehd: ChildBox): number {
  const v1 = b[mehd.start] === 1;
  requirePayload(mehd, v1 ? 12 : 8);
  return v1 ? u32(b, mehd.start + 4) * 2 ** 32 + u32(b, mehd.start + 8) : u32(b, mehd.start + 4);
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
    duration: undefined,
    fragmented: false,
    tracks: [],
    pssh: [],
  };
  const trex = new Map<number, TrackExtends>();
  let movieDuration = 0;
  let fragmentDuration: number | undefined;
  for (const box of readChildren(b, moov.start, moov.end, base)) {
    if (box.type === 'mvhd') {
      const mvhd = readMvhd(b, box);
      info.timescale = mvhd.timescale;
      movieDuration = mvhd.duration;
    } else if (box.type === 'trak') info.tracks.push(readTrak(b, box, base));
    else if (box.type === 'pssh') info.pssh.push(readPssh(b, box));
    else if (box.type === 'mvex') {
      info.fragmented = true;
      for (const t of readChildren(b, box.start, box.end, base)) {
        if (t.type === 'trex') trex.set(...readTrex(b, t));
        else if (t.type === 'mehd') fragmentDuration = readMehd(b, t);
      }
    }
  }
  for (const track of info.tracks) track.trex = trex.get(track.trackId);
  info.duration = seconds(fragmentDuration ?? movieDuration, info.timescale ?? 0);
  return info;
}

/**
 * Parses a CMAF header (init segment): `ftyp` and `moov` and anything around them, given as
 * one byte array. Throws `BoxStreamError` for malformed boxes or when there is no moov.
 *
 * @example
 * const init = parseInit(readFileSync('init.mp4'));
 * console.log(init.tracks.map((t) => `${t.trackId} ${t.handler} ${t.codecString} @${t.timescale}`));
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
