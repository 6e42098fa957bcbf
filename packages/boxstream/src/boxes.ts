import { fourcc, hex, u32, u64Number } from './bytes.js';
import { BoxStreamError } from './errors.js';
import type { BoxHeader } from './header.js';

/** A box found inside a byte range, with where its payload lies in those bytes. */
export interface ChildBox extends BoxHeader {
  /** Index in the bytes of the first payload byte (after the header). */
  start: number;
  /** Index in the bytes one past the last payload byte. */
  end: number;
}

const UUID = 0x75756964; // 'uuid'

/**
 * Steps through the boxes that lie back to back in `bytes[from, to)` without allocating per box:
 * after each `next()` that returns true, the fields describe the current box. The type is kept
 * as a 32-bit `code` (compare with constants); `type` builds the string when it is needed.
 *
 * Bounded: a size of 0 means "to the end of the range"; a box running past `to` throws
 * `OVERFLOW`, a header that does not fit `TRUNCATED`, sizes smaller than a header `BAD_SIZE`.
 */
export class BoxCursor {
  /** The type as a big-endian 32-bit integer. */
  code = 0;
  /** Declared size (0 = to the end of the range). */
  size = 0;
  headerSize = 0;
  /** Index of the box's first byte. */
  index = 0;
  /** Index of the first payload byte. */
  start = 0;
  /** Index one past the last payload byte. */
  end = 0;
  private at: number;

  constructor(
    public bytes: Uint8Array,
    from: number,
    private to: number,
    /** Absolute offset of `bytes[0]`, for offsets and errors. */
    public base = 0,
  ) {
    this.at = from;
  }

  /** Starts over on the boxes of `bytes[from, to)`: one cursor serves many ranges, allocation free. */
  restart(from: number, to: number): this {
    this.at = from;
    this.to = to;
    return this;
  }

  /** Starts over on other bytes (whose `bytes[0]` lies at absolute offset `base`). */
  reset(bytes: Uint8Array, from: number, to: number, base: number): this {
    this.bytes = bytes;
    this.base = base;
    return this.restart(from, to);
  }

  /** The current box's four-character type. */
  get type(): string {
    return fourcc(this.bytes, this.index + 4);
  }

  /** Absolute offset of the current box. */
  get offset(): number {
    return this.base + this.index;
  }

  /** Moves to the next box; false at the end of the range. */
  next(): boolean {
    const b = this.bytes;
    const at = this.at;
    const to = this.to;
    if (at >= to) return false;
    this.index = at;
    if (to - at < 8) {
      // QuickTime ends some containers (udta) with a 32-bit zero terminator: not a box.
      if (to - at === 4 && u32(b, at) === 0) return false;
      this.fail('TRUNCATED', 'box header runs past the end of its parent');
    }
    let size = u32(b, at);
    let headerSize = 8;
    let extent = size;
    if (size === 1) {
      if (to - at < 16) this.fail('TRUNCATED', 'box header runs past the end of its parent');
      size = extent = u64Number(b, at + 8);
      if (size < 0) this.fail('TOO_LARGE', 'largesize beyond 2^53 - 1 is not supported');
      if (size < 16) this.fail('BAD_SIZE', 'largesize smaller than its header', size);
      headerSize = 16;
    } else if (size === 0) {
      extent = to - at;
    } else if (size < 8) {
      this.fail('BAD_SIZE', 'box size smaller than its header', size);
    }
    const code = u32(b, at + 4);
    if (code === UUID) {
      headerSize += 16;
      if (to - at < headerSize) this.fail('TRUNCATED', 'box header runs past the end of its parent');
      if (size !== 0 && size < headerSize) this.fail('BAD_SIZE', 'box size smaller than its header', size);
    }
    if (at + extent > to) this.fail('OVERFLOW', 'box size overflows its parent', size);
    this.code = code;
    this.size = size;
    this.headerSize = headerSize;
    this.start = at + headerSize;
    this.end = at + extent;
    this.at = at + extent;
    return true;
  }

  /** Throws a header error for the box at `index` (a method, so `next()` allocates no closure). */
  private fail(code: 'TRUNCATED' | 'BAD_SIZE' | 'TOO_LARGE' | 'OVERFLOW', message: string, size?: number): never {
    const at = this.index;
    throw new BoxStreamError(code, message, this.base + at, this.to - at >= 8 ? fourcc(this.bytes, at + 4) : undefined, size);
  }

  /** Throws `BAD_BOX` unless the current box has at least `need` payload bytes. */
  require(need: number): void {
    if (this.end - this.start < need) {
      throw new BoxStreamError('BAD_BOX', `'${this.type}' payload shorter than its fields`, this.offset, this.type, this.size);
    }
  }
}

/**
 * Reads the boxes that lie back to back in `bytes[from, to)` (the payload of a parent box, or a
 * whole file). `base` is the absolute offset of `bytes[0]`, used in headers and errors.
 * A size of 0 means "to the end of the range". Throws `OVERFLOW` when a child runs past `to`,
 * `TRUNCATED` when a header does not fit, and `BAD_SIZE` / `TOO_LARGE` for impossible sizes.
 */
export function readChildren(bytes: Uint8Array, from = 0, to = bytes.length, base = 0): ChildBox[] {
  const out: ChildBox[] = [];
  const c = new BoxCursor(bytes, from, to, base);
  while (c.next()) {
    const usertype = c.code === UUID ? hex(bytes, c.start - 16, 16) : undefined;
    out.push({ type: c.type, offset: base + c.index, size: c.size, headerSize: c.headerSize, usertype, start: c.start, end: c.end });
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

/**
 * Where `box`'s children start in its payload, or undefined when it is no container. Handles the
 * QuickTime variants: a `meta` without version and flags (its first child follows at once) and
 * sound sample entries of version 1 (16 more bytes) and 2 (36 more).
 */
function childrenOffset(b: Uint8Array, box: ChildBox): number | undefined {
  const skip = CONTAINERS[box.type];
  if (skip === undefined) return undefined;
  if (box.type === 'meta' && box.end - box.start >= 8 && fourcc(b, box.start + 4) === 'hdlr') return 0;
  if (skip === 28 && box.end - box.start >= 10) {
    const version = (b[box.start + 8] << 8) | b[box.start + 9];
    if (version === 1) return 44;
    if (version === 2) return 64;
  }
  return skip;
}

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
      const skip = childrenOffset(bytes, child);
      if (skip !== undefined && child.start + skip <= child.end) {
        yield* walk(child.start + skip, child.end, depth + 1, here);
      }
    }
  }
  yield* walk(0, bytes.length, 0, []);
}

/**
 * The first child of type `type` in `bytes[from, to)`, or undefined. Reads no further than that
 * child, so what follows it (a partial mdat, say) is never looked at.
 */
export function findChild(bytes: Uint8Array, from: number, to: number, type: string, base = 0): ChildBox | undefined {
  const c = new BoxCursor(bytes, from, to, base);
  while (c.next()) {
    if (c.type === type) {
      const usertype = c.code === UUID ? hex(bytes, c.start - 16, 16) : undefined;
      return { type, offset: base + c.index, size: c.size, headerSize: c.headerSize, usertype, start: c.start, end: c.end };
    }
  }
  return undefined;
}
