// A worker thread holding a share of the readers: raw sockets, one keep-alive connection each,
// one GET per segment on it (sent only after the previous response ended), every body byte
// compared with the upload and the time each CMAF chunk's last byte arrived recorded.
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { now, setClockBase } from './clock.js';
import { HttpParseError, ResponseParser } from './http-parse.js';
import type { FromWorker, ReaderReport, ToWorker, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
setClockBase(setup.clockBase);
const segments = setup.segments.map((s) => ({ bytes: Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength), chunkEnds: s.chunkEnds }));
const port = parentPort;
if (port === null) throw new Error('reader-worker must run as a worker thread');

const send = (message: FromWorker): void => port.postMessage(message);

/** Parallel connects per worker: enough to be quick, few enough not to overflow a listen backlog. */
const CONNECT_CONCURRENCY = 64;

class Reader {
  private socket: Socket | null = null;
  private readonly parser: ResponseParser;
  /** now() of the 'data' event being handled: one clock read per socket read. */
  private dataAt = 0;
  // The segment in flight.
  private expected: Buffer = Buffer.alloc(0);
  private chunkEnds: number[] = [];
  private offset = 0;
  private nextChunk = 0;
  private report: ReaderReport = emptyReport(0);
  /** True while a response is awaited or arriving. */
  busy = false;
  onSettled: (() => void) | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.parser = new ResponseParser({
      head: (status) => {
        this.report.status = status;
        if (status !== 200) this.report.error = `status ${status}`;
      },
      body: (view) => this.body(view),
      complete: () => this.complete(),
    });
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  connect(timeoutMs: number): Promise<void> {
    this.parser.reset();
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
        this.fail(`socket error: ${err.message}`);
      });
      socket.on('data', (piece: Buffer) => {
        this.dataAt = now();
        try {
          this.parser.push(piece);
        } catch (err) {
          this.fail(err instanceof HttpParseError ? `bad response: ${err.message}` : String(err));
          socket.destroy();
        }
      });
      socket.on('close', () => {
        if (this.socket !== socket) return;
        this.socket = null;
        if (this.busy && !this.parser.close()) this.fail('connection closed before the response ended');
      });
      this.socket = socket;
    });
  }

  /** Sends the GET for segment `index`; the previous response has ended (see 'collect'). */
  request(path: string, index: number): void {
    const seg = segments[index];
    this.expected = seg.bytes;
    this.chunkEnds = seg.chunkEnds;
    this.offset = 0;
    this.nextChunk = 0;
    this.report = emptyReport(seg.chunkEnds.length);
    this.parser.reset();
    this.busy = true;
    const socket = this.socket;
    if (socket === null || socket.destroyed) return this.fail('not connected');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: boxstream-bench\r\nAccept: */*\r\n\r\n`);
    this.report.getAt = now();
  }

  private body(view: Buffer): void {
    const r = this.report;
    if (r.status !== 200) return; // an error page is not compared with the segment
    if (Number.isNaN(r.firstByteAt)) r.firstByteAt = this.dataAt;
    const start = this.offset;
    const end = start + view.length;
    const expected = this.expected;
    if (end > expected.length) {
      r.mismatchedBytes += end - Math.max(start, expected.length);
      if (start < expected.length) r.mismatchedBytes += countDiffs(view.subarray(0, expected.length - start), expected, start);
    } else if (view.compare(expected, start, end) !== 0) {
      r.mismatchedBytes += countDiffs(view, expected, start);
    }
    this.offset = end;
    r.bodyBytes = end;
    const ends = this.chunkEnds;
    while (this.nextChunk < ends.length && end >= ends[this.nextChunk]) r.receipts[this.nextChunk++] = this.dataAt;
  }

  private complete(): void {
    if (!this.busy) return;
    if (this.report.error === null && this.offset !== this.expected.length) {
      this.report.error = `body of ${this.offset} bytes, expected ${this.expected.length}`;
    }
    this.settle();
  }

  fail(reason: string): void {
    if (!this.busy) return;
    this.report.error ??= reason;
    this.settle();
  }

  private settle(): void {
    this.busy = false;
    const cb = this.onSettled;
    this.onSettled = null;
    cb?.();
  }

  /** The segment's report; a reader still busy at the deadline has timed out and is cut off. */
  take(): ReaderReport {
    if (this.busy) {
      this.fail(`timed out: ${this.nextChunk} of ${this.chunkEnds.length} chunks received`);
      this.socket?.destroy();
      this.socket = null;
    }
    return this.report;
  }

  destroy(): void {
    this.busy = false;
    this.socket?.destroy();
    this.socket = null;
  }
}

function emptyReport(chunks: number): ReaderReport {
  return {
    getAt: Number.NaN,
    firstByteAt: Number.NaN,
    receipts: new Float64Array(chunks).fill(Number.NaN),
    bodyBytes: 0,
    mismatchedBytes: 0,
    status: 0,
    error: null,
  };
}

/** Only on the slow path: which bytes differ. */
function countDiffs(view: Buffer, expected: Buffer, at: number): number {
  let n = 0;
  for (let i = 0; i < view.length; i++) if (view[i] !== expected[at + i]) n++;
  return n;
}

let readers: Reader[] = [];
let connectTimeoutMs = 10_000;

/** Runs `task` over `items` with at most `limit` in flight. */
async function eachLimited<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'connect': {
      for (const r of readers) r.destroy();
      connectTimeoutMs = message.timeoutMs;
      readers = Array.from({ length: message.count }, () => new Reader(message.host, message.port));
      const errors: string[] = [];
      await eachLimited(readers, CONNECT_CONCURRENCY, (r) => r.connect(connectTimeoutMs).catch((err: Error) => void errors.push(err.message)));
      return send({ type: 'connected', errors });
    }
    case 'get': {
      const errors: string[] = [];
      let reconnects = 0;
      // A reader whose connection was closed (by the server, or after a timeout) dials again.
      const lost = readers.filter((r) => !r.connected);
      await eachLimited(lost, CONNECT_CONCURRENCY, async (r) => {
        reconnects++;
        await r.connect(connectTimeoutMs).catch((err: Error) => void errors.push(`reconnect: ${err.message}`));
      });
      for (const r of readers) r.request(message.path, message.segment);
      return send({ type: 'requested', errors, reconnects });
    }
    case 'collect': {
      await new Promise<void>((resolve) => {
        let pending = 0;
        const timer = setTimeout(resolve, Math.max(0, message.deadline - now()));
        const one = (): void => {
          if (--pending === 0) {
            clearTimeout(timer);
            resolve();
          }
        };
        for (const r of readers) {
          if (r.busy) {
            pending++;
            r.onSettled = one;
          }
        }
        if (pending === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      const reports = readers.map((r) => r.take());
      return send({ type: 'collected', readers: reports });
    }
    case 'disconnect': {
      for (const r of readers) r.destroy();
      readers = [];
      return send({ type: 'disconnected' });
    }
  }
}

port.on('message', (message: ToWorker) => {
  handle(message).catch((err: unknown) => send({ type: 'fatal', message: err instanceof Error ? err.stack ?? err.message : String(err) }));
});
