// One relay target: a bounded queue of what is still to be sent, at most `maxConnections`
// requests in flight, and backoff while the target fails. Nothing here waits on the data path:
// a job is a reference to a stored version, read later by a cursor like any other reader, so a
// slow or dead target costs memory bounded by the queue, never time of the encoder or players.
import type { StoredObject } from '../store/object.js';
import type { RelayTargetSettings } from './options.js';

/** How one attempt ended. `retry`: worth trying again later (network, 5xx, 408, 429). */
export type Outcome = { ok: true; bytes: number } | { ok: false; retry: boolean; reason: string };

/** Sends single requests to one target; the target decides what, when and how often. */
export interface Sender {
  /**
   * `'create'`: objects are sent as they are written (another origin); `'complete'`: only
   * once whole (S3).
   */
  readonly when: 'create' | 'complete';
  /** Sends `object` under `key`; calls `done` once, never synchronously. Returns a cancel function. */
  put(key: string, object: StoredObject, done: (outcome: Outcome) => void): () => void;
  /** Removes `key` at the target; 404 counts as done. Same contract as `put`. */
  delete(key: string, done: (outcome: Outcome) => void): () => void;
  /** Closes idle connections. */
  close(): void;
}

/** Counters of one target, for `/metrics`. */
export interface RelayStats {
  name: string;
  /** Objects sent whole and acknowledged. */
  sent: number;
  sentBytes: number;
  /** DELETEs acknowledged. */
  deleted: number;
  /** Attempts that failed (each retried unless `dropped` or not worth retrying). */
  failures: number;
  retries: number;
  /** Jobs given up: the queue was full, or the failure was final (4xx). */
  dropped: number;
  queued: number;
  inFlight: number;
  /** False while the last attempt failed (the target is backing off). */
  up: boolean;
}

/** What the target has to do for one key: send a version (`object`) or remove it (`undefined`). */
interface Job {
  key: string;
  object: StoredObject | undefined;
}

export class RelayTarget {
  /** Waiting jobs, oldest first, at most one per key (a newer job for a key replaces the queued one). */
  private readonly queue: Job[] = [];
  private readonly queued = new Map<string, Job>();
  /** Cancel functions of the attempts in flight, by key (one per key: a key's jobs run in order). */
  private readonly inFlight = new Map<string, () => void>();
  /** Failures in a row; while above 0, one attempt at a time probes the target. */
  private failuresInRow = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: (() => void)[] = [];
  private lastWarning = -Infinity;
  readonly stats: Omit<RelayStats, 'name' | 'queued' | 'inFlight' | 'up'> = { sent: 0, sentBytes: 0, deleted: 0, failures: 0, retries: 0, dropped: 0 };

  constructor(
    readonly settings: RelayTargetSettings,
    private readonly sender: Sender,
    private readonly warn: (message: string) => void,
    /** Whether `object` is still worth sending for `key` when an attempt failed. */
    private readonly stillCurrent: (key: string, object: StoredObject) => boolean,
  ) {}

  get when(): 'create' | 'complete' {
    return this.sender.when;
  }

  /** Whether `key` is relayed to this target. */
  takes(key: string): boolean {
    return key.startsWith(this.settings.prefix);
  }

  /** Queues `object` for `key` (replacing any job for `key` still waiting). */
  put(key: string, object: StoredObject): void {
    this.add({ key, object }, false);
  }

  /** Queues the removal of `key` (replacing any job for `key` still waiting). */
  delete(key: string): void {
    this.add({ key, object: undefined }, false);
  }

  /** `object` expired here: a waiting job for it is no longer worth sending. */
  forget(key: string, object: StoredObject): void {
    const job = this.queued.get(key);
    if (job !== undefined && job.object === object) this.unqueue(job);
  }

  /** Counters and gauges, for `/metrics`. */
  snapshot(): RelayStats {
    return { name: this.settings.name, ...this.stats, queued: this.queue.length, inFlight: this.inFlight.size, up: this.failuresInRow === 0 };
  }

  /** Resolves once nothing is queued or in flight (at once if so). */
  flushed(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Cancels everything in flight and forgets the queue. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const cancel of [...this.inFlight.values()]) cancel();
    this.inFlight.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.sender.close();
    this.wakeIdle();
  }

  private add(job: Job, first: boolean): void {
    if (this.closed) return;
    const old = this.queued.get(job.key);
    if (old !== undefined) this.unqueue(old);
    this.queued.set(job.key, job);
    if (first) this.queue.unshift(job);
    else this.queue.push(job);
    // Full: the oldest waiting job goes (for live streams the newest objects matter most).
    while (this.queue.length > this.settings.maxQueue) {
      this.unqueue(this.queue[0]);
      this.stats.dropped++;
      this.report(`queue full (${this.settings.maxQueue} objects): dropped the oldest`);
    }
    this.dispatch();
  }

  private unqueue(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.queued.get(job.key) === job) this.queued.delete(job.key);
  }

  private dispatch(): void {
    if (this.closed) return;
    const wait = this.pausedUntil - performance.now();
    if (wait > 0) {
      if (this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.dispatch();
        }, wait);
        this.timer.unref();
      }
      return;
    }
    // A failing target gets one probe at a time; a healthy one, every connection.
    const limit = this.failuresInRow > 0 ? 1 : this.settings.maxConnections;
    let i = 0;
    while (this.inFlight.size < limit && i < this.queue.length) {
      const job = this.queue[i];
      // A key's jobs run in order: its next one waits for the one in flight.
      if (this.inFlight.has(job.key)) {
        i++;
        continue;
      }
      this.unqueue(job);
      // An upload that failed here has nothing whole to relay (a relay in flight was cut with it).
      if (job.object?.state === 'aborted') continue;
      this.start(job);
    }
    if (this.queue.length === 0 && this.inFlight.size === 0) this.wakeIdle();
  }

  private start(job: Job): void {
    const done = (outcome: Outcome): void => {
      this.inFlight.delete(job.key);
      if (this.closed) return;
      if (outcome.ok) this.succeeded(job, outcome.bytes);
      else this.failed(job, outcome.reason, outcome.retry);
      this.dispatch();
    };
    const cancel = job.object !== undefined ? this.sender.put(job.key, job.object, done) : this.sender.delete(job.key, done);
    this.inFlight.set(job.key, cancel);
  }

  private succeeded(job: Job, bytes: number): void {
    this.failuresInRow = 0;
    this.pausedUntil = 0;
    if (job.object === undefined) this.stats.deleted++;
    else {
      this.stats.sent++;
      this.stats.sentBytes += bytes;
    }
  }

  private failed(job: Job, reason: string, retry: boolean): void {
    this.stats.failures++;
    const what = `${job.object === undefined ? 'DELETE' : 'PUT'} ${job.key}`;
    if (!retry) {
      this.stats.dropped++;
      this.report(`${what} failed, not retried: ${reason}`);
      return;
    }
    this.failuresInRow++;
    const backoff = Math.min(this.settings.maxBackoffMs, this.settings.minBackoffMs * 2 ** (this.failuresInRow - 1));
    this.pausedUntil = performance.now() + backoff * (0.75 + Math.random() / 4);
    this.report(`${what} failed (${reason}); retrying in up to ${Math.round(backoff)} ms`);
    // Again, first in line, unless a newer job for the key took its place meanwhile or the
    // version is no longer worth it (aborted, replaced, deleted, expired).
    if (this.queued.has(job.key)) return;
    if (job.object !== undefined && (job.object.state === 'aborted' || !this.stillCurrent(job.key, job.object))) return;
    this.stats.retries++;
    this.add(job, true);
  }

  /** Warnings, at most one per 10 s per target (a dead target fails every attempt). */
  private report(message: string): void {
    const now = performance.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.warn(`relay to ${this.settings.name}: ${message}`);
  }

  private wakeIdle(): void {
    const idle = this.idle;
    this.idle = [];
    for (const wake of idle) wake();
  }
}
