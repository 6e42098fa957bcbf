// createOrigin(): the request handler that wires paths, CORS, the time endpoint, ingest and
// egress together, and a listen() helper with server settings suited to long live uploads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { admitIngest } from './auth.js';
import { ALLOWED_METHODS } from './cors.js';
import { handleRead } from './egress.js';
import { whenDone } from './lifetime.js';
import { handleDelete, handleWrite } from './ingest.js';
import { answerHealth, answerMetrics } from './health.js';
import type { OriginMetrics } from './metrics.js';
import { resolveOptions, type ListenerRole, type OriginContext, type OriginOptions, type RequestTally } from './options.js';
import { parseRequestPath } from './paths.js';
import { createPlayerRoute } from './player/route.js';
import { expectContinue, sendEmpty, sendText } from './respond.js';
import { listenOrigin, type ListenOptions, type OriginServer } from './server.js';
import type { ObjectStore } from './store.js';
import { utcNow } from './time.js';

/** A `node:http` request listener. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export type { OriginServer, ListenOptions } from './server.js';

/** What `createOrigin()` returns. */
export interface Origin {
  /** The request handler: mount it in any `node:http` server. */
  handler: RequestHandler;
  /** The objects and the per-unit `'publish'` events. */
  store: ObjectStore;
  /** A handler for one listener role: `'egress'` refuses PUT/POST/DELETE; `'ingest'` and `'all'` take everything. */
  handlerFor(role: ListenerRole): RequestHandler;
  /** Counters behind `/metrics`. */
  metrics: OriginMetrics;
  /**
   * For `server.on('checkContinue', ...)`: like `handler`, but sends `100 Continue` only once an
   * upload passed its size, auth and limit checks (`listen()` does this itself).
   */
  checkContinue: RequestHandler;
  /**
   * Starts a `node:http` server running `handler` (defaults: port 8080, host 127.0.0.1), and a
   * separate ingest listener when `options.ingestPort` is set.
   */
  listen(port?: number, host?: string, options?: ListenOptions): Promise<OriginServer>;
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
  const player = ctx.player ? createPlayerRoute({ timePath: ctx.timePath }) : undefined;
  const shared = ctx;
  // One handler per listener role; they share everything but the role.
  const handlerFor = (role: ListenerRole): RequestHandler => {
    const ctx = role === shared.role ? shared : { ...shared, role };
    return (req, res) => handle(ctx, req, res);
  };
  const handle = (ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const tally: RequestTally = { bytes: 0, chunks: 0 };
    let path = req.url ?? '';
    const log = ctx.log;
    const metrics = ctx.metrics;
    // Once the request is over, including a pipelined one whose client left before its turn.
    whenDone(req, res, () => {
      metrics.response(req.method ?? '', res.statusCode);
      if (log === undefined) return;
      log({
        method: req.method ?? '',
        path,
        status: res.statusCode,
        bytes: tally.bytes,
        chunks: tally.chunks,
        durationMs: performance.now() - started,
        aborted: !res.writableFinished,
        remote: req.socket.remoteAddress,
        user: tally.user,
      });
    });
    // Shutting down: answer, then let the client reconnect elsewhere.
    if (ctx.lifecycle.draining) res.shouldKeepAlive = false;
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
      if (player !== undefined && player.handle(req, res, parsed.key, tally)) return;
      dispatch(ctx, req, res, parsed.key, tally);
    } catch (err) {
      // A bug must cost one request, never the process.
      sendText(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`, undefined, true);
    }
  };
  const handler = handlerFor('all');
  return {
    handler,
    handlerFor,
    checkContinue: (req, res) => {
      expectContinue(res);
      handler(req, res);
    },
    store: ctx.store,
    metrics: ctx.metrics,
    listen: (port = 8080, host = '127.0.0.1', listenOptions?: ListenOptions) => listenOrigin(shared, handlerFor, port, host, listenOptions),
  };
}

function dispatch(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string, tally: RequestTally): void {
  const method = req.method;
  if (method === 'OPTIONS') return answerOptions(ctx, req, res);
  if (ctx.timePath !== false && key === ctx.timePath) return answerTime(req, res);
  if (ctx.metricsPath !== false && key === ctx.metricsPath) return answerMetrics(ctx, req, res);
  if (ctx.healthPath !== false && key === ctx.healthPath) return answerHealth(ctx, req, res);
  switch (method) {
    case 'GET':
    case 'HEAD':
      return handleRead(ctx, req, res, key, tally);
    case 'PUT':
    case 'POST':
      if (!admitIngest(ctx, req, res, tally)) return;
      return handleWrite(ctx, req, res, key, tally);
    case 'DELETE':
      if (!admitIngest(ctx, req, res, tally)) return;
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
