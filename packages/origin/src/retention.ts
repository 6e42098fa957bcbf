// How objects leave memory besides DELETE: a time-to-live after completion, and a global memory
// cap that evicts the least recently used complete objects. One timer serves the whole store:
// expiry entries sit in one FIFO queue per distinct TTL (appended at completion, so each queue is
// already in expiry order) and the timer is armed for the earliest head only.
import type { ObjectStore, StoredObject } from './store.js';

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
  /** Cap on the bytes of current versions; least recently used complete objects go first. */
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
  /** Settled (complete or aborted) current versions, least recently used first. */
  private readonly lru = new Set<StoredObject>();
  private readonly rules: readonly TtlRule[];
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

  /** The TTL that applies to `object`, ms (`0`: none). */
  ttlFor(object: StoredObject): number {
    if (isInit(object)) return this.options.initTtlMs;
    for (const rule of this.rules) if (object.key.startsWith(rule.prefix)) return rule.ttlMs;
    return this.options.ttlMs;
  }

  /** Marks `object` as just used (a GET of a complete object), so the cap evicts it last. */
  touch(object: StoredObject): void {
    if (this.lru.delete(object)) this.lru.add(object);
  }

  /** Evicts down to the cap; true when there is room for more (false: everything left is being written). */
  makeRoom(): boolean {
    this.enforce();
    return this.store.bytes < this.options.maxMemoryBytes;
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
    if (replaced !== undefined) this.lru.delete(replaced);
    // Manifests and objects loaded from disk are complete before they become current.
    if (object.state !== 'writing') this.settle(object);
    this.enforce();
  };

  private readonly onSettle = (key: string, object: StoredObject): void => {
    if (this.store.get(key) === object) this.settle(object);
  };

  private readonly onDelete = (_key: string, object: StoredObject): void => {
    this.lru.delete(object);
  };

  private readonly onPublish = (): void => {
    if (this.store.bytes > this.options.maxMemoryBytes) this.enforce();
  };

  private settle(object: StoredObject): void {
    if (this.lru.has(object)) return;
    this.lru.add(object);
    const ttl = this.ttlFor(object);
    if (ttl <= 0) return;
    // Completion time is modifiedAt (a file's mtime for objects loaded from disk). One clock
    // only: completions are in order, so each queue stays sorted and rarely re-arms the timer.
    const at = (object.state === 'complete' ? object.modifiedAt : Date.now()) + ttl;
    let queue = this.queues.get(ttl);
    if (queue === undefined) this.queues.set(ttl, (queue = new Queue()));
    queue.push({ at, key: object.key, version: object.version });
    if (at < this.armedAt) this.arm(at);
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
        if (object !== undefined && object.version === entry.version && object.state !== 'writing') {
          this.expired++;
          this.store.delete(entry.key, 'expire');
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
    while (store.bytes > cap) {
      const oldest = this.lru.values().next();
      if (oldest.done === true) return;
      const object = oldest.value;
      this.lru.delete(object);
      if (store.get(object.key) === object) {
        this.evicted++;
        store.delete(object.key, 'evict');
      }
    }
  }
}

/** An init segment (CMAF header) or a whole MP4: kept by default, players need it for the whole stream. */
function isInit(object: StoredObject): boolean {
  if (object.manifest || object.units.length === 0) return false;
  const first = object.units[0];
  // 'ftyp' at bytes 4..8
  return first.byteLength >= 8 && first[4] === 0x66 && first[5] === 0x74 && first[6] === 0x79 && first[7] === 0x70;
}
