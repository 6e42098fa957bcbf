// Options of createOrigin, their defaults, and the resolved context ingest and egress share.
import type { CorsOrigin } from './cors.js';
import { CorsPolicy } from './cors.js';
import { MAX_PATH_BYTES } from './paths.js';
import { ObjectStore } from './store.js';
import { IngestAuth } from './auth.js';
import { OriginMetrics } from './metrics.js';
import { DiskMirror } from './persistence.js';
import { Retention, type TtlRule } from './retention.js';

/** One access log line's worth: one per request, written when its response closes. */
export interface AccessLogEntry {
  method: string;
  /** The object key (or the raw target when it was refused). */
  path: string;
  status: number;
  /** Body bytes received (uploads) or sent (reads). */
  bytes: number;
  /** Units published (uploads) or written (reads). */
  chunks: number;
  /** Milliseconds from request to response close. */
  durationMs: number;
  /** True when the connection closed before the response was complete. */
  aborted: boolean;
  /** The client's address. */
  remote?: string;
  /** The Basic user name of an authenticated ingest request. */
  user?: string;
}

/** Which requests a listener takes: everything, reads only (public), or everything incl. ingest (private). */
export type ListenerRole = 'all' | 'egress' | 'ingest';

/** Options of `createOrigin()`. Every one has a default. */
export interface OriginOptions {
  /** Where objects live. Default: a new in-memory `ObjectStore`. */
  store?: ObjectStore;
  /** How long a GET/HEAD for a missing key is held waiting for its upload, ms. Default 3000; 0 answers 404 at once. */
  holdMs?: number;
  /** `Access-Control-Allow-Origin`: `'*'`, an origin, a list of origins, or `false`. Default `'*'`. */
  corsOrigin?: CorsOrigin;
  /** Path of the UTC time endpoint, or `false` to serve none. Default `'/time'`. */
  timePath?: string | false;
  /** Cache-Control of complete manifests (.mpd, .m3u8). Default `'max-age=1'`. */
  manifestCacheControl?: string;
  /** Cache-Control of complete segments and every other complete object. Default `'max-age=31536000, immutable'`. */
  segmentCacheControl?: string;
  /** Cache-Control of objects still being written (served chunked). Default `'no-store'`. */
  liveCacheControl?: string;
  /** Largest upload body, bytes; larger gets 413. Default 512 MiB. */
  maxObjectSize?: number;
  /** Largest manifest body, bytes (manifests are buffered whole); larger gets 413. Default 16 MiB. */
  maxManifestSize?: number;
  /** Longest request path, bytes; longer gets 400. Default 1024. */
  maxPathBytes?: number;
  /** Called once per request when its response closes (the CLI prints these). Default: none. */
  log?: (entry: AccessLogEntry) => void;
  /** Time-to-live of an object after its upload completed, ms; `0` keeps objects until DELETE. Default 300000 (5 min). */
  ttlMs?: number;
  /** Per-prefix TTLs, longest prefix first wins, e.g. `[{ prefix: '/vod/', ttlMs: 0 }]`. Default none. */
  ttlRules?: readonly TtlRule[];
  /** TTL of init segments (objects starting with `ftyp`), ms; `0` keeps them. Default 0. */
  initTtlMs?: number;
  /** Cap on bytes of current versions; LRU complete objects are evicted beyond it. Default 1 GiB. */
  maxMemoryBytes?: number;
  /** Uploads in flight at once; more get 503 with Retry-After. Default 64. */
  maxUploads?: number;
  /** Readers (responses following objects, held requests included) at once; more get 503. Default 10000. */
  maxReaders?: number;
  /** Also write each completed object under this directory and load it back at start. Default: none (memory only). */
  dir?: string;
  /** Secret ingest (PUT/POST/DELETE) must present as Bearer token or Basic password. Default: none (open). */
  ingestSecret?: string;
  /** An upload body with no bytes for this long is aborted, ms; `0` never. Default 10000. */
  ingestIdleMs?: number;
  /**
   * A reader whose connection takes no bytes for this long while the origin has more for it
   * (waiting for 'drain', or a cut response not flushed) is dropped, ms; `0` never. Default 30000.
   */
  readerStallMs?: number;
  /** Time allowed for a request's headers (slowloris), ms. Used by `listen()`. Default 10000. */
  headersTimeoutMs?: number;
  /** Largest request head (request line and headers), bytes. Used by `listen()`. Default 16384. */
  maxHeaderBytes?: number;
  /** Path of the Prometheus metrics endpoint, or `false`. Default `'/metrics'`. */
  metricsPath?: string | false;
  /** Path of the health endpoint for load balancers, or `false`. Default `'/healthz'`. */
  healthPath?: string | false;
  /** Where warnings go (insecure binding, disk errors). Default: stderr. */
  warn?: (message: string) => void;
  /** Serve the `/player` page (dash.js / hls.js from local node_modules). Default true. */
  player?: boolean;
}

const MiB = 1024 * 1024;

/** Options after defaults, plus the shared pieces built from them. */
export interface OriginContext {
  store: ObjectStore;
  cors: CorsPolicy;
  holdMs: number;
  timePath: string | false;
  manifestCacheControl: string;
  segmentCacheControl: string;
  liveCacheControl: string;
  maxObjectSize: number;
  maxManifestSize: number;
  maxPathBytes: number;
  log: ((entry: AccessLogEntry) => void) | undefined;
  retention: Retention;
  metrics: OriginMetrics;
  auth: IngestAuth | undefined;
  disk: DiskMirror | undefined;
  /** The listener this context serves (`createOrigin` derives one context per role). */
  role: ListenerRole;
  /** Shared by every role's context: set when shutdown begins. */
  lifecycle: { draining: boolean };
  maxUploads: number;
  maxReaders: number;
  ingestIdleMs: number;
  readerStallMs: number;
  /** Uploads by key that have not made their object visible yet (manifests, sniffing): DELETE reaches them here. */
  pendingUploads: Map<string, Set<{ cancel(): void }>>;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  metricsPath: string | false;
  healthPath: string | false;
  warn: (message: string) => void;
  /** Whether `/player` is served. */
  player: boolean;
}

/** Applies defaults and checks values. */
export function resolveOptions(options: OriginOptions = {}): OriginContext {
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
    return v;
  };
  const store = options.store ?? new ObjectStore();
  return {
    store,
    cors: new CorsPolicy(options.corsOrigin ?? '*'),
    holdMs: nonNegative('holdMs', options.holdMs, 3000),
    timePath: options.timePath ?? '/time',
    manifestCacheControl: options.manifestCacheControl ?? 'max-age=1',
    segmentCacheControl: options.segmentCacheControl ?? 'max-age=31536000, immutable',
    liveCacheControl: options.liveCacheControl ?? 'no-store',
    maxObjectSize: nonNegative('maxObjectSize', options.maxObjectSize, 512 * MiB),
    maxManifestSize: nonNegative('maxManifestSize', options.maxManifestSize, 16 * MiB),
    maxPathBytes: nonNegative('maxPathBytes', options.maxPathBytes, MAX_PATH_BYTES),
    log: options.log,
    ...resolveProduction({ ...options, store }),
    player: options.player ?? true,
  };
}

/** Per-request counters, filled by ingest and egress and logged when the response closes. */
export interface RequestTally {
  bytes: number;
  chunks: number;
  /** The Basic user name of an authenticated ingest request. */
  user?: string;
}

/** Retention, limits, persistence, security and observability settings, and the pieces built from them. */
function resolveProduction(options: OriginOptions): Pick<
  OriginContext,
  | 'retention' | 'metrics' | 'auth' | 'disk' | 'role' | 'lifecycle' | 'maxUploads' | 'maxReaders'
  | 'ingestIdleMs' | 'readerStallMs' | 'pendingUploads' | 'headersTimeoutMs' | 'maxHeaderBytes' | 'metricsPath' | 'healthPath' | 'warn'
> {
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
    return v;
  };
  const store = options.store;
  if (store === undefined) throw new Error('resolveProduction needs the store');
  const warn = options.warn ?? ((message: string) => void process.stderr.write(`boxstream-origin: ${message}\n`));
  const ttlRules = (options.ttlRules ?? []).map((r) => ({ prefix: r.prefix, ttlMs: nonNegative(`ttlRules[${r.prefix}]`, r.ttlMs, 0) }));
  const retention = new Retention(store, {
    ttlMs: nonNegative('ttlMs', options.ttlMs, 300_000),
    ttlRules,
    initTtlMs: nonNegative('initTtlMs', options.initTtlMs, 0),
    maxMemoryBytes: nonNegative('maxMemoryBytes', options.maxMemoryBytes, 1024 * MiB),
  });
  const metrics = new OriginMetrics();
  metrics.attach(store);
  let disk: DiskMirror | undefined;
  if (options.dir !== undefined) {
    disk = new DiskMirror(options.dir, store, { warn });
    disk.load();
  }
  return {
    retention,
    metrics,
    auth: options.ingestSecret !== undefined ? new IngestAuth(options.ingestSecret) : undefined,
    disk,
    role: 'all',
    lifecycle: { draining: false },
    maxUploads: nonNegative('maxUploads', options.maxUploads, 64),
    maxReaders: nonNegative('maxReaders', options.maxReaders, 10_000),
    ingestIdleMs: nonNegative('ingestIdleMs', options.ingestIdleMs, 10_000),
    readerStallMs: nonNegative('readerStallMs', options.readerStallMs, 30_000),
    pendingUploads: new Map(),
    headersTimeoutMs: nonNegative('headersTimeoutMs', options.headersTimeoutMs, 10_000),
    maxHeaderBytes: nonNegative('maxHeaderBytes', options.maxHeaderBytes, 16 * 1024),
    metricsPath: options.metricsPath ?? '/metrics',
    healthPath: options.healthPath ?? '/healthz',
    warn,
  };
}
