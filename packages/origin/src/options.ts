// Options of createOrigin: the public shape, their defaults, and `resolveOptions`, a pure
// function from options to settings (no store, no timers, no disk). `createOrigin` builds the
// running parts from the settings (see origin.ts).
import type { CorsOrigin } from './http/cors.js';
import { MAX_PATH_BYTES } from './http/paths.js';
import { DEFAULT_CACHE_CONTROL, type CacheControlClasses, type CacheRule, type SetHeaders } from './egress/headers.js';
import type { TtlRule } from './store/retention.js';
import { resolveVodOptions, type VodOptions, type VodSettings } from './vod/options.js';
import { canonicalPrefix } from './egress/signed-urls.js';
import { resolveRelayTarget, type RelayTargetOptions, type RelayTargetSettings } from './relay/options.js';

/** Key prefix of VOD uploads and assets. */
export const VOD_PREFIX = '/vod/';

/** One access log line's worth: one per request, written when its response closes. */
export interface AccessLogEntry {
  method: string;
  /** The object key (or the raw target when it was refused). */
  path: string;
  status: number;
  /** Body bytes received (uploads) or sent (everything else). */
  bytes: number;
  /** Units published (uploads) or written (reads). */
  chunks: number;
  /** Milliseconds from request to response close. */
  durationMs: number;
  /** True when the connection closed before the response was complete. */
  aborted: boolean;
  /** The client's address. */
  remote?: string;
  /** The request's HTTP version: `'1.1'`, `'1.0'` or `'2.0'`. */
  http?: string;
  /** The Basic user name of an authenticated ingest request. */
  user?: string;
}

/** Which requests a listener takes: everything, reads only (public), or everything incl. ingest (private). */
export type ListenerRole = 'all' | 'egress' | 'ingest';

/** Options of `createOrigin()`. Every one has a default. */
export interface OriginOptions {
  /** How long a GET/HEAD for a missing key is held waiting for its upload, ms. Default 3000; 0 answers 404 at once. */
  holdMs?: number;
  /** `Access-Control-Allow-Origin`: `'*'`, an origin, a list of origins, or `false`. Default `'*'`. */
  corsOrigin?: CorsOrigin;
  /** Path of the UTC time endpoint, or `false` to serve none. Default `'/time'`. */
  timePath?: string | false;
  /** Cache-Control of complete manifests (.mpd, .m3u8). Default `'max-age=1'`. */
  manifestCacheControl?: string;
  /** Cache-Control of complete init segments (replaced under the same name when an encoder restarts). Default `'max-age=2'`. */
  initCacheControl?: string;
  /** Cache-Control of complete media segments and every other complete object. Default `'max-age=60'`. */
  segmentCacheControl?: string;
  /** Cache-Control of objects still being written. Default: the one they get once complete. */
  liveCacheControl?: string;
  /** Cache-Control by key prefix (longest wins), over the classes above, e.g. `[{ prefix: '/static/', cacheControl: 'max-age=31536000, immutable' }]`. */
  cacheRules?: readonly CacheRule[];
  /** Changes an object response's headers before they are sent (like sirv's `setHeaders`). Default: none. */
  setHeaders?: SetHeaders;
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
  /** Per-prefix TTLs, longest prefix first wins, e.g. `[{ prefix: '/archive/', ttlMs: 0 }]`. Default none. */
  ttlRules?: readonly TtlRule[];
  /** TTL of init segments (objects starting with `ftyp`), ms; `0` keeps them. Default 0. */
  initTtlMs?: number;
  /**
   * Cap on the bytes in memory: current versions plus what uploads hold unpublished. Least
   * recently used complete objects are evicted beyond it (to the disk tier when `dir` is set);
   * when nothing can be evicted, uploads are paused. At least 1. Default 1 GiB.
   */
  maxMemoryBytes?: number;
  /** How long an upload paused by the memory cap may wait for room before it is refused with 507, ms. Default 10000. */
  memoryWaitMs?: number;
  /** Uploads in flight at once; more get 503 with Retry-After. Default 64. */
  maxUploads?: number;
  /** Readers (responses following objects, held requests included) at once; more get 503. Default 10000. */
  maxReaders?: number;
  /** Also keep every completed object as a file under this directory: a second tier, served on a miss and after a restart. Default: none (memory only). */
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
  /** Path of the stream status (JSON: channels, renditions, live edge, ingest bitrate), or `false`. Default `'/streams'`. */
  streamsPath?: string | false;
  /**
   * Which listeners answer `metricsPath`, `healthPath` and `streamsPath`: `'any'`, or `'ingest'` to keep them
   * off the public listener (then only a split ingest listener, or a handler for role `'ingest'`,
   * answers them). Default `'any'`.
   */
  opsListener?: 'any' | 'ingest';
  /** Where warnings go (insecure binding, disk errors, listener errors). Default: stderr. */
  warn?: (message: string) => void;
  /** Serve the `/player` page (dash.js / hls.js from local node_modules). Default true. */
  player?: boolean;
  /**
   * DASH-IF CMAF ingest (`.../Streams(<track>)`): segment length in seconds where the encoder does
   * not mark segments with `styp`: a segment starts at the first independent chunk at or after each
   * multiple of it on the decode timeline. Default 2.
   */
  ingestSegmentSeconds?: number;
  /**
   * VOD: `POST /vod` (a form) or `PUT /vod/<name>` (a file) is probed with ffprobe and
   * transcoded by ffmpeg into an adaptive HLS and DASH asset under `/vod/<name>/`, playable
   * while it is made. Needs `dir` (assets live on the disk tier; they never expire). Default:
   * on with the default ladder when `dir` is set; `false` turns it off.
   */
  vod?: boolean | VodOptions;
  /**
   * Push every object under a prefix to other origins (chunk by chunk, as written; DELETEs
   * mirrored) or S3-compatible buckets (completed objects), each with a bounded queue, retries
   * with backoff and its own metrics. Default: none.
   */
  relays?: readonly RelayTargetOptions[];
  /**
   * Signed playback URLs: reads (GET/HEAD) of keys under `prefixes` (default `['/']`) need a
   * path token made with `secret` (see `signPath`); the player page, time, health, metrics,
   * streams and VOD job list stay open. Default: none (every read is open).
   */
  signing?: { secret: string; prefixes?: readonly string[] };
}

const MiB = 1024 * 1024;

/** The options after defaults and checks: plain values only. */
export interface Settings {
  holdMs: number;
  corsOrigin: CorsOrigin;
  timePath: string | false;
  cacheControl: CacheControlClasses;
  cacheRules: readonly CacheRule[];
  setHeaders: SetHeaders | undefined;
  maxObjectSize: number;
  maxManifestSize: number;
  maxPathBytes: number;
  log: ((entry: AccessLogEntry) => void) | undefined;
  ttlMs: number;
  ttlRules: readonly TtlRule[];
  initTtlMs: number;
  maxMemoryBytes: number;
  memoryWaitMs: number;
  maxUploads: number;
  maxReaders: number;
  dir: string | undefined;
  ingestSecret: string | undefined;
  ingestIdleMs: number;
  readerStallMs: number;
  headersTimeoutMs: number;
  maxHeaderBytes: number;
  metricsPath: string | false;
  healthPath: string | false;
  streamsPath: string | false;
  opsListener: 'any' | 'ingest';
  warn: (message: string) => void;
  player: boolean;
  ingestSegmentSeconds: number;
  /** VOD settings, or undefined when VOD is off. */
  vod: VodSettings | undefined;
  relayTargets: readonly RelayTargetSettings[];
  signing: { secret: string; prefixes: readonly string[] } | undefined;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  return v;
}

function path(name: string, value: string | false | undefined, fallback: string): string | false {
  const v = value ?? fallback;
  if (v !== false && !v.startsWith('/')) throw new RangeError(`${name} must be a path starting with '/', or false; got '${v}'`);
  return v;
}

const stderrWarn = (message: string): void => void process.stderr.write(`boxstream-origin: ${message}\n`);

/** Applies defaults and checks values. Pure: builds nothing and touches nothing. */
export function resolveOptions(options: OriginOptions = {}): Settings {
  const maxMemoryBytes = nonNegative('maxMemoryBytes', options.maxMemoryBytes, 1024 * MiB);
  if (maxMemoryBytes < 1) throw new RangeError('maxMemoryBytes must be at least 1: a cap of 0 would refuse every upload');
  const opsListener = options.opsListener ?? 'any';
  if (opsListener !== 'any' && opsListener !== 'ingest') throw new RangeError(`opsListener must be 'any' or 'ingest', got '${opsListener}'`);
  if (options.ingestSecret === '') throw new RangeError('ingestSecret must not be empty');
  for (const rule of options.cacheRules ?? []) {
    if (!rule.prefix.startsWith('/')) throw new RangeError(`cacheRules prefix must start with '/', got '${rule.prefix}'`);
  }
  return {
    holdMs: nonNegative('holdMs', options.holdMs, 3000),
    corsOrigin: options.corsOrigin ?? '*',
    timePath: path('timePath', options.timePath, '/time'),
    cacheControl: {
      manifest: options.manifestCacheControl ?? DEFAULT_CACHE_CONTROL.manifest,
      init: options.initCacheControl ?? DEFAULT_CACHE_CONTROL.init,
      segment: options.segmentCacheControl ?? DEFAULT_CACHE_CONTROL.segment,
      live: options.liveCacheControl ?? DEFAULT_CACHE_CONTROL.live,
    },
    cacheRules: [...(options.cacheRules ?? [])],
    setHeaders: options.setHeaders,
    maxObjectSize: nonNegative('maxObjectSize', options.maxObjectSize, 512 * MiB),
    maxManifestSize: nonNegative('maxManifestSize', options.maxManifestSize, 16 * MiB),
    maxPathBytes: nonNegative('maxPathBytes', options.maxPathBytes, MAX_PATH_BYTES),
    log: options.log,
    ttlMs: nonNegative('ttlMs', options.ttlMs, 300_000),
    ttlRules: ttlRules(options),
    initTtlMs: nonNegative('initTtlMs', options.initTtlMs, 0),
    maxMemoryBytes,
    memoryWaitMs: nonNegative('memoryWaitMs', options.memoryWaitMs, 10_000),
    maxUploads: nonNegative('maxUploads', options.maxUploads, 64),
    maxReaders: nonNegative('maxReaders', options.maxReaders, 10_000),
    dir: options.dir,
    ingestSecret: options.ingestSecret,
    ingestIdleMs: nonNegative('ingestIdleMs', options.ingestIdleMs, 10_000),
    readerStallMs: nonNegative('readerStallMs', options.readerStallMs, 30_000),
    headersTimeoutMs: nonNegative('headersTimeoutMs', options.headersTimeoutMs, 10_000),
    maxHeaderBytes: nonNegative('maxHeaderBytes', options.maxHeaderBytes, 16 * 1024),
    metricsPath: path('metricsPath', options.metricsPath, '/metrics'),
    healthPath: path('healthPath', options.healthPath, '/healthz'),
    streamsPath: path('streamsPath', options.streamsPath, '/streams'),
    opsListener,
    warn: options.warn ?? stderrWarn,
    player: options.player ?? true,
    ingestSegmentSeconds: positive('ingestSegmentSeconds', options.ingestSegmentSeconds, 2),
    vod: resolveVod(options),
    relayTargets: (options.relays ?? []).map((target) => resolveRelayTarget(target)),
    signing: resolveSigning(options.signing),
  };
}

/** The rules given, plus VOD assets kept until deleted (unless a rule already names their prefix). */
function ttlRules(options: OriginOptions): TtlRule[] {
  const rules = (options.ttlRules ?? []).map((r) => ({ prefix: r.prefix, ttlMs: nonNegative(`ttlRules[${r.prefix}]`, r.ttlMs, 0) }));
  const vod = options.vod !== false && options.dir !== undefined;
  if (vod && !rules.some((r) => r.prefix === VOD_PREFIX)) rules.push({ prefix: VOD_PREFIX, ttlMs: 0 });
  return rules;
}

function resolveVod(options: OriginOptions): VodSettings | undefined {
  if (options.vod === false) return undefined;
  if (options.dir === undefined) {
    // Asked for explicitly: say why it cannot be; left to its default: simply off.
    if (options.vod !== undefined) throw new RangeError('vod needs dir: VOD assets live on the disk tier');
    return undefined;
  }
  return resolveVodOptions(options.vod === true || options.vod === undefined ? {} : options.vod);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = nonNegative(name, value, fallback);
  if (v === 0) throw new RangeError(`${name} must be greater than 0`);
  return v;
}

function resolveSigning(signing: OriginOptions['signing']): Settings['signing'] {
  if (signing === undefined) return undefined;
  if (typeof signing.secret !== 'string' || signing.secret === '') throw new RangeError('signing.secret must be a non-empty string');
  const prefixes = [...(signing.prefixes ?? ['/'])];
  if (prefixes.length === 0) throw new RangeError('signing.prefixes must name at least one prefix (default: /)');
  for (const p of prefixes) {
    try {
      canonicalPrefix(p);
    } catch (err) {
      throw new RangeError(`signing prefixes: ${(err as Error).message}`);
    }
  }
  return { secret: signing.secret, prefixes };
}
