// createOrigin(): builds the running parts from the settings (store, retention, disk tier,
// metrics), loads the disk, and wires the request handler: path parsing and CORS for every
// request, then the router (time, metrics, health, player, then objects).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from './context.js';
import { CachePolicy } from './egress/headers.js';
import { handleRead } from './egress/read.js';
import { ALLOWED_METHODS, CorsPolicy } from './http/cors.js';
import { whenDone } from './http/lifetime.js';
import { isHttp2, sentWhole } from './http/protocol.js';
import { parseRequestPath } from './http/paths.js';
import { expectContinue, isLingering, refuse, sendBody, sendEmpty, sendText } from './http/respond.js';
import { Router, type Exchange, type Route } from './http/router.js';
import { listenOrigin, type ListenOptions, type OriginServer } from './http/server.js';
import { openTally } from './http/tally.js';
import { utcNow } from './http/time.js';
import { IngestAuth, admitIngest } from './ingest/auth.js';
import { MemoryGate } from './ingest/memory-gate.js';
import { CmafIngest, type IngestTrackView } from './ingest/cmaf/receiver.js';
import { handleDelete, handleWrite } from './ingest/write.js';
import { answerHealth, answerMetrics, answerStreams } from './ops/health.js';
import { OriginMetrics } from './ops/metrics.js';
import { resolveOptions, type ListenerRole, type OriginOptions, type Settings } from './options.js';
import { createPlayerRoute } from './player/route.js';
import { DiskTier } from './store/disk.js';
import { Retention } from './store/retention.js';
import { ObjectStore, type StoreView } from './store/store.js';
import { PlaylistService } from './egress/playlists.js';
import { StreamModel, type StreamsView } from './stream/model.js';
import type { VodJob } from './vod/jobs.js';
import { VodService } from './vod/service.js';
import { Relays } from './relay/relays.js';
import { UrlSigner } from './egress/signed-urls.js';
import { PLAYER_ASSET_PATHS, PLAYER_PATH } from './player/route.js';
import { newLoopToken } from './relay/loop.js';
import type { RelayStats } from './relay/target.js';
import { VOD_PREFIX } from './options.js';

/** A `node:http` request listener. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export type { OriginServer, ListenOptions, TlsFiles } from './http/server.js';

/** What `createOrigin()` returns. */
export interface Origin {
  /** The request handler: mount it in any `node:http` server. */
  handler: RequestHandler;
  /** The objects, read-only, and their events (`'publish'` once per unit; see `StoreEvents`). */
  store: StoreView;
  /** A handler for one listener role: `'egress'` refuses PUT/POST/DELETE; `'ingest'` and `'all'` take everything. */
  handlerFor(role: ListenerRole): RequestHandler;
  /** Channels learnt from the encoders' MPDs, with their renditions, segments and chunks (read-only). */
  streams: StreamsView;
  /** Counters behind `/metrics`. */
  metrics: OriginMetrics;
  /** Each relay target's counters (what `/metrics` shows as `relay_*`); empty without relays. */
  relays(): RelayStats[];
  /** CMAF ingest tracks, with the request feeding each and the redundant ones standing by. */
  ingest(): IngestTrackView[];
  /** VOD jobs (what `/vod/jobs` answers), or undefined when VOD is off. */
  vod: VodView | undefined;
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
  /** Stops the timers and the disk tier's listeners (what `listen()`'s close does not own). */
  close(): void;
}

/** The VOD jobs, read-only. */
export interface VodView {
  /** Every job, oldest first. */
  jobs(): VodJob[];
  job(name: string): VodJob | undefined;
}

/** Builds the running parts from `settings`. Touches no disk and serves nothing yet. */
function build(settings: Settings): OriginContext {
  const store = new ObjectStore();
  const metrics = new OriginMetrics();
  metrics.attach(store);
  store.onListenerError = listenerErrorReporter(metrics, settings.warn);
  // The disk tier listens first: a version that completes must be queued for its file before
  // retention may evict it in the same 'complete' event (listeners run in the order they came).
  const disk = settings.dir !== undefined ? new DiskTier(settings.dir, store, { warn: settings.warn }) : undefined;
  const retention = new Retention(store, {
    ttlMs: settings.ttlMs,
    ttlRules: settings.ttlRules,
    initTtlMs: settings.initTtlMs,
    maxMemoryBytes: settings.maxMemoryBytes,
  });
  retention.tier = disk;
  // After the disk tier and retention: the model reads what they left in place.
  const streams = new StreamModel(store, settings.warn, disk !== undefined, settings.vod !== undefined ? [VOD_PREFIX] : []);
  return {
    ...settings,
    store,
    cors: new CorsPolicy(settings.corsOrigin),
    cache: new CachePolicy(settings.cacheControl, settings.cacheRules),
    retention,
    metrics,
    auth: settings.ingestSecret !== undefined ? new IngestAuth(settings.ingestSecret) : undefined,
    disk,
    streams,
    memory: new MemoryGate(store, retention, settings.memoryWaitMs),
    role: 'all',
    lifecycle: { draining: false, onDrain: [] },
    pendingUploads: new Map(),
    relays: undefined,
    loopToken: newLoopToken(),
    holdRules: [],
    signer: settings.signing === undefined ? undefined : new UrlSigner(settings.signing.secret, settings.signing.prefixes, openPaths(settings)),
  };
}

/** The raw target with a leading path token (`/~...`, raw or percent-encoded) replaced by `/~(token)`. */
function scrubToken(target: string): string {
  return target.replace(/^(?:https?:\/\/[^/]*)?(?:\/|%2f)+(?:~|%7e)[^/?#]*/i, '/~(token)');
}

/** Paths that are not content: they never need a signed URL. */
function openPaths(settings: Settings): (key: string) => boolean {
  // Exactly the paths those routes own: anything else under /player/ or /vod/ is a stored object.
  const exact = new Set([settings.timePath, settings.metricsPath, settings.healthPath, settings.streamsPath].filter((p): p is string => p !== false));
  if (settings.player) for (const p of [PLAYER_PATH, ...PLAYER_ASSET_PATHS]) exact.add(p);
  const vodJobs = `${VOD_PREFIX}jobs`;
  if (settings.vod !== undefined) exact.add(vodJobs);
  return (key) => exact.has(key) || (settings.vod !== undefined && key.startsWith(`${vodJobs}/`) && key.indexOf('/', vodJobs.length + 1) < 0);
}

/** A throwing store listener is counted and reported (at most once per 10 s), and costs nothing else. */
function listenerErrorReporter(metrics: OriginMetrics, warn: (message: string) => void): (error: unknown, event: string) => void {
  let reportedAt = -Infinity;
  return (error, event) => {
    metrics.listenerErrors++;
    const now = performance.now();
    if (now - reportedAt < 10_000) return;
    reportedAt = now;
    warn(`a '${event}' listener threw (${metrics.listenerErrors} so far); the upload went on: ${error instanceof Error ? error.message : String(error)}`);
  };
}

/** The routes every origin has; features add theirs here (`first`: before the ingest routes). */
function createRouter(ctx: OriginContext, first: Route | undefined, cmaf: CmafIngest): Router {
  const router = new Router(handleObject);
  if (ctx.timePath !== false) router.at(ctx.timePath, (x) => x.req.method !== 'OPTIONS' && (answerTime(x), true));
  // With opsListener 'ingest', the public listener does not know these paths (404 at once, not held).
  const ops = (answer: typeof answerHealth) => (x: Exchange) => {
    if (x.req.method === 'OPTIONS') return false;
    if (x.ctx.opsListener === 'ingest' && x.ctx.role === 'egress') sendText(x.res, 404, 'not found');
    else answer(x.ctx, x.req, x.res);
    return true;
  };
  if (ctx.metricsPath !== false) router.at(ctx.metricsPath, ops(answerMetrics));
  if (ctx.healthPath !== false) router.at(ctx.healthPath, ops(answerHealth));
  if (ctx.streamsPath !== false) router.at(ctx.streamsPath, ops(answerStreams));
  if (first !== undefined) router.use(first);
  router.use(cmaf.route);
  router.use(new PlaylistService(ctx, ctx.streams).route);
  if (ctx.player) {
    const player = createPlayerRoute({ timePath: ctx.timePath, vodPath: ctx.vod !== undefined ? VOD_PREFIX.slice(0, -1) : false });
    router.use((x) => player.handle(x.req, x.res, x.key, x.tally));
  }
  return router;
}

/** Everything that is not a route: stored objects, by method. */
function handleObject({ ctx, req, res, key, tally }: Exchange): void {
  switch (req.method) {
    case 'OPTIONS':
      return answerOptions(ctx, req, res);
    case 'GET':
    case 'HEAD':
      return handleRead(ctx, req, res, key, tally);
    case 'PUT':
    case 'POST':
      if (!admitIngest(ctx, req, res, tally)) return;
      return handleWrite(ctx, req, res, key, tally);
    case 'DELETE':
      if (!admitIngest(ctx, req, res, tally)) return;
      return handleDelete(ctx, req, res, key);
    default:
      return refuse(req, res, 405, `method ${req.method} not allowed`, { Allow: ALLOWED_METHODS });
  }
}

/**
 * Creates a live chunked-CMAF origin. With `dir`, the files there are indexed (and the newest
 * loaded into memory) before it returns.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createOrigin } from '@boxstream/origin';
 * const origin = createOrigin({ holdMs: 2000 });
 * createServer(origin.handler).listen(8080);
 */
export function createOrigin(options: OriginOptions = {}): Origin {
  const shared = build(resolveOptions(options));
  shared.disk?.load(shared.maxMemoryBytes, (entry) => shared.retention.schedule(entry.key, entry.version, entry.kind, entry.mtimeMs));
  // After loading: what the disk held was relayed (or not) by the process that received it.
  if (shared.relayTargets.length > 0) shared.relays = new Relays(shared.store, shared.relayTargets, shared.warn, shared.cache, shared.loopToken);
  // VOD transcodes arrive through the ingest path, as any encoder's stream does. Its route
  // comes first: a job's asset is written by its transcode only, by no other route.
  let ingest: RequestHandler = () => {};
  const vod = shared.vod !== undefined ? new VodService(shared, shared.vod, VOD_PREFIX, (req, res) => ingest(req, res)) : undefined;
  if (vod !== undefined) shared.lifecycle.onDrain.push(() => vod.close());
  const cmaf = new CmafIngest(shared, shared.ingestSegmentSeconds);
  const router = createRouter(shared, vod?.route, cmaf);
  // One handler per listener role; they share everything but the role.
  const handlerFor = (role: ListenerRole): RequestHandler => {
    const ctx = role === shared.role ? shared : { ...shared, role };
    return (req, res) => handle(ctx, router, req, res);
  };
  const handler = handlerFor('all');
  // ffmpeg opens a segment's upload when the segment starts and may send nothing until a slow
  // encode ends it: no idle timeout for the transcodes (their job watches ffmpeg's progress).
  const vodCtx: OriginContext = { ...shared, role: 'ingest', ingestIdleMs: 0 };
  ingest = (req, res) => handle(vodCtx, router, req, res);
  return {
    handler,
    handlerFor,
    checkContinue: (req, res) => {
      expectContinue(res);
      handler(req, res);
    },
    store: shared.store,
    streams: shared.streams,
    metrics: shared.metrics,
    relays: () => shared.relays?.stats() ?? [],
    ingest: () => cmaf.view(),
    vod: vod && { jobs: () => vod.jobs.list(), job: (name) => vod.jobs.get(name) },
    listen: (port = 8080, host = '127.0.0.1', listenOptions?: ListenOptions) => listenOrigin(shared, handlerFor, port, host, listenOptions),
    close: () => {
      vod?.close();
      shared.relays?.close();
      shared.retention.close();
      shared.memory.close();
      shared.disk?.close();
      shared.streams.close();
    },
  };
}

function handle(ctx: OriginContext, router: Router, req: IncomingMessage, res: ServerResponse): void {
  // Sent after a refused body on a connection that is closing: never run it.
  if (!isHttp2(req) && isLingering(req.socket)) return void req.resume();
  const started = performance.now();
  // Read now: an HTTP/2 stream no longer knows its socket once it closed.
  const remote = req.socket.remoteAddress;
  const tally = openTally(res);
  // A path token grants reading until it expires: never in the log, even for a refused target.
  const target = req.url ?? '';
  let path = ctx.signer === undefined ? target : scrubToken(target);
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
      aborted: !sentWhole(res),
      remote,
      http: req.httpVersion,
      user: tally.user,
    });
  });
  // Shutting down: answer, then let the client reconnect elsewhere.
  if (ctx.lifecycle.draining) res.shouldKeepAlive = false;
  try {
    const cors = ctx.cors.headers(req.headers.origin);
    for (const name in cors) res.setHeader(name, cors[name]);
    // An HTTP/1 connection speaks HTTP/1.x only (Node's parser lets `HTTP/2.0` through).
    if (req.httpVersionMajor !== 1 && !isHttp2(req)) return refuse(req, res, 505, `HTTP/${req.httpVersion} is not supported on an HTTP/1 connection`, undefined, true);
    const parsed = parseRequestPath(target, ctx.maxPathBytes);
    if (!parsed.ok) {
      // `OPTIONS *` asks about the server itself.
      if (req.method === 'OPTIONS' && target === '*') return answerOptions(ctx, req, res);
      return refuse(req, res, 400, `bad path: ${parsed.reason}`);
    }
    let key = parsed.key;
    if (ctx.signer !== undefined) {
      // A path token is checked and removed here; nothing past this line sees one.
      const access = ctx.signer.admit(key, req.method);
      if (!access.ok) {
        const rest = key.indexOf('/', 1);
        path = key.startsWith('/~') ? `/~(token)${rest < 0 ? '' : key.slice(rest)}` : key;
        return refuse(req, res, 403, access.reason);
      }
      key = access.key;
    }
    // Logged without the token: it grants reading until it expires.
    path = key;
    router.handle({ ctx, req, res, key, tally });
  } catch (err) {
    // A bug must cost one request, never the process.
    refuse(req, res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function answerOptions(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  const preflight = req.headers['access-control-request-method'] !== undefined;
  const headers: Record<string, string> = { Allow: ALLOWED_METHODS };
  if (preflight) Object.assign(headers, ctx.cors.preflight(req.headers['access-control-request-headers']));
  sendEmpty(res, 204, headers);
}

function answerTime({ req, res }: Exchange): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, `method ${req.method} not allowed on the time endpoint`, { Allow: 'GET, HEAD, OPTIONS' });
  }
  sendBody(req, res, 200, 'text/plain; charset=utf-8', utcNow());
}
