// Backpressure from the memory cap to the encoders. Uploads charge their bytes as they arrive
// (store.holdIngest) and as they are published; when that passes the cap and nothing can be
// evicted, the upload's request is paused, so TCP flow control slows the encoder down instead
// of the origin buffering without bound. Paused uploads resume, oldest first, when room appears
// (an upload ends, an object completes and becomes evictable, one is deleted or expires), or
// are refused with 507 once `memoryWaitMs` passes.
import type { Retention } from '../store/retention.js';
import type { ObjectStore } from '../store/store.js';

/** An upload the gate can pause. */
export interface Pausable {
  /** Stops reading the body (and disarms its idle timeout). */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** No room came within the deadline: refuse the upload. */
  refuseForMemory(waitedMs: number): void;
}

export class MemoryGate {
  /** Paused uploads and their deadlines, oldest first. */
  private readonly paused = new Map<Pausable, NodeJS.Timeout>();
  /** Uploads paused so far, and refused after waiting. */
  pauses = 0;
  refusals = 0;
  /** Evictions while resuming emit 'delete', which pokes again: one pass at a time. */
  private poking = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly retention: Retention,
    private readonly waitMs: number,
  ) {
    store.on('complete', this.poke);
    store.on('abort', this.poke);
    store.on('delete', this.poke);
  }

  /** Uploads waiting for room right now. */
  get waiting(): number {
    return this.paused.size;
  }

  /**
   * Called after an upload charged more bytes: true when it may go on; false when it was paused
   * (it resumes, or is refused, later).
   */
  admit(upload: Pausable): boolean {
    if (this.paused.has(upload)) return false;
    if (this.store.chargedBytes <= this.retention.options.maxMemoryBytes || this.retention.makeRoom()) return true;
    this.pauses++;
    upload.pause();
    const timer = setTimeout(() => {
      this.paused.delete(upload);
      this.refusals++;
      upload.refuseForMemory(this.waitMs);
    }, this.waitMs);
    this.paused.set(upload, timer);
    return false;
  }

  /** The upload is over (ended, failed, or its client left): it waits no longer. */
  forget(upload: Pausable): void {
    const timer = this.paused.get(upload);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.paused.delete(upload);
    }
    this.poke();
  }

  /** Room may have appeared: resume paused uploads, oldest first, while there is some. */
  readonly poke = (): void => {
    if (this.paused.size === 0 || this.poking) return;
    this.poking = true;
    try {
      for (const [upload, timer] of this.paused) {
        if (!this.retention.makeRoom()) return;
        clearTimeout(timer);
        this.paused.delete(upload);
        upload.resume();
      }
    } finally {
      this.poking = false;
    }
  };

  close(): void {
    for (const timer of this.paused.values()) clearTimeout(timer);
    this.paused.clear();
    this.store.off('complete', this.poke);
    this.store.off('abort', this.poke);
    this.store.off('delete', this.poke);
  }
}
