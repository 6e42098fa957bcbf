// Counters and the Prometheus text exposition (format 0.0.4). Counters are plain numbers bumped
// where things happen; gauges are read from the store, retention and disk at scrape time, so a
// scrape costs nothing between scrapes and the figures are exact when it runs.
import type { ObjectStore } from '../store/store.js';
import type { RelayStats } from '../relay/target.js';

/** Upper bounds of the fan-out delay histogram, seconds. */
export const FANOUT_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A Prometheus histogram with fixed buckets. */
export class Histogram {
  /** Per-bucket (not cumulative) counts; the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Which limit refused a request (503). */
export type LimitName = 'uploads' | 'readers' | 'memory';

/** Methods counted by name; anything else is `other` (a client must not create label values). */
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS']);

/** The origin's counters. Read them directly or render them with `renderMetrics`. */
export class OriginMetrics {
  uploads = 0;
  uploadsInProgress = 0;
  uploadsAborted = 0;
  uploadsStalled = 0;
  /** Readers dropped because their connection took no bytes for `readerStallMs`. */
  readerStalls = 0;
  receivedBytes = 0;
  sentBytes = 0;
  chunksPublished = 0;
  holds = 0;
  earlyJoins = 0;
  notFound = 0;
  deletes = 0;
  authFailures = 0;
  /** Store listeners that threw (each isolated: the upload and its readers went on). */
  listenerErrors = 0;
  /** CMAF ingest tracks handed over to a redundant encoder's push on standby. */
  ingestFailovers = 0;
  /** Complete objects served from the disk tier (a miss in memory). */
  diskReads = 0;
  /** Generated playlists rendered (once per playlist update, however many requests share it). */
  playlistRenders = 0;
  /** Playlist requests held for a part (blocking reload) and answered when it appeared. */
  playlistHoldsAnswered = 0;
  readonly rejected: Record<LimitName, number> = { uploads: 0, readers: 0, memory: 0 };
  /** Responses by `METHOD status`. */
  readonly responses = new Map<string, number>();
  /** Seconds from a unit's publish to its last reader write. */
  readonly fanout = new Histogram(FANOUT_BUCKETS);
  /** Wakes whoever waits for uploads in flight to reach 0 (graceful shutdown). */
  private idle: (() => void)[] = [];

  /** Hooks the store's events: published units, aborted uploads, fan-out delays. */
  attach(store: ObjectStore): void {
    store.on('publish', () => void this.chunksPublished++);
    store.on('abort', () => void this.uploadsAborted++);
    store.on('delete', (_k, _o, reason) => {
      if (reason === 'delete') this.deletes++;
    });
    const fanout = this.fanout;
    store.observeFanout = (seconds) => fanout.observe(seconds);
  }

  /** Counts a finished response. */
  response(method: string, status: number): void {
    const key = `${METHODS.has(method) ? method : 'other'} ${status}`;
    this.responses.set(key, (this.responses.get(key) ?? 0) + 1);
    if (status === 404) this.notFound++;
  }

  uploadStarted(): void {
    this.uploads++;
    this.uploadsInProgress++;
  }

  uploadEnded(): void {
    this.uploadsInProgress--;
    if (this.uploadsInProgress === 0 && this.idle.length > 0) {
      const idle = this.idle;
      this.idle = [];
      for (const wake of idle) wake();
    }
  }

  /** Resolves when no upload is in flight (at once if none is). */
  uploadsDone(): Promise<void> {
    if (this.uploadsInProgress === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}

/** Everything a scrape reads besides the counters. */
export interface MetricsSources {
  metrics: OriginMetrics;
  store: ObjectStore;
  retention: { expired: number; evicted: number; options: { maxMemoryBytes: number } };
  memory: { pauses: number; refusals: number; waiting: number };
  disk?: { writes: number; errors: number; pending: number; removes: number; files: number } | undefined;
  /** One entry per relay target. */
  relays?: RelayStats[] | undefined;
}

const P = 'boxstream_origin_';

/** Renders every metric in the Prometheus text format. */
export function renderMetrics(src: MetricsSources): string {
  const m = src.metrics;
  const st = src.store.stats();
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number, labels = ''): void => {
    out.push(`# HELP ${P}${name} ${help}`, `# TYPE ${P}${name} ${type}`, `${P}${name}${labels} ${value}`);
  };
  metric('uploads_total', 'counter', 'Uploads (PUT/POST) accepted.', m.uploads);
  metric('uploads_in_progress', 'gauge', 'Uploads whose request is still open.', m.uploadsInProgress);
  metric('uploads_aborted_total', 'counter', 'Uploads that ended without completing (client gone, stalled, malformed).', m.uploadsAborted);
  metric('upload_stalls_total', 'counter', 'Uploads cut because no body byte arrived within the idle timeout.', m.uploadsStalled);
  metric('received_bytes_total', 'counter', 'Upload body bytes received.', m.receivedBytes);
  metric('sent_bytes_total', 'counter', 'Object body bytes handed to readers\' responses (res.write), not bytes the client acknowledged: a reader that leaves loses what was still buffered.', m.sentBytes);
  metric('chunks_published_total', 'counter', 'Units (CMAF header, chunk, box, or opaque piece) published.', m.chunksPublished);
  metric('readers', 'gauge', 'Responses following an object.', st.readers);
  metric('reader_stalls_total', 'counter', 'Readers dropped because their connection took no bytes within the stall timeout.', m.readerStalls);
  metric('held_requests', 'gauge', 'Requests held waiting for a key to appear.', st.waiters);
  metric('holds_total', 'counter', 'Requests that were held: for a missing key, or a playlist for the part it waits for.', m.holds);
  metric('early_joins_total', 'counter', 'Held requests that got their object when its upload started.', m.earlyJoins);
  metric('playlist_renders_total', 'counter', 'Generated LL-HLS playlists rendered (each shared by every request for that update).', m.playlistRenders);
  metric('playlist_holds_answered_total', 'counter', 'Held playlist requests answered when what they waited for was published.', m.playlistHoldsAnswered);
  metric('not_found_total', 'counter', '404 answers.', m.notFound);
  metric('deletes_total', 'counter', 'Objects removed by DELETE.', m.deletes);
  metric('expired_total', 'counter', 'Objects removed by their time-to-live.', src.retention.expired);
  metric('evictions_total', 'counter', 'Objects evicted under the memory cap.', src.retention.evicted);
  metric('objects', 'gauge', 'Keys with a current version.', st.objects);
  metric('objects_writing', 'gauge', 'Objects being written.', st.writing);
  metric('memory_bytes', 'gauge', 'Bytes held by current versions.', st.bytes);
  metric('ingest_held_bytes', 'gauge', 'Bytes uploads received and hold unpublished (counted against the memory cap).', st.ingestBytes);
  metric('uploads_paused', 'gauge', 'Uploads paused by the memory cap, waiting for room.', src.memory.waiting);
  metric('upload_pauses_total', 'counter', 'Times an upload was paused by the memory cap.', src.memory.pauses);
  metric('upload_memory_refusals_total', 'counter', 'Uploads refused with 507 after waiting for room under the memory cap.', src.memory.refusals);
  metric('ingest_failovers_total', 'counter', 'CMAF ingest tracks handed over to a redundant encoder on standby (the live one stopped or fell behind).', m.ingestFailovers);
  metric('listener_errors_total', 'counter', 'Store listeners that threw; the upload and its readers were unaffected.', m.listenerErrors);
  metric('detached_memory_bytes', 'gauge', 'Bytes of replaced or removed versions still held by readers or their upload.', st.detachedBytes);
  metric('memory_limit_bytes', 'gauge', 'Memory cap on current versions plus bytes uploads hold.', src.retention.options.maxMemoryBytes);
  metric('auth_failures_total', 'counter', 'Ingest requests refused with 401 or 403.', m.authFailures);
  out.push(`# HELP ${P}limit_rejections_total Requests refused by a limit (503; 507 for memory).`, `# TYPE ${P}limit_rejections_total counter`);
  for (const name of Object.keys(m.rejected) as LimitName[]) out.push(`${P}limit_rejections_total{limit="${name}"} ${m.rejected[name]}`);
  const disk = src.disk;
  if (disk !== undefined) {
    metric('disk_writes_total', 'counter', 'Completed objects written to disk.', disk.writes);
    metric('disk_removes_total', 'counter', 'Files removed by DELETE, a TTL or an aborted upload (never by eviction).', disk.removes);
    metric('disk_errors_total', 'counter', 'Disk operations that failed (logged; streaming went on).', disk.errors);
    metric('disk_pending', 'gauge', 'Disk writes and removals queued or running.', disk.pending);
    metric('disk_files', 'gauge', 'Complete objects on disk.', disk.files);
    metric('disk_reads_total', 'counter', 'Complete objects served from disk (not in memory).', m.diskReads);
  }
  if (src.relays !== undefined && src.relays.length > 0) renderRelays(out, src.relays);
  out.push(`# HELP ${P}http_responses_total Responses by method and status.`, `# TYPE ${P}http_responses_total counter`);
  for (const [key, n] of [...m.responses].sort()) {
    const [method, status] = key.split(' ');
    out.push(`${P}http_responses_total{method="${method}",status="${status}"} ${n}`);
  }
  const h = m.fanout;
  const name = `${P}fanout_delay_seconds`;
  out.push(`# HELP ${name} Seconds from a unit's publish to its last reader write (readers waiting for drain report when they catch up).`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i];
    out.push(`${name}_bucket{le="${h.bounds[i]}"} ${cumulative}`);
  }
  cumulative += h.counts[h.bounds.length];
  out.push(`${name}_bucket{le="+Inf"} ${cumulative}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
  const mem = process.memoryUsage();
  out.push(
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${mem.rss}`,
    '# HELP nodejs_heap_used_bytes V8 heap in use, bytes.',
    '# TYPE nodejs_heap_used_bytes gauge',
    `nodejs_heap_used_bytes ${mem.heapUsed}`,
    '# HELP nodejs_array_buffers_bytes Memory of ArrayBuffers and Buffers (stored units live here), bytes.',
    '# TYPE nodejs_array_buffers_bytes gauge',
    `nodejs_array_buffers_bytes ${mem.arrayBuffers}`,
  );
  return out.join('\n') + '\n';
}

/** Relay metrics: one series per target, labelled with its name (its URL without credentials). */
function renderRelays(out: string[], relays: RelayStats[]): void {
  const series: [string, 'counter' | 'gauge', string, (r: RelayStats) => number][] = [
    ['relay_sent_total', 'counter', 'Objects a relay target acknowledged.', (r) => r.sent],
    ['relay_sent_bytes_total', 'counter', 'Bytes of objects a relay target acknowledged.', (r) => r.sentBytes],
    ['relay_deletes_total', 'counter', 'DELETEs a relay target acknowledged.', (r) => r.deleted],
    ['relay_failures_total', 'counter', 'Relay attempts that failed.', (r) => r.failures],
    ['relay_retries_total', 'counter', 'Relay attempts queued again after a failure.', (r) => r.retries],
    ['relay_dropped_total', 'counter', 'Objects a relay gave up: its queue was full, or the target refused them for good (4xx, 508).', (r) => r.dropped],
    ['relay_queued', 'gauge', 'Objects waiting for a relay target.', (r) => r.queued],
    ['relay_queued_bytes', 'gauge', 'Bytes of the objects waiting for a relay target.', (r) => r.queuedBytes],
    ['relay_in_flight', 'gauge', 'Relay requests in flight.', (r) => r.inFlight],
    ['relay_up', 'gauge', '1 while the target answers, 0 while it is backed off.', (r) => (r.up ? 1 : 0)],
    ['relay_backoff_seconds', 'gauge', 'Current wait between attempts to a target that does not answer (0 while up).', (r) => r.backoffMs / 1000],
  ];
  for (const [name, type, help, value] of series) {
    out.push(`# HELP ${P}${name} ${help}`, `# TYPE ${P}${name} ${type}`);
    for (const r of relays) out.push(`${P}${name}{target="${r.name.replace(/["\\\n]/g, '_')}"} ${value(r)}`);
  }
}
