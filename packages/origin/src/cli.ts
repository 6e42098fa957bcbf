// boxstream-origin: run the origin from a shell. The first line printed is
// "listening on http://HOST:PORT" so scripts can wait for it; then one access log line per request.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatAccessLog, type LogFormat } from './ops/access-log.js';
import { createOrigin } from './origin.js';
import type { OriginOptions } from './options.js';
import type { VodProfile } from './vod/options.js';
import type { TtlRule } from './store/retention.js';
import type { CacheRule } from './egress/headers.js';
import type { RelayTargetOptions, S3Options } from './relay/options.js';

const USAGE = `Usage: boxstream-origin [options]

Live chunked-CMAF origin: encoders PUT/POST segments, players GET them while they are written.

Options:
  --port <n>              port to listen on, 0 picks a free one (default 8080)
  --host <addr>           address to bind (default 127.0.0.1)
  --hold-ms <ms>          how long a GET for a missing object waits for its upload (default 3000)
  --cors-origin <origin>  Access-Control-Allow-Origin; repeat for a list, 'none' to disable (default *)
  --time-path <path>      UTC time endpoint for utc_timing_url, 'none' to disable (default /time)
  --manifest-cache <cc>   Cache-Control of complete manifests (default "max-age=1")
  --init-cache <cc>       Cache-Control of complete init segments (default "max-age=2")
  --segment-cache <cc>    Cache-Control of complete segments and other objects (default "max-age=60")
  --live-cache <cc>       Cache-Control of objects being written (default: as once complete)
  --cache-prefix <p>=<cc> Cache-Control for every object under prefix p, e.g.
                          /static/=max-age=31536000,immutable; repeatable, longest prefix wins
  --max-object-mib <n>    largest upload in MiB (default 512)
  --ttl <s>               seconds an object stays after its upload completed, 0 = until DELETE (default 300)
  --ttl-prefix <p>=<s>    TTL for keys under prefix p, e.g. /archive/=0; repeatable, longest prefix wins
  --init-ttl <s>          TTL of init segments (objects starting with ftyp), 0 = keep (default 0)
  --max-memory-mib <n>    memory cap (at least 1): least recently used complete objects are evicted,
                          then uploads are paused (default 1024)
  --memory-wait-ms <ms>   how long a paused upload waits for room before 507 (default 10000)
  --max-uploads <n>       concurrent uploads, more get 503 (default 64)
  --max-readers <n>       concurrent readers and held requests, more get 503 (default 10000)
  --dir <path>            keep completed objects here too: served on a memory miss and after a restart
  --ingest-secret <s>     require it for PUT/POST/DELETE as Bearer token or Basic password
                          (or set BOXSTREAM_INGEST_SECRET, which ps cannot show)
  --ingest-port <n>       separate listener for PUT/POST/DELETE; the main port then refuses them
  --ingest-host <addr>    address of the ingest listener (default 127.0.0.1)
  --ingest-idle-ms <ms>   abort an upload whose body sends nothing this long, 0 = never (default 10000)
  --reader-stall-ms <ms>  drop a reader whose connection takes no bytes this long, 0 = never (default 30000)
  --headers-timeout-ms <ms>  time allowed for a request's headers (default 10000)
  --max-header-bytes <n>  largest request head (default 16384)
  --ops-listener <l>      'any' (default) or 'ingest': answer /metrics and /healthz on the ingest
                          listener only
  --log-format <f>        access log as 'text' (default) or 'json'
  --grace-ms <ms>         on SIGINT/SIGTERM, how long uploads in flight may finish (default 10000)
  --no-player             do not serve the /player page
  --no-vod                no VOD uploads (they are on with --dir: POST /vod, PUT /vod/<name>)
  --vod-profiles <list>   VOD ladder as name:height:kbps,... (default
                          1080p:1080:5000,720p:720:2800,480p:480:1400,360p:360:800)
  --vod-max-jobs <n>      VOD transcodes at once, the rest queue (default 1)
  --vod-max-upload-mib <n>  largest VOD upload in MiB (default 4096)
  --vod-segment <s>       VOD segment length in seconds (default 4)
  --relay [<p>=]<url>     push every object under prefix p (default /) to url: another origin
                          (http://host:port[/base]: chunk by chunk, DELETEs mirrored) or an
                          S3-compatible bucket (s3://bucket[/key-prefix]: completed objects);
                          repeatable
  --relay-secret <s>      Bearer secret for http relay targets (or BOXSTREAM_RELAY_SECRET)
  --relay-queue <n>       objects waiting per relay target before the oldest is dropped (default 1000)
  --s3-endpoint <url>     S3-compatible server for s3:// targets (default AWS in --s3-region);
                          credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  --s3-region <r>         signing region (default us-east-1)
  --quiet                 no access log
  --version               print the version
  --help                  show this help
`;

function fail(message: string): never {
  process.stderr.write(`boxstream-origin: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** Digits only: '' , '1e3', '0x10', ' 8', '-1' and '8.0' are refused, not read as numbers. */
function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n)) fail(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

function port(name: string, value: string | undefined, fallback: number): number {
  const n = integer(name, value, fallback);
  if (n > 65535) fail(`--${name} must be at most 65535, got ${n}`);
  return n;
}

function ttlRule(spec: string): TtlRule {
  const eq = spec.lastIndexOf('=');
  const prefix = spec.slice(0, eq);
  if (eq <= 0 || !prefix.startsWith('/')) fail(`--ttl-prefix must look like /prefix/=SECONDS, got '${spec}'`);
  return { prefix, ttlMs: integer('ttl-prefix', spec.slice(eq + 1), 0) * 1000 };
}

/** `[/prefix/=]URL`: an '=' before the URL's scheme ends the prefix. */
function relayTarget(spec: string, secret: string | undefined, maxQueue: number | undefined, s3: S3Options): RelayTargetOptions {
  const m = /^(\/[^=]*)=(.+)$/.exec(spec);
  const prefix = m?.[1];
  const url = m?.[2] ?? spec;
  if (!/^(https?|s3):\/\//.test(url)) fail(`--relay must look like [/prefix/=]http://host:port or [/prefix/=]s3://bucket, got '${spec}'`);
  const isS3 = url.startsWith('s3:');
  return { url, prefix, maxQueue, secret: isS3 ? undefined : secret, s3: isS3 ? s3 : undefined };
}

/** `1080p:1080:5000,720p:720:2800`: name, height and video kbit/s of each rendition. */
function vodProfiles(spec: string): VodProfile[] {
  return spec.split(',').map((item) => {
    const [name, height, kbps, extra] = item.trim().split(':');
    if (extra !== undefined || !name || height === undefined || kbps === undefined) fail(`--vod-profiles must look like 720p:720:2800,360p:360:800; got '${item}'`);
    return { name, height: integer('vod-profiles', height, 0), videoKbps: integer('vod-profiles', kbps, 0) };
  });
}

/** `/prefix/=max-age=60,immutable`: the first '=' ends the prefix; commas may stand for ', '. */
function cacheRule(spec: string): CacheRule {
  const eq = spec.indexOf('=');
  const prefix = spec.slice(0, eq);
  const cacheControl = spec.slice(eq + 1).trim();
  if (eq <= 0 || !prefix.startsWith('/') || cacheControl === '') fail(`--cache-prefix must look like /prefix/=CACHE-CONTROL, got '${spec}'`);
  return { prefix, cacheControl: cacheControl.split(/\s*,\s*/).join(', ') };
}

/** Most bytes of log lines left waiting on a slow stdout; lines beyond it are dropped and counted. */
const STDOUT_BACKLOG_BYTES = 1024 * 1024;

/**
 * stdout for the access log. A reader that goes away (`| head -1`) turns logging off instead of
 * crashing the origin with EPIPE; a reader that is slow costs at most STDOUT_BACKLOG_BYTES of
 * memory: further lines are dropped, and how many is told on stderr once it catches up.
 */
const stdout = {
  closed: false,
  dropped: 0,
  line(text: string): void {
    if (this.closed) return;
    if (process.stdout.writableLength > STDOUT_BACKLOG_BYTES) {
      if (this.dropped++ === 0) process.stdout.once('drain', () => this.reportDrops());
      return;
    }
    process.stdout.write(text);
  },
  reportDrops(): void {
    if (this.dropped === 0) return;
    process.stderr.write(`boxstream-origin: stdout too slow, ${this.dropped} access log line(s) dropped\n`);
    this.dropped = 0;
  },
};
process.stdout.on('error', () => {
  // EPIPE and the like: nobody reads the log any more. The origin itself carries on.
  stdout.closed = true;
});
process.stderr.on('error', () => {
  // Warnings have nowhere to go; that must not stop the origin either.
});

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'hold-ms': { type: 'string' },
        'cors-origin': { type: 'string', multiple: true },
        'time-path': { type: 'string' },
        'manifest-cache': { type: 'string' },
        'init-cache': { type: 'string' },
        'segment-cache': { type: 'string' },
        'live-cache': { type: 'string' },
        'cache-prefix': { type: 'string', multiple: true },
        'memory-wait-ms': { type: 'string' },
        'ops-listener': { type: 'string' },
        'max-object-mib': { type: 'string' },
        ttl: { type: 'string' },
        'ttl-prefix': { type: 'string', multiple: true },
        'init-ttl': { type: 'string' },
        'max-memory-mib': { type: 'string' },
        'max-uploads': { type: 'string' },
        'max-readers': { type: 'string' },
        dir: { type: 'string' },
        'ingest-secret': { type: 'string' },
        'ingest-port': { type: 'string' },
        'ingest-host': { type: 'string' },
        'ingest-idle-ms': { type: 'string' },
        'reader-stall-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        'max-header-bytes': { type: 'string' },
        'log-format': { type: 'string' },
        'grace-ms': { type: 'string' },
        'no-player': { type: 'boolean' },
        'no-vod': { type: 'boolean' },
        'vod-profiles': { type: 'string' },
        'vod-max-jobs': { type: 'string' },
        'vod-max-upload-mib': { type: 'string' },
        'vod-segment': { type: 'string' },
        relay: { type: 'string', multiple: true },
        'relay-secret': { type: 'string' },
        'relay-queue': { type: 'string' },
        's3-endpoint': { type: 'string' },
        's3-region': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`boxstream-origin ${pkg.version}\n`);
    return;
  }
  const listenPort = port('port', values.port, 8080);
  const cors = values['cors-origin'];
  const timePath = values['time-path'];
  const logFormat = (values['log-format'] ?? 'text') as LogFormat;
  if (logFormat !== 'text' && logFormat !== 'json') fail(`--log-format must be 'text' or 'json', got '${logFormat}'`);
  const ingestPort = values['ingest-port'] === undefined ? undefined : port('ingest-port', values['ingest-port'], 0);
  if (values['ingest-host'] !== undefined && ingestPort === undefined) fail('--ingest-host needs --ingest-port');
  const secret = values['ingest-secret'] ?? process.env.BOXSTREAM_INGEST_SECRET;
  if (secret === '') fail('the ingest secret must not be empty');
  const grace = integer('grace-ms', values['grace-ms'], 10_000);
  if (values['max-memory-mib'] !== undefined && integer('max-memory-mib', values['max-memory-mib'], 1) < 1) {
    fail('--max-memory-mib must be at least 1: a cap of 0 would refuse every upload');
  }
  const opsListener = values['ops-listener'] ?? 'any';
  if (opsListener !== 'any' && opsListener !== 'ingest') fail(`--ops-listener must be 'any' or 'ingest', got '${opsListener}'`);
  const optionalInt = (name: string, scale = 1): number | undefined =>
    values[name as 'ttl'] === undefined ? undefined : integer(name, values[name as 'ttl'], 0) * scale;
  const vodFlags = ['vod-profiles', 'vod-max-jobs', 'vod-max-upload-mib', 'vod-segment'] as const;
  const vodTuned = vodFlags.some((f) => values[f] !== undefined);
  if (vodTuned && values.dir === undefined) fail('the --vod-* options need --dir: VOD assets live on the disk tier');
  if (vodTuned && values['no-vod']) fail('--no-vod and --vod-* options contradict each other');
  const vod: OriginOptions['vod'] = values['no-vod']
    ? false
    : vodTuned
      ? {
          profiles: values['vod-profiles'] === undefined ? undefined : vodProfiles(values['vod-profiles']),
          maxJobs: values['vod-max-jobs'] === undefined ? undefined : Math.max(1, integer('vod-max-jobs', values['vod-max-jobs'], 1)),
          maxUploadBytes: optionalInt('vod-max-upload-mib', 1024 * 1024),
          segmentSeconds: optionalInt('vod-segment'),
        }
      : undefined;
  const relaySecret = values['relay-secret'] ?? process.env.BOXSTREAM_RELAY_SECRET;
  const relayQueue = values['relay-queue'] === undefined ? undefined : integer('relay-queue', values['relay-queue'], 1000);
  const s3 = { endpoint: values['s3-endpoint'], region: values['s3-region'] };
  const relays = (values.relay ?? []).map((spec) => relayTarget(spec, relaySecret, relayQueue, s3));
  let origin;
  try {
    origin = createOrigin({
      relays,
      holdMs: integer('hold-ms', values['hold-ms'], 3000),
      corsOrigin: cors === undefined ? '*' : cors.length === 1 && cors[0] === 'none' ? false : cors.length === 1 ? cors[0] : cors,
      timePath: timePath === 'none' ? false : timePath,
      manifestCacheControl: values['manifest-cache'],
      initCacheControl: values['init-cache'],
      segmentCacheControl: values['segment-cache'],
      liveCacheControl: values['live-cache'],
      cacheRules: (values['cache-prefix'] ?? []).map(cacheRule),
      memoryWaitMs: optionalInt('memory-wait-ms'),
      opsListener,
      maxObjectSize: values['max-object-mib'] === undefined ? undefined : integer('max-object-mib', values['max-object-mib'], 512) * 1024 * 1024,
      player: values['no-player'] !== true,
      ttlMs: optionalInt('ttl', 1000),
      ttlRules: (values['ttl-prefix'] ?? []).map(ttlRule),
      initTtlMs: optionalInt('init-ttl', 1000),
      maxMemoryBytes: optionalInt('max-memory-mib', 1024 * 1024),
      maxUploads: optionalInt('max-uploads'),
      maxReaders: optionalInt('max-readers'),
      dir: values.dir,
      vod,
      ingestSecret: secret,
      ingestIdleMs: optionalInt('ingest-idle-ms'),
      readerStallMs: optionalInt('reader-stall-ms'),
      headersTimeoutMs: optionalInt('headers-timeout-ms'),
      maxHeaderBytes: optionalInt('max-header-bytes'),
      log: values.quiet ? undefined : (entry) => stdout.line(formatAccessLog(entry, logFormat)),
    });
  } catch (err) {
    // Option values the CLI passes on unchecked (profiles, the VOD segment) are checked there.
    fail(err instanceof Error ? err.message : String(err));
  }
  let running;
  try {
    running = await origin.listen(listenPort, values.host ?? '127.0.0.1', { ingestPort, ingestHost: values['ingest-host'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // The usual first-run problem (another origin, or anything else, on 8080): say what to do.
    const flag = ingestPort !== undefined && (e as { port?: number }).port === ingestPort ? '--ingest-port' : '--port';
    const hint = e.code === 'EADDRINUSE' ? `; another program uses that port: pick one with ${flag} <n> (0 picks a free one)` : '';
    process.stderr.write(`boxstream-origin: cannot listen: ${e.message ?? String(err)}${hint}\n`);
    process.exit(1);
  }
  stdout.line(`listening on ${running.url}\n`);
  if (running.ingest !== undefined) stdout.line(`ingest on ${running.ingest.url}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130); // a second signal: do not wait any longer
    stopping = true;
    process.stderr.write(`boxstream-origin: ${signal}, closing\n`);
    stdout.reportDrops();
    // Uploads in flight finish (bounded by --grace-ms), queued disk writes land, then exit 0.
    running.close(grace).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
