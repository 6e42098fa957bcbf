// One CMAF track pushed to a publishing point: its header kept as `<track>/init.mp4`, its chunks
// gathered into segments `<track>/<number>.m4s`, each visible and readable chunk by chunk from its
// first chunk, complete when the next one starts or the push ends.
import type { ChunkEvent, InitInfo } from 'boxstream';
import type { OriginContext } from '../../context.js';
import type { StoredObject } from '../../store/object.js';
import type { PublishingPoint } from './publishing-point.js';

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
}

/** A tolerance for decode times that land a hair before a slot boundary. */
const EPSILON = 1e-6;

/**
 * Segments are numbered by their slot on the decode timeline: number = start / segment length,
 * so the MPD's number-addressed template (`duration` = the segment length, `startNumber` 0) names
 * them, and encoders fed the same timeline name them alike. The length is `segmentSeconds` for an
 * encoder that does not mark segments (a segment then starts at the first independent chunk of a
 * new slot); an encoder that marks them with `styp` gets the length of its first segment, and
 * each of its segments is one (numbered by the slot its start rounds to).
 */
export class IngestTrack {
  header: Uint8Array | undefined;
  init: InitInfo | undefined;
  /** The request pushing this track now (a newer one with media takes over). */
  owner: object | undefined;
  /** bits/s the MPD declares (undefined until the first chunk). */
  bandwidth: number | undefined;
  frameRate: number | undefined;
  /** Segment length, seconds; undefined until known (an encoder's marked segments: after its first). */
  segmentSeconds: number | undefined;
  private segment: OpenSegment | undefined;
  /** Decode time and sequence number of the last chunk since the last header (one encoder run). */
  private lastDecode: bigint | undefined;
  private lastSequence: number | undefined;
  /** The encoder marks segments with styp: only those start one. */
  private marked = false;

  constructor(
    private readonly ctx: OriginContext,
    private readonly point: PublishingPoint,
    readonly id: string,
    private readonly defaultSegmentSeconds: number,
  ) {}

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
    this.lastDecode = undefined;
    this.lastSequence = undefined;
    this.closeSegment();
    if (this.header !== undefined && Buffer.compare(this.header, bytes) === 0) return;
    const replaced = this.header !== undefined;
    this.header = bytes;
    this.init = init;
    // Another configuration: how it marks segments is learnt again.
    this.marked = false;
    this.segmentSeconds = undefined;
    const object = this.ctx.store.create(this.initKey, { contentType: this.contentType, kind: 'init' });
    this.ctx.store.insert(object);
    object.publish(bytes);
    object.complete();
    if (replaced) this.point.headerChanged();
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
  chunk(unit: Uint8Array, event: ChunkEvent): StoredObject {
    if (this.startsSegment(event)) this.openSegment(event);
    this.lastDecode = event.info.tracks[0]?.baseMediaDecodeTime ?? this.lastDecode;
    this.lastSequence = event.info.sequenceNumber ?? this.lastSequence;
    const segment = this.segment as OpenSegment;
    segment.object.publish(unit, event);
    segment.bytes += unit.byteLength;
    const t = this.seconds(event);
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
    if (segment === undefined || segment.object.state !== 'writing') return;
    segment.object.complete();
    const seconds = segment.start !== undefined && segment.end !== undefined ? segment.end - segment.start : undefined;
    // An encoder that marks its segments: its first one says how long they are.
    if (this.marked && this.segmentSeconds === undefined && seconds !== undefined && seconds > 0) {
      this.segmentSeconds = Math.round(seconds * 1000) / 1000;
    }
    this.point.segmentDone(this, segment.bytes, seconds);
  }

  /**
   * The push was cut or refused mid-segment: the segment is incomplete (readers see the cut), and
   * the track is as it was before it, so the encoder may send it again (DASH-IF ingest 6.1: a
   * source resends after a broken connection) under the same number.
   */
  abortSegment(reason: string): void {
    const segment = this.segment;
    this.segment = undefined;
    if (segment === undefined || segment.object.state !== 'writing') return;
    segment.object.abort(reason);
    this.lastDecode = segment.before.decode;
    this.lastSequence = segment.before.sequence;
  }

  private seconds(event: ChunkEvent): number | undefined {
    const t = event.info.tracks[0];
    if (t?.baseMediaDecodeTime === undefined || !t.timescale) return undefined;
    return Number(t.baseMediaDecodeTime) / t.timescale;
  }

  private startsSegment(event: ChunkEvent): boolean {
    if (event.info.segmentStart) this.marked = true;
    if (this.segment === undefined || event.info.segmentStart) return true;
    if (this.marked || event.info.independent === false) return false;
    // A new slot of the decode timeline.
    const d = this.defaultSegmentSeconds;
    const t = this.seconds(event);
    const start = this.segment.start;
    return t !== undefined && start !== undefined && Math.floor(t / d + EPSILON) > Math.floor(start / d + EPSILON);
  }

  private openSegment(event: ChunkEvent): void {
    this.closeSegment();
    if (!this.marked) this.segmentSeconds = this.defaultSegmentSeconds;
    const t = this.seconds(event);
    const d = this.segmentSeconds ?? this.defaultSegmentSeconds;
    // Marked segments start on their slot, give or take: round. Cut ones are inside theirs: floor.
    const number = t === undefined ? 0 : this.marked ? Math.round(t / d) : Math.floor(t / d + EPSILON);
    const object = this.ctx.store.create(this.segmentKey(number), { contentType: this.contentType, kind: 'media' });
    // A segment sent again (after a cut, or by a restarted encoder) replaces the one of its number.
    this.ctx.store.insert(object);
    this.segment = { number, object, bytes: 0, start: t, end: t, before: { decode: this.lastDecode, sequence: this.lastSequence } };
  }
}
