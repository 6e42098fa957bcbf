// The listener one transcode uploads to: a private HTTP server on 127.0.0.1 and an ephemeral
// port, one per job, feeding the origin's own ingest path, so a VOD asset arrives exactly as a
// live encoder's stream does (parsed chunk by chunk, playable while it is written). ffmpeg
// presents a one-off token, never the ingest secret (which would show in `ps`), and may write
// only under its own asset.
//
// ffmpeg does not wait for the answer to an upload before it starts the next one, so its final
// (static) MPD can overtake the last segments it sent on other connections. The MPD is
// therefore taken here: each dynamic version is published at once, the final one is held
// until ffmpeg has exited and every connection it opened has been read to its end.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MAX_PATH_BYTES, parseRequestPath } from '../http/paths.js';
import { sendText } from '../http/respond.js';

/** What the listener hands back to its job. */
export interface LoopbackHost {
  /** The origin's ingest handler. */
  handler: RequestListener;
  /** The ingest secret the handler asks for, if any: presented on ffmpeg's behalf. */
  secret: string | undefined;
  /** The asset's key prefix: ffmpeg may write under it only. */
  prefix: string;
  /** The MPD's key: its uploads come to `manifest` instead of the handler. */
  mpdKey: string;
  /** Largest MPD body, bytes. */
  maxManifestBytes: number;
  /** One complete MPD upload. */
  manifest(body: Buffer): void;
  /** An upload the origin refused (ffmpeg goes on regardless): `'<status> <key>'`. */
  refused(what: string): void;
}

export class LoopbackIngest {
  private readonly server: Server;
  private readonly listening: Promise<number>;
  private readonly token = randomBytes(24).toString('base64url');
  /** The credentials in ffmpeg's URL: scrubbed from anything it says. */
  get secretText(): string {
    return this.token;
  }
  private readonly expected: Buffer;
  private readonly sockets = new Set<Socket>();
  private idle: (() => void)[] = [];

  constructor(private readonly host: LoopbackHost) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`vod:${this.token}`).toString('base64')}`);
    // ffmpeg keeps one connection per output and may be quiet on one for long (an MPD written
    // once a segment, a slow encode): nothing here times out; the job closes the listener.
    const server = createServer({ keepAliveTimeout: 0, requestTimeout: 0 }, this.serve);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        if (this.sockets.size === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    });
    this.server = server;
    this.listening = new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  }

  /** The URL ffmpeg writes `path` to (credentials included), once the listener is up. */
  async url(path: string): Promise<string> {
    const port = await this.listening;
    return `http://vod:${this.token}@127.0.0.1:${port}${path}`;
  }

  /**
   * Resolves once no connection is open (ffmpeg exited: each of its connections was read to
   * its end, so every upload it sent is in the store), or after `ms` (false).
   */
  drained(ms: number): Promise<boolean> {
    if (this.sockets.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops listening and cuts every connection (uploads in flight abort). */
  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }

  private readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    const presented = Buffer.from(req.headers.authorization ?? '');
    const ok = presented.length === this.expected.length && timingSafeEqual(presented, this.expected);
    // The key as the origin will read it (dot segments resolved), not as it was spelt.
    const parsed = parseRequestPath(req.url ?? '', MAX_PATH_BYTES);
    if (!ok || !parsed.ok || !parsed.key.startsWith(this.host.prefix)) return sendText(res, 403, 'forbidden');
    if (parsed.key === this.host.mpdKey && (req.method === 'PUT' || req.method === 'POST')) return this.takeManifest(req, res);
    if (this.host.secret !== undefined) req.headers.authorization = `Bearer ${this.host.secret}`;
    else delete req.headers.authorization;
    res.once('finish', () => {
      if (res.statusCode >= 400) this.host.refused(`${res.statusCode} ${parsed.key}`);
    });
    this.host.handler(req, res);
  };

  private takeManifest(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    let bytes = 0;
    req.on('data', (piece: Buffer) => {
      bytes += piece.byteLength;
      if (bytes > this.host.maxManifestBytes) {
        sendText(res, 413, 'manifest too large');
        req.destroy();
        return;
      }
      parts.push(piece);
    });
    req.once('end', () => {
      if (res.headersSent) return;
      this.host.manifest(Buffer.concat(parts, bytes));
      sendText(res, 201, '');
    });
  }
}
