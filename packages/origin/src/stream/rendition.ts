// One rendition of a channel: its init, and its window of segments with their chunks. Mutated
// only by the stream model; packaging and operators read it through `RenditionView`.
import type { InitInfo } from 'boxstream';
import type { RenditionDecl } from './mpd.js';
import type { ChunkFact, RenditionInfo, RenditionView, SegmentFact } from './types.js';

/** More segments than this per rendition leave the window, oldest first (an encoder that never deletes). */
export const MAX_WINDOW_SEGMENTS = 500;

/** A segment being built from its upload's chunks. */
export class Segment implements SegmentFact {
  readonly chunks: ChunkFact[] = [];
  size = 0;
  duration = 0;
  complete = false;
  programDateTime = 0;
  decodeTime = 0;
  /** A chunk delivered in pieces (larger than the parser's maxChunkSize): its offset and facts until its last byte. */
  open: { offset: number; duration: number; independent: boolean } | undefined;

  constructor(
    readonly msn: number,
    readonly key: string,
    readonly uri: string,
    /** Set at creation (restart, gap) or at the first chunk (decode time going back). */
    public discontinuity: boolean,
    /** The object version whose bytes these are (a re-upload of the key is another segment). */
    readonly version: number,
  ) {}

  addChunk(chunk: ChunkFact): void {
    this.chunks.push(chunk);
    this.size = chunk.offset + chunk.size;
    this.duration += chunk.duration;
  }
}

/** Where a restart or a gap is told apart from the next segment: the last name's number or time. */
export interface SegmentName {
  number?: number;
  time?: bigint;
}

export class Rendition implements RenditionView {
  info: RenditionInfo;
  private initFacts: InitInfo | undefined;
  /** The init's bytes: a re-upload with other bytes is an encoder restart. */
  initBytes: Uint8Array | undefined;
  /** Set when the init changed: the next segment starts a discontinuity. */
  initChanged = false;
  segments: Segment[] = [];
  /** Discontinuities of segments that left the window. */
  private removedDiscontinuities = 0;
  /** The media sequence number after the newest segment given one (an empty window starts there). */
  nextMsn = 0;
  /** The channel epoch (encoder run) this rendition's segments belong to. */
  epoch = 0;
  /** The newest segment's name values (restart detection). */
  lastName: SegmentName | undefined;
  /** Segments kept listed at most (an event channel keeps all). */
  windowLimit = MAX_WINDOW_SEGMENTS;
  /** Wallclock anchor of the current epoch: epoch ms at decode time `decode` seconds. */
  anchor: { wallMs: number; decode: number } | undefined;
  /** Epoch ms when the last chunk arrived. */
  lastChunkAt: number | undefined;
  /** Chunks longer than the channel's PART-TARGET (the encoder changed its chunk duration). */
  partsOverTarget = 0;

  constructor(
    public decl: RenditionDecl,
    readonly playlistUri: string,
    private readonly relative: (key: string) => string,
  ) {
    this.info = infoOf(decl, undefined, relative);
  }

  /** The init segment's facts (timescales, trex defaults, codec strings), once it arrived. */
  get init(): InitInfo | undefined {
    return this.initFacts;
  }

  set init(init: InitInfo | undefined) {
    this.initFacts = init;
    this.info = infoOf(this.decl, init, this.relative);
  }

  /** Whether the last segment a static MPD declares (when it declares one) is in, complete. */
  get declaredLastIn(): boolean {
    const last = this.decl.lastNumber;
    if (last === undefined) return true;
    const newest = this.segments[this.segments.length - 1];
    if (newest === undefined || !newest.complete) return false;
    const name = this.decl.matchKey(newest.key);
    return name !== undefined && 'number' in name && name.number >= last;
  }

  /** A new MPD version re-declared this rendition. */
  redeclare(decl: RenditionDecl): void {
    this.decl = decl;
    this.info = infoOf(decl, this.initFacts, this.relative);
  }

  get nextUri(): string | undefined {
    const last = this.lastName;
    if (last?.number === undefined) return undefined;
    return this.relative(this.decl.mediaBase + this.decl.media.format({ number: last.number + 1 }));
  }

  get averageBandwidth(): number | undefined {
    let bytes = 0;
    let seconds = 0;
    for (const s of this.segments) {
      if (!s.complete || s.duration <= 0) continue;
      bytes += s.size;
      seconds += s.duration;
    }
    return seconds > 0 ? (bytes * 8) / seconds : undefined;
  }

  get peakBandwidth(): number | undefined {
    let peak: number | undefined;
    for (const s of this.segments) {
      if (!s.complete || s.duration <= 0) continue;
      const bps = (s.size * 8) / s.duration;
      if (peak === undefined || bps > peak) peak = bps;
    }
    return peak;
  }

  /** Appends a segment, keeping the window consecutive and bounded. */
  push(segment: Segment): void {
    const last = this.segments[this.segments.length - 1];
    // A gap in the numbering cannot be listed (a playlist's numbers are implied by position):
    // the window starts again at the new segment.
    if (last !== undefined && segment.msn !== last.msn + 1) this.dropThrough(this.segments.length - 1);
    this.segments.push(segment);
    if (this.segments.length > this.windowLimit) this.dropThrough(this.segments.length - this.windowLimit - 1);
  }

  /** Removes the segments up to and including index `i` (the window stays consecutive). */
  dropThrough(i: number): void {
    if (i < 0) return;
    const removed = this.segments.splice(0, i + 1);
    for (const s of removed) if (s.discontinuity) this.removedDiscontinuities++;
  }

  /**
   * EXT-X-DISCONTINUITY-SEQUENCE: the discontinuities that left the window, plus the first
   * segment's own (a playlist cannot show a discontinuity before its first segment).
   */
  get discontinuitySequence(): number {
    return this.removedDiscontinuities + (this.segments[0]?.discontinuity ? 1 : 0);
  }

  /** Index of the segment built from `key`'s version `version`, or -1. */
  indexOf(key: string, version?: number): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (s.key === key && (version === undefined || s.version === version)) return i;
    }
    return -1;
  }
}

/**
 * What the MPD declares, with what it leaves out taken from the init segment's track (CMAF: one
 * track per init): codec string, picture size, sampling rate, channels. The MPD wins where both say.
 */
function infoOf(decl: RenditionDecl, init: InitInfo | undefined, relative: (key: string) => string): RenditionInfo {
  const track = init?.tracks[0];
  return {
    id: decl.id,
    type: decl.type,
    bandwidth: decl.bandwidth,
    codecs: decl.codecs ?? track?.codecString,
    width: decl.width ?? track?.width,
    height: decl.height ?? track?.height,
    frameRate: decl.frameRate,
    audioSamplingRate: decl.audioSamplingRate ?? track?.sampleRate,
    channels: decl.channels ?? (track?.channelCount === undefined ? undefined : String(track.channelCount)),
    lang: decl.lang,
    initUri: decl.initKey === undefined ? undefined : relative(decl.initKey),
    segmentDuration: decl.duration === undefined ? undefined : decl.duration / decl.timescale,
  };
}
