// boxstream-origin: run the origin from a shell. The first line printed is
// "listening on http://HOST:PORT" (https with TLS) so scripts can wait for it; then one access log line per request.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { formatAccessLog, type LogFormat } from './ops/access-log.js';
import { createOrigin, type TlsFiles } from './origin.js';
import { resolveOptions, type OriginOptions } from './options.js';
import { signPath } from './egress/signed-urls.js';
import type { VodProfile } from './vod/options.js';
import type { TtlRule } from './store/retention.js';
import type { CacheRule } from './egress/headers.js';
import type { RelayTargetOptions, S3Options } from './relay/options.js';
import { ConfigError, loadConfig, SECRET_ENV, type ConfigFile } from './cli/config-file.js';
import { parseArgsOptions, usage, type FlagValues, type Values } from './cli/flags.js';
import { printConfig } from './cli/print-config.js';

const USAGE = usage(`Usage: boxstream-origin [options]

Live chunked-CMAF origin: encoders PUT/POST segments, players GET them while they are written.
`);

/** Where each setting given in a config file came from (`file:line`), for error messages. */
const fromFile = new Map<string, string>();

/** Option names in the origin's own errors, as the flags that set them. */
const OPTION_FLAGS: readonly [RegExp, string][] = [
  [/^timePath\b/, '--time-path'],
  [/^ingestSecret\b/, '--ingest-secret'],
  [/^signing\.secret\b/, '--sign-secret'],
  [/^signing[. ]prefixes\b/, '--sign-prefix'],
  [/^relay target\b/, '--relay: relay target'],
  [/^cacheRules\b/, '--cache-prefix'],
  [/^ttlRules\b/, '--ttl-prefix'],
  [/^vod\b/, '--vod-profiles: vod'],
];

/** An error of createOrigin's option checks, worded by flag (so fail() can point into a config file). */
function optionError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  for (const [option, flag] of OPTION_FLAGS) if (option.test(message)) return message.replace(option, flag);
  return message;
}

function fail(message: string): never {
  // A value from the config file: say where it is, by its key rather than as a flag.
  const flag = /^--([a-z0-9-]+)/.exec(message);
  const at = flag === null ? undefined : fromFile.get(flag[1]);
  if (at !== undefined) message = `${at}: ${flag![1]}${message.slice(flag![0].length)}`;
  process.stderr.write(`boxstream-origin: ${message}\n${at === undefined ? `\n${USAGE}` : ''}`);
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

/** Log text gathered before one write: a busy origin logs thousands of lines a second. */
const STDOUT_BATCH_BYTES = 64 * 1024;

/**
 * stdout for the access log. Lines are written once per event-loop turn, together (stdout to a
 * pipe or file is a blocking write per call). A reader that goes away (`| head -1`) turns logging
 * off instead of crashing the origin with EPIPE; a reader that is slow costs at most
 * STDOUT_BACKLOG_BYTES of memory: further lines are dropped, and how many is told on stderr once
 * it catches up.
 */
const stdout = {
  closed: false,
  dropped: 0,
  pending: '',
  scheduled: false,
  line(text: string): void {
    if (this.closed) return;
    if (process.stdout.writableLength + this.pending.length > STDOUT_BACKLOG_BYTES) {
      if (this.dropped++ === 0) process.stdout.once('drain', () => this.reportDrops());
      return;
    }
    this.pending += text;
    if (this.pending.length >= STDOUT_BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(flushStdout);
    }
  },
  /** Writes what was gathered; before the process exits too. */
  flush(): void {
    this.scheduled = false;
    if (this.pending === '' || this.closed) return;
    const text = this.pending;
    this.pending = '';
    process.stdout.write(text);
  },
  reportDrops(): void {
    if (this.dropped === 0) return;
    process.stderr.write(`boxstream-origin: stdout too slow, ${this.dropped} access log line(s) dropped\n`);
    this.dropped = 0;
  },
};
const flushStdout = (): void => stdout.flush();
process.stdout.on('error', () => {
  // EPIPE and the like: nobody reads the log any more. The origin itself carries on.
  stdout.closed = true;
});
process.stderr.on('error', () => {
  // Warnings have nowhere to go; that must not stop the origin either.
});

function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  let cli: FlagValues;
  try {
    cli = parseArgs({ options: parseArgsOptions(), strict: true, allowPositionals: false }).values as FlagValues;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  // A config file under the flags: a flag given here replaces the file's value.
  let config: ConfigFile | undefined;
  if (typeof cli.config === 'string') {
    try {
      config = loadConfig(cli.config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`boxstream-origin: ${err.message}\n`);
      process.exit(2);
    }
    for (const [name, line] of config.lines) if (cli[name] === undefined) fromFile.set(name, `${config.path}:${line}`);
    // A printed config stands in for its secrets: each must be given again, or the origin would
    // start less protected than the one that printed it.
    for (const [name, line] of config.unprinted) {
      if (cli[name] === undefined && process.env[SECRET_ENV[name]] === undefined) {
        process.stderr.write(`boxstream-origin: ${config.path}:${line}: ${name}: the secret was not printed; give it with --${name}, ${SECRET_ENV[name]} or in the file\n`);
        process.exit(2);
      }
    }
  }
  const values = { ...config?.values, ...Object.fromEntries(Object.entries(cli).filter(([, v]) => v !== undefined)) } as Values;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`boxstream-origin ${version()}\n`);
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
  // Relay targets written as maps in the config file carry their own settings (unless --relay replaced the list).
  if (cli.relay === undefined) {
    for (const r of config?.relays ?? []) {
      const target: RelayTargetOptions = { maxQueue: relayQueue, ...r.options };
      // The top-level settings apply to map entries too, under their own.
      if (target.url.startsWith('s3:')) target.s3 = { ...s3, ...r.options.s3 };
      else target.secret ??= relaySecret;
      relays.push(target);
    }
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  if (values['no-http2'] === true && values['tls-cert'] === undefined) fail('--no-http2 goes with --tls-cert (HTTP/2 is offered over TLS only)');
  const tlsFiles = values['tls-cert'] === undefined ? undefined : { cert: values['tls-cert'], key: values['tls-key'] as string };
  /** The certificate and key as they are on disk now (read again on SIGHUP). */
  const readTls = (): TlsFiles | undefined => tlsFiles && { cert: readFileSync(tlsFiles.cert), key: readFileSync(tlsFiles.key) };
  try {
    // Read and parsed now, so a wrong file is named here rather than as a failure to listen.
    const files = readTls();
    if (files !== undefined) createSecureContext(files);
  } catch (err) {
    fail(`--tls-cert ${tlsFiles?.cert} / --tls-key ${tlsFiles?.key}: ${(err as Error).message}`);
  }
  const signSecret = values['sign-secret'] ?? process.env.BOXSTREAM_SIGN_SECRET;
  if (signSecret === '') fail('the signing secret must not be empty');
  if (values['sign-prefix'] !== undefined && signSecret === undefined) fail('--sign-prefix needs --sign-secret (or BOXSTREAM_SIGN_SECRET)');
  if (values['sign-ttl'] !== undefined && values.sign === undefined) fail('--sign-ttl goes with --sign');
  if (values.sign !== undefined) {
    // A signed path for an operator or a web app to hand to players.
    if (signSecret === undefined) fail('--sign needs --sign-secret (or BOXSTREAM_SIGN_SECRET)');
    try {
      process.stdout.write(`${signPath(signSecret, values.sign, integer('sign-ttl', values['sign-ttl'], 3600))}\n`);
    } catch (err) {
      fail(`--sign: ${(err as Error).message}`);
    }
    return;
  }
  const options: OriginOptions = {
      relays,
      signing: signSecret === undefined ? undefined : { secret: signSecret, prefixes: values['sign-prefix'] },
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
  };
  if (values['print-config']) {
    // The same checks as a start (resolveOptions is pure: no disk, no port), then the settings.
    try {
      resolveOptions(options);
    } catch (err) {
      fail(optionError(err));
    }
    const given = { ...values, config: undefined, 'print-config': undefined };
    const maps = cli.relay === undefined ? (config?.relays ?? []).map((r) => r.options) : [];
    process.stdout.write(printConfig(given, maps, `boxstream-origin ${version()}: effective settings${config === undefined ? '' : ` (${config.path}, then flags)`}`));
    return;
  }
  let origin;
  try {
    origin = createOrigin(options);
  } catch (err) {
    // Option values the CLI passes on unchecked (profiles, the VOD segment) are checked there.
    fail(optionError(err));
  }
  let running;
  try {
    running = await origin.listen(listenPort, values.host ?? '127.0.0.1', { ingestPort, ingestHost: values['ingest-host'], tls: readTls(), http2: values['no-http2'] !== true });
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
    stdout.flush();
    if (stopping) process.exit(130); // a second signal: do not wait any longer
    stopping = true;
    process.stderr.write(`boxstream-origin: ${signal}, closing\n`);
    stdout.reportDrops();
    // Uploads in flight finish (bounded by --grace-ms), queued disk writes land, then exit 0.
    running.close(grace).then(() => {
      stdout.flush();
      process.exit(0);
    });
  };
  // SIGHUP: a renewed certificate for new connections; open ones keep theirs. (Without TLS,
  // SIGHUP keeps its default: the process ends.)
  if (tlsFiles !== undefined) process.on('SIGHUP', () => {
    try {
      running.reloadTls(readTls() as TlsFiles);
      process.stderr.write('boxstream-origin: SIGHUP, TLS certificate reloaded\n');
    } catch (err) {
      process.stderr.write(`boxstream-origin: SIGHUP, TLS certificate NOT reloaded (the old one stays): ${(err as Error).message}\n`);
    }
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
