// Relays: every relay target, fed by the store's events. Objects are queued when they appear
// (or complete, for targets that take whole objects only); removals are mirrored (told by
// removeKey, with their CDN-Loop); expired versions still waiting are forgotten. Listeners only
// queue: the sending happens later, through cursors, so an upload never waits for a target.
import type { StoredObject } from '../store/object.js';
import type { ObjectStore } from '../store/store.js';
import type { RelayTargetSettings } from './options.js';
import type { CachePolicy } from '../egress/headers.js';
import { OriginSender } from './origin-sender.js';
import { S3Sender } from './s3-sender.js';
import { RelayTarget, type RelayStats, type Sender } from './target.js';

/** Makes the sender of one target. */
export type SenderFactory = (target: RelayTargetSettings) => Sender;

export class Relays {
  readonly targets: RelayTarget[];
  /** Versions whose TTL ran out here: not worth another attempt. */
  private readonly expired = new WeakSet<StoredObject>();

  constructor(
    store: ObjectStore,
    settings: readonly RelayTargetSettings[],
    warn: (message: string) => void,
    /** Cache-Control of objects stored in buckets: the one players would get from this origin. */
    cache: CachePolicy,
    /** This origin's `CDN-Loop` token, added to what other origins receive. */
    loopToken: string,
    makeSender: SenderFactory = (target) => (target.kind === 's3' ? new S3Sender(target, cache) : new OriginSender(target, loopToken)),
  ) {
    // Worth another attempt: the version is still the current one, or left memory only by
    // eviction (its file still serves it).
    const stillCurrent = (key: string, object: StoredObject): boolean => {
      if (this.expired.has(object)) return false;
      const current = store.get(key);
      return current === object || current === undefined;
    };
    this.targets = settings.map((s) => new RelayTarget(s, makeSender(s), warn, stillCurrent));
    const targets = this.targets;
    store.on('create', (key, object) => {
      // Objects made visible whole (manifests are buffered, then inserted) go to every target now.
      const whole = object.state === 'complete';
      for (const t of targets) if ((t.when === 'create' || whole) && t.takes(key)) t.put(key, object);
    });
    store.on('complete', (key, object) => {
      // Only the current version (a replaced one completing late must not overwrite the newer),
      // and only once visible: one completed before its insert is queued by 'create'.
      if (store.get(key) !== object) return;
      for (const t of targets) {
        if (!t.takes(key)) continue;
        if (t.when === 'complete') t.put(key, object);
        // It grew since it was queued: the queue's byte bound is checked again.
        else t.trim();
      }
    });
    // Expired here: a waiting job for it goes, and a failed attempt is not retried. (Removals
    // by DELETE reach `removed()` directly, with the CDN-Loop they came with.)
    store.on('delete', (key, object, reason) => {
      if (reason !== 'expire') return;
      this.expired.add(object);
      for (const t of targets) if (t.takes(key)) t.forget(key, object);
    });
  }

  /** `key` was removed here (DELETE, or a VOD asset removed): remove it at every target that takes it. */
  removed(key: string, via: string | undefined): void {
    for (const t of this.targets) if (t.takes(key)) t.delete(key, via);
  }

  /** Counters and gauges of every target. */
  stats(): RelayStats[] {
    return this.targets.map((t) => t.snapshot());
  }

  /** Resolves once every target has sent what it holds. */
  async flushed(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.flushed()));
  }

  close(): void {
    for (const t of this.targets) t.close();
  }
}
