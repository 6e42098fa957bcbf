// How objects leave besides DELETE: a time-to-live after completion, and a global memory cap
// that evicts the least recently used complete objects from memory. One timer serves the whole
// store: expiry entries sit in one FIFO queue per distinct TTL (appended at completion, so each
// queue is already in expiry order) and the timer is armed for the earliest head only. A TTL
// ends an object everywhere (its file too); eviction only frees memory, never a file.
import type { ObjectKind, StoredObject } from './object.js';
import type { ObjectStore } from './store.js';

/** A second tier (the disk) that keeps objects memory let go of: their TTLs still apply there. */
export interface ExpiryTier {
  /** Removes `key` if its stored version is `version`; true when something was removed. */
  expire(key: string, version: number): boolean;
}

/** A TTL for keys under `prefix` (longest matching prefix wins). */
export interface TtlRule {
  /** Key prefix, e.g. `'/vod/'`. */
  prefix: string;
  /** Milliseconds after completion; `0` keeps objects until DELETE or the memory cap. */
  ttlMs: number;
}

/** Retention settings (see `OriginOptions`). */
export interface RetentionOptions {
  /** TTL after completion for keys no rule matches, ms; `0` disables expiry. */
  ttlMs: number;
  /** Per-prefix TTLs. */
  ttlRules: readonly TtlRule[];
  /** TTL of init segments (objects that start with `ftyp`), ms; `0` keeps them. */
  initTtlMs: number;
  /**
   * Cap on the bytes of current versions plus the bytes uploads hold unpublished; least recently
   * used complete objects are evicted first, init segments only once no media of their stream is left.
   */
  maxMemoryBytes: number;
}

interface Entry {
  /** Deadline, epoch ms: completion time (a file's mtime for loaded objects) plus the TTL. */
  at: number;
  // Key and version rather than the object: a stale entry must not keep a deleted object alive.
  key: string;
  version: number;
}

/** Entries of one TTL, in deadline order; `head` avoids shifting the array on every pop. */
class Queue {
  items: Entry[] = [];
  head = 0;

  get first(): Entry | undefined {
    return this.items[this.head];
  }

  push(entry: Entry): void {
    const items = this.items;
    let i = items.length;
    // Live completions append; only objects loaded from disk (older mtimes) land earlier.
    while (i > this.head && items[i - 1].at > entry.at) i--;
    if (i === items.length) items.push(entry);
    else items.splice(i, 0, entry);
  }

  shift(): Entry {
    const entry = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return entry;
  }
}

/**
 * Applies TTLs and the memory cap to a store. Objects being written are never expired or
 * evicted; readers in flight of an object that leaves keep their reference and finish it.
 */
export class Retention {
  private readonly queues = new Map<number, Queue>();
  /** Settled (complete or aborted) current versions but init segments, least recently used first. */
  private readonly lru = new Set<StoredObject>();
  /** Settled init segments, least recently used first: evicted last, and never while media of their stream is stored. */
  private readonly inits = new Set<StoredObject>();
  /** Current media versions (written or being written) per stream directory. */
  private readonly mediaByDir = new Map<string, number>();
  private readonly rules: readonly TtlRule[];
  /** Where TTLs of objects no longer in memory are applied (the disk tier), if anywhere. */
  tier: ExpiryTier | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  /** Objects removed by their TTL. */
  expired = 0;
  /** Objects removed under the memory cap. */
  evicted = 0;

  constructor(
    private readonly store: ObjectStore,
    readonly options: RetentionOptions,
  ) {
    this.rules = [...options.ttlRules].sort((a, b) => b.prefix.length - a.prefix.length);
    store.on('create', this.onCreate);
    store.on('complete', this.onSettle);
    store.on('abort', this.onSettle);
    store.on('delete', this.onDelete);
    store.on('publish', this.onPublish);
  }

  /** The TTL that applies to an object of `kind` under `key`, ms (`0`: none). */
  ttlFor(key: string, kind: ObjectKind): number {
    const rule = this.rules.find((r) => key.startsWith(r.prefix));
    // A prefix kept until DELETE (VOD assets) keeps its inits too, whatever initTtlMs says.
    if (kind === 'init') return rule !== undefined && rule.ttlMs === 0 ? 0 : this.options.initTtlMs;
    return rule !== undefined ? rule.ttlMs : this.options.ttlMs;
  }

  /** Marks `object` as just used (a GET of a complete object), so the cap evicts it last. */
  touch(object: StoredObject): void {
    const set = object.kind === 'init' ? this.inits : this.lru;
    if (set.delete(object)) set.add(object);
  }

  /** Evicts down to the cap; true when there is room for more (false: everything left is being written or protected). */
  makeRoom(): boolean {
    this.enforce();
    return this.store.chargedBytes <= this.options.maxMemoryBytes;
  }

  /**
   * Schedules the TTL of a version that lives in the tier only (a file not loaded at start):
   * completed at `completedAt` (epoch ms).
   */
  schedule(key: string, version: number, kind: ObjectKind, completedAt: number): void {
    const ttl = this.ttlFor(key, kind);
    if (ttl > 0) this.enqueue(ttl, { at: completedAt + ttl, key, version });
  }

  /** Number of pending expiry entries (stale ones included until their deadline). */
  get scheduled(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.items.length - q.head;
    return n;
  }

  /** Stops the timer and the listeners. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.store.off('create', this.onCreate);
    this.store.off('complete', this.onSettle);
    this.store.off('abort', this.onSettle);
    this.store.off('delete', this.onDelete);
    this.store.off('publish', this.onPublish);
  }

  private readonly onCreate = (_key: string, object: StoredObject, replaced: StoredObject | undefined): void => {
    if (replaced !== undefined) this.forget(replaced);
    if (object.kind === 'media') this.countMedia(object.key, 1);
    // Manifests and objects loaded from disk are complete before they become current.
    if (object.state !== 'writing') this.settle(object);
    this.enforce();
  };

  private readonly onSettle = (key: string, object: StoredObject): void => {
    if (this.store.get(key) !== object) return;
    this.settle(object);
    // Complete now, so evictable: memory may have been over the cap only because of it.
    if (this.store.chargedBytes > this.options.maxMemoryBytes) this.enforce();
  };

  private readonly onDelete = (_key: string, object: StoredObject): void => {
    this.forget(object);
  };

  private readonly onPublish = (): void => {
    if (this.store.chargedBytes > this.options.maxMemoryBytes) this.enforce();
  };

  /** A version stopped being current. */
  private forget(object: StoredObject): void {
    this.lru.delete(object);
    this.inits.delete(object);
    if (object.kind === 'media') this.countMedia(object.key, -1);
  }

  private countMedia(key: string, delta: number): void {
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    const n = (this.mediaByDir.get(dir) ?? 0) + delta;
    if (n > 0) this.mediaByDir.set(dir, n);
    else this.mediaByDir.delete(dir);
  }

  private settle(object: StoredObject): void {
    const set = object.kind === 'init' ? this.inits : this.lru;
    if (set.has(object)) return;
    set.add(object);
    const ttl = this.ttlFor(object.key, object.kind);
    if (ttl <= 0) return;
    // Completion time is modifiedAt (a file's mtime for objects loaded from disk). One clock
    // only: completions are in order, so each queue stays sorted and rarely re-arms the timer.
    const at = (object.state === 'complete' ? object.modifiedAt : Date.now()) + ttl;
    this.enqueue(ttl, { at, key: object.key, version: object.version });
  }

  private enqueue(ttl: number, entry: Entry): void {
    let queue = this.queues.get(ttl);
    if (queue === undefined) this.queues.set(ttl, (queue = new Queue()));
    queue.push(entry);
    if (entry.at < this.armedAt) this.arm(entry.at);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedAt = at;
    // unref: retention alone never keeps the process alive.
    this.timer = setTimeout(this.sweep, Math.max(0, at - Date.now()) + 1);
    this.timer.unref();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const [ttl, queue] of this.queues) {
      let entry = queue.first;
      while (entry !== undefined && entry.at <= now) {
        queue.shift();
        const object = this.store.get(entry.key);
        if (object !== undefined && object.version === entry.version) {
          if (object.state !== 'writing') {
            this.expired++;
            this.store.delete(entry.key, 'expire');
          }
        } else if (this.tier?.expire(entry.key, entry.version) === true) {
          // Evicted from memory (or never loaded) but still on disk: it ends there too.
          this.expired++;
        }
        entry = queue.first;
      }
      if (entry === undefined) this.queues.delete(ttl);
      else if (entry.at < next) next = entry.at;
    }
    if (next !== Infinity) this.arm(next);
  };

  private enforce(): void {
    const cap = this.options.maxMemoryBytes;
    const store = this.store;
    while (store.chargedBytes > cap) {
      const object = this.oldestEvictable();
      if (object === undefined) return;
      this.lru.delete(object);
      this.inits.delete(object);
      // The 'delete' listener forgets the rest (media counts).
      if (store.get(object.key) === object) {
        this.evicted++;
        store.delete(object.key, 'evict');
      }
    }
  }

  /** The least recently used complete object, an init segment only when no media of its stream is stored. */
  private oldestEvictable(): StoredObject | undefined {
    const oldest = this.lru.values().next();
    if (oldest.done !== true) return oldest.value;
    for (const init of this.inits) {
      if (!this.mediaByDir.has(init.key.slice(0, init.key.lastIndexOf('/') + 1))) return init;
    }
    return undefined;
  }
}
