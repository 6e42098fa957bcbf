// The one way to read an object: a cursor over its units and a byte range [start, end). HTTP
// egress, Range requests (on complete objects and on objects still being written), relays and
// LL-HLS byte-range parts all read through it. It knows nothing of the transport: it hands the
// stored units (or views of them at the range's edges) to a sink, and waits when the sink is full
// or the bytes do not exist yet.
import type { ObjectReader, StoredObject } from './object.js';

/** Where a cursor delivers bytes. */
export interface CursorSink {
  /** Takes the next bytes; returns false to be left alone until `cursor.resume()`. */
  write(bytes: Uint8Array): boolean;
  /** Every byte of the range was delivered (for an open range: the object completed). */
  end(): void;
  /**
   * The range can never be delivered whole: the upload was aborted, or the object completed
   * before the range's end (`reason` says which). What was written is all there is.
   */
  abort(reason: string): void;
}

/** A byte range `[start, end)`; `end` may be `Infinity` (to the end of the object, however long it grows). */
export interface CursorRange {
  start?: number;
  end?: number;
}

/**
 * Follows `object` from `range.start` and writes every byte up to `range.end` to `sink`, in
 * order, the moment it is published. Nothing is copied: whole units are the stored arrays, and
 * only a unit cut by the range's edges becomes a view.
 *
 * @example
 * const cursor = new ObjectCursor(object, {
 *   write: (bytes) => socket.write(bytes),
 *   end: () => socket.end(),
 *   abort: () => socket.destroy(),
 * }, { start: 1000, end: 2000 });
 * socket.on('drain', () => cursor.resume());
 * cursor.start();
 */
export class ObjectCursor implements ObjectReader {
  /** Absolute offset of the next byte to deliver. */
  position: number;
  /** Index of the unit holding `position` (or the next one to be published). */
  private index: number;
  readonly end: number;
  private waiting = false;
  /** Inside `sink.write()`, and whether the sink called `resume()` from there. */
  private writing = false;
  private resumedInWrite = false;
  private running = false;
  private closed = false;
  /** Units from this index on were published while this cursor followed (fan-out, not catch-up). */
  private liveFrom = Infinity;

  constructor(
    readonly object: StoredObject,
    private readonly sink: CursorSink,
    range: CursorRange = {},
  ) {
    this.position = range.start ?? 0;
    this.end = range.end ?? Infinity;
    if (!(this.position >= 0) || !(this.end >= this.position)) throw new RangeError(`bad range [${range.start}, ${range.end})`);
    this.index = unitAt(object.ends, this.position);
  }

  /** True once the cursor ended, aborted or was closed. */
  get done(): boolean {
    return this.closed;
  }

  /** Starts delivering: what exists now, then each publish as it happens. */
  start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.liveFrom = this.object.units.length;
    // Complete objects too: a reader holds its version (and its bytes count) until it is done.
    this.object.addReader(this);
    this.pump();
  }

  /** After `sink.write()` returned false: deliver what was published meanwhile, and go on following. */
  resume(): void {
    if (this.writing) {
      this.resumedInWrite = true;
      return;
    }
    if (!this.waiting || this.closed) return;
    this.waiting = false;
    const from = Math.max(this.index, this.liveFrom);
    this.pump();
    // Units published while the sink was full reached it only now: that is their fan-out delay
    // (one clock read per resume, no timer).
    const observe = this.object.store.observeFanout;
    if (observe !== undefined && from < this.index) {
      const now = performance.now();
      const at = this.object.publishedAt;
      for (let i = from; i < this.index; i++) observe((now - at[i]) / 1000);
    }
  }

  /** Stops following; nothing more reaches the sink. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.object.removeReader(this);
  }

  /** @internal Called by the object on every publish and state change. */
  wake(): void {
    if (!this.waiting) this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    const object = this.object;
    const units = object.units;
    const ends = object.ends;
    const sink = this.sink;
    while (this.position < this.end && this.index < units.length) {
      const unit = units[this.index];
      const unitEnd = ends[this.index];
      // A range may start beyond units published after the cursor was made: skip to it.
      if (unitEnd <= this.position) {
        this.index++;
        continue;
      }
      const unitStart = unitEnd - unit.byteLength;
      const to = Math.min(unitEnd, this.end);
      const bytes = this.position === unitStart && to === unitEnd ? unit : unit.subarray(this.position - unitStart, to - unitStart);
      this.position = to;
      if (to === unitEnd) this.index++;
      this.writing = true;
      this.resumedInWrite = false;
      let more: boolean;
      try {
        more = sink.write(bytes);
      } finally {
        this.writing = false;
      }
      // A sink may say "full" and, having room again at once, resume() before returning.
      if (!more && !this.resumedInWrite) {
        if (!this.closed) this.waiting = true;
        return;
      }
      if (this.closed) return;
    }
    if (this.position >= this.end) return this.finish();
    if (object.state === 'complete') {
      if (this.end === Infinity) return this.finish();
      this.close();
      sink.abort(`object ended at byte ${object.length}, before the end of the range`);
    } else if (object.state === 'aborted') {
      this.close();
      sink.abort(object.abortReason ?? 'upload aborted');
    }
  }

  private finish(): void {
    this.close();
    this.sink.end();
  }
}

/** Index of the unit that holds byte `offset` (`ends.length` when it is not published yet). */
function unitAt(ends: readonly number[], offset: number): number {
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid] <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
