// Objects by key, the requests waiting for keys to appear, and exact byte counts. The store
// knows nothing of HTTP; ingest writes into it, egress and listeners read from it.
import type { ParseEvent } from 'boxstream';
import { Emitter } from './events.js';
import { StoredObject, type CreateOptions } from './object.js';

/** Something waiting for a key to appear (an early GET). */
export interface KeyWaiter {
  arrive(object: StoredObject): void;
}

/** What the store emits. Listeners run after readers were written to, and each in isolation. */
export type StoreEvents = {
  /** A new version became visible under its key (the previous one, if any, is `replaced`). */
  create: [key: string, object: StoredObject, replaced: StoredObject | undefined];
  /** A unit was appended: `event` is the parser's event for ISO-BMFF bodies, else undefined. */
  publish: [key: string, object: StoredObject, unit: Uint8Array, event: ParseEvent | undefined];
  complete: [key: string, object: StoredObject];
  abort: [key: string, object: StoredObject, reason: string];
  /** The key's current version left memory: by DELETE, by its TTL, or evicted under the memory cap. */
  delete: [key: string, object: StoredObject, reason: RemoveReason];
  /** A key only the disk tier still held was removed (DELETE or TTL): it is gone everywhere now. */
  discard: [key: string, reason: 'delete' | 'expire'];
};

/** Why an object left memory. Only `evict` keeps its file in the disk tier. */
export type RemoveReason = 'delete' | 'expire' | 'evict';

/** Counts of what is in flight; the leak tests watch these return to 0. */
export interface StoreStats {
  /** Keys with a current version in memory. */
  objects: number;
  /** Readers following an object (any version, including replaced or deleted ones). */
  readers: number;
  /** Requests held for a key that does not exist yet. */
  waiters: number;
  /** Bytes held by current versions. */
  bytes: number;
  /** Bytes uploads received and hold but have not published yet (a chunk in progress, a manifest). */
  ingestBytes: number;
  /** Bytes of versions no longer current (replaced, deleted) still held by their readers or upload. */
  detachedBytes: number;
  /** Objects being written (uploads in progress past their first bytes), current or not. */
  writing: number;
}

/** The read-only face of the store that the origin's API hands out. */
export interface StoreView {
  /** The current version under `key`, in any state. */
  get(key: string): StoredObject | undefined;
  /** Keys with a current version in memory. */
  keys(): IterableIterator<string>;
  readonly size: number;
  stats(): StoreStats;
  on<K extends keyof StoreEvents>(event: K, listener: (...args: StoreEvents[K]) => void): unknown;
  off<K extends keyof StoreEvents>(event: K, listener: (...args: StoreEvents[K]) => void): unknown;
}

/**
 * In-memory objects by key, plus the requests waiting for keys to appear.
 *
 * Emits `create`, `publish` (one per unit: the hook for metrics, persistence, relays), `complete`,
 * `abort` and `delete`; see `StoreEvents`. A listener that throws is reported to
 * `onListenerError` and changes nothing else.
 */
export class ObjectStore implements StoreView {
  private readonly objects = new Map<string, StoredObject>();
  private readonly waiting = new Map<string, Set<KeyWaiter>>();
  private waiterCount = 0;
  /** @internal The events; `on`/`off` below are the public way in. */
  readonly events = new Emitter<StoreEvents>();
  /** @internal Maintained by `StoredObject.addReader/removeReader`. */
  readerCount = 0;
  /** @internal Maintained by `StoredObject`: objects in state `writing`. */
  writingCount = 0;
  // Exact byte counts, kept as units are published and versions come and go (never summed).
  private currentBytes = 0;
  private detachedBytes = 0;
  /** Bytes received by uploads and not yet published (see `holdIngest`). */
  private ingestBytes = 0;
  /**
   * Called after each publish that had readers, with the seconds from the unit's publish to the
   * end of its synchronous fan-out (the metrics histogram hooks in here). Default: none.
   */
  observeFanout: ((seconds: number) => void) | undefined;

  constructor() {
    this.events.onError = (err, event) => this.onListenerError(err, String(event));
  }

  /** Called with the error of a throwing listener and its event name. Default: ignored. */
  onListenerError: (error: unknown, event: string) => void = () => undefined;

  /** Adds a listener (see `StoreEvents`). */
  on<K extends keyof StoreEvents>(event: K, listener: (...args: StoreEvents[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof StoreEvents>(event: K, listener: (...args: StoreEvents[K]) => void): this {
    this.events.off(event, listener);
    return this;
  }

  /** @internal Counts `bytes` just published into `object` where its version is held. */
  account(object: StoredObject, bytes: number): void {
    if (object.holding === 'current') this.currentBytes += bytes;
    else if (object.holding === 'detached') this.detachedBytes += bytes;
  }

  /**
   * Charges (positive) or releases (negative) bytes an upload holds before publishing them, so
   * the memory cap sees uploads in flight as they arrive, not only once they are published.
   */
  holdIngest(bytes: number): void {
    this.ingestBytes += bytes;
  }

  /** @internal A detached version no reader or upload holds any longer: stop counting it. */
  releaseIfUnheld(object: StoredObject): void {
    if (object.holding !== 'detached' || object.readers.size > 0 || object.state === 'writing') return;
    object.holding = 'released';
    this.detachedBytes -= object.length;
  }

  /** A version leaves its key: its readers (and its upload, if running) may still hold it. */
  private detach(object: StoredObject): void {
    if (object.holding !== 'current') return;
    this.currentBytes -= object.length;
    object.holding = 'detached';
    this.detachedBytes += object.length;
    this.releaseIfUnheld(object);
  }

  get(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  keys(): IterableIterator<string> {
    return this.objects.keys();
  }

  get size(): number {
    return this.objects.size;
  }

  /** A new, empty version for `key` in state `writing`, not yet visible (see `insert`). */
  create(key: string, options: CreateOptions): StoredObject {
    return new StoredObject(this, key, options);
  }

  /**
   * Makes `object` the current version of its key and hands it to the requests waiting for
   * that key. Returns the version it replaced; readers of that one keep it and finish it.
   */
  insert(object: StoredObject): StoredObject | undefined {
    const key = object.key;
    const replaced = this.objects.get(key);
    if (replaced === object) return undefined;
    this.objects.set(key, object);
    if (replaced !== undefined) this.detach(replaced);
    object.holding = 'current';
    this.currentBytes += object.length;
    this.arrive(key, object);
    this.events.emit('create', key, object, replaced);
    return replaced;
  }

  /** Hands `object` to the requests waiting for `key` (also used for objects found on disk). */
  arrive(key: string, object: StoredObject): void {
    const waiters = this.waiting.get(key);
    if (waiters === undefined) return;
    this.waiting.delete(key);
    this.waiterCount -= waiters.size;
    for (const waiter of waiters) {
      try {
        waiter.arrive(object);
      } catch (err) {
        this.onListenerError(err, 'waiter');
      }
    }
  }

  /**
   * Removes the current version of `key` (`reason` travels to `'delete'` listeners). Its readers
   * keep their reference and finish.
   */
  delete(key: string, reason: RemoveReason = 'delete'): StoredObject | undefined {
    const object = this.objects.get(key);
    if (object === undefined) return undefined;
    this.objects.delete(key);
    this.detach(object);
    this.events.emit('delete', key, object, reason);
    return object;
  }

  /** Holds `waiter` until a version of `key` is inserted. */
  wait(key: string, waiter: KeyWaiter): void {
    let set = this.waiting.get(key);
    if (set === undefined) this.waiting.set(key, (set = new Set()));
    if (!set.has(waiter)) {
      set.add(waiter);
      this.waiterCount++;
    }
  }

  /** Stops waiting; safe to call when the waiter already arrived or left. */
  unwait(key: string, waiter: KeyWaiter): void {
    const set = this.waiting.get(key);
    if (set === undefined || !set.delete(waiter)) return;
    this.waiterCount--;
    if (set.size === 0) this.waiting.delete(key);
  }

  /** Bytes held by current versions (O(1)). */
  get bytes(): number {
    return this.currentBytes;
  }

  /** Bytes the memory cap applies to: current versions plus what uploads hold unpublished (O(1)). */
  get chargedBytes(): number {
    return this.currentBytes + this.ingestBytes;
  }

  /** What is stored and in flight right now; exact, and O(1). */
  stats(): StoreStats {
    return {
      objects: this.objects.size,
      readers: this.readerCount,
      waiters: this.waiterCount,
      bytes: this.currentBytes,
      ingestBytes: this.ingestBytes,
      detachedBytes: this.detachedBytes,
      writing: this.writingCount,
    };
  }
}
