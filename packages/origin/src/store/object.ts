// One version of the object stored under a key: an append-only list of published units shared
// by all of its readers. Publishing appends once and wakes each reader, which writes the very
// same bytes. Bytes and numbers only: validators, dates and cache classes belong to egress.
import { randomBytes } from 'node:crypto';
import type { ParseEvent } from 'boxstream';
import type { ObjectStore } from './store.js';

/** `writing` while its upload runs; `complete` once it ended well; `aborted` when it did not. */
export type ObjectState = 'writing' | 'complete' | 'aborted';

/**
 * What an object is, decided once when its upload begins (see `classify`): a CMAF header or
 * whole MP4 (`init`: first box `ftyp`), other ISO-BMFF (`media`: segments, chunks), a DASH or
 * HLS `manifest` (buffered and swapped in whole), or anything else (`opaque`).
 */
export type ObjectKind = 'init' | 'media' | 'manifest' | 'opaque';

/** Something following an object (a GET in flight, a cursor). Woken on every publish and state change. */
export interface ObjectReader {
  wake(object: StoredObject): void;
}

/** Options of `ObjectStore.create()`. */
export interface CreateOptions {
  contentType: string;
  kind: ObjectKind;
  /**
   * Identity of these bytes for validators (egress makes the ETag from it and the length).
   * Default: unique per process and boot. Objects loaded from a file use the file's stamp, so
   * the same file has the same ETag from memory and from disk, across restarts.
   */
  tag?: string;
  /** The `CDN-Loop` value of the upload that brought it (what relays it passed through). */
  via?: string;
}

// Strong validators without hashing: every version is unique within a process, and the boot id
// keeps a restarted origin from reusing one a CDN still holds.
const BOOT_ID = randomBytes(4).toString('hex');
let versions = 0;

/** A new version number, unique in this process (also used for files the disk tier serves). */
export function nextVersion(): number {
  return ++versions;
}

/**
 * One version of the object stored under a key. Units are never copied or changed once
 * published: every reader writes the very same `Uint8Array`s.
 */
export class StoredObject {
  readonly key: string;
  /** Unique per process. */
  readonly version: number;
  readonly kind: ObjectKind;
  readonly contentType: string;
  /** Identity of the bytes (see `CreateOptions.tag`). */
  readonly tag: string;
  /** See `CreateOptions.via`. */
  readonly via: string | undefined;
  /** The published units, in order. Read-only for everyone but the uploader. */
  readonly units: Uint8Array[] = [];
  /** Byte offset just past each unit, parallel to `units` (where a byte range starts). */
  readonly ends: number[] = [];
  /** `performance.now()` at each unit's publish, parallel to `units` (fan-out delay metric). */
  readonly publishedAt: number[] = [];
  /** Live readers (read-only outside the store). */
  readonly readers = new Set<ObjectReader>();
  /** Sum of the units' sizes. */
  length = 0;
  state: ObjectState = 'writing';
  /** Epoch ms of creation, then of completion (or a file's mtime for objects loaded from disk). */
  modifiedAt: number;
  /** Why the upload failed, when `state` is `aborted`. */
  abortReason: string | undefined;
  /**
   * @internal Where this version's bytes are counted: `pending` before `insert`, `current`,
   * `detached` once removed while readers or its upload still hold it, `released` after.
   */
  holding: 'pending' | 'current' | 'detached' | 'released' = 'pending';
  /** @internal The store this version belongs to. */
  readonly store: ObjectStore;

  /** Use `ObjectStore.create()`. */
  constructor(store: ObjectStore, key: string, options: CreateOptions) {
    this.store = store;
    this.key = key;
    this.version = nextVersion();
    this.kind = options.kind;
    this.contentType = options.contentType;
    this.tag = options.tag ?? `${BOOT_ID}-${this.version.toString(36)}`;
    this.via = options.via;
    this.modifiedAt = Date.now();
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
    this.ends.push(this.length);
    this.store.account(this, unit.byteLength);
    if (this.readers.size > 0) {
      this.wakeReaders();
      // Published to last synchronous write; readers waiting for 'drain' report their own delay.
      this.store.observeFanout?.((performance.now() - at) / 1000);
    }
    this.store.events.emit('publish', this.key, this, unit, event);
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
    this.wakeReaders();
    this.store.releaseIfUnheld(this);
    this.store.events.emit('complete', this.key, this);
  }

  /** Marks the upload failed: readers cut their responses so players know it is incomplete. */
  abort(reason: string): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    this.store.writingCount--;
    this.abortReason = reason;
    this.wakeReaders();
    this.store.releaseIfUnheld(this);
    this.store.events.emit('abort', this.key, this, reason);
  }

  /** Wakes every reader, each in isolation: one that throws costs itself, never the upload or the others. */
  private wakeReaders(): void {
    for (const reader of this.readers) {
      try {
        reader.wake(this);
      } catch (err) {
        this.removeReader(reader);
        this.store.onListenerError(err, 'reader');
      }
    }
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
