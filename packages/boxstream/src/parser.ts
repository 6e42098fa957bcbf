import type { ChildBox } from './boxes.js';
import { BoxStreamError } from './errors.js';
import type { BoxEvent, ChunkEvent, ChunkInfo, DataEvent, HeaderEvent, ParseEvent } from './events.js';
import { MAX_HEADER_SIZE, readBoxHeader, type BoxHeader } from './header.js';
import { readMoof, type MoofInfo, type TrackFragmentInfo } from './fragment/moof.js';
import { parseInit, readBrands, readMoov, type InitInfo } from './init/moov.js';
import { readEmsg, type EventMessage } from './leading/emsg.js';
import { readPrft, type ProducerReferenceTime } from './leading/prft.js';
import { readSidx, type SegmentIndex } from './leading/sidx.js';
import { PieceQueue } from './pieces.js';
import { FIRST_TYPES, LEADING_TYPES, PADDING_TYPES, PARSED_LEADING_TYPES, isJunkType } from './units.js';

/** Options of `Parser`. */
export interface ParserOptions {
  /**
   * Largest box the parser will hold in memory to parse or group it (every top-level box but
   * mdat and standalone opaque boxes). A larger declared size throws `TOO_LARGE` as soon as the
   * header is read, before anything is allocated. Default 16 MiB.
   */
  maxBoxSize?: number;
  /**
   * Largest unit (header, chunk or box) delivered whole. A chunk whose mdat would make it larger
   * (or an open-ended one) is delivered progressively: a `chunk` event with `complete: false`
   * carrying its boxes up to the mdat payload, then `data` events as the payload arrives, so an
   * mdat of any size streams through in constant memory. Default 16 MiB.
   */
  maxChunkSize?: number;
  /**
   * Copy each piece as it is pushed, so the caller may reuse or overwrite a buffer as soon as
   * `push()` returns; events' parts are then views of the parser's own copies. Default false:
   * no copy at all, parts are views of the pushed buffers.
   */
  copy?: boolean;
  /**
   * The stream's CMAF header, when the bytes pushed start after it (a media segment fetched on
   * its own): its facts (`parseInit()`) or its bytes. Chunks then get their timescales, trex
   * defaults and durations in seconds as if the header had been pushed first. A header in the
   * stream replaces it.
   */
  init?: InitInfo | Uint8Array;
}

const MiB = 1024 * 1024;

/** What a call that completed nothing returns: one shared, frozen, empty array. */
const NO_EVENTS: readonly ParseEvent[] = Object.freeze([]);
/** A chunk's emsg list when it has none: shared, so chunks without events allocate nothing. */
const NO_EMSG: readonly EventMessage[] = Object.freeze([]);
const NO_BRANDS: readonly string[] = Object.freeze([]);
type Phase = 'idle' | 'header' | 'chunk';

/** A ChildBox for a held top-level box whose bytes are `bytes` (the box alone). */
function asChild(h: BoxHeader, bytes: Uint8Array): ChildBox {
  return { type: h.type, offset: h.offset, size: h.size, headerSize: h.headerSize, usertype: h.usertype, start: h.headerSize, end: bytes.byteLength };
}

/**
 * Incremental ISO-BMFF parser that groups top-level boxes into CMAF units as bytes arrive.
 *
 * Push pieces of any size; each call returns the events those bytes completed, in stream order.
 * Work per call is proportional to the piece plus the events it completes: pieces are kept as
 * views and never re-joined, except to parse a held box (moof, moov, ...) that straddles pieces.
 *
 * Event bytes (`parts`) are views of the pushed pieces: do not reuse or mutate a pushed buffer
 * while its events are in use, or pass `copy: true`.
 *
 * A malformed stream throws `BoxStreamError`; the events completed before the error are on
 * `error.events`. After an error the parser stays failed and throws the same error object again
 * (with the same `events`: deliver them once, from the first throw).
 *
 * @example
 * const parser = new Parser();
 * for await (const piece of request) {
 *   for (const event of parser.push(piece)) {
 *     if (event.kind === 'chunk') console.log(event.info.sequenceNumber, event.size);
 *   }
 * }
 * parser.end();
 */
export class Parser {
  private readonly maxBoxSize: number;
  private readonly maxChunkSize: number;
  private readonly copyPieces: boolean;
  private readonly pieces = new PieceQueue();
  private readonly scratch = new Uint8Array(MAX_HEADER_SIZE);
  /** Where a call collects its events; handed out (spliced) only when it holds some. */
  private readonly completed: ParseEvent[] = [];

  /** Absolute offset of the current box (or of the next header when there is none). */
  private pos = 0;
  /** The top-level box whose payload is not complete yet. */
  private box: BoxHeader | null = null;
  private boxEnd = 0;
  /** Set while the current box is delivered progressively: up to where data was sent. */
  private streaming: 'chunk' | 'box' | null = null;
  private sentUpTo = 0;
  /** The current box is a standalone (no-unit) box delivered whole when it ends. */
  private standalone = false;

  // The unit being assembled.
  private phase: Phase = 'idle';
  private unitStart = 0;
  /**
   * The pending unit's top-level headers: `[0, unitCount)` of a scratch array reused for every
   * unit; each event gets an exact-size copy (`heldBoxes()`), which allocates less than growing
   * a fresh array per unit.
   */
  private readonly unitBoxes: BoxHeader[] = [];
  private unitCount = 0;
  private brands: ReturnType<typeof readBrands> | undefined;
  private styp: string[] | undefined;
  private prft: ProducerReferenceTime | undefined;
  private emsg: EventMessage[] | undefined;
  private sidx: SegmentIndex | undefined;
  private moof: MoofInfo | undefined;
  /** The chunk's first mdat is complete but its moof points at media data beyond it. */
  private moreMdat = false;
  /** Brands of an ftyp that was not followed by its moov (ftyp mdat moov): given to the moov. */
  private looseBrands: ReturnType<typeof readBrands> | undefined;

  /** Start of the current segment (latest styp, or first chunk after a header); -1 = none yet. */
  private segmentBase = -1;
  private failure: BoxStreamError | null = null;
  private ended = false;

  /** The latest CMAF header's facts (trex defaults and timescales used for chunk facts). */
  init: InitInfo | undefined;

  constructor(options: ParserOptions = {}) {
    this.maxBoxSize = options.maxBoxSize ?? 16 * MiB;
    this.maxChunkSize = options.maxChunkSize ?? 16 * MiB;
    this.copyPieces = options.copy ?? false;
    const init = options.init;
    this.init = init instanceof Uint8Array ? parseInit(init) : init;
  }

  /** Bytes pushed so far. */
  get bytesPushed(): number {
    return this.pieces.end;
  }

  /**
   * Feeds the next piece of the stream (any size, including 0). Returns the events it completed
   * (a shared frozen empty array when there are none: the result is read-only).
   * Throws `BoxStreamError` on malformed input (see the class docs).
   */
  push(piece: Uint8Array): readonly ParseEvent[] {
    if (this.failure) throw this.failure;
    // A misuse, not a bad stream: it does not fail the parser (end() stays quiet).
    if (this.ended) throw new BoxStreamError('ENDED', 'push() after end()', this.pieces.end);
    if (piece.byteLength === 0) return NO_EVENTS;
    // `new Uint8Array(view)` copies; `slice()` would not for a Node Buffer (its slice is a view).
    this.pieces.push(this.copyPieces ? new Uint8Array(piece) : piece);
    const events = this.completed;
    try {
      this.advance(events);
    } catch (err) {
      // A chunk complete but for a further mdat that never came is delivered, not lost.
      if (this.moreMdat && this.box === null && err instanceof BoxStreamError) this.emitChunk(this.pos, events);
      throw this.fail(err, events.splice(0));
    }
    // Most pushes complete nothing (a chunk spans many pieces): they allocate no array.
    return events.length === 0 ? NO_EVENTS : events.splice(0);
  }

  /**
   * Ends the stream. Returns the last events (boxes still pending, the end of an open-ended
   * mdat) and throws `TRUNCATED` when the stream stopped inside a box, `MOOF_WITHOUT_MDAT` when
   * it stopped after a moof. Calling it again returns no events.
   */
  end(): readonly ParseEvent[] {
    if (this.failure) throw this.failure;
    if (this.ended) return NO_EVENTS;
    this.ended = true;
    const events: ParseEvent[] = [];
    try {
      this.finish(events);
    } catch (err) {
      throw this.fail(err, events);
    }
    return events;
  }

  private fail(err: unknown, events: ParseEvent[]): unknown {
    if (err instanceof BoxStreamError) {
      err.events = events;
      this.failure = err;
    }
    return err;
  }

  private advance(events: ParseEvent[]): void {
    for (;;) {
      if (this.box === null) {
        const h = this.readHeader();
        if (h === null) return;
        this.beginBox(h, events);
      }
      const end = this.pieces.end;
      if (this.streaming !== null) {
        const upTo = Math.min(end, this.boxEnd);
        // The last data event is sent even when empty (an mdat with no payload): consumers
        // close the unit on `last`.
        if (upTo > this.sentUpTo || upTo === this.boxEnd) this.emitData(upTo, upTo === this.boxEnd, events);
      }
      if (end < this.boxEnd) return;
      this.finishBox(events);
    }
  }

  /** The header at `pos`, read in place when it lies in one piece; null until it is complete. */
  private readHeader(): BoxHeader | null {
    const at = this.pos;
    if (this.pieces.end - at < 8) return null;
    const piece = this.pieces.direct(at, MAX_HEADER_SIZE);
    if (piece) {
      const index = this.pieces.directIndex;
      return readBoxHeader(piece, index, piece.byteLength, at - index);
    }
    const n = this.pieces.copy(this.scratch, at, MAX_HEADER_SIZE);
    return readBoxHeader(this.scratch, 0, n, at);
  }

  private beginBox(h: BoxHeader, events: ParseEvent[]): void {
    const t = h.type;
    if (this.moreMdat && t !== 'mdat') {
      // The media data the moof points at beyond its mdat is not in another mdat: the chunk
      // ends where it is (before this box is judged: a bad box must not take the chunk with it).
      this.moreMdat = false;
      this.emitChunk(h.offset, events);
    }
    if (isJunkType(t) || (h.offset === 0 && !FIRST_TYPES.has(t))) {
      throw new BoxStreamError('JUNK', `not a box header${textHint(h)}`, h.offset, t, h.size);
    }
    if (h.offset + h.size > Number.MAX_SAFE_INTEGER) {
      throw new BoxStreamError('TOO_LARGE', 'box ends beyond 2^53 - 1', h.offset, t, h.size);
    }
    this.box = h;
    this.boxEnd = h.size === 0 ? Infinity : h.offset + h.size;
    if (this.phase === 'chunk') {
      if (t === 'mdat') return this.beginMdat(h, events);
      if (t === 'moof' || t === 'ftyp' || t === 'moov') {
        throw new BoxStreamError('MOOF_WITHOUT_MDAT', `moof followed by '${t}' instead of mdat`, h.offset, t, h.size);
      }
      return this.hold(h);
    }
    if (t === 'mdat') {
      // A non-fragmented file's media data (moov mdat, or mdat moov): a box of its own,
      // streamed when large.
      this.flushPending(events);
      return this.beginStandalone(h, events);
    }
    if (t === 'moof') {
      // A header that never got its moov (ftyp moof ...) leads the chunk instead.
      this.phase = 'chunk';
      return this.hold(h);
    }
    if (this.phase === 'header') {
      if (t === 'ftyp') {
        this.flushPending(events);
        this.phase = 'header';
      }
      return this.hold(h);
    }
    // idle: nothing pending but leading boxes
    if (t === 'ftyp' || t === 'moov') {
      // Padding before an init segment belongs to it; an emsg, prft, styp or sidx does not.
      if (this.holds((b) => !PADDING_TYPES.has(b.type))) this.flushPending(events);
      this.phase = 'header';
      return this.hold(h);
    }
    if (LEADING_TYPES.has(t)) {
      // A leading box that boxstream need not parse and that would break the limits (or is
      // open-ended) is no reason to fail: deliver what is pending and stream it on its own.
      if (!PARSED_LEADING_TYPES.has(t) && !this.fits(h)) {
        this.flushPending(events);
        return this.beginStandalone(h, events);
      }
      return this.hold(h);
    }
    this.flushPending(events);
    this.beginStandalone(h, events);
  }

  /** True when `h` can be held within the limits, given what is pending. */
  private fits(h: BoxHeader): boolean {
    const start = this.unitCount === 0 ? h.offset : this.unitStart;
    return h.size !== 0 && h.size <= this.maxBoxSize && h.offset + h.size - start <= this.maxChunkSize;
  }

  /** Keeps a box that must be held (parsed or grouped); enforces the memory limits. */
  private hold(h: BoxHeader): void {
    if (h.size === 0) {
      throw new BoxStreamError('BAD_SIZE', "open-ended size (0) on a box that must be held", h.offset, h.type, h.size);
    }
    if (h.size > this.maxBoxSize) {
      throw new BoxStreamError('TOO_LARGE', `box larger than maxBoxSize (${this.maxBoxSize})`, h.offset, h.type, h.size);
    }
    if (this.unitCount === 0) this.unitStart = h.offset;
    if (h.offset + h.size - this.unitStart > this.maxChunkSize) {
      const what = this.phase === 'header' ? 'header' : 'unit';
      throw new BoxStreamError('TOO_LARGE', `${what} larger than maxChunkSize (${this.maxChunkSize}) before its media data`, h.offset, h.type, h.size);
    }
    this.unitBoxes[this.unitCount++] = h;
  }

  private beginMdat(h: BoxHeader, events: ParseEvent[]): void {
    this.unitBoxes[this.unitCount++] = h;
    if (h.size !== 0 && h.offset + h.size - this.unitStart <= this.maxChunkSize) return;
    const start: ChunkEvent = {
      kind: 'chunk',
      offset: this.unitStart,
      size: h.size === 0 ? 0 : h.offset + h.size - this.unitStart,
      boxes: this.heldBoxes(),
      parts: this.parts(this.unitStart, h.offset + h.headerSize),
      complete: false,
      info: this.chunkInfo(),
    };
    events.push(start);
    this.streaming = 'chunk';
    this.sentUpTo = h.offset + h.headerSize;
  }

  private beginStandalone(h: BoxHeader, events: ParseEvent[]): void {
    this.unitStart = h.offset;
    this.unitBoxes[0] = h;
    this.unitCount = 1;
    if (h.size !== 0 && h.size <= this.maxChunkSize) {
      this.standalone = true;
      return;
    }
    const start: BoxEvent = {
      kind: 'box',
      offset: h.offset,
      size: h.size,
      boxes: this.heldBoxes(),
      parts: this.parts(h.offset, h.offset + h.headerSize),
      complete: false,
    };
    events.push(start);
    this.streaming = 'box';
    this.sentUpTo = h.offset + h.headerSize;
  }

  private emitData(upTo: number, last: boolean, events: ParseEvent[]): void {
    const data: DataEvent = {
      kind: 'data',
      unit: this.streaming as 'chunk' | 'box',
      offset: this.sentUpTo,
      size: upTo - this.sentUpTo,
      parts: this.parts(this.sentUpTo, upTo),
      last,
    };
    events.push(data);
    this.sentUpTo = upTo;
    this.pieces.release(upTo);
  }

  private finishBox(events: ParseEvent[]): void {
    const h = this.box as BoxHeader;
    const end = this.boxEnd;
    this.pos = end;
    this.box = null;
    if (this.streaming !== null) {
      this.streaming = null;
      return this.resetUnit(end);
    }
    if (this.standalone) {
      this.standalone = false;
      const box: BoxEvent = {
        kind: 'box',
        offset: h.offset,
        size: h.size,
        boxes: this.heldBoxes(),
        parts: this.parts(h.offset, end),
        complete: true,
      };
      if (h.type === 'emsg' || h.type === 'sidx') this.readOpaque(h, end, box);
      events.push(box);
      return this.resetUnit(end);
    }
    switch (h.type) {
      case 'mdat': {
        // A moof may spread its media over several mdats: wait for the next one.
        const dataEnd = (this.moof as MoofInfo).dataEnd;
        this.moreMdat = dataEnd !== undefined && dataEnd > end;
        if (this.moreMdat) return;
        return this.emitChunk(end, events);
      }
      case 'moov':
        if (this.phase === 'header') return this.emitHeader(h, end, events);
        return;
      case 'moof': {
        // Read in place when the moof lies in one piece (the common case): no view, no copy.
        const piece = this.pieces.direct(h.offset, h.size);
        if (piece !== null) {
          const at = this.pieces.directIndex;
          this.moof = readMoof(piece, at + h.headerSize, at + h.size, h.offset, h.offset - at, this.init);
        } else {
          const bytes = this.pieces.bytes(h.offset, end);
          this.moof = readMoof(bytes, h.headerSize, bytes.byteLength, h.offset, h.offset, this.init);
        }
        return;
      }
    }
    // The leading boxes boxstream reads are opaque between a moof and its mdat.
    if (this.phase === 'chunk') return;
    switch (h.type) {
      case 'ftyp':
        this.brands = this.read(h, end, readBrands);
        return;
      case 'styp': {
        const brands = this.read(h, end, readBrands);
        this.styp = [brands.major, ...brands.compatible];
        return;
      }
      case 'prft':
        this.prft = this.read(h, end, readPrft);
        return;
      case 'emsg':
        (this.emsg ??= []).push(this.read(h, end, readEmsg));
        return;
      case 'sidx':
        this.sidx = this.read(h, end, readSidx);
        return;
    }
  }

  /** Reads the held box `h` (ending at `end`) with `reader`. */
  private read<T>(h: BoxHeader, end: number, reader: (b: Uint8Array, box: ChildBox) => T): T {
    const bytes = this.pieces.bytes(h.offset, end);
    return reader(bytes, asChild(h, bytes));
  }

  /**
   * The facts of a box delivered on its own: an emsg or sidx that leads nothing, or an ftyp
   * whose moov comes later (ftyp mdat moov), whose brands the header then gets.
   */
  private readOpaque(h: BoxHeader, end: number, box: BoxEvent): void {
    if (h.type === 'emsg') box.emsg = this.read(h, end, readEmsg);
    else if (h.type === 'sidx') box.sidx = this.read(h, end, readSidx);
    else this.looseBrands = this.read(h, end, readBrands);
  }

  private emitHeader(moov: BoxHeader, end: number, events: ParseEvent[]): void {
    const bytes = this.pieces.bytes(moov.offset, end);
    const init = readMoov(bytes, asChild(moov, bytes), moov.offset);
    const brands = this.brands ?? this.looseBrands;
    if (brands) {
      init.majorBrand = brands.major;
      init.minorVersion = brands.minor;
      init.compatibleBrands = brands.compatible;
    }
    this.looseBrands = undefined;
    this.init = init;
    const header: HeaderEvent = {
      kind: 'header',
      offset: this.unitStart,
      size: end - this.unitStart,
      boxes: this.heldBoxes(),
      parts: this.parts(this.unitStart, end),
      complete: true,
      init,
    };
    events.push(header);
    this.segmentBase = -1;
    this.resetUnit(end);
  }

  private emitChunk(end: number, events: ParseEvent[]): void {
    const chunk: ChunkEvent = {
      kind: 'chunk',
      offset: this.unitStart,
      size: end - this.unitStart,
      boxes: this.heldBoxes(),
      parts: this.parts(this.unitStart, end),
      complete: true,
      info: this.chunkInfo(),
    };
    events.push(chunk);
    this.resetUnit(end);
  }

  /** The facts of the chunk being assembled (its moof is complete). */
  private chunkInfo(): ChunkInfo {
    const moof = this.moof as MoofInfo;
    const segmentStart = this.styp !== undefined;
    if (segmentStart || this.segmentBase < 0) this.segmentBase = this.unitStart;
    let duration: number | undefined;
    const tracks = moof.tracks;
    let independent: boolean | undefined = tracks.length > 0 ? true : undefined;
    for (let i = 0; i < tracks.length; i++) {
      const t = tracks[i];
      const seconds = trackSeconds(tracks, i);
      if (seconds !== undefined && (duration === undefined || seconds > duration)) duration = seconds;
      if (t.keyframe === false) independent = false;
      else if (t.keyframe === undefined && independent === true) independent = undefined;
    }
    const brands = this.styp ?? NO_BRANDS;
    return {
      sequenceNumber: moof.sequenceNumber,
      segmentStart,
      brands,
      lastSegment: brands.includes('lmsg'),
      segmentOffset: this.unitStart - this.segmentBase,
      tracks: moof.tracks,
      duration,
      independent,
      prft: this.prft,
      emsg: this.emsg ?? NO_EMSG,
      sidx: this.sidx,
      init: this.init,
    };
  }

  /** Delivers the boxes pending before a box that starts no unit, one `box` event each. */
  private flushPending(events: ParseEvent[]): void {
    for (let i = 0; i < this.unitCount; i++) {
      const h = this.unitBoxes[i];
      const box: BoxEvent = {
        kind: 'box',
        offset: h.offset,
        size: h.size,
        boxes: [h],
        parts: this.parts(h.offset, h.offset + h.size),
        complete: true,
      };
      if (h.type === 'emsg' || h.type === 'sidx' || h.type === 'ftyp') this.readOpaque(h, h.offset + h.size, box);
      events.push(box);
    }
    this.resetUnit(this.box ? this.box.offset : this.pos);
  }

  private resetUnit(next: number): void {
    this.phase = 'idle';
    this.unitStart = next;
    this.unitCount = 0;
    this.brands = undefined;
    this.styp = undefined;
    this.prft = undefined;
    this.emsg = undefined;
    this.sidx = undefined;
    this.moof = undefined;
    this.moreMdat = false;
    this.pieces.release(next);
  }

  private finish(events: ParseEvent[]): void {
    const end = this.pieces.end;
    if (this.moreMdat && this.box === null) {
      this.moreMdat = false;
      this.emitChunk(this.pos, events);
    }
    if (this.box !== null) {
      const h = this.box;
      if (this.boxEnd !== Infinity) {
        throw new BoxStreamError('TRUNCATED', `stream ended ${this.boxEnd - end} bytes before the end of the box`, h.offset, h.type, h.size);
      }
      // An open-ended box (size 0) ends with the stream; it is always streamed.
      this.emitData(end, true, events);
      this.streaming = null;
      this.box = null;
      this.pos = end;
      this.resetUnit(end);
    } else if (end > this.pos) {
      throw new BoxStreamError('TRUNCATED', `stream ended inside a box header (${end - this.pos} bytes)`, this.pos);
    }
    if (this.phase === 'chunk') {
      const moof = this.unitBoxes.slice(0, this.unitCount).find((b) => b.type === 'moof') as BoxHeader;
      throw new BoxStreamError('MOOF_WITHOUT_MDAT', 'stream ended after a moof without its mdat', moof.offset, 'moof', moof.size);
    }
    this.flushPending(events);
  }

  /** A copy of the pending unit's headers, exactly as long as they are. */
  private heldBoxes(): BoxHeader[] {
    return this.unitBoxes.slice(0, this.unitCount);
  }

  /** True when one of the pending unit's headers passes `test`. */
  private holds(test: (h: BoxHeader) => boolean): boolean {
    for (let i = 0; i < this.unitCount; i++) if (test(this.unitBoxes[i])) return true;
    return false;
  }

  private parts(from: number, to: number): Uint8Array[] {
    return this.pieces.views(from, to);
  }
}

/**
 * Seconds of the track of `tracks[i]` in this moof: the sum over every traf of that track (a moof
 * may hold several); undefined for a traf whose track an earlier traf already counted, or when a
 * duration or the timescale is unknown.
 */
function trackSeconds(tracks: readonly TrackFragmentInfo[], i: number): number | undefined {
  const id = tracks[i].trackId;
  for (let j = 0; j < i; j++) if (tracks[j].trackId === id) return undefined;
  let units = 0;
  for (let j = i; j < tracks.length; j++) {
    if (tracks[j].trackId !== id) continue;
    const d = tracks[j].duration;
    if (d === undefined) return undefined;
    units += d;
  }
  const timescale = tracks[i].timescale;
  return timescale ? units / timescale : undefined;
}

/** For a JUNK error on the first box: what the bytes look like when they are text. */
function textHint(h: BoxHeader): string {
  if (h.offset !== 0) return '';
  const bytes = [h.size >>> 24, (h.size >>> 16) & 255, (h.size >>> 8) & 255, h.size & 255];
  const text = String.fromCharCode(...bytes) + h.type;
  return /^[\t\n\r -~]{8}$/.test(text) ? ` (the stream starts with text: ${JSON.stringify(text)}; an HTTP error page or a playlist?)` : '';
}
