// Per-sample facts of a chunk, read again from its moof only when asked for: the parser's hot
// path reads the totals (fragment/moof.ts), and this costs nothing until it is called.
import { BoxCursor } from '../boxes.js';
import { u32 } from '../bytes.js';
import { BoxStreamError } from '../errors.js';
import type { ChunkEvent } from '../events.js';
import type { InitInfo } from '../init/moov.js';
import { readTfdt, readTfhd, runLayout, TFDT, TFHD, TRUN, type Tfhd } from './run.js';

const TRAF = 0x74726166;
const NON_SYNC = 0x00010000;

/** One sample of a chunk, as its traf and trun describe it. */
export interface Sample {
  trackId: number;
  /** Decode time in the track's timescale: tfdt plus the durations before it; undefined without a tfdt. */
  decodeTime: bigint | undefined;
  /** Composition offset (signed with trun version 1), 0 when the trun has none. */
  compositionOffset: number;
  /** Presentation time = decode time + composition offset (no edit list applied). */
  presentationTime: bigint | undefined;
  /** Duration in timescale units; undefined when nothing says (no trun, tfhd or trex value). */
  duration: number | undefined;
  /** Size in bytes; undefined when nothing says. */
  size: number | undefined;
  /** sample_flags (ISO/IEC 14496-12 8.8.3.1); undefined when nothing says. */
  flags: number | undefined;
  /** True for a sync sample (sample_is_non_sync_sample clear); undefined when flags are unknown. */
  keyframe: boolean | undefined;
  /**
   * Absolute stream offset of the sample's first byte, when the moof places its data relative to
   * itself; undefined with an absolute base_data_offset (a file offset) or unknown sizes.
   */
  offset: number | undefined;
}

/**
 * The chunk's moof: bytes holding it, its payload's range in them, the absolute offset of
 * `bytes[0]`, and the moof's own absolute offset.
 */
function moofOf(chunk: ChunkEvent): { bytes: Uint8Array; at: number; end: number; offset: number; moofOffset: number } | undefined {
  const moof = chunk.boxes.find((b) => b.type === 'moof');
  if (!moof) return undefined;
  const from = moof.offset - chunk.offset;
  const to = from + moof.size;
  // Usually the moof lies in one part: view it; else copy just its bytes.
  let skip = 0;
  for (const part of chunk.parts) {
    if (from >= skip && to <= skip + part.byteLength) {
      return { bytes: part, at: from - skip + moof.headerSize, end: to - skip, offset: moof.offset - (from - skip), moofOffset: moof.offset };
    }
    skip += part.byteLength;
  }
  const bytes = new Uint8Array(moof.size);
  let at = 0;
  skip = 0;
  for (const part of chunk.parts) {
    const lo = Math.max(from, skip);
    const hi = Math.min(to, skip + part.byteLength);
    if (hi > lo) {
      bytes.set(part.subarray(lo - skip, hi - skip), at);
      at += hi - lo;
    }
    skip += part.byteLength;
  }
  return { bytes, at: moof.headerSize, end: moof.size, offset: moof.offset, moofOffset: moof.offset };
}

/**
 * The samples of a chunk, in moof order (traf by traf, trun by trun), read from its moof on
 * demand. Defaults come from the tfhd, then from the trex of `init` (by default the header the
 * parser read the chunk with, `chunk.info.init`). Throws `BoxStreamError` only for what the
 * parser would have rejected already.
 *
 * @example
 * for (const s of samples(chunk)) if (s.keyframe) console.log('keyframe at', s.presentationTime);
 */
export function* samples(chunk: ChunkEvent, init: InitInfo | undefined = chunk.info.init): Generator<Sample> {
  const moof = moofOf(chunk);
  if (!moof) return;
  const b = moof.bytes;
  const trafs = new BoxCursor(b, moof.at, moof.end, moof.offset);
  const moofOffset = moof.moofOffset;
  let dataBase = moofOffset;
  while (trafs.next()) {
    if (trafs.code !== TRAF) continue;
    let tfhd: Tfhd | undefined;
    let decodeTime: bigint | undefined;
    const c = new BoxCursor(b, trafs.start, trafs.end, trafs.base);
    while (c.next()) {
      if (c.code === TFHD) tfhd ??= readTfhd(c);
      else if (c.code === TFDT) decodeTime = readTfdt(c);
    }
    if (!tfhd) continue;
    const trex = init?.tracks.find((t) => t.trackId === tfhd!.trackId)?.trex;
    const defaultDuration = tfhd.duration ?? trex?.sampleDuration;
    const defaultSize = tfhd.size ?? trex?.sampleSize;
    const defaultFlags = tfhd.flags ?? trex?.sampleFlags;
    const trafBase = tfhd.baseDataOffset !== undefined ? NaN : tfhd.baseIsMoof ? moofOffset : dataBase;
    let data = trafBase;
    const runs = new BoxCursor(b, trafs.start, trafs.end, trafs.base);
    while (runs.next()) {
      if (runs.code !== TRUN) continue;
      const run = runLayout(runs);
      // Every sample has at least one byte of media: a count beyond the chunk's bytes is not a
      // stream, and iterating it would take minutes (a trun with no per-sample fields is 16 bytes).
      if (chunk.size > 0 && run.count > chunk.size) {
        throw new BoxStreamError('BAD_BOX', `trun sample_count ${run.count} exceeds the chunk's ${chunk.size} bytes`, runs.offset, 'trun', runs.size);
      }
      if (run.dataOffset !== undefined) data = trafBase + run.dataOffset;
      for (let i = 0, q = run.samplesAt; i < run.count; i++, q += run.stride) {
        const duration = run.durationAt >= 0 ? u32(b, q + run.durationAt) : defaultDuration;
        const size = run.sizeAt >= 0 ? u32(b, q + run.sizeAt) : defaultSize;
        const flags = run.flagsAt >= 0 ? u32(b, q + run.flagsAt) : i === 0 && run.firstSampleFlags !== undefined ? run.firstSampleFlags : defaultFlags;
        const cto = run.ctoAt < 0 ? 0 : run.signedCto ? u32(b, q + run.ctoAt) | 0 : u32(b, q + run.ctoAt);
        yield {
          trackId: tfhd.trackId,
          decodeTime,
          compositionOffset: cto,
          presentationTime: decodeTime === undefined ? undefined : decodeTime + BigInt(cto),
          duration,
          size,
          flags,
          keyframe: flags === undefined ? undefined : (flags & NON_SYNC) === 0,
          offset: Number.isNaN(data) ? undefined : data,
        };
        if (decodeTime !== undefined) decodeTime = duration === undefined ? undefined : decodeTime + BigInt(duration);
        data += size ?? NaN;
      }
    }
    dataBase = data;
  }
}
