// One relay target: a bounded queue of what is still to be sent, at most `maxConnections`
// requests in flight, and backoff while the target fails. Nothing here runs inside the store
// event that queued a job (sending starts on a later turn of the event loop), and a job is a
// reference to a stored version, read later by a cursor like any other reader: a slow or dead
// target costs memory bounded by the queue, never time of the encoder or players.
import type { StoredObject } from '../store/object.js';
import type { RelayTargetSettings } from './options.js';

/**
 * How one attempt ended. `retry`: worth trying again later (network, timeout, 408, 429, 5xx but
 * 501/505/508). `answered`: the target replied with a status (it is up, even if it refused).
 * `skipped`: nothing to blame on the target (the source upload failed, or the job was cancelled).
 */
export type Outcome = { ok: true; bytes: number } | { ok: false; retry: boolean; reason: string; answered?: boolean; skipped?: boolean };

/** Sends single requests to one target; the target decides what, when and how often. */
export interface Sender {
  /**
   * `'create'`: objects are sent as they are written (another origin); `'complete'`: only
   * once whole (S3).
   */
  readonly when: 'create' | 'complete';
  /** Sends `object` under `key`; calls `done` once, never synchronously. Returns a cancel function. */
  put(key: string, object: StoredObject, done: (outcome: Outcome) => void): () => void;
  /** Removes `key` at the target (`via`: the `CDN-Loop` the removal came with); 404 counts as done. Same contract as `put`. */
  delete(key: string, via: string | undefined, done: (outcome: Outcome) => void): () => void;
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
  /** Jobs given up: the queue was full, or the target refused them for good (4xx, 508). */
  dropped: number;
  queued: number;
  /** Bytes of the objects waiting (what the queue holds in memory). */
  queuedBytes: number;
  inFlight: number;
  /** False while the target does not answer (backing off). */
  up: boolean;
  /** The current step of backoff between attempts, ms (0 while up). */
  backoffMs: number;
}

/** What the target has to do for one key: send a version (`object`) or remove the key. */
interface Job {
  key: string;
  object: StoredObject | undefined;
  /** DELETE only: the `CDN-Loop` the removal arrived with. */
  via: string | undefined;
  /** The failure count when this attempt started: failures of one outage count once. */
  epoch: number;
}

export class RelayTarget {
  /** Waiting jobs, oldest first, at most one per key (a newer job for a key takes the queued one's place). */
  private readonly queue: Job[] = [];
  private readonly queued = new Map<string, Job>();
  /** Cancel functions of the attempts in flight, by key (one per key: a key's jobs run in order). */
  private readonly inFlight = new Map<string, () => void>();
  /** Outages in a row (failures of attempts running together count once); while above 0, one attempt at a time probes the target. */
  private failuresInRow = 0;
  private pausedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];
  private lastWarning = -Infinity;
  readonly stats: Omit<RelayStats, 'name' | 'queued' | 'queuedBytes' | 'inFlight' | 'up' | 'backoffMs'> = { sent: 0, sentBytes: 0, deleted: 0, failures: 0, retries: 0, dropped: 0 };

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

  /** Queues `object` for `key` (in place of any job for `key` still waiting). */
  put(key: string, object: StoredObject): void {
    this.add({ key, object, via: undefined, epoch: 0 }, false);
  }

  /** Queues the removal of `key` (in place of any job for `key` still waiting). */
  delete(key: string, via: string | undefined): void {
    this.add({ key, object: undefined, via, epoch: 0 }, false);
  }

  /** `object` expired here: a waiting job for it is no longer worth sending. */
  forget(key: string, object: StoredObject): void {
    const job = this.queued.get(key);
    if (job !== undefined && job.object === object) this.unqueue(job);
    this.checkIdle();
  }

  /** Counters and gauges, for `/metrics`. */
  snapshot(): RelayStats {
    return {
      name: this.settings.name,
      ...this.stats,
      queued: this.queue.length,
      queuedBytes: this.queuedBytes(),
      inFlight: this.inFlight.size,
      up: this.failuresInRow === 0,
      backoffMs: this.backoffMs(),
    };
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

  private queuedBytes(): number {
    let bytes = 0;
    for (const job of this.queue) bytes += job.object?.length ?? 0;
    return bytes;
  }

  private add(job: Job, first: boolean): void {
    if (this.closed) return;
    const old = this.queued.get(job.key);
    this.queued.set(job.key, job);
    if (old !== undefined && !first) {
      // In the old one's place: a manifest rewritten every second must not be pushed back
      // behind every segment queued since, or it would never reach a slow target.
      this.queue[this.queue.indexOf(old)] = job;
    } else {
      if (old !== undefined) this.queue.splice(this.queue.indexOf(old), 1);
      if (first) this.queue.unshift(job);
      else this.queue.push(job);
    }
    this.trim();
    this.schedule();
  }

  /**
   * Full: the oldest waiting jobs go (for live streams the newest objects matter most). Run on
   * every job queued and every object completed (a live object grows after it was queued).
   */
  trim(): void {
    const { maxQueue, maxQueueBytes } = this.settings;
    while (this.queue.length > 1 && (this.queue.length > maxQueue || this.queuedBytes() > maxQueueBytes)) {
      this.unqueue(this.queue[0]);
      this.stats.dropped++;
      this.report(`queue full (${maxQueue} objects or ${maxQueueBytes} bytes): dropped the oldest`);
    }
  }

  private unqueue(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.queued.get(job.key) === job) this.queued.delete(job.key);
  }

  /** Dispatches on a later turn: never inside the store event (an upload's publish or complete) that queued a job. */
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
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
    this.checkIdle();
  }

  private start(job: Job): void {
    job.epoch = this.failuresInRow;
    let settled = false;
    const done = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      this.inFlight.delete(job.key);
      if (this.closed) return;
      if (outcome.ok) this.succeeded(job, outcome.bytes);
      else this.failed(job, outcome);
      this.dispatch();
    };
    let cancel: () => void;
    try {
      cancel = job.object !== undefined ? this.sender.put(job.key, job.object, done) : this.sender.delete(job.key, job.via, done);
    } catch (err) {
      // A request that cannot even be made (a header Node refuses) will not be made by retrying.
      const reason = err instanceof Error ? err.message : String(err);
      this.inFlight.set(job.key, () => undefined);
      queueMicrotask(() => done({ ok: false, retry: false, reason }));
      return;
    }
    if (!settled) this.inFlight.set(job.key, cancel);
  }

  private succeeded(job: Job, bytes: number): void {
    this.recovered();
    if (job.object === undefined) this.stats.deleted++;
    else {
      this.stats.sent++;
      this.stats.sentBytes += bytes;
    }
  }

  private backoffMs(): number {
    if (this.failuresInRow === 0) return 0;
    return Math.min(this.settings.maxBackoffMs, this.settings.minBackoffMs * 2 ** (this.failuresInRow - 1));
  }

  /** The target answered: it is up, whatever it said. */
  private recovered(): void {
    this.failuresInRow = 0;
    this.pausedUntil = 0;
  }

  private failed(job: Job, outcome: Extract<Outcome, { ok: false }>): void {
    // The source upload failed, or the job was cancelled: nothing the target did.
    if (outcome.skipped) return;
    this.stats.failures++;
    if (outcome.answered) this.recovered();
    const what = `${job.object === undefined ? 'DELETE' : 'PUT'} ${job.key}`;
    if (!outcome.retry) {
      this.stats.dropped++;
      this.report(`${what} failed, not retried: ${outcome.reason}`);
      return;
    }
    // Attempts that were running together fail together: one outage, one step of backoff.
    if (job.epoch === this.failuresInRow) this.failuresInRow++;
    const backoff = this.backoffMs();
    this.pausedUntil = Math.max(this.pausedUntil, performance.now() + backoff * (0.75 + Math.random() / 4));
    this.report(`${what} failed (${outcome.reason}); retrying in up to ${Math.round(backoff)} ms`);
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

  private checkIdle(): void {
    if (this.queue.length === 0 && this.inFlight.size === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    const idle = this.idle;
    this.idle = [];
    for (const wake of idle) wake();
  }
}
