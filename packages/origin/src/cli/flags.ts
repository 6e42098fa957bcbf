// Every flag of boxstream-origin, once: its name, value, default and help. The usage text, the
// argument parser's options, the config file's keys and `--print-config` all come from here.

/** `string`: one value; `list`: repeatable; `int`: digits only; `bool`: present or not. */
export type FlagKind = 'string' | 'int' | 'bool' | 'list';

export interface Flag {
  name: string;
  kind: FlagKind;
  /** The value's placeholder in the usage text. */
  arg?: string;
  /** The default as a config value (`undefined`: none); what `--print-config` shows when unset. */
  default?: string | number | boolean | string[];
  /** Help lines (the first beside the flag, the rest below it). */
  help: string;
  /** Not a setting: not in config files, not printed by `--print-config`. */
  meta?: true;
}

export const FLAGS = [
  { name: 'config', kind: 'string', arg: '<file>', meta: true, help: 'read settings from a YAML or JSON file (keys: these flag names);\nflags given here override it' },
  { name: 'print-config', kind: 'bool', meta: true, help: 'print the effective settings as a config file, then exit' },
  { name: 'port', kind: 'int', arg: '<n>', default: 8080, help: 'port to listen on, 0 picks a free one (default 8080)' },
  { name: 'host', kind: 'string', arg: '<addr>', default: '127.0.0.1', help: 'address to bind (default 127.0.0.1)' },
  { name: 'hold-ms', kind: 'int', arg: '<ms>', default: 3000, help: 'how long a GET for a missing object waits for its upload (default 3000)' },
  { name: 'cors-origin', kind: 'list', arg: '<origin>', default: ['*'], help: "Access-Control-Allow-Origin; repeat for a list, 'none' to disable (default *)" },
  { name: 'time-path', kind: 'string', arg: '<path>', default: '/time', help: "UTC time endpoint for utc_timing_url, 'none' to disable (default /time)" },
  { name: 'manifest-cache', kind: 'string', arg: '<cc>', default: 'max-age=1', help: 'Cache-Control of complete manifests (default "max-age=1")' },
  { name: 'init-cache', kind: 'string', arg: '<cc>', default: 'max-age=2', help: 'Cache-Control of complete init segments (default "max-age=2")' },
  { name: 'segment-cache', kind: 'string', arg: '<cc>', default: 'max-age=60', help: 'Cache-Control of complete segments and other objects (default "max-age=60")' },
  { name: 'live-cache', kind: 'string', arg: '<cc>', help: 'Cache-Control of objects being written (default: as once complete)' },
  { name: 'cache-prefix', kind: 'list', arg: '<p>=<cc>', default: [], help: 'Cache-Control for every object under prefix p, e.g.\n/static/=max-age=31536000,immutable; repeatable, longest prefix wins' },
  { name: 'max-object-mib', kind: 'int', arg: '<n>', default: 512, help: 'largest upload in MiB (default 512)' },
  { name: 'ttl', kind: 'int', arg: '<s>', default: 300, help: 'seconds an object stays after its upload completed, 0 = until DELETE (default 300)' },
  { name: 'ttl-prefix', kind: 'list', arg: '<p>=<s>', default: [], help: 'TTL for keys under prefix p, e.g. /archive/=0; repeatable, longest prefix wins' },
  { name: 'init-ttl', kind: 'int', arg: '<s>', default: 0, help: 'TTL of init segments (objects starting with ftyp), 0 = keep (default 0)' },
  { name: 'max-memory-mib', kind: 'int', arg: '<n>', default: 1024, help: 'memory cap (at least 1): least recently used complete objects are evicted,\nthen uploads are paused (default 1024)' },
  { name: 'memory-wait-ms', kind: 'int', arg: '<ms>', default: 10000, help: 'how long a paused upload waits for room before 507 (default 10000)' },
  { name: 'max-uploads', kind: 'int', arg: '<n>', default: 64, help: 'concurrent uploads, more get 503 (default 64)' },
  { name: 'max-readers', kind: 'int', arg: '<n>', default: 10000, help: 'concurrent readers and held requests, more get 503 (default 10000)' },
  { name: 'dir', kind: 'string', arg: '<path>', help: 'keep completed objects here too: served on a memory miss and after a restart' },
  { name: 'tls-cert', kind: 'string', arg: '<file>', help: 'serve https with this certificate chain (PEM); reloaded with --tls-key on SIGHUP,\nconnections already open keep theirs' },
  { name: 'tls-key', kind: 'string', arg: '<file>', help: 'the private key of --tls-cert (PEM)' },
  { name: 'no-http2', kind: 'bool', default: false, help: 'with --tls-cert: HTTP/1.1 only (by default players get HTTP/2 by ALPN,\nHTTP/1.1 clients such as ffmpeg still connect)' },
  { name: 'ingest-secret', kind: 'string', arg: '<s>', help: 'require it for PUT/POST/DELETE as Bearer token or Basic password\n(or set BOXSTREAM_INGEST_SECRET, which ps cannot show)' },
  { name: 'ingest-port', kind: 'int', arg: '<n>', help: 'separate listener for PUT/POST/DELETE; the main port then refuses them' },
  { name: 'ingest-host', kind: 'string', arg: '<addr>', default: '127.0.0.1', help: 'address of the ingest listener (default 127.0.0.1)' },
  { name: 'ingest-idle-ms', kind: 'int', arg: '<ms>', default: 10000, help: 'abort an upload whose body sends nothing this long, 0 = never (default 10000)' },
  { name: 'reader-stall-ms', kind: 'int', arg: '<ms>', default: 30000, help: 'drop a reader whose connection takes no bytes this long, 0 = never (default 30000)' },
  { name: 'headers-timeout-ms', kind: 'int', arg: '<ms>', default: 10000, help: "time allowed for a request's headers (default 10000)" },
  { name: 'max-header-bytes', kind: 'int', arg: '<n>', default: 16384, help: 'largest request head (default 16384)' },
  { name: 'ops-listener', kind: 'string', arg: '<l>', default: 'any', help: "'any' (default) or 'ingest': answer /metrics and /healthz on the ingest\nlistener only" },
  { name: 'log-format', kind: 'string', arg: '<f>', default: 'text', help: "access log as 'text' (default) or 'json'" },
  { name: 'grace-ms', kind: 'int', arg: '<ms>', default: 10000, help: 'on SIGINT/SIGTERM, how long uploads in flight may finish (default 10000)' },
  { name: 'no-player', kind: 'bool', default: false, help: 'do not serve the /player page' },
  { name: 'no-vod', kind: 'bool', default: false, help: 'no VOD uploads (they are on with --dir: POST /vod, PUT /vod/<name>)' },
  { name: 'vod-profiles', kind: 'string', arg: '<list>', default: '1080p:1080:5000,720p:720:2800,480p:480:1400,360p:360:800', help: 'VOD ladder as name:height:kbps,... (default\n1080p:1080:5000,720p:720:2800,480p:480:1400,360p:360:800)' },
  { name: 'vod-max-jobs', kind: 'int', arg: '<n>', default: 1, help: 'VOD transcodes at once, the rest queue (default 1)' },
  { name: 'vod-max-upload-mib', kind: 'int', arg: '<n>', default: 4096, help: 'largest VOD upload in MiB (default 4096)' },
  { name: 'vod-segment', kind: 'int', arg: '<s>', default: 4, help: 'VOD segment length in seconds (default 4)' },
  { name: 'relay', kind: 'list', arg: '[<p>=]<url>', default: [], help: 'push every object under prefix p (default /) to url: another origin\n(http://host:port[/base]: chunk by chunk, DELETEs mirrored) or an\nS3-compatible bucket (s3://bucket[/key-prefix]: completed objects);\nrepeatable' },
  { name: 'relay-secret', kind: 'string', arg: '<s>', help: 'Bearer secret for http relay targets (or BOXSTREAM_RELAY_SECRET)' },
  { name: 'relay-queue', kind: 'int', arg: '<n>', default: 1000, help: 'objects waiting per relay target before the oldest is dropped (default 1000)' },
  { name: 's3-endpoint', kind: 'string', arg: '<url>', help: 'S3-compatible server for s3:// targets (default AWS in --s3-region);\ncredentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' },
  { name: 's3-region', kind: 'string', arg: '<r>', default: 'us-east-1', help: 'signing region (default us-east-1)' },
  { name: 'sign-secret', kind: 'string', arg: '<s>', help: 'signed playback URLs: reads need a path token made with this secret\n(or set BOXSTREAM_SIGN_SECRET)' },
  { name: 'sign-prefix', kind: 'list', arg: '<p>', default: ['/'], help: 'keys under p need a signed URL; repeatable (default /: all but the\nplayer page, /time, /healthz, /metrics, /streams, /vod/jobs)' },
  { name: 'sign', kind: 'string', arg: '<prefix>', meta: true, help: 'print the signed path for a directory (e.g. /live/ch/), then exit' },
  { name: 'sign-ttl', kind: 'int', arg: '<s>', meta: true, help: 'how long a path printed by --sign stays valid (default 3600)' },
  { name: 'quiet', kind: 'bool', default: false, help: 'no access log' },
  { name: 'version', kind: 'bool', meta: true, help: 'print the version' },
  { name: 'help', kind: 'bool', meta: true, help: 'show this help' },
] as const satisfies readonly Flag[];

type NamesOf<K extends FlagKind> = Extract<(typeof FLAGS)[number], { kind: K }>['name'];

/** Every flag's value, typed by its kind: what the command line and the config file give. */
export type Values = { [N in NamesOf<'string' | 'int'>]?: string } & { [N in NamesOf<'list'>]?: string[] } & { [N in NamesOf<'bool'>]?: boolean };

export const FLAG_BY_NAME: ReadonlyMap<string, Flag> = new Map((FLAGS as readonly Flag[]).map((f) => [f.name, f]));

/** Values as `parseArgs` gives them: strings, booleans, lists of strings. */
export type FlagValues = { [name: string]: string | boolean | string[] | undefined };

/** The options `node:util` parseArgs takes for every flag. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const f of FLAGS as readonly Flag[]) {
    options[f.name] = f.kind === 'bool' ? { type: 'boolean' } : f.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' };
  }
  options.help.short = 'h';
  options.version.short = 'v';
  return options;
}

/** The usage text: `head`, then every flag with its help, aligned. */
export function usage(head: string): string {
  const lines = [head, 'Options:'];
  for (const f of FLAGS as readonly Flag[]) {
    const left = `  --${f.name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
    const [first, ...rest] = f.help.split('\n');
    lines.push(left.length < 26 ? `${left.padEnd(26)}${first}` : `${left}  ${first}`);
    for (const more of rest) lines.push(`${' '.repeat(26)}${more}`);
  }
  return lines.join('\n') + '\n';
}
