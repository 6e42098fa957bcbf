// One adapter per parser. Each takes the same pre-cut pieces of the same file and returns a tally
// (top-level moof / mdat counts, chunks = moof followed by mdat, the sum of mfhd sequence numbers)
// so the bench can check that every contender really found every chunk and read every moof.
import { Parser, concat, type ParseEvent } from 'boxstream';
import Mp4Frag from 'mp4frag';
import { createFile, MP4BoxBuffer } from 'mp4box';
import ISOBoxer from 'codem-isoboxer';
import { defaultReaderConfig, IsoBoxReadView } from '@svta/cml-iso-bmff';

/** One pushed piece, made before timing: its own ArrayBuffer, tagged with `fileStart` for mp4box. */
export interface Piece {
  /** A view of all of `buffer`. */
  bytes: Uint8Array;
  /** The same bytes as a Node Buffer (a view, no copy), for Node stream parsers. */
  node: Buffer;
  buffer: MP4BoxBuffer;
}

export interface Tally {
  moof: number;
  mdat: number;
  /** Chunks delivered: a moof followed by its mdat. */
  chunks: number;
  /** Sum of mfhd sequence_number over all moofs; null when the contender does not read moofs. */
  seqSum: number | null;
}

export interface Contender {
  id: string;
  label: string;
  /** 'native': the library takes pieces itself. 'reassembled': it parses whole buffers only; the bench frames and re-joins. */
  mode: 'native' | 'reassembled' | 'floor';
  /** Whether it reads each moof's mfhd (its sum of sequence numbers is checked). */
  readsSequence: boolean;
  /** How it is driven (goes into the JSON and the README). */
  method: string;
  run(pieces: readonly Piece[]): Tally;
}

/** Cuts `file` into pieces of `size` bytes (0 = one piece, the whole file). */
export function cut(file: Uint8Array, size: number): Piece[] {
  const step = size > 0 ? size : file.byteLength;
  const pieces: Piece[] = [];
  for (let at = 0; at < file.byteLength; at += step) {
    const n = Math.min(step, file.byteLength - at);
    const buffer = new MP4BoxBuffer(n);
    const bytes = new Uint8Array(buffer);
    bytes.set(file.subarray(at, at + n));
    buffer.fileStart = at;
    pieces.push({ bytes, node: Buffer.from(buffer), buffer });
  }
  return pieces;
}

const MOOF = 0x6d6f6f66;
const MDAT = 0x6d646174;

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/**
 * The floor: reads the size and type of every top-level box across piece boundaries, and nothing
 * else (no event objects, no views, no box parsing). A header split across pieces is gathered
 * byte by byte into a 16-byte scratch.
 */
export function floorScan(pieces: readonly Piece[]): Tally {
  const scratch = new Uint8Array(16);
  let have = 0; // header bytes gathered into scratch
  let next = 0; // absolute offset of the next header
  let at = 0; // absolute offset of the current piece
  let moof = 0;
  let mdat = 0;
  let chunks = 0;
  let prev = 0;
  for (const { bytes } of pieces) {
    const len = bytes.byteLength;
    while (next < at + len) {
      let b = bytes;
      let j = next - at;
      if (have > 0 || j + 16 > len) {
        for (let k = next + have - at; have < 16 && k < len; k++) scratch[have++] = bytes[k];
        if (have < 8 || (u32(scratch, 0) === 1 && have < 16)) break;
        b = scratch;
        j = 0;
      }
      let size = u32(b, j);
      const type = u32(b, j + 4);
      if (size === 1) size = u32(b, j + 8) * 0x100000000 + u32(b, j + 12);
      else if (size === 0) size = Infinity;
      if (size < 8) throw new Error(`floor: bad box size ${size} at ${next}`);
      have = 0;
      if (type === MOOF) moof++;
      else if (type === MDAT) {
        mdat++;
        if (prev === MOOF) chunks++;
      }
      prev = type;
      next += size;
    }
    at += len;
  }
  return { moof, mdat, chunks, seqSum: null };
}

/** The shape of boxstream's Parser shared by today's build and a baseline build from git. */
export type ParserClass = new () => { push(piece: Uint8Array): readonly ParseEvent[]; end(): readonly ParseEvent[] };

/** Drives a boxstream Parser (this build's, or a baseline's): counts chunk events and their moof/mdat. */
export const boxstreamRun = (ParserOf: ParserClass) => (pieces: readonly Piece[]): Tally => {
  const t: Tally = { moof: 0, mdat: 0, chunks: 0, seqSum: 0 };
  const count = (events: readonly ParseEvent[]): void => {
    for (const e of events) {
      if (e.kind !== 'chunk') continue;
      t.chunks++;
      t.seqSum = (t.seqSum as number) + (e.info.sequenceNumber ?? 0);
      for (const b of e.boxes) {
        if (b.type === 'moof') t.moof++;
        else if (b.type === 'mdat') t.mdat++;
      }
    }
  };
  const parser = new ParserOf();
  for (const piece of pieces) count(parser.push(piece.bytes));
  count(parser.end());
  return t;
};

function runMp4frag(pieces: readonly Piece[]): Tally {
  // A Node Transform: its _transform runs synchronously inside write() while nothing is queued,
  // and 'segment' fires there (checked: the counts are complete before end()).
  const frag = new Mp4Frag();
  let segments = 0;
  frag.on('segment', () => segments++);
  frag.on('data', () => undefined); // flowing, so output never backs up into buffered writes
  for (const piece of pieces) frag.write(piece.node);
  frag.end();
  // Each segment is one moof followed by its mdat; mp4frag does not read mfhd.
  return { moof: segments, mdat: segments, chunks: segments, seqSum: null };
}

function runMp4box(pieces: readonly Piece[]): Tally {
  const file = createFile(); // keepMdatData = false: mdat payloads are skipped, not copied
  let ready = false;
  file.onReady = () => {
    ready = true;
  };
  let seen = 0;
  let seqSum = 0;
  for (const piece of pieces) {
    file.appendBuffer(piece.buffer);
    // New moofs appear in file.moofs as soon as they are complete: what a user polls.
    for (; seen < file.moofs.length; seen++) seqSum += file.moofs[seen].mfhd?.sequence_number ?? 0;
  }
  file.flush();
  for (; seen < file.moofs.length; seen++) seqSum += file.moofs[seen].mfhd?.sequence_number ?? 0;
  if (!ready) throw new Error('mp4box: onReady never fired');
  let chunks = 0;
  for (let i = 1; i < file.boxes.length; i++) {
    if (file.boxes[i].type === 'mdat' && file.boxes[i - 1].type === 'moof') chunks++;
  }
  return { moof: file.moofs.length, mdat: file.mdats.length, chunks, seqSum };
}

/** What a parser of whole buffers reports: the complete top-level boxes at the start of `span`. */
interface SpanResult {
  consumed: number;
  types: string[];
  seqSum: number;
}

/** Bytes the first box of `b` needs: its size, or how much header is still needed; Infinity = open-ended. */
function firstBoxNeeds(b: Uint8Array): number {
  if (b.byteLength < 8) return 8;
  const size = u32(b, 0);
  if (size === 0) return Infinity;
  if (size !== 1) return size;
  return b.byteLength < 16 ? 16 : u32(b, 8) * 0x100000000 + u32(b, 12);
}

/**
 * What a user of a whole-buffer parser does with a stream: keep the pieces, peek the pending box's
 * size, and once it is complete join what is pending into one buffer and parse it; keep the
 * bytes after the last complete box for the next round. Every byte is parsed once; the joins
 * (copies) are part of the measured cost. One piece holding complete boxes is parsed in place.
 */
function reassemble(pieces: readonly Piece[], parse: (span: Uint8Array) => SpanResult): Tally {
  const t: Tally = { moof: 0, mdat: 0, chunks: 0, seqSum: 0 };
  let prev = '';
  const take = (r: SpanResult): void => {
    for (const type of r.types) {
      if (type === 'moof') t.moof++;
      else if (type === 'mdat') {
        t.mdat++;
        if (prev === 'moof') t.chunks++;
      }
      prev = type;
    }
    t.seqSum = (t.seqSum as number) + r.seqSum;
  };
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let need = 8;
  for (const { bytes } of pieces) {
    pending.push(bytes);
    pendingBytes += bytes.byteLength;
    if (pendingBytes < need) continue;
    const span = pending.length === 1 ? pending[0] : concat(pending);
    need = firstBoxNeeds(span);
    if (span.byteLength < need) {
      pending = [span];
      continue;
    }
    const r = parse(span);
    take(r);
    const tail = span.subarray(r.consumed);
    pending = tail.byteLength > 0 ? [tail] : [];
    pendingBytes = tail.byteLength;
    need = firstBoxNeeds(tail);
  }
  if (pendingBytes > 0) {
    const span = pending.length === 1 ? pending[0] : concat(pending);
    const r = parse(span);
    take(r);
    if (r.consumed !== span.byteLength) throw new Error(`stream ended inside a box (${span.byteLength - r.consumed} bytes left)`);
  }
  return t;
}

function boxSize(size: number, largesize: number | undefined, rest: number): number {
  return size === 0 ? rest : size === 1 ? (largesize as number) : size;
}

interface CodemBox {
  type?: string;
  size: number;
  largesize?: number;
  _incomplete?: boolean;
  boxes?: CodemBox[];
  sequence_number?: number;
}

function parseCodem(span: Uint8Array): SpanResult {
  // codem reads `buffer.byteLength` and absolute offsets: it needs an ArrayBuffer holding exactly
  // the span, so a view into a larger buffer is copied first.
  const whole = span.byteOffset === 0 && span.byteLength === span.buffer.byteLength;
  const ab = (whole ? span.buffer : span.slice().buffer) as ArrayBuffer;
  const file = ISOBoxer.parseBuffer(ab) as { boxes: CodemBox[] };
  const r: SpanResult = { consumed: 0, types: [], seqSum: 0 };
  for (const box of file.boxes) {
    if (box._incomplete || box.type === undefined) break;
    r.consumed += boxSize(box.size, box.largesize, span.byteLength - r.consumed);
    r.types.push(box.type);
    if (box.type === 'moof') r.seqSum += box.boxes?.find((c) => c.type === 'mfhd')?.sequence_number ?? 0;
  }
  return r;
}

const cmlConfig = defaultReaderConfig();

interface CmlBox {
  type: string;
  size: number;
  largesize?: number;
  boxes?: Array<{ type: string; sequenceNumber?: number }>;
}

function parseCml(span: Uint8Array): SpanResult {
  // The IsoBoxReadView iterator (what readIsoBoxes collects) stops quietly before a truncated
  // box, but throws a RangeError when fewer than 8 header bytes remain: keep what came before.
  const r: SpanResult = { consumed: 0, types: [], seqSum: 0 };
  try {
    for (const item of new IsoBoxReadView(span, cmlConfig)) {
      const box = item as unknown as CmlBox;
      r.consumed += boxSize(box.size, box.largesize, span.byteLength - r.consumed);
      r.types.push(box.type);
      if (box.type === 'moof') r.seqSum += box.boxes?.find((c) => c.type === 'mfhd')?.sequenceNumber ?? 0;
    }
  } catch (err) {
    if (!(err instanceof RangeError) || span.byteLength - r.consumed >= 8) throw err;
  }
  return r;
}

export const contenders: Contender[] = [
  {
    id: 'floor',
    label: 'floor (bare header scan)',
    mode: 'floor',
    method: 'bench code: reads size + type of each top-level box across piece boundaries, counts moof/mdat; no objects, no views, no box parsing',
    readsSequence: false,
    run: floorScan,
  },
  {
    id: 'boxstream',
    label: 'boxstream Parser',
    mode: 'native',
    method: 'new Parser(); push(piece) for every piece, then end(); counts chunk events and reads event.info.sequenceNumber (default options: zero-copy views)',
    readsSequence: true,
    run: boxstreamRun(Parser),
  },
  {
    id: 'mp4frag',
    label: 'mp4frag (Node Transform)',
    mode: 'native',
    method: 'new Mp4Frag(); write(Buffer view of the piece) for every piece, then end(); counts segment events (one per moof + mdat; it reads trun durations and keyframe flags, not mfhd)',
    readsSequence: false,
    run: runMp4frag,
  },
  {
    id: 'mp4box',
    label: 'mp4box.js appendBuffer',
    mode: 'native',
    method: 'createFile() (keepMdatData=false); appendBuffer(piece) with piece.fileStart set (buffers made before timing); polls file.moofs after each append; flush() at the end; onReady must fire',
    readsSequence: true,
    run: runMp4box,
  },
  {
    id: 'codem',
    label: 'codem-isoboxer',
    mode: 'reassembled',
    method: 'ISOBoxer.parseBuffer(ArrayBuffer) on each span of complete top-level boxes; the bench peeks box sizes and joins pending pieces (copies counted); whole-file = one call',
    readsSequence: true,
    run: (pieces) => reassemble(pieces, parseCodem),
  },
  {
    id: 'cml',
    label: '@svta/cml-iso-bmff',
    mode: 'reassembled',
    method: 'iterates new IsoBoxReadView(span, defaultReaderConfig()) (= readIsoBoxes) on each span of complete top-level boxes; the bench peeks box sizes and joins pending pieces (copies counted); whole-file = one call',
    readsSequence: true,
    run: (pieces) => reassemble(pieces, parseCml),
  },
];
