// A redundant encoder on standby (DASH-IF ingest: two encoders push the same synchronized track):
// its chunks are cut into segments like the live encoder's and kept, the newest two segments only,
// so that if the live encoder stops, the segment it left unfinished (or the next one, when the
// standby is a little ahead) is served whole from the standby, under the same number.
import type { ChunkEvent } from 'boxstream';
import { chunkSeconds, Segmenter } from './segmenter.js';

/** One segment as the standby encoder sent it. */
export interface HeldSegment {
  number: number;
  /** Its units in order, each chunk's with its event (progressive data without). */
  units: { unit: Uint8Array; event?: ChunkEvent }[];
  bytes: number;
  /** Starts where the segment starts (a push that joined mid-segment does not): it can stand in for the live one's. */
  whole: boolean;
  /** The encoder's decode time and sequence number before this segment (put back if it is cut once live). */
  before: { decode: bigint | undefined; sequence: number | undefined };
  complete: boolean;
  /** Decode times of its first chunk and of the end of its last, seconds. */
  start: number | undefined;
  end: number | undefined;
}

/** How many of the standby's newest segments are kept. */
const KEPT = 2;

export class Standby {
  readonly segmenter: Segmenter;
  readonly held: HeldSegment[] = [];
  /** Decode time and sequence number of its last chunk (checked like the live encoder's). */
  lastDecode: bigint | undefined;
  lastSequence: number | undefined;
  /** Decode time its newest chunk ends at, seconds: how far along this encoder is. */
  end: number | undefined;

  /**
   * @param segmenter what the track's live encoder taught (segment marks and length), no segment open
   * @param release called with the bytes of kept chunks once they are let go (they count against the memory cap while kept)
   */
  constructor(
    segmenter: Segmenter,
    private readonly release: (bytes: number) => void,
  ) {
    this.segmenter = segmenter;
  }

  /** Lets every kept segment go (the push ended, or took over and published what it needed). */
  drop(): void {
    for (const segment of this.held.splice(0)) this.release(segment.bytes);
  }

  /** Why `event` cannot follow this encoder's previous chunk, if it cannot. */
  check(event: ChunkEvent, track: string): string | undefined {
    const decode = event.info.tracks[0]?.baseMediaDecodeTime;
    if (decode !== undefined && this.lastDecode !== undefined && decode <= this.lastDecode) return `track '${track}': decode time goes back (tfdt ${decode} after ${this.lastDecode})`;
    const seq = event.info.sequenceNumber;
    if (seq !== undefined && this.lastSequence !== undefined && seq <= this.lastSequence) return `track '${track}': mfhd sequence_number does not increase (${seq} after ${this.lastSequence})`;
    return undefined;
  }

  /** Keeps a checked chunk. */
  chunk(unit: Uint8Array, event: ChunkEvent): void {
    const last = this.held[this.held.length - 1];
    const number = this.segmenter.place(event, last === undefined || last.complete);
    const t = chunkSeconds(event);
    if (number !== undefined) {
      if (last !== undefined) last.complete = true;
      const before = { decode: this.lastDecode, sequence: this.lastSequence };
      this.held.push({ number, units: [], bytes: 0, whole: this.segmenter.openedAtStart, before, complete: false, start: t, end: t });
      if (this.held.length > KEPT) this.release((this.held.shift() as HeldSegment).bytes);
    }
    const segment = this.held[this.held.length - 1];
    segment.units.push({ unit, event });
    segment.bytes += unit.byteLength;
    if (t !== undefined && event.info.duration !== undefined) this.end = segment.end = t + event.info.duration;
    this.lastDecode = event.info.tracks[0]?.baseMediaDecodeTime ?? this.lastDecode;
    this.lastSequence = event.info.sequenceNumber ?? this.lastSequence;
  }

  /** More bytes of a progressive chunk. */
  data(unit: Uint8Array): void {
    const segment = this.held[this.held.length - 1];
    if (segment === undefined || segment.complete) return this.release(unit.byteLength);
    segment.units.push({ unit });
    segment.bytes += unit.byteLength;
  }

  /** Bytes of the segment being kept (for the per-object size limit). */
  get openBytes(): number {
    const segment = this.held[this.held.length - 1];
    return segment === undefined || segment.complete ? 0 : segment.bytes;
  }

  /** Its encoder sent its header again (a restart): its decode times may start again. */
  restart(): void {
    this.closeSegment();
    this.lastDecode = undefined;
    this.lastSequence = undefined;
  }

  /** Its push ended (or a header came): the segment it was sending is complete. */
  closeSegment(): void {
    const segment = this.held[this.held.length - 1];
    if (segment === undefined || segment.complete) return;
    segment.complete = true;
    this.segmenter.close();
  }
}
