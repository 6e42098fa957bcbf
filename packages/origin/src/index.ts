/**
 * @boxstream/origin: a live chunked-CMAF origin for `node:http`. Encoders PUT or POST segments
 * as they are produced; players GET them while they are written and receive every CMAF chunk
 * the moment its last byte arrives.
 *
 * @packageDocumentation
 */
export { createOrigin, type Origin, type OriginServer, type RequestHandler } from './origin.js';
export type { OriginOptions, AccessLogEntry } from './options.js';
export {
  ObjectStore,
  StoredObject,
  type ObjectState,
  type ObjectReader,
  type KeyWaiter,
  type StoreEvents,
  type StoreStats,
  type CreateOptions,
} from './store.js';
export { parseRequestPath, MAX_PATH_BYTES, type PathResult } from './paths.js';
export {
  contentTypeFor,
  extensionOf,
  manifestKind,
  manifestContentType,
  bodyFormatFor,
  looksLikeIsoBmff,
  DEFAULT_CONTENT_TYPE,
  type ManifestKind,
  type BodyFormat,
} from './content-types.js';
export { CorsPolicy, ALLOWED_METHODS, EXPOSED_HEADERS, type CorsOrigin } from './cors.js';
export { parseRange, sliceUnits, type ByteRange } from './range.js';
export { utcNow, httpDate } from './time.js';
export type { ListenerRole, RequestTally } from './options.js';
export type { ListenOptions, BoundListener } from './server.js';
export { Retention, type TtlRule, type RetentionOptions } from './retention.js';
export { DiskMirror, keyToFile, TMP_DIR, type DiskMirrorOptions } from './persistence.js';
export { IngestAuth, isLoopback, insecureIngestWarning, WWW_AUTHENTICATE, type AuthResult } from './auth.js';
export { OriginMetrics, Histogram, renderMetrics, FANOUT_BUCKETS, type LimitName, type MetricsSources } from './metrics.js';
export { formatAccessLog, type LogFormat } from './access-log.js';
export { RETRY_AFTER_SECONDS } from './limits.js';
export type { RemoveReason } from './store.js';
