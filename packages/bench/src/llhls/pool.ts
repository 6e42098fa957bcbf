// The main thread's handle on the LL-HLS reader workers: spreads N readers over W threads.
import type { Worker } from 'node:worker_threads';
import { clockBase } from '../latency/clock.js';
import { entryBeside, startWorker } from '../latency/worker.js';
import type { FromLlhlsWorker, LlhlsWorkerSetup, PartSeen, ToLlhlsWorker } from './protocol.js';

function ask<T extends FromLlhlsWorker['type']>(worker: Worker, message: ToLlhlsWorker, reply: T): Promise<Extract<FromLlhlsWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromLlhlsWorker): void => {
      if (m.type !== reply) return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(m as Extract<FromLlhlsWorker, { type: T }>);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.postMessage(message);
  });
}

export class LlhlsPool {
  private readonly workers: Worker[];

  constructor(count: number) {
    this.workers = Array.from({ length: count }, () => startWorker(entryBeside(import.meta.url, 'reader-worker'), { clockBase: clockBase() }));
  }

  /** Starts `count` readers of `playlist`, spread evenly; resolves once all made their first request. */
  async start(host: string, port: number, playlist: string, count: number, stopMsn: number, stopPart: number): Promise<void> {
    const n = this.workers.length;
    await Promise.all(this.workers.map((w, i) => ask(w, { type: 'start', host, port, playlist, count: Math.floor(count / n) + (i < count % n ? 1 : 0), stopMsn, stopPart }, 'started')));
  }

  async collect(): Promise<{ seen: PartSeen[]; errors: string[]; playlists: number; parts: number }> {
    const replies = await Promise.all(this.workers.map((w) => ask(w, { type: 'collect' }, 'collected')));
    return {
      seen: replies.flatMap((r) => r.seen),
      errors: replies.flatMap((r) => r.errors),
      playlists: replies.reduce((a, r) => a + r.playlists, 0),
      parts: replies.reduce((a, r) => a + r.parts, 0),
    };
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
