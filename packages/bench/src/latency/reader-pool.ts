// The main thread's handle on the reader workers: spreads N readers over W worker threads so
// one event loop is not the bottleneck, and turns their messages into promises.
import type { Worker } from 'node:worker_threads';
import { clockBase } from './clock.js';
import { entryBeside, startWorker } from './worker.js';
import type { StreamFixture } from './fixture.js';
import type { FromWorker, ReaderReport, ToWorker, WorkerSetup } from './protocol.js';

type Reply<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

class WorkerHandle {
  readonly worker: Worker;
  private queue: { type: FromWorker['type']; resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  private dead: Error | null = null;

  constructor(setup: WorkerSetup) {
    this.worker = startWorker(entryBeside(import.meta.url, 'reader-worker'), setup);
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'fatal') return this.die(new Error(`reader worker failed: ${m.message}`));
      const waiting = this.queue.shift();
      if (waiting === undefined) return;
      if (waiting.type !== m.type) waiting.reject(new Error(`reader worker answered ${m.type}, expected ${waiting.type}`));
      else waiting.resolve(m);
    });
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`reader worker exited with code ${code}`)));
  }

  private die(err: Error): void {
    this.dead ??= err;
    for (const w of this.queue.splice(0)) w.reject(err);
  }

  ask<T extends FromWorker['type']>(message: ToWorker, reply: T): Promise<Reply<T>> {
    if (this.dead !== null) return Promise.reject(this.dead);
    return new Promise<Reply<T>>((resolve, reject) => {
      this.queue.push({ type: reply, resolve: resolve as (m: FromWorker) => void, reject });
      this.worker.postMessage(message);
    });
  }
}

export class ReaderPool {
  private readonly workers: WorkerHandle[];

  constructor(fixture: StreamFixture, workerCount: number) {
    const setup: WorkerSetup = {
      clockBase: clockBase(),
      segments: fixture.segments.map((s) => ({ bytes: new Uint8Array(s.bytes), chunkEnds: s.chunkEnds })),
    };
    this.workers = Array.from({ length: workerCount }, () => new WorkerHandle(setup));
  }

  /** Opens `count` connections, spread evenly; returns connect errors. */
  async connect(host: string, port: number, count: number, timeoutMs: number): Promise<string[]> {
    const n = this.workers.length;
    const replies = await Promise.all(
      this.workers.map((w, i) => w.ask({ type: 'connect', host, port, count: Math.floor(count / n) + (i < count % n ? 1 : 0), timeoutMs }, 'connected')),
    );
    return replies.flatMap((r) => r.errors);
  }

  /** Every reader sends its GET; resolves once all were written. */
  async get(path: string, segment: number): Promise<{ errors: string[]; reconnects: number }> {
    const replies = await Promise.all(this.workers.map((w) => w.ask({ type: 'get', path, segment }, 'requested')));
    return { errors: replies.flatMap((r) => r.errors), reconnects: replies.reduce((a, r) => a + r.reconnects, 0) };
  }

  /** Every reader's report for the segment in flight, once all ended or at `deadline`. */
  async collect(deadline: number): Promise<ReaderReport[]> {
    const replies = await Promise.all(this.workers.map((w) => w.ask({ type: 'collect', deadline }, 'collected')));
    return replies.flatMap((r) => r.readers);
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.ask({ type: 'disconnect' }, 'disconnected')));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
