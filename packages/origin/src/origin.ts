// createOrigin(): the request handler that wires paths, CORS, the time endpoint, ingest and
// egress together, and a listen() helper with server settings suited to long live uploads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALLOWED_METHODS } from './cors.js';
import { handleRead } from './egress.js';
import { handleDelete, handleWrite } from './ingest.js';
import { resolveOptions, type OriginContext, type OriginOptions, type RequestTally } from './options.js';
import { parseRequestPath } from './paths.js';
import { sendEmpty, sendText } from './respond.js';
import type { ObjectStore } from './store.js';
import { utcNow } from './time.js';

/** A `node:http` request listener. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A running origin server (see `Origin.listen`). */
export interface OriginServer {
  server: Server;
  host: string;
  /** The bound port (the chosen one when listening on port 0). */
  port: number;
  /** `http://host:port` */
  url: string;
  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs`
   * (default 1000), then closes every remaining connection (live readers and uploads included).
   */
  close(graceMs?: number): Promise<void>;
}

/** What `createOrigin()` returns. */
export interface Origin {
  /** The request handler: mount it in any `node:http` server. */
  handler: RequestHandler;
  /** The objects and the per-unit `'publish'` events. */
  store: ObjectStore;
  /** Starts a `node:http` server running `handler`. Defaults: port 8080, host 127.0.0.1. */
  listen(port?: number, host?: string): Promise<OriginServer>;
}

/**
 * Creates a live chunked-CMAF origin.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createOrigin } from '@boxstream/origin';
 * const origin = createOrigin({ holdMs: 2000 });
 * createServer(origin.handler).listen(8080);
 */
export function createOrigin(options: OriginOptions = {}): Origin {
  const ctx = resolveOptions(options);
  const handler: RequestHandler = (req, res) => {
    const started = performance.now();
    const tally: RequestTally = { bytes: 0, chunks: 0 };
    let path = req.url ?? '';
    if (ctx.log !== undefined) {
      const log = ctx.log;
      res.once('close', () => {
        log({
          method: req.method ?? '',
          path,
          status: res.statusCode,
          bytes: tally.bytes,
          chunks: tally.chunks,
          durationMs: performance.now() - started,
          aborted: !res.writableFinished,
        });
      });
    }
    try {
      const cors = ctx.cors.headers(req.headers.origin);
      for (const name in cors) res.setHeader(name, cors[name]);
      const parsed = parseRequestPath(path, ctx.maxPathBytes);
      if (!parsed.ok) {
        // `OPTIONS *` asks about the server itself.
        if (req.method === 'OPTIONS' && path === '*') return answerOptions(ctx, req, res);
        return sendText(res, 400, `bad path: ${parsed.reason}`, undefined, req.method === 'PUT' || req.method === 'POST');
      }
      path = parsed.key;
      dispatch(ctx, req, res, parsed.key, tally);
    } catch (err) {
      // A bug must cost one request, never the process.
      sendText(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`, undefined, true);
    }
  };
  return {
    handler,
    store: ctx.store,
    listen: (port = 8080, host = '127.0.0.1') => listen(handler, port, host),
  };
}

function dispatch(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string, tally: RequestTally): void {
  const method = req.method;
  if (method === 'OPTIONS') return answerOptions(ctx, req, res);
  if (ctx.timePath !== false && key === ctx.timePath) return answerTime(req, res);
  switch (method) {
    case 'GET':
    case 'HEAD':
      return handleRead(ctx, req, res, key, tally);
    case 'PUT':
    case 'POST':
      return handleWrite(ctx, req, res, key, tally);
    case 'DELETE':
      return handleDelete(ctx, res, key);
    default:
      return sendText(res, 405, `method ${method} not allowed`, { Allow: ALLOWED_METHODS });
  }
}

function answerOptions(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  const preflight = req.headers['access-control-request-method'] !== undefined;
  const headers: Record<string, string> = { Allow: ALLOWED_METHODS };
  if (preflight) Object.assign(headers, ctx.cors.preflight(req.headers['access-control-request-headers']));
  sendEmpty(res, 204, headers);
}

function answerTime(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, `method ${req.method} not allowed on the time endpoint`, { Allow: 'GET, HEAD, OPTIONS' });
  }
  const body = utcNow();
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function listen(handler: RequestHandler, port: number, host: string): Promise<OriginServer> {
  const server = createServer(
    {
      // A live upload or read lasts as long as the stream: no whole-request deadline.
      requestTimeout: 0,
      // Encoders with long segments keep their persistent connection idle between uploads.
      keepAliveTimeout: 65_000,
      noDelay: true,
    },
    handler,
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        host: address.address,
        port: address.port,
        url: `http://${shownHost}:${address.port}`,
        close: (graceMs = 1000) => closeServer(server, graceMs),
      });
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
