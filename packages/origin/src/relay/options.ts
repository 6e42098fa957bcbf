// Relay targets: where the origin pushes what it receives, as options (public shape) and as
// settings (checked, defaults applied). Pure: nothing here opens a connection.

/** One place every object under `prefix` is pushed to. */
export interface RelayTargetOptions {
  /**
   * `http://host[:port][/base]` (or https): another origin (or anything that takes chunked
   * PUTs); each object goes to `base + key` chunk by chunk while it is written, DELETEs are
   * mirrored. `s3://bucket[/keyPrefix]`: an S3-compatible bucket; completed objects only.
   */
  url: string;
  /** Keys under this prefix are relayed. Default `'/'` (everything). */
  prefix?: string;
  /** Sent as `Authorization: Bearer <secret>` to another origin (its ingest secret). Default: none. */
  secret?: string;
  /** Objects waiting for this target at most; beyond it the oldest waiting one is dropped and counted. Default 1000. */
  maxQueue?: number;
  /** Bytes of the objects waiting at most; beyond it the oldest waiting ones are dropped and counted. Default 256 MiB. */
  maxQueueBytes?: number;
  /** Requests in flight at once. Default 32 (a ladder writes several segments at once). */
  maxConnections?: number;
  /** An attempt that moves no byte for this long fails (and is retried), ms. Default 30000. */
  timeoutMs?: number;
  /** First wait after a failure, doubled on each further failure up to `maxBackoffMs`, ms. Default 500. */
  minBackoffMs?: number;
  /** Longest wait between attempts while the target fails, ms. Default 30000. */
  maxBackoffMs?: number;
  /** S3 settings (`s3://` targets only). */
  s3?: S3Options;
}

/** Where and how to reach an S3-compatible store. */
export interface S3Options {
  /** `http(s)://host[:port]` of an S3-compatible server (path-style requests). Default: AWS, `https://s3.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Signing region. Default `'us-east-1'`. */
  region?: string;
  /** Default: `AWS_ACCESS_KEY_ID`. */
  accessKeyId?: string;
  /** Default: `AWS_SECRET_ACCESS_KEY`. */
  secretAccessKey?: string;
  /** Default: `AWS_SESSION_TOKEN`, if set. */
  sessionToken?: string;
}

/** A relay target after checks and defaults. */
export interface RelayTargetSettings {
  kind: 'origin' | 's3';
  /** What metrics and warnings call it: the URL without credentials. */
  name: string;
  url: URL;
  prefix: string;
  secret: string | undefined;
  maxQueue: number;
  maxQueueBytes: number;
  maxConnections: number;
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  s3: Required<Omit<S3Options, 'sessionToken'>> & { sessionToken: string | undefined; bucket: string; keyPrefix: string } | undefined;
}

function count(where: string, name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${where}: ${name} must be an integer of at least ${min}, got ${value}`);
  return v;
}

/** Checks one target and applies its defaults. `env` supplies S3 credentials not given. */
export function resolveRelayTarget(options: RelayTargetOptions, env: NodeJS.ProcessEnv = process.env): RelayTargetSettings {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new RangeError(`relay target '${options.url}' is not a URL`);
  }
  const where = `relay target ${url.protocol}//${url.host}${url.pathname}`;
  const prefix = options.prefix ?? '/';
  if (!prefix.startsWith('/')) throw new RangeError(`${where}: prefix must start with '/', got '${prefix}'`);
  const common = {
    name: `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`,
    url,
    prefix,
    secret: options.secret,
    maxQueue: count(where, 'maxQueue', options.maxQueue, 1000, 1),
    maxQueueBytes: count(where, 'maxQueueBytes', options.maxQueueBytes, 256 * 1024 * 1024, 1),
    maxConnections: count(where, 'maxConnections', options.maxConnections, 32, 1),
    timeoutMs: count(where, 'timeoutMs', options.timeoutMs, 30_000, 1),
    minBackoffMs: count(where, 'minBackoffMs', options.minBackoffMs, 500, 1),
    maxBackoffMs: count(where, 'maxBackoffMs', options.maxBackoffMs, 30_000, 1),
  };
  if (common.maxBackoffMs < common.minBackoffMs) throw new RangeError(`${where}: maxBackoffMs must be at least minBackoffMs`);
  // Node refuses such header values when the request is made; say so now, naming the option.
  if (options.secret !== undefined && (options.secret === '' || /[\r\n]/.test(options.secret))) throw new RangeError(`${where}: secret must be non-empty, on one line`);
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    if (options.s3 !== undefined) throw new RangeError(`${where}: s3 settings need an s3:// URL`);
    if (url.search !== '' || url.hash !== '') throw new RangeError(`${where}: no query or fragment, please`);
    return { ...common, kind: 'origin', s3: undefined };
  }
  if (url.protocol !== 's3:') throw new RangeError(`${where}: the URL must be http://, https:// or s3://`);
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new RangeError(`${where}: '${bucket}' is not a valid bucket name`);
  const s3 = options.s3 ?? {};
  const region = s3.region ?? 'us-east-1';
  const accessKeyId = s3.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = s3.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new RangeError(`${where}: S3 credentials missing (accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
  const endpoint = s3.endpoint ?? `https://s3.${region}.amazonaws.com`;
  let endpointUrl: URL;
  try {
    endpointUrl = new URL(endpoint);
  } catch {
    throw new RangeError(`${where}: endpoint '${endpoint}' is not a URL`);
  }
  if (endpointUrl.protocol !== 'http:' && endpointUrl.protocol !== 'https:') throw new RangeError(`${where}: endpoint must be http:// or https://`);
  if (endpointUrl.pathname !== '/' || endpointUrl.search !== '') throw new RangeError(`${where}: endpoint is a server (http://host:port), with no path: requests are path-style, /bucket/key`);
  let keyPrefix: string;
  try {
    // The URL keeps it percent-encoded; the sender encodes each segment itself.
    keyPrefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  } catch {
    throw new RangeError(`${where}: the key prefix is not valid percent-encoding`);
  }
  return {
    ...common,
    kind: 's3',
    s3: {
      endpoint: endpointUrl.origin,
      region,
      accessKeyId,
      secretAccessKey,
      sessionToken: s3.sessionToken ?? env.AWS_SESSION_TOKEN,
      bucket,
      keyPrefix,
    },
  };
}
