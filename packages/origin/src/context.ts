// The running origin that every handler shares: the settings, and the parts built from them.
import type { CachePolicy } from './egress/headers.js';
import type { CorsPolicy } from './http/cors.js';
import type { IngestAuth } from './ingest/auth.js';
import type { MemoryGate } from './ingest/memory-gate.js';
import type { OriginMetrics } from './ops/metrics.js';
import type { ListenerRole, Settings } from './options.js';
import type { DiskTier } from './store/disk.js';
import type { Retention } from './store/retention.js';
import type { ObjectStore } from './store/store.js';
import type { StreamModel } from './stream/model.js';
import type { Relays } from './relay/relays.js';
import type { UrlSigner } from './egress/signed-urls.js';

/** Settings plus the parts `createOrigin` builds from them. */
export interface OriginContext extends Settings {
  store: ObjectStore;
  cors: CorsPolicy;
  cache: CachePolicy;
  retention: Retention;
  metrics: OriginMetrics;
  auth: IngestAuth | undefined;
  disk: DiskTier | undefined;
  /** Channels, renditions and segments learnt from the encoders' MPDs and chunks. */
  streams: StreamModel;
  /** Pauses uploads while the memory cap has no room (see ingest/memory-gate.ts). */
  memory: MemoryGate;
  /** The listener this context serves (`createOrigin` derives one context per role). */
  role: ListenerRole;
  /** Shared by every role's context: set when shutdown begins. */
  lifecycle: { draining: boolean; onDrain: (() => void)[] };
  /** Uploads by key that have not made their object visible yet (manifests, sniffing): DELETE reaches them here. */
  pendingUploads: Map<string, Set<{ cancel(): void }>>;
  /** Relay targets, when configured (made after the disk tier loaded: loaded files are not re-sent). */
  relays: Relays | undefined;
  /** Checks signed playback URLs, when `signing` is set. */
  signer: UrlSigner | undefined;
  /** This origin's `CDN-Loop` token: what its relays add, and what its ingest refuses to see again. */
  loopToken: string;
  /**
   * Longer holds than `holdMs` for reads of missing keys, by key (an asset being transcoded,
   * whose players may ask for segments ahead of it): the longest answer wins.
   */
  holdRules: ((key: string) => number | undefined)[];
}
