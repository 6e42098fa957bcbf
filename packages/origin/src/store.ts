// Objects by key. An object is an append-only list of published units shared by all of its
// readers: publishing appends once and wakes each reader, which writes the same bytes. The store
// knows nothing of HTTP or boxes; egress and ingest meet here.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { ParseEvent } from 'boxstream';
import { httpDate } from './time.js';

/** `writing` while its upload runs; `complete` once it ended well; `aborted` when it did not. */
export type ObjectState = 'writing' | 'complete' | 'aborted';

/** Something following an object (a GET in flight). Woken on every publish and state change. */
export interface ObjectReader {
  wake(object: StoredObject): void;
}

/** Something waiting for a key to appear (an early GET). */
export interface KeyWaiter {
  arrive(object: StoredObject): void;
}

/** What the store emits; listeners run after readers were written to, so they cannot delay them. */
export interface StoreEvents {
  /** A new version became visible under its key (the previous one, if any, is `replaced`). */
  create: [key: string, object: StoredObject, replaced: StoredObject | undefined];
  /** A unit was appended: `event` is the parser's event for ISO-BMFF bodies, else undefined. */
  publish: [key: string, object: StoredObject, unit: Uint8Array, event: ParseEvent | undefined];
  complete: [key: string, object: StoredObject];
  abort: [key: string, object: StoredObject, reason: string];
  /** The key's current version left the store: by DELETE, by its TTL, or evicted under the memory cap. */
  delete: [key: string, object: StoredObject, reason: RemoveReason];
}

/** Why an object left the store. */
export type RemoveReason = 'delete' | 'expire' | 'evict';

/** Counts of what is in flight; the leak tests watch these return to 0. */
export interface StoreStats {
  /** Keys with a current version. */
  objects: number;
  /** Responses following an object (any version, including replaced or deleted ones). */
  readers: number;
  /** Requests held for a key that does not exist yet. */
  waiters: number;
  /** Bytes held by current versions (what the memory cap applies to). */
  bytes: number;
  /** Bytes of versions no longer current (replaced, deleted) still held by their readers or upload. */
  detachedBytes: number;
  /** Objects being written (uploads in progress past their first bytes), current or not. */
  writing: number;
}

// Strong ETags without hashing: every version is unique within a process, and the boot id keeps
// a restarted origin from reusing one a CDN still holds.
const BOOT_ID = randomBytes(4).toString('hex');
let versions = 0;

/** Options of `ObjectStore.create()`. */
export interface CreateOptions {
  contentType: string;
  /** Manifests are cached briefly, everything else long once complete. */
  manifest?: boolean;
}

/**
 * One version of the object stored under a key. Units are never copied or changed once
 * published: every reader writes the very same `Uint8Array`s.
 */
export class StoredObject {
  readonly key: string;
  /** Unique per process; also part of the ETag. */
  readonly version: number;
  readonly contentType: string;
  readonly manifest: boolean;
  /** The published units, in order. Read-only for everyone but the uploader. */
  readonly units: Uint8Array[] = [];
  /** Live readers (read-only outside the store). */
  readonly readers = new Set<ObjectReader>();
  /** Sum of the units' sizes. */
  length = 0;
  state: ObjectState = 'writing';
  /** Set when the object completes. */
  etag: string | undefined;
  /** HTTP-date of creation, then of completion. */
  lastModified: string;
  /** Epoch ms of the last modification (Last-Modified at millisecond precision). */
  modifiedAt: number;
  /** Why the upload failed, when `state` is `aborted`. */
  abortReason: string | undefined;
  /** `performance.now()` at each unit's publish, parallel to `units` (fan-out delay metric). */
  readonly publishedAt: number[] = [];
  /**
   * @internal Where this version's bytes are counted: `pending` before `insert`, `current`,
   * `detached` once removed while readers or its upload still hold it, `released` after.
   */
  holding: 'pending' | 'current' | 'detached' | 'released' = 'pending';
  private readonly store: ObjectStore;

  /** Use `ObjectStore.create()`. */
  constructor(store: ObjectStore, key: string, options: CreateOptions) {
    this.store = store;
    this.key = key;
    this.version = ++versions;
    this.contentType = options.contentType;
    this.manifest = options.manifest ?? false;
    this.modifiedAt = Date.now();
    this.lastModified = httpDate(this.modifiedAt);
    store.writingCount++;
  }

  /**
   * Appends a unit and hands it to every waiting reader, in this tick. The unit must not be
   * changed afterwards. `event` travels to `'publish'` listeners only.
   */
  publish(unit: Uint8Array, event?: ParseEvent): void {
    if (this.state !== 'writing') throw new Error(`publish on a ${this.state} object`);
    if (unit.byteLength === 0) return;
    const at = performance.now();
    this.units.push(unit);
    this.publishedAt.push(at);
    this.length += unit.byteLength;
    this.store.account(this, unit.byteLength);
    if (this.readers.size > 0) {
      for (const reader of this.readers) reader.wake(this);
      // Published to last synchronous write; readers waiting for 'drain' report their own delay.
      this.store.observeFanout?.((performance.now() - at) / 1000);
    }
    this.store.emit('publish', this.key, this, unit, event);
  }

  /**
   * Marks the upload finished: readers end their responses once caught up. `at` (epoch ms,
   * default now) is the modification time, e.g. a file's mtime when loaded from disk.
   */
  complete(at = Date.now()): void {
    if (this.state !== 'writing') return;
    this.state = 'complete';
    this.store.writingCount--;
    this.modifiedAt = at;
    this.lastModified = httpDate(this.modifiedAt);
    this.etag = `"${BOOT_ID}-${this.version.toString(36)}-${this.length.toString(36)}"`;
    for (const reader of this.readers) reader.wake(this);
    this.store.releaseIfUnheld(this);
    this.store.emit('complete', this.key, this);
  }

  /** Marks the upload failed: readers cut their responses so players know it is incomplete. */
  abort(reason: string): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    this.store.writingCount--;
    this.abortReason = reason;
    for (const reader of this.readers) reader.wake(this);
    this.store.releaseIfUnheld(this);
    this.store.emit('abort', this.key, this, reason);
  }

  /** Registers a reader to be woken on publish and state changes. */
  addReader(reader: ObjectReader): void {
    if (this.readers.has(reader)) return;
    this.readers.add(reader);
    this.store.readerCount++;
  }

  /** Forgets a reader; safe to call more than once. */
  removeReader(reader: ObjectReader): void {
    if (!this.readers.delete(reader)) return;
    this.store.readerCount--;
    if (this.readers.size === 0) this.store.releaseIfUnheld(this);
  }
}

/**
 * In-memory objects by key, plus the requests waiting for keys to appear.
 *
 * Emits `create`, `publish` (one per unit: the hook for benches and metrics), `complete`,
 * `abort` and `delete`; see `StoreEvents`.
 */
export class ObjectStore extends EventEmitter<StoreEvents> {
  private readonly objects = new Map<string, StoredObject>();
  private readonly waiting = new Map<string, Set<KeyWaiter>>();
  private waiterCount = 0;
  /** @internal Maintained by `StoredObject.addReader/removeReader`. */
  readerCount = 0;
  /** @internal Maintained by `StoredObject`: objects in state `writing`. */
  writingCount = 0;
  // Exact byte counts, kept as units are published and versions come and go (never summed).
  private currentBytes = 0;
  private detachedBytes = 0;
  /**
   * Called after each publish that had readers, with the seconds from the unit's publish to the
   * end of its synchronous fan-out (the metrics histogram hooks in here). Default: none.
   */
  observeFanout: ((seconds: number) => void) | undefined;

  /** @internal Counts `bytes` just published into `object` where its version is held. */
  account(object: StoredObject, bytes: number): void {
    if (object.holding === 'current') this.currentBytes += bytes;
    else if (object.holding === 'detached') this.detachedBytes += bytes;
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

  /** The current version under `key`, in any state. */
  get(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  /** Keys with a current version. */
  keys(): IterableIterator<string> {
    return this.objects.keys();
  }

  /** Number of keys with a current version. */
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
    const waiters = this.waiting.get(key);
    if (waiters !== undefined) {
      this.waiting.delete(key);
      this.waiterCount -= waiters.size;
      for (const waiter of waiters) waiter.arrive(object);
    }
    this.emit('create', key, object, replaced);
    return replaced;
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
    this.emit('delete', key, object, reason);
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

  /** What is stored and in flight right now; exact, and O(1). */
  stats(): StoreStats {
    return {
      objects: this.objects.size,
      readers: this.readerCount,
      waiters: this.waiterCount,
      bytes: this.currentBytes,
      detachedBytes: this.detachedBytes,
      writing: this.writingCount,
    };
  }
}
