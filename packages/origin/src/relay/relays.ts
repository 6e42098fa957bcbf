// Relays: every relay target, fed by the store's events. Objects are queued when they appear
// (or complete, for targets that take whole objects only); explicit removals are mirrored;
// expired versions still waiting are forgotten. Listeners only queue: the sending happens
// later, through cursors, so the upload that published an object never waits for a target.
import type { ObjectStore } from '../store/store.js';
import type { RelayTargetSettings } from './options.js';
import { OriginSender } from './origin-sender.js';
import { RelayTarget, type RelayStats, type Sender } from './target.js';

/** Makes the sender of one target (S3 targets bring their own). */
export type SenderFactory = (target: RelayTargetSettings) => Sender;

export class Relays {
  readonly targets: RelayTarget[];

  constructor(store: ObjectStore, settings: readonly RelayTargetSettings[], warn: (message: string) => void, makeSender: SenderFactory = defaultSender) {
    // Worth another attempt: the version is still the current one, or left memory only by
    // eviction (its file still serves it).
    const stillCurrent = (key: string, object: import('../store/object.js').StoredObject): boolean => {
      const current = store.get(key);
      return current === object || current === undefined;
    };
    this.targets = settings.map((s) => new RelayTarget(s, makeSender(s), warn, stillCurrent));
    const targets = this.targets;
    store.on('create', (key, object) => {
      for (const t of targets) if (t.when === 'create' && t.takes(key)) t.put(key, object);
    });
    store.on('complete', (key, object) => {
      // Only the current version: a replaced one completing late must not overwrite the newer.
      if (store.get(key) !== object) return;
      for (const t of targets) if (t.when === 'complete' && t.takes(key)) t.put(key, object);
    });
    store.on('delete', (key, object, reason) => {
      for (const t of targets) {
        if (!t.takes(key)) continue;
        if (reason === 'delete') t.delete(key);
        else if (reason === 'expire') t.forget(key, object);
      }
    });
    // Removed while only its file held it.
    store.on('discard', (key, reason) => {
      if (reason !== 'delete') return;
      for (const t of targets) if (t.takes(key)) t.delete(key);
    });
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

function defaultSender(target: RelayTargetSettings): Sender {
  if (target.kind === 'origin') return new OriginSender(target);
  throw new RangeError(`relay target ${target.name}: S3 targets are not supported yet`);
}
