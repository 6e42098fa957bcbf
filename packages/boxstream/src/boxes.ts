import { BoxStreamError } from './errors.js';
import { readBoxHeader, type BoxHeader } from './header.js';

/** A box found inside a byte range, with where its payload lies in those bytes. */
export interface ChildBox extends BoxHeader {
  /** Index in the bytes of the first payload byte (after the header). */
  start: number;
  /** Index in the bytes one past the last payload byte. */
  end: number;
}

/**
 * Reads the boxes that lie back to back in `bytes[from, to)` (the payload of a parent box, or a
 * whole file). `base` is the absolute offset of `bytes[0]`, used in headers and errors.
 * A size of 0 means "to the end of the range". Throws `OVERFLOW` when a child runs past `to`,
 * `TRUNCATED` when a header does not fit, and the header errors of `readBoxHeader`.
 */
export function readChildren(bytes: Uint8Array, from = 0, to = bytes.length, base = 0): ChildBox[] {
  const out: ChildBox[] = [];
  let at = from;
  while (at < to) {
    const h = readBoxHeader(bytes, at, to, base);
    if (h === null) {
      throw new BoxStreamError('TRUNCATED', 'box header runs past the end of its parent', base + at);
    }
    const size = h.size === 0 ? to - at : h.size;
    if (at + size > to) {
      throw new BoxStreamError('OVERFLOW', 'box size overflows its parent', h.offset, h.type, h.size);
    }
    // Built field by field (no spread): spreads are slow and give objects varying shapes.
    out.push({ type: h.type, offset: h.offset, size: h.size, headerSize: h.headerSize, usertype: h.usertype, start: at + h.headerSize, end: at + size });
    at += size;
  }
  return out;
}

/**
 * Where the children of a container box start within its payload. Plain containers hold boxes
 * straight away; FullBox containers (`meta`, `stsd`, `dref`) and sample entries have fields first.
 */
const CONTAINERS: Record<string, number> = {
  moov: 0, trak: 0, mdia: 0, minf: 0, stbl: 0, mvex: 0, edts: 0, dinf: 0, udta: 0,
  moof: 0, traf: 0, mfra: 0, sinf: 0, schi: 0, rinf: 0, ilst: 0,
  meta: 4, stsd: 8, dref: 8,
  // Visual sample entries: 8 bytes SampleEntry + 70 bytes VisualSampleEntry fields.
  avc1: 78, avc3: 78, hvc1: 78, hev1: 78, vp09: 78, av01: 78, encv: 78, dvh1: 78, dvhe: 78,
  // Audio sample entries: 8 bytes SampleEntry + 20 bytes AudioSampleEntry fields.
  mp4a: 28, enca: 28, 'ac-3': 28, 'ec-3': 28, Opus: 28, fLaC: 28,
};

/** One step of `walkBoxes`. */
export interface WalkedBox extends ChildBox {
  /** 0 for the boxes given, 1 for their children, and so on. */
  depth: number;
  /** Types from the outermost box down to this one, e.g. `['moov', 'trak', 'tkhd']`. */
  path: readonly string[];
}

/** Options of `walkBoxes`. */
export interface WalkOptions {
  /** Absolute offset of `bytes[0]`, for offsets in headers and errors. Default 0. */
  base?: number;
  /** Deepest nesting allowed; deeper boxes throw `TOO_DEEP`. Default 32. */
  maxDepth?: number;
}

/**
 * Walks every box in `bytes` depth-first, descending into the containers boxstream knows
 * (moov, trak, mdia, minf, stbl, stsd, sample entries, moof, traf, mfra, meta, ...). Bounded:
 * children never read past their parent, and nesting deeper than `maxDepth` throws `TOO_DEEP`.
 *
 * @example
 * for (const box of walkBoxes(bytes)) console.log('  '.repeat(box.depth) + box.type, box.size);
 */
export function* walkBoxes(bytes: Uint8Array, options: WalkOptions = {}): Generator<WalkedBox> {
  const base = options.base ?? 0;
  const maxDepth = options.maxDepth ?? 32;
  function* walk(from: number, to: number, depth: number, path: readonly string[]): Generator<WalkedBox> {
    for (const child of readChildren(bytes, from, to, base)) {
      const here = [...path, child.type];
      if (depth > maxDepth) {
        throw new BoxStreamError('TOO_DEEP', `boxes nested deeper than ${maxDepth}`, child.offset, child.type, child.size);
      }
      yield { ...child, depth, path: here } as WalkedBox;
      const skip = CONTAINERS[child.type];
      if (skip !== undefined && child.start + skip <= child.end) {
        yield* walk(child.start + skip, child.end, depth + 1, here);
      }
    }
  }
  yield* walk(0, bytes.length, 0, []);
}

/** The first child of type `type` in `bytes[from, to)`, or undefined. */
export function findChild(bytes: Uint8Array, from: number, to: number, type: string, base = 0): ChildBox | undefined {
  for (const child of readChildren(bytes, from, to, base)) if (child.type === type) return child;
  return undefined;
}
