// Optional disk mirror (--dir): each completed current version is written to a file named after
// its key, through a temporary file and a rename, so a file is never partial. All of it runs off
// the hot path: a 'complete' event only records an intent; a small worker pool does the I/O, and
// every failure is logged and counted, never thrown. On start, existing files are loaded back as
// complete objects. The file set mirrors the store: when an object leaves memory (DELETE, TTL,
// eviction) or its current version aborts, its file is removed too.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { DEFAULT_CONTENT_TYPE, contentTypeFor, looksLikeIsoBmff, manifestKind } from './content-types.js';
import type { ObjectStore, StoredObject } from './store.js';

/** Directory under the root for temporary files; no key may live there. */
export const TMP_DIR = '.boxstream-tmp';

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
  if (segments[0] === TMP_DIR) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...segments);
  if (!file.startsWith(base + sep) || file === base) return undefined;
  return file;
}

/** What `DiskMirror` needs besides the store. */
export interface DiskMirrorOptions {
  /** Where problems go (default: stderr). */
  warn: (message: string) => void;
  /** fdatasync each file before its rename, so a power cut cannot leave an empty file. Default true. */
  fsync?: boolean;
  /** Keys with a queued operation beyond which new writes are dropped (and counted as errors). Default 4096. */
  maxPending?: number;
}

/** Mirrors the store's complete objects into a directory. */
export class DiskMirror {
  readonly root: string;
  /** Files written (renamed into place). */
  writes = 0;
  /** Files removed. */
  removes = 0;
  /** Failed operations (each one logged). */
  errors = 0;
  /** Objects loaded at start. */
  loaded = 0;
  private readonly tmp: string;
  /** Latest intent per key: the version to write, or null to remove the file. */
  private readonly intents = new Map<string, StoredObject | null>();
  private readonly queue: string[] = [];
  private readonly active = new Set<string>();
  private loading = false;
  private seq = 0;
  private idle: (() => void)[] = [];
  private readonly fsync: boolean;
  private readonly maxPending: number;

  constructor(
    root: string,
    private readonly store: ObjectStore,
    private readonly options: DiskMirrorOptions,
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

  /**
   * Loads every file under the root as a complete object (oldest first, so a memory cap keeps
   * the newest). Synchronous: it runs once, before the origin serves. Temporary files left by a
   * crash are removed. Returns the number of objects loaded.
   */
  load(): number {
    const found: { key: string; file: string; mtimeMs: number }[] = [];
    try {
      mkdirSync(this.root, { recursive: true });
      rmSync(this.tmp, { recursive: true, force: true });
      this.walk(this.root, [], found);
    } catch (err) {
      this.fail(`cannot read ${this.root}`, err);
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    this.loading = true;
    try {
      for (const { key, file, mtimeMs } of found) {
        let bytes: Buffer;
        try {
          bytes = readFileSync(file);
        } catch (err) {
          this.fail(`cannot load ${file}`, err);
          continue;
        }
        const contentType = contentTypeFor(key) ?? (looksLikeIsoBmff(bytes.subarray(0, 8)) ? 'video/mp4' : DEFAULT_CONTENT_TYPE);
        const object = this.store.create(key, { contentType, manifest: manifestKind(key) !== undefined });
        object.publish(bytes);
        object.complete(Math.floor(mtimeMs));
        this.store.insert(object);
        this.loaded++;
      }
    } finally {
      this.loading = false;
    }
    return this.loaded;
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

  private walk(dir: string, segments: string[], found: { key: string; file: string; mtimeMs: number }[]): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (segments.length === 0 && entry.name === TMP_DIR) continue;
      const path = join(dir, entry.name);
      const segs = [...segments, entry.name];
      // Symlinks and special files are skipped: only what we wrote ourselves is served.
      if (entry.isDirectory()) this.walk(path, segs, found);
      else if (entry.isFile()) {
        const key = '/' + segs.join('/');
        if (keyToFile(this.root, key) !== path) continue;
        found.push({ key, file: path, mtimeMs: statSync(path).mtimeMs });
      }
    }
  }

  private readonly onComplete = (key: string, object: StoredObject): void => {
    // Loaded objects are already on disk; manifests complete before they become current and
    // are queued by 'create' instead.
    if (!this.loading && this.store.get(key) === object) this.enqueue(key, object);
  };

  private readonly onCreate = (key: string, object: StoredObject): void => {
    if (!this.loading && object.state === 'complete') this.enqueue(key, object);
  };

  private readonly onAbort = (key: string, object: StoredObject): void => {
    if (this.store.get(key) === object) this.enqueue(key, null);
  };

  private readonly onDelete = (key: string): void => {
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
    // Only the current complete version belongs on disk; a newer one queues its own write.
    if (this.store.get(key) !== object || object.state !== 'complete') return;
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
      this.writes++;
    } catch (err) {
      this.fail(`cannot write ${key}`, err);
      await rm(tmp, { force: true }).catch(() => undefined);
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
      // a broken logger must not break the mirror
    }
  }
}
