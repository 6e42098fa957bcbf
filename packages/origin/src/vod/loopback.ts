// The listener ffmpeg uploads a transcode to: a private HTTP server on 127.0.0.1 and an
// ephemeral port, feeding the origin's own ingest path, so a VOD asset arrives exactly as a
// live encoder's stream does (parsed chunk by chunk, playable while it is written). ffmpeg
// presents a one-off token, never the ingest secret (which would show in `ps`), and may write
// only under the assets being transcoded.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_PATH_BYTES, parseRequestPath } from '../http/paths.js';

export class LoopbackIngest {
  private server: Server | undefined;
  private listening: Promise<number> | undefined;
  private readonly token = randomBytes(24).toString('base64url');
  private readonly expected: Buffer;
  /** Requests being served, by the key they write. */
  private readonly inFlight = new Map<IncomingMessage, string>();

  constructor(
    /** The origin's ingest handler. */
    private readonly handler: RequestListener,
    /** The ingest secret the handler asks for, if any: presented on ffmpeg's behalf. */
    private readonly secret: string | undefined,
    /** Whether ffmpeg may write the object `key` now. */
    private readonly writable: (key: string) => boolean,
  ) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`vod:${this.token}`).toString('base64')}`);
  }

  /** The URL ffmpeg writes `path` to (credentials included), once the listener is up. */
  async url(path: string): Promise<string> {
    const port = await this.start();
    return `http://vod:${this.token}@127.0.0.1:${port}${path}`;
  }

  /**
   * Cuts every request writing under `prefix` (a cancelled or failed job): an upload whose
   * headers came before ffmpeg died must not bring a removed object back.
   */
  cut(prefix: string): void {
    for (const [req, key] of this.inFlight) if (key.startsWith(prefix)) req.destroy();
  }

  close(): void {
    this.server?.close();
    this.server?.closeAllConnections();
    this.server = undefined;
    this.listening = undefined;
  }

  private start(): Promise<number> {
    if (this.listening !== undefined) return this.listening;
    const server = createServer({ keepAlive: true }, this.serve);
    this.server = server;
    this.listening = new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
    return this.listening;
  }

  private readonly serve = (req: IncomingMessage, res: ServerResponse): void => {
    const presented = Buffer.from(req.headers.authorization ?? '');
    const ok = presented.length === this.expected.length && timingSafeEqual(presented, this.expected);
    // The key as the origin will read it (dot segments resolved), not as it was spelt.
    const parsed = parseRequestPath(req.url ?? '', MAX_PATH_BYTES);
    if (!ok || !parsed.ok || !this.writable(parsed.key)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('forbidden\n');
      return;
    }
    this.inFlight.set(req, parsed.key);
    res.once('close', () => this.inFlight.delete(req));
    if (this.secret !== undefined) req.headers.authorization = `Bearer ${this.secret}`;
    else delete req.headers.authorization;
    this.handler(req, res);
  };
}
