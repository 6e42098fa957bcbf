// A worker thread holding a share of the LL-HLS readers. Each reader behaves as hls.js does in
// low-latency mode: a blocking playlist reload for the part after the newest it has
// (`_HLS_msn=M&_HLS_part=P+1`), and, as soon as a reload lists a new part, a byte-range GET of it
// on a second connection. It records when the reload that first listed a part arrived and when
// the part's last byte did.
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { now, setClockBase } from '../latency/clock.js';
import { ResponseParser } from '../latency/http-parse.js';
import { playlistEdge } from './playlist-edge.js';
import type { FromLlhlsWorker, LlhlsWorkerSetup, PartSeen, ToLlhlsWorker } from './protocol.js';

const setup = workerData as LlhlsWorkerSetup;
setClockBase(setup.clockBase);
const port = parentPort;
if (port === null) throw new Error('reader-worker must run as a worker thread');
const send = (message: FromLlhlsWorker): void => port.postMessage(message);

const errors: string[] = [];
const seen: PartSeen[] = [];
let playlists = 0;
let parts = 0;
let readers: Reader[] = [];

function error(message: string): void {
  if (errors.length < 20) errors.push(message);
}

/** One keep-alive connection answering one request at a time. */
class Connection {
  private socket: Socket | null = null;
  private readonly parser: ResponseParser;
  private status = 0;
  private body: Buffer[] = [];
  private bytes = 0;
  private done: ((status: number, body: Buffer[], bytes: number, at: number) => void) | null = null;
  private dataAt = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly keepBody: boolean,
  ) {
    this.parser = new ResponseParser({
      head: (status) => {
        this.status = status;
      },
      body: (view) => {
        this.bytes += view.length;
        // A view, not a copy: 'data' pieces of a socket are fresh buffers, never reused.
        if (this.keepBody) this.body.push(view);
      },
      complete: () => {
        const done = this.done;
        const body = this.body;
        this.done = null;
        this.body = [];
        this.parser.reset();
        done?.(this.status, body, this.bytes, this.dataAt);
      },
    });
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      socket.once('connect', () => resolve());
      socket.on('error', (err) => {
        reject(err);
        error(`socket: ${err.message}`);
      });
      socket.on('data', (piece: Buffer) => {
        this.dataAt = now();
        try {
          this.parser.push(piece);
        } catch (err) {
          error(`bad response: ${String(err)}`);
          socket.destroy();
        }
      });
      socket.on('close', () => {
        this.socket = null;
        if (this.done !== null) error('connection closed mid-response');
        this.done = null;
      });
      this.socket = socket;
    });
  }

  get busy(): boolean {
    return this.done !== null;
  }

  get(path: string, extra: string, done: (status: number, body: Buffer[], bytes: number, at: number) => void): void {
    if (this.socket === null) return error('not connected');
    this.status = 0;
    this.bytes = 0;
    this.done = done;
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: boxstream-bench-llhls\r\n${extra}\r\n`);
  }

  close(): void {
    this.socket?.destroy();
  }
}

class Reader {
  private readonly playlistConn: Connection;
  private readonly partConn: Connection;
  private readonly dir: string;
  private last: { msn: number; part: number } | undefined;
  /** A part to fetch once the part connection is free (the newest wins). */
  private pendingPart: { path: string; range: string; length: number; record: PartSeen } | undefined;
  stopped = false;

  constructor(
    host: string,
    port: number,
    private readonly playlist: string,
    private readonly stopMsn: number,
    private readonly stopPart: number,
  ) {
    this.playlistConn = new Connection(host, port, true);
    this.partConn = new Connection(host, port, false);
    this.dir = playlist.slice(0, playlist.lastIndexOf('/') + 1);
  }

  async start(): Promise<void> {
    await Promise.all([this.playlistConn.open(), this.partConn.open()]);
    this.reload();
  }

  private reload(): void {
    const query = this.last === undefined ? '' : `?_HLS_msn=${this.last.msn}&_HLS_part=${this.last.part + 1}`;
    this.playlistConn.get(this.playlist + query, '', (status, body, _bytes, at) => this.onPlaylist(status, body, at));
  }

  private onPlaylist(status: number, body: Buffer[], at: number): void {
    playlists++;
    if (status !== 200) {
      error(`playlist status ${status}`);
      return this.stop();
    }
    const edge = playlistEdge(body.length === 1 ? body[0] : Buffer.concat(body));
    if (edge === undefined) {
      error('a playlist without parts');
      return this.stop();
    }
    const previous = this.last;
    this.last = { msn: edge.msn, part: edge.part };
    // The first playlist was not blocked: it says where the stream is, nothing about latency.
    if (previous !== undefined && (edge.msn > previous.msn || edge.part > previous.part)) {
      const record: PartSeen = { msn: edge.msn, part: edge.part, playlistAt: at, partAt: NaN };
      seen.push(record);
      this.pendingPart = { path: this.dir + edge.uri, range: `Range: bytes=${edge.offset}-${edge.offset + edge.length - 1}\r\n`, length: edge.length, record };
      this.fetchPart();
    }
    if (edge.ended || edge.msn > this.stopMsn || (edge.msn === this.stopMsn && edge.part >= this.stopPart)) return this.stop();
    this.reload();
  }

  private fetchPart(): void {
    const next = this.pendingPart;
    if (next === undefined || this.partConn.busy) return;
    this.pendingPart = undefined;
    this.partConn.get(next.path, next.range, (status, _body, bytes, at) => {
      parts++;
      if (status !== 206) error(`part status ${status}`);
      else if (bytes !== next.length) error(`part of ${bytes} bytes, expected ${next.length}`);
      else next.record.partAt = at;
      this.fetchPart();
    });
  }

  private stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.playlistConn.close();
    this.partConn.close();
  }
}

port.on('message', (m: ToLlhlsWorker) => {
  void (async () => {
    if (m.type === 'start') {
      readers = Array.from({ length: m.count }, () => new Reader(m.host, m.port, m.playlist, m.stopMsn, m.stopPart));
      // A few at a time: a listen backlog is finite.
      for (let i = 0; i < readers.length; i += 64) await Promise.all(readers.slice(i, i + 64).map((r) => r.start().catch((e: Error) => error(`start: ${e.message}`))));
      send({ type: 'started' });
    } else {
      for (const r of readers) r.close();
      send({ type: 'collected', seen: seen.splice(0), errors: errors.splice(0), playlists, parts });
      playlists = 0;
      parts = 0;
    }
  })().catch((err: Error) => error(err.message));
});
