// The disk tier (--dir). Each completed current version is written to a file named after its
// key, through a temporary file, fdatasync, a rename and a directory fsync, so a file is never
// partial and survives a power cut. All of it runs off the hot path: store events only record an
// intent; two workers do the I/O, and every failure is logged and counted, never thrown.
//
// Disk is a second tier, not a mirror of memory: an object evicted from memory keeps its file
// and is served from it on a miss (see egress), and on start the newest files that fit in memory
// are loaded while the rest are served from disk. Only DELETE, a TTL and an aborted upload of the
// current version remove a file.
import { closeSync, mkdirSync, openSync, readSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { classify, contentTypeFor, manifestContentType, manifestKind } from './classify.js';
import { nextVersion, type ObjectKind, type StoredObject } from './object.js';
import type { ExpiryTier } from './retention.js';
import type { ObjectStore } from './store.js';

/** Directory under the root for temporary files; no key may live there. */
export const TMP_DIR = '.boxstream-tmp';

/**
 * Top-level names starting with this are the origin's own (temporary files, VOD sources and
 * jobs): never a key, never loaded, never served.
 */
export const RESERVED_PREFIX = '.boxstream-';

/** Disk operations in flight at once. */
const CONCURRENCY = 2;

function safeSegment(seg: string): boolean {
  if (seg === '' || seg === '.' || seg === '..') return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    // '/' and '\' separate paths somewhere; NUL ends C strings; control characters have no business in names.
    if (c < 0x20 || c === 0x7f || c === 0x2f || c === 0x5c) return false;
  }
  return true;
}

/**
 * The file of `key` under `root`, or undefined when the key cannot be a file there. Keys from
 * `parseRequestPath` are already normalised; this checks again on its own, segment by segment,
 * and finally that the resolved path is strictly inside `root` (defence in depth).
 */
export function keyToFile(root: string, key: string): string | undefined {
  if (!key.startsWith('/')) return undefined;
  const segments = key.slice(1).split('/');
  if (!segments.every(safeSegment)) return undefined;
  if (segments[0].startsWith(RESERVED_PREFIX)) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (!file.startsWith(base + sep) || file === base) return undefined;
  return file;
}

/** The validator tag of a file found at start: the same whether it is then served from memory or from disk. */
export function fileTag(mtimeMs: number): string {
  return `f${Math.round(mtimeMs).toString(36)}`;
}

/** A complete object as it is on disk. */
export interface DiskEntry {
  key: string;
  file: string;
  /** The version whose bytes the file holds (TTLs and removals name versions). */
  version: number;
  kind: ObjectKind;
  contentType: string;
  size: number;
  /** Epoch ms; the file's mtime is set to the object's completion time. */
  mtimeMs: number;
  /** See `fileTag`. */
  tag: string;
}

/** What `DiskTier` needs besides the store. */
export interface DiskTierOptions {
  /** Where problems go. */
  warn: (message: string) => void;
  /** fdatasync each file before its rename and fsync its directory after, so a power cut cannot leave an empty or missing file. Default true. */
  fsync?: boolean;
  /** Keys with a queued operation beyond which new writes are dropped (and counted as errors). Default 4096. */
  maxPending?: number;
}

/** Writes the store's complete objects to a directory and serves them back. */
export class DiskTier implements ExpiryTier {
  readonly root: string;
  /** Files written (renamed into place). */
  writes = 0;
  /** Files removed. */
  removes = 0;
  /** Failed operations (each one logged). */
  errors = 0;
  /** Objects loaded into memory at start. */
  loaded = 0;
  private readonly tmp: string;
  /** Complete files on disk by key: what a miss in memory can be served from. */
  private readonly index = new Map<string, DiskEntry>();
  /** Latest intent per key: the version to write, or null to remove the file. */
  private readonly intents = new Map<string, StoredObject | null>();
  private readonly queue: string[] = [];
  private readonly active = new Set<string>();
  /** The object each running write is writing. */
  private readonly writing = new Map<string, StoredObject>();
  private loading = false;
  private seq = 0;
  private idle: (() => void)[] = [];
  private readonly fsync: boolean;
  private readonly maxPending: number;

  constructor(
    root: string,
    private readonly store: ObjectStore,
    private readonly options: DiskTierOptions,
  ) {
    this.root = resolve(root);
    this.tmp = join(this.root, TMP_DIR);
    this.fsync = options.fsync ?? true;
    this.maxPending = options.maxPending ?? 4096;
    store.on('complete', this.onComplete);
    store.on('create', this.onCreate);
    store.on('abort', this.onAbort);
    store.on('delete', this.onDelete);
  }

  /** Operations queued or running. */
  get pending(): number {
    return this.intents.size + this.active.size;
  }

  /** Files on disk. */
  get files(): number {
    return this.index.size;
  }

  /**
   * What a miss in memory for `key` can be served from: its file, or the complete object itself
   * while its write is still queued or running (evicted from memory before it reached the disk).
   */
  lookup(key: string): DiskEntry | StoredObject | undefined {
    const intent = this.intents.get(key);
    // A removal is queued (DELETE, TTL, abort): it is gone, whatever a running write still holds.
    if (intent === null) return undefined;
    const queued = intent ?? this.writing.get(key);
    if (queued !== undefined) return queued;
    return this.index.get(key);
  }

  /**
   * Indexes every file under the root, then loads the newest into memory as complete objects
   * while they fit in `memoryBytes`; the others are served from disk. Synchronous: it runs once,
   * before the origin serves. Temporary files left by a crash are removed. `schedule` receives
   * each file left on disk only, so its TTL still applies. Returns the number of files found.
   */
  load(memoryBytes: number, schedule: (entry: DiskEntry) => void): number {
    const found: { key: string; file: string; mtimeMs: number; size: number }[] = [];
    try {
      mkdirSync(this.root, { recursive: true });
      rmSync(this.tmp, { recursive: true, force: true });
      this.walk(this.root, [], found);
    } catch (err) {
      this.fail(`cannot read ${this.root}`, err);
    }
    // Newest first into memory; a key may appear once only, so order decides nothing else.
    found.sort((a, b) => b.mtimeMs - a.mtimeMs);
    let budget = memoryBytes;
    const inMemory: StoredObject[] = [];
    this.loading = true;
    try {
      for (const f of found) {
        const kind = describe(f.key, f.file);
        if (kind === undefined) {
          this.fail(`cannot read ${f.file}`);
          continue;
        }
        const entry: DiskEntry = { ...f, ...kind, version: nextVersion(), tag: fileTag(f.mtimeMs) };
        if (f.size <= budget) {
          let bytes: Buffer;
          try {
            bytes = readFileSync(f.file);
          } catch (err) {
            this.fail(`cannot load ${f.file}`, err);
            continue;
          }
          budget -= bytes.byteLength;
          const object = this.store.create(f.key, { contentType: entry.contentType, kind: entry.kind, tag: entry.tag });
          object.publish(bytes);
          object.complete(f.mtimeMs);
          entry.version = object.version;
          inMemory.push(object);
          this.loaded++;
        } else {
          schedule(entry);
        }
        this.index.set(f.key, entry);
      }
      // Oldest first, so the memory cap's LRU order matches the files' ages.
      for (let i = inMemory.length - 1; i >= 0; i--) this.store.insert(inMemory[i]);
    } finally {
      this.loading = false;
    }
    return found.length;
  }

  /** Resolves once every queued write and removal has finished (or failed). */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops listening to the store (queued operations still finish). */
  close(): void {
    this.store.off('complete', this.onComplete);
    this.store.off('create', this.onCreate);
    this.store.off('abort', this.onAbort);
    this.store.off('delete', this.onDelete);
  }

  /** Keys with a file on disk (or on their way there). */
  *keys(): IterableIterator<string> {
    for (const [key, intent] of this.intents) if (intent !== null && !this.index.has(key)) yield key;
    yield* this.index.keys();
  }

  /** Removes the file of `key` (a DELETE of a key memory no longer holds); false when there is none. */
  discard(key: string): boolean {
    if (this.lookup(key) === undefined) return false;
    this.index.delete(key);
    this.enqueue(key, null);
    this.store.events.emit('discard', key, 'delete');
    return true;
  }

  /** Removes the file of `key` if it holds `version` (a TTL ran out while the object was on disk only). */
  expire(key: string, version: number): boolean {
    if (this.store.get(key) !== undefined || this.lookup(key)?.version !== version) return false;
    this.index.delete(key);
    this.enqueue(key, null);
    this.store.events.emit('discard', key, 'expire');
    return true;
  }

  private walk(dir: string, segments: string[], found: { key: string; file: string; mtimeMs: number; size: number }[]): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (segments.length === 0 && entry.name.startsWith(RESERVED_PREFIX)) continue;
      const path = join(dir, entry.name);
      const segs = [...segments, entry.name];
      // Symlinks and special files are skipped: only what we wrote ourselves is served.
      if (entry.isDirectory()) this.walk(path, segs, found);
      else if (entry.isFile()) {
        const key = '/' + segs.join('/');
        if (keyToFile(this.root, key) !== path) continue;
        const st = statSync(path);
        // Written as whole milliseconds; read back, they may come out a hair below (…392.999).
        found.push({ key, file: path, mtimeMs: Math.round(st.mtimeMs), size: st.size });
      }
    }
  }

  private readonly onComplete = (key: string, object: StoredObject): void => {
    // Loaded objects are already on disk; manifests complete before they become current and
    // are queued by 'create' instead.
    if (!this.loading && this.store.get(key) === object) this.enqueue(key, object);
  };

  private readonly onCreate = (key: string, object: StoredObject): void => {
    if (this.loading) return;
    // The file holds a version this one replaces: never serve it again, even if this one is
    // evicted before its own write, or its write fails.
    this.index.delete(key);
    if (object.state === 'complete') this.enqueue(key, object);
  };

  private readonly onAbort = (key: string, object: StoredObject): void => {
    if (this.store.get(key) !== object) return;
    this.index.delete(key);
    this.enqueue(key, null);
  };

  private readonly onDelete = (key: string, _object: StoredObject, reason: string): void => {
    // Eviction frees memory only: the file stays and serves the misses.
    if (reason === 'evict') return;
    this.index.delete(key);
    this.enqueue(key, null);
  };

  private enqueue(key: string, intent: StoredObject | null): void {
    if (!this.intents.has(key)) {
      if (this.intents.size >= this.maxPending) {
        this.fail(`queue full (${this.maxPending} keys): ${intent === null ? 'removal' : 'write'} of ${key} dropped`);
        return;
      }
      if (!this.active.has(key)) this.queue.push(key);
    }
    this.intents.set(key, intent);
    this.pump();
  }

  private pump(): void {
    while (this.active.size < CONCURRENCY && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      const intent = this.intents.get(key) as StoredObject | null;
      this.intents.delete(key);
      this.active.add(key);
      const job = intent === null ? this.remove(key) : this.write(key, intent);
      job.then(() => this.done(key));
    }
    if (this.pending === 0 && this.idle.length > 0) {
      const idle = this.idle;
      this.idle = [];
      for (const wake of idle) wake();
    }
  }

  private done(key: string): void {
    this.active.delete(key);
    // A newer intent arrived while this key was busy: it runs after, never beside, the old one.
    if (this.intents.has(key)) this.queue.push(key);
    this.pump();
  }

  private async write(key: string, object: StoredObject): Promise<void> {
    // Intents keep the latest version per key only, so this is the one that belongs on disk,
    // even if memory evicted it meanwhile.
    if (object.state !== 'complete') return;
    this.writing.set(key, object);
    try {
      await this.writeFile(key, object);
    } finally {
      this.writing.delete(key);
    }
  }

  private async writeFile(key: string, object: StoredObject): Promise<void> {
    const file = keyToFile(this.root, key);
    if (file === undefined) return this.fail(`key ${key} has no file name under ${this.root}; not persisted`);
    const tmp = join(this.tmp, `${process.pid}-${++this.seq}`);
    try {
      await mkdir(this.tmp, { recursive: true });
      await mkdir(dirname(file), { recursive: true });
      const handle = await open(tmp, 'w');
      try {
        const { bytesWritten } = await handle.writev(object.units);
        if (bytesWritten !== object.length) throw new Error(`short write: ${bytesWritten} of ${object.length} bytes`);
        // The file's mtime is the object's completion time: Last-Modified is the same from either tier.
        const at = object.modifiedAt / 1000;
        await handle.utimes(at, at);
        if (this.fsync) await handle.datasync();
      } finally {
        await handle.close();
      }
      try {
        await rename(tmp, file);
      } catch (err) {
        // A removal may have pruned the (then empty) directory meanwhile: recreate it once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await mkdir(dirname(file), { recursive: true });
        await rename(tmp, file);
      }
      // The rename is durable only once the directory that names the file is on disk too.
      if (this.fsync) await syncDirectory(dirname(file));
      this.writes++;
      // Unless a removal was asked for meanwhile (DELETE, TTL): it runs next.
      if (this.intents.get(key) !== null) {
        this.index.set(key, {
          key,
          file,
          version: object.version,
          kind: object.kind,
          contentType: object.contentType,
          size: object.length,
          mtimeMs: Math.floor(object.modifiedAt),
          // The object's own tag: the same ETag from memory and from disk in this run.
          tag: object.tag,
        });
      }
    } catch (err) {
      this.fail(`cannot write ${key}`, err);
      await rm(tmp, { force: true }).catch(() => undefined);
      // What is left under the name is an older version: it must not come back after a restart.
      if (this.intents.get(key) === undefined) await unlink(file).catch(() => undefined);
    }
  }

  private async remove(key: string): Promise<void> {
    const file = keyToFile(this.root, key);
    if (file === undefined) return;
    try {
      await unlink(file);
      this.removes++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        return this.fail(`cannot remove ${key}`, err);
      }
    }
    // Empty stream directories go too, up to the root (rmdir refuses non-empty ones).
    for (let dir = dirname(file); dir !== this.root && dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  private fail(what: string, err?: unknown): void {
    this.errors++;
    const why = err === undefined ? '' : `: ${err instanceof Error ? err.message : String(err)}`;
    try {
      this.options.warn(`disk: ${what}${why}`);
    } catch {
      // a broken logger must not break the tier
    }
  }
}

/** Kind and Content-Type of a file, from its name and first bytes (undefined when unreadable). */
function describe(key: string, file: string): { kind: ObjectKind; contentType: string } | undefined {
  const manifest = manifestKind(key);
  if (manifest !== undefined) return { kind: 'manifest', contentType: contentTypeFor(key) ?? manifestContentType(manifest) };
  const first = Buffer.alloc(8);
  let n: number;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, first, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const { kind, contentType } = classify(key, first.subarray(0, n));
  return { kind, contentType };
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
