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
}

/**
 * Segment boundaries: where the encoder marks them (a chunk led by `styp`), or, when it never
 * does, at the first independent chunk at or after each multiple of `segmentSeconds` on the
 * decode timeline; numbers are that multiple, so encoders fed the same timeline number alike.
 */
export class IngestTrack {
  header: Uint8Array | undefined;
  init: InitInfo | undefined;
  /** The request pushing this track now (a newer one takes over). */
  owner: object | undefined;
  /** The last segment was marked `lmsg`: the track ended. */
  ended = false;
  /** bits/s the MPD declares (undefined until the first chunk). */
  bandwidth: number | undefined;
  frameRate: number | undefined;
  private segment: OpenSegment | undefined;
  private lastNumber = -1;
  /** Decode time and sequence number of the last chunk since the last header (one encoder run). */
  private lastDecode: bigint | undefined;
  private lastSequence: number | undefined;
  /** The encoder marks segments with styp: only those start one. */
  private marked = false;

  constructor(
    private readonly ctx: OriginContext,
    private readonly point: PublishingPoint,
    readonly id: string,
    private readonly segmentSeconds: number,
  ) {}

  get publishingPoint(): string {
    return this.point.path;
  }

  get initKey(): string {
    return `${this.publishingPoint}${this.id}/init.mp4`;
  }

  /** `audio/mp4` for a sound track, else `video/mp4` (RFC 4337). */
  get contentType(): string {
    return this.init?.tracks[0]?.handler === 'soun' ? 'audio/mp4' : 'video/mp4';
  }

  segmentKey(number: number): string {
    return `${this.publishingPoint}${this.id}/${number}.m4s`;
  }

  /**
   * A CMAF header arrived. The first is stored as the track's init. The same bytes again are an
   * encoder restart (DASH-IF ingest 7.19): the track goes on. Other bytes replace the init (a
   * reconfigured encoder). Either way decode times start a new run.
   */
  takeHeader(bytes: Uint8Array, init: InitInfo): void {
    this.lastDecode = undefined;
    this.lastSequence = undefined;
    this.ended = false;
    // What follows a header starts a segment of its own, whatever its decode time.
    this.closeSegment();
    if (this.header !== undefined && Buffer.compare(this.header, bytes) === 0) return;
    const replaced = this.header !== undefined;
    this.header = bytes;
    this.init = init;
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
    this.lastDecode = event.info.tracks[0]?.baseMediaDecodeTime ?? this.lastDecode;
    this.lastSequence = event.info.sequenceNumber ?? this.lastSequence;
    if (this.startsSegment(event)) this.openSegment(event);
    const segment = this.segment as OpenSegment;
    segment.object.publish(unit, event);
    segment.bytes += unit.byteLength;
    const t = this.seconds(event);
    if (t !== undefined && event.info.duration !== undefined) segment.end = t + event.info.duration;
    if (event.info.lastSegment) this.ended = true;
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

  /** The push ended: the open segment is complete. */
  closeSegment(): void {
    const segment = this.segment;
    this.segment = undefined;
    if (segment === undefined || segment.object.state !== 'writing') return;
    segment.object.complete();
    if (segment.start !== undefined && segment.end !== undefined) this.point.segmentDone(this, segment.bytes, segment.end - segment.start);
  }

  /** The push was cut or refused: the open segment is incomplete (readers see the cut). */
  abortSegment(reason: string): void {
    const segment = this.segment;
    this.segment = undefined;
    if (segment !== undefined && segment.object.state === 'writing') segment.object.abort(reason);
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
    const t = this.seconds(event);
    // A tiny tolerance: decode times in timescale units rarely land exactly on the multiple.
    return t !== undefined && t + 1e-6 >= (this.segment.number + 1) * this.segmentSeconds;
  }

  private openSegment(event: ChunkEvent): void {
    this.closeSegment();
    const t = this.seconds(event);
    let number = t === undefined ? this.lastNumber + 1 : Math.floor(t / this.segmentSeconds + 1e-6);
    // Encoder-marked segments shorter than segmentSeconds (or no decode time): keep counting up.
    if (number <= this.lastNumber) number = this.lastNumber + 1;
    this.lastNumber = number;
    const key = this.segmentKey(number);
    const object = this.ctx.store.create(key, { contentType: this.contentType, kind: 'media' });
    this.ctx.store.insert(object);
    this.segment = { number, object, bytes: 0, start: t, end: t };
  }
}
