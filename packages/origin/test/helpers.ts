// Test helpers: an origin on an ephemeral port, raw sockets that see the exact bytes on the
// wire (status line, chunk framing, whether the terminating chunk came), and small HTTP calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser } from 'boxstream';
import { createOrigin, type Origin, type OriginOptions, type OriginServer } from '../src/index.js';

export const FIXTURES = fileURLToPath(new URL('../../boxstream/test/fixtures/', import.meta.url));
export const fixture = (name: string): Buffer => readFileSync(FIXTURES + name);

/** The fixture segment cut at its CMAF chunk boundaries (what boxstream says they are). */
export function fixtureChunks(name = 'lldash-segment.m4s'): Buffer[] {
  const bytes = fixture(name);
  const events = [...new Parser().push(bytes)];
  return events.map((e) => bytes.subarray(e.offset, e.offset + e.size));
}

export interface TestOrigin {
  origin: Origin;
  running: OriginServer;
  port: number;
  /** Server-side sockets, to look at what the server buffers. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function startOrigin(options: OriginOptions = {}): Promise<TestOrigin> {
  const origin = createOrigin({ holdMs: 300, ...options });
  const running = await origin.listen(0, '127.0.0.1');
  const sockets = new Set<Socket>();
  running.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    origin,
    running,
    port: running.port,
    sockets,
    // The listener, then the origin's own timers and relays: nothing of a closed test origin
    // may go on working (or holding memory) while later tests run in this process.
    close: async () => {
      await running.close(0);
      origin.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Polls `predicate` (tests only: the origin itself never polls). */
export async function waitUntil(predicate: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** A response as parsed from raw bytes. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Decoded body chunks (chunked), or the body so far as one entry. */
  chunks: Buffer[];
  /** True once the zero-length terminating chunk arrived. */
  terminated: boolean;
  body: Buffer;
}

/** Parses an HTTP/1.1 response from the bytes received so far; undefined until the head is complete. */
export function parseRawResponse(buf: Buffer): RawResponse | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let pos = headEnd + 4;
  const chunks: Buffer[] = [];
  let terminated = false;
  if (headers['transfer-encoding'] === 'chunked') {
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) break;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        terminated = buf.length >= lineEnd + 4;
        break;
      }
      if (buf.length < lineEnd + 2 + size + 2) break;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  } else if (buf.length > pos) {
    chunks.push(buf.subarray(pos));
  }
  return { status, headers, chunks, terminated, body: Buffer.concat(chunks) };
}

/** A raw TCP client: write any bytes, see every byte that comes back. */
export class RawClient {
  readonly socket: Socket;
  private pieces: Buffer[] = [];
  private joined = Buffer.alloc(0);
  private parsed: RawResponse | undefined;
  private dirty = false;
  /** Bytes received so far. */
  received = 0;
  closed = false;
  ended = false;
  private readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (b: Buffer) => {
      this.pieces.push(b);
      this.received += b.length;
      this.dirty = true;
    });
    this.socket.on('end', () => (this.ended = true));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => {});
  }

  async ready(): Promise<this> {
    await this.connected;
    return this;
  }

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Everything received so far, joined (cached until more arrives). */
  get data(): Buffer {
    if (this.pieces.length > 0) {
      this.joined = Buffer.concat([this.joined, ...this.pieces]);
      this.pieces = [];
    }
    return this.joined;
  }

  response(): RawResponse | undefined {
    if (this.dirty || this.parsed === undefined) {
      this.dirty = false;
      this.parsed = parseRawResponse(this.data);
    }
    return this.parsed;
  }

  async until(predicate: (r: RawResponse | undefined) => boolean, ms = 3000, what = 'response'): Promise<RawResponse> {
    await waitUntil(() => predicate(this.response()), ms, what);
    return this.response() as RawResponse;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Opens a raw GET (or HEAD) and returns the client. */
export async function rawGet(port: number, path: string, method = 'GET', extra = ''): Promise<RawClient> {
  const c = await new RawClient(port).ready();
  c.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`);
  return c;
}

/** A chunked PUT over a raw socket: every `send()` is exactly one HTTP chunk on the wire. */
export class ChunkedUpload {
  readonly client: RawClient;

  private constructor(client: RawClient) {
    this.client = client;
  }

  static async start(port: number, path: string, method = 'PUT', headers = ''): Promise<ChunkedUpload> {
    const client = await new RawClient(port).ready();
    client.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n${headers}\r\n`);
    return new ChunkedUpload(client);
  }

  send(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.client.write(bytes.byteLength.toString(16) + '\r\n');
    this.client.write(bytes);
    this.client.write('\r\n');
  }

  /** Sends the terminating chunk and waits for the answer. */
  async end(): Promise<RawResponse> {
    this.client.write('0\r\n\r\n');
    return this.client.until((r) => r !== undefined, 3000, 'upload response');
  }

  abort(): void {
    this.client.destroy();
  }
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request with node:http (fresh connection), body collected. */
export function http(port: number, method: string, path: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** PUT with Content-Length. */
export const put = (port: number, path: string, body: Uint8Array | string, headers: Record<string, string> = {}): Promise<HttpResult> =>
  http(port, 'PUT', path, body, headers);

/**
 * The origin CLI (`src/cli.ts` through tsx) as a child process, with its output collected. It
 * writes no coverage: c8 cannot merge a child's coverage of files tsx transformed for it with the
 * test process's coverage of the same files (the merge keeps the child's, mostly unexecuted, map).
 */
export function runCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const pkg = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_V8_COVERAGE: '', ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  child.stderr!.on('data', (b: Buffer) => (err += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}
