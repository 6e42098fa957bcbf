// Options of createOrigin, their defaults, and the resolved context ingest and egress share.
import type { CorsOrigin } from './cors.js';
import { CorsPolicy } from './cors.js';
import { MAX_PATH_BYTES } from './paths.js';
import { ObjectStore } from './store.js';

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
}

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
}

/** Applies defaults and checks values. */
export function resolveOptions(options: OriginOptions = {}): OriginContext {
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${value}`);
    return v;
  };
  return {
    store: options.store ?? new ObjectStore(),
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
  };
}

/** Per-request counters, filled by ingest and egress and logged when the response closes. */
export interface RequestTally {
  bytes: number;
  chunks: number;
}
