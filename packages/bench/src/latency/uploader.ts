// The encoder side: one persistent raw TCP connection (like ffmpeg's -http_persistent 1) that
// PUTs segments back to back with Transfer-Encoding: chunked, one HTTP chunk per CMAF chunk at a
// fixed cadence, and records when each chunk was handed to the kernel.
import { connect, type Socket } from 'node:net';
import { now, sleep } from './clock.js';
import { ResponseParser } from './http-parse.js';
import type { SegmentFixture } from './fixture.js';

export interface UploadResult {
  /** now() just after the write() of each CMAF chunk (chunk i's last byte is in the kernel). */
  writeTimes: number[];
  status: number;
}

/** One HTTP chunk per CMAF chunk, framed ahead of time so the timed write is a single call. */
export function frameChunks(segment: SegmentFixture): Buffer[] {
  let start = 0;
  return segment.chunkEnds.map((end) => {
    const data = segment.bytes.subarray(start, end);
    start = end;
    return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1')]);
  });
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class Uploader {
  private socket: Socket | null = null;
  private readonly parser: ResponseParser;
  private waiter: { resolve: (status: number) => void; reject: (err: Error) => void } | null = null;
  private status = 0;
  private failure: Error | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly responseTimeoutMs: number,
  ) {
    this.parser = new ResponseParser({
      head: (status) => {
        this.status = status;
      },
      body: () => {},
      complete: () => {
        const w = this.waiter;
        this.waiter = null;
        this.parser.reset();
        w?.resolve(this.status);
      },
    });
  }

  private async ensureConnected(): Promise<Socket> {
    if (this.socket !== null && !this.socket.destroyed) return this.socket;
    this.failure = null;
    this.parser.reset();
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port, noDelay: true });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    socket.on('data', (piece: Buffer) => {
      try {
        this.parser.push(piece);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (this.socket !== socket) return; // an old connection; its successor is unaffected
      this.socket = null;
      this.fail(new Error('upload connection closed'));
    });
    this.socket = socket;
    return socket;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  private response(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.failure !== null) return reject(this.failure);
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no upload response within ${this.responseTimeoutMs} ms`));
        this.socket?.destroy();
      }, this.responseTimeoutMs);
      this.waiter = {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  private head(method: string, path: string, extra = ''): string {
    return `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: boxstream-bench\r\n${extra}\r\n`;
  }

  /** A whole small object (the init segment) in one chunked PUT. */
  async putWhole(path: string, bytes: Buffer): Promise<number> {
    const socket = await this.ensureConnected();
    const done = this.response();
    socket.write(this.head('PUT', path, 'Content-Type: video/mp4\r\nTransfer-Encoding: chunked\r\n'));
    socket.write(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n'), LAST_CHUNK]));
    return done;
  }

  /**
   * Uploads one segment, chunk i at start + i * cadenceMs (cadence 0: as fast as the socket
   * takes them). The request head goes out in the same write as the first chunk, so a server
   * that reacts to the head and one that reacts to the first body bytes learn of the upload at
   * the same moment. `onChunk(i)` runs after chunk i was written (catch-up readers join there).
   * `startAt` (a `now()` time) schedules chunk 0 for later: an encoder's next segment starts one
   * chunk duration after its previous one's last chunk, not as soon as that upload was answered.
   */
  async putSegment(path: string, chunks: Buffer[], cadenceMs: number, onChunk?: (index: number) => void, startAt?: number): Promise<UploadResult> {
    const socket = await this.ensureConnected();
    const done = this.response();
    done.catch(() => {}); // observed below; keeps an early failure from being unhandled meanwhile
    const head = Buffer.from(this.head('PUT', path, 'Content-Type: video/iso.segment\r\nTransfer-Encoding: chunked\r\n'), 'latin1');
    const writeTimes: number[] = [];
    const start = startAt ?? now();
    for (let i = 0; i < chunks.length; i++) {
      if (this.failure !== null) throw this.failure;
      if (cadenceMs > 0) {
        // Absolute schedule: a late timer does not push the later chunks back.
        const wait = start + i * cadenceMs - now();
        if (wait > 0.5) await sleep(wait);
      }
      const ok = socket.write(i === 0 ? Buffer.concat([head, chunks[0]]) : chunks[i]);
      writeTimes.push(now());
      onChunk?.(i);
      if (!ok && cadenceMs === 0) await new Promise((resolve) => socket.once('drain', resolve));
    }
    socket.write(LAST_CHUNK);
    const status = await done;
    return { writeTimes, status };
  }

  async delete(path: string): Promise<number> {
    const socket = await this.ensureConnected();
    const done = this.response();
    socket.write(this.head('DELETE', path));
    return done;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
