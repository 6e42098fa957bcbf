/**
 * @boxstream/origin: a live chunked-CMAF origin for `node:http`. Encoders PUT or POST segments
 * as they are produced; players GET them while they are written and receive every CMAF chunk
 * the moment its last byte arrives.
 *
 * The public surface is `createOrigin`, its options and result, a read-only view of the store
 * with its events, and the cursor every reader uses. Everything else is internal.
 *
 * @packageDocumentation
 */
export { createOrigin, type Origin, type OriginServer, type RequestHandler, type ListenOptions, type VodView } from './origin.js';
export type { BoundListener, TlsFiles } from './http/server.js';
export type { OriginOptions, AccessLogEntry, ListenerRole } from './options.js';
export type { StoreView, StoreEvents, StoreStats, RemoveReason } from './store/store.js';
export type { StoredObject, ObjectState, ObjectKind, ObjectReader } from './store/object.js';
export { ObjectCursor, type CursorSink, type CursorRange } from './store/cursor.js';
export type { TtlRule } from './store/retention.js';
export { DEFAULT_CACHE_CONTROL, type CacheRule, type CacheControlClasses, type ObjectInfo, type SetHeaders } from './egress/headers.js';
export type { CorsOrigin } from './http/cors.js';
export type { OriginMetrics } from './ops/metrics.js';
export type { StreamsView, StreamStatus } from './stream/model.js';
export type { VodOptions, VodProfile } from './vod/options.js';
export type { RelayTargetOptions, S3Options } from './relay/options.js';
export { signPath } from './egress/signed-urls.js';
export type { RelayStats } from './relay/target.js';
export type { VodJob, JobState } from './vod/jobs.js';
export { DEFAULT_PROFILES } from './vod/options.js';
export type { ChannelView, ChannelTiming, RenditionView, RenditionInfo, SegmentFact, ChunkFact } from './stream/types.js';
export type { IngestTrackView, PushSource } from './ingest/cmaf/receiver.js';
