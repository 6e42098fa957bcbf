// One CMAF track pushed to a publishing point: its header kept as `<track>/init.mp4`, its chunks
// gathered into segments `<track>/<number>.m4s`, each visible and readable chunk by chunk from its
// first chunk, complete when the next one starts or the push ends.
import type { ChunkEvent, InitInfo } from 'boxstream';
import type { OriginContext } from '../../context.js';
import type { StoredObject } from '../../store/object.js';
import type { PublishingPoint } from './publishing-point.js';
import { chunkSeconds, Segmenter } from './segmenter.js';
import type { Standby } from './standby.js';

/** A standby encoder this far ahead of the live one (media seconds) takes over, at least. */
const FAILOVER_SECONDS = 1;
/** A second encoder this far behind the live one (media seconds, at least) restarted: it is no standby. */
const RESTART_SECONDS = 4;
/** Float slack in comparisons of media times. */
const EPSILON = 1e-6;

/** Why a chunk cannot join the track: an HTTP status and the reason sent with it. */
export interface Refusal {
  status: number;
  reason: string;
}

/** The segment being written. */
interface OpenSegment {
  number: number;
  object: StoredObject;
  bytes: number;
  /** Decode time of its first chunk, seconds. */
  start: number | undefined;
  /** Decode time its last chunk ends at, seconds. */
  end: number | undefined;
  /** The track's checks before this segment: restored when it is cut, so it can be sent again. */
  before: { decode: bigint | undefined; sequence: number | undefined };
  /** The encoder marked it the last of the stream (`lmsg`). */
  last: boolean;
}

/**
 * One CMAF track of a publishing point: its init, its segments (numbered by slot, see Segmenter),
 * and which push writes them. One push at a time is live (`owner`); a second push of the same
 * track with the same header while the live one sends is a redundant encoder on standby (see
 * Standby), promoted when the live one stops or falls behind.
 */
export class IngestTrack {
  header: Uint8Array | undefined;
  init: InitInfo | undefined;
  /** The request pushing this track now (a newer one with media takes over). */
  owner: object | undefined;
  /** Redundant pushes of the same track on standby (see receiver.ts). */
  readonly standbys = new Set<object>();
  /** Where the stream ended (decode time, seconds), once a segment marked `lmsg` completed; cleared by the next chunk. */
  endedAt: number | undefined;
  /** bits/s the MPD declares (undefined until the first chunk). */
  bandwidth: number | undefined;
  frameRate: number | undefined;
  /** Where the live encoder's segments start (a promoted standby brings its own). */
  private segmenter: Segmenter;
  private segment: OpenSegment | undefined;
  /** Decode time and sequence number of the last chunk since the last header (one encoder run). */
  private lastDecode: bigint | undefined;
  private lastSequence: number | undefined;
  /** Decode time the live encoder's newest chunk ends at, seconds. */
  private liveEnd: number | undefined;
  /** The number of the newest segment completed in this run: a promoted standby goes on after it. */
  private lastComplete: number | undefined;
  /** A promoted standby is in the middle of a segment the track has whole already: its rest is dropped. */
  private dropping = false;

  constructor(
    private readonly ctx: OriginContext,
    private readonly point: PublishingPoint,
    readonly id: string,
    private readonly defaultSegmentSeconds: number,
  ) {
    this.segmenter = new Segmenter(defaultSegmentSeconds);
  }

  /** Segment length, seconds; undefined until known (an encoder's marked segments: after its first). */
  get segmentSeconds(): number | undefined {
    return this.segmenter.segmentSeconds;
  }

  get initKey(): string {
    return `${this.point.path}${this.id}/init.mp4`;
  }

  /** `audio/mp4` for a sound track, else `video/mp4` (RFC 4337). */
  get contentType(): string {
    return this.init?.tracks[0]?.handler === 'soun' ? 'audio/mp4' : 'video/mp4';
  }

  segmentKey(number: number): string {
    return `${this.point.path}${this.id}/${number}.m4s`;
  }

  /**
   * A CMAF header arrived. The first is stored as the track's init. The same bytes again are an
   * encoder restart (DASH-IF ingest 7.19): the track goes on. Other bytes replace the init (a
   * reconfigured encoder). Either way decode times may start again, and the next chunk opens a
   * segment.
   */
  takeHeader(bytes: Uint8Array, init: InitInfo): void {
    if (this.header !== undefined) this.point.runStarted();
    this.closeSegment();
    this.lastDecode = undefined;
    this.lastSequence = undefined;
    this.lastComplete = undefined;
    this.liveEnd = undefined;
    this.dropping = false;
    if (this.sameHeader(bytes)) return;
    const replaced = this.header !== undefined;
    this.header = bytes;
    this.init = init;
    // Another configuration: how it marks segments is learnt again.
    this.segmenter.reset();
    const object = this.ctx.store.create(this.initKey, { contentType: this.contentType, kind: 'init' });
    this.ctx.store.insert(object);
    object.publish(bytes);
    object.complete();
    if (replaced) this.point.headerChanged();
  }

  /** True when `bytes` is this track's header (an encoder that restarted, or a redundant one). */
  sameHeader(bytes: Uint8Array): boolean {
    return this.header !== undefined && Buffer.compare(this.header, bytes) === 0;
  }

  /** Whether `event` may join the track now; why not otherwise. */
  check(event: ChunkEvent): Refusal | undefined {
    if (this.header === undefined) return { status: 412, reason: `track '${this.id}': a CMAF header must come before media` };
    const decode = event.info.tracks[0]?.baseMediaDecodeTime;
    if (decode !== undefined && this.lastDecode !== undefined && decode <= this.lastDecode) {
      return { status: 400, reason: `track '${this.id}': decode time goes back (tfdt ${decode} after ${this.lastDecode})` };
    }
    const seq = event.info.sequenceNumber;
    if (seq !== undefined && this.lastSequence !== undefined && seq <= this.lastSequence) {
      return { status: 400, reason: `track '${this.id}': mfhd sequence_number does not increase (${seq} after ${this.lastSequence})` };
    }
    return undefined;
  }

  /** Publishes a checked chunk (whole, or the start of a progressive one); returns its object. */
  chunk(unit: Uint8Array, event: ChunkEvent): StoredObject | null {
    const number = this.segmenter.place(event, this.segment === undefined && !this.dropping);
    // A segment the track has whole already (a promoted standby that was behind): dropped, up to the next one.
    const stale = number !== undefined && this.lastComplete !== undefined && number <= this.lastComplete;
    // (No segment is open then: the checks refuse decode times that go back.)
    if (stale) this.dropping = true;
    const skipped = stale || (number === undefined && this.segment === undefined);
    if (!skipped) this.dropping = false;
    const t = chunkSeconds(event);
    if (t !== undefined && event.info.duration !== undefined) this.liveEnd = t + event.info.duration;
    // (Opened before the checks move on: a cut segment puts them back to where it began.)
    if (number !== undefined && !stale) this.openSegment(number, t);
    this.lastDecode = event.info.tracks[0]?.baseMediaDecodeTime ?? this.lastDecode;
    this.lastSequence = event.info.sequenceNumber ?? this.lastSequence;
    if (skipped) return null;
    const segment = this.segment as OpenSegment;
    if (event.info.lastSegment) segment.last = true;
    // Media after the end: the stream goes on (a restart, or an encoder that changed its mind).
    if (this.endedAt !== undefined) {
      this.endedAt = undefined;
      this.point.trackEnded();
    }
    segment.object.publish(unit, event);
    segment.bytes += unit.byteLength;
    if (t !== undefined && event.info.duration !== undefined) segment.end = t + event.info.duration;
    this.point.chunked(this, event, unit.byteLength);
    return segment.object;
  }

  /** More bytes of a progressive chunk; returns their object. */
  data(unit: Uint8Array): StoredObject | null {
    const segment = this.segment;
    if (segment === undefined) return null;
    segment.object.publish(unit);
    segment.bytes += unit.byteLength;
    return segment.object;
  }

  /** Bytes of the segment being written (for the per-object size limit). */
  get openBytes(): number {
    return this.segment?.bytes ?? 0;
  }

  /** The push ended, or the next segment starts: the open segment is complete. */
  closeSegment(): void {
    const segment = this.segment;
    this.segment = undefined;
    if (this.dropping) {
      // A promoted standby's segment that was not taken: nothing of it is kept or learnt.
      this.dropping = false;
      this.segmenter.abandon();
    }
    if (segment === undefined || segment.object.state !== 'writing') return;
    // (Before the MPD is written again: a marked encoder's first segment says how long they are.)
    this.segmenter.close();
    if (segment.last) this.endedAt = segment.end;
    this.finish(segment);
  }

  /** A segment is complete: its object, the number a promoted standby goes on after, the MPD. */
  private finish(segment: OpenSegment): void {
    segment.object.complete();
    this.lastComplete = segment.number;
    this.point.segmentDone(this, segment.bytes, durationOf(segment));
  }

  /**
   * The push was cut or refused mid-segment: the segment is incomplete (readers see the cut), and
   * the track is as it was before it, so the encoder may send it again (DASH-IF ingest 6.1: a
   * source resends after a broken connection) under the same number.
   */
  abortSegment(reason: string): void {
    const segment = this.segment;
    this.segment = undefined;
    // The next chunk opens a segment (the same number, when it is this one sent again).
    this.segmenter.abandon();
    if (segment === undefined || segment.object.state !== 'writing') return;
    segment.object.abort(reason);
    this.lastDecode = segment.before.decode;
    this.lastSequence = segment.before.sequence;
  }

  /**
   * True when a standby encoder is far enough ahead of the live one to take over: at least a
   * whole chunk of the track, and at least `FAILOVER_SECONDS`, of media the live one has not sent.
   */
  behind(standby: Standby): boolean {
    if (standby.end === undefined || this.liveEnd === undefined) return false;
    return standby.end - this.liveEnd >= Math.max(FAILOVER_SECONDS, this.point.longestChunk) - EPSILON;
  }

  /**
   * True when a chunk is so far behind the live encoder that it comes from an encoder whose
   * timestamps started again (one that restarted while its old request still hangs), not from a
   * redundant one: it takes the track over rather than standing by.
   */
  restarts(event: ChunkEvent): boolean {
    const t = chunkSeconds(event);
    return t !== undefined && this.liveEnd !== undefined && t < this.liveEnd - Math.max(RESTART_SECONDS, 2 * (this.segmentSeconds ?? this.defaultSegmentSeconds));
  }

  /** A segmenter for a redundant encoder: what the live one taught about this track's segments. */
  forkSegmenter(): Segmenter {
    return this.segmenter.fork();
  }

  /**
   * A standby encoder becomes the live one: the live one's unfinished segment is cut (its readers
   * see that), and the standby's kept segments after the last complete one are published whole,
   * under their numbers, the newest left open if the standby is still sending it. Then its chunks
   * go on from there.
   */
  promote(owner: object, standby: Standby): void {
    this.abortSegment('a redundant encoder took over the track');
    this.owner = owner;
    // What the live encoder learnt holds for this one too, if it has not learnt it itself yet.
    standby.segmenter.inherit(this.segmenter);
    this.segmenter = standby.segmenter;
    this.liveEnd = standby.end;
    const open = standby.held[standby.held.length - 1];
    // Still sending a segment that is not taken: its rest is dropped, up to the next one.
    this.dropping = open !== undefined && !open.complete;
    for (const held of standby.held) {
      if (!held.whole || (this.lastComplete !== undefined && held.number <= this.lastComplete)) continue;
      // (A cut of this segment puts the checks back to where it began.)
      this.lastDecode = held.before.decode;
      this.lastSequence = held.before.sequence;
      this.openSegment(held.number, held.start);
      const segment = this.segment as OpenSegment;
      for (const { unit, event } of held.units) {
        segment.object.publish(unit, event);
        if (event !== undefined) this.point.chunked(this, event, unit.byteLength);
      }
      segment.bytes = held.bytes;
      segment.end = held.end;
      if (!held.complete) this.dropping = false;
      else {
        this.segment = undefined;
        this.finish(segment);
      }
    }
    this.lastDecode = standby.lastDecode;
    this.lastSequence = standby.lastSequence;
  }

  private openSegment(number: number, start: number | undefined): void {
    // (The segmenter opened a new one: the one before is complete.)
    const previous = this.segment;
    this.segment = undefined;
    if (previous !== undefined && previous.object.state === 'writing') this.finish(previous);
    const object = this.ctx.store.create(this.segmentKey(number), { contentType: this.contentType, kind: 'media' });
    // A segment sent again (after a cut, or by a restarted encoder) replaces the one of its number.
    this.ctx.store.insert(object);
    this.segment = { number, object, bytes: 0, start, end: start, before: { decode: this.lastDecode, sequence: this.lastSequence }, last: false };
  }
}

const durationOf = (s: OpenSegment): number | undefined => (s.start !== undefined && s.end !== undefined ? s.end - s.start : undefined);
