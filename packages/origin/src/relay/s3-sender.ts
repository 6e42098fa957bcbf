// Pushes completed objects to an S3-compatible bucket: path-style PUT with Content-Type,
// Cache-Control and Content-Length, DELETE mirrored, each request signed with AWS Signature
// Version 4 by `aws4` (a small, widely used signer: signing is easy to get subtly wrong, so it
// is not written here). The payload hash is computed over the stored units, without joining them.
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import aws4 from 'aws4';
import type { CachePolicy } from '../egress/headers.js';
import type { StoredObject } from '../store/object.js';
import type { RelayTargetSettings } from './options.js';
import { exchange, noBody, streamBody } from './origin-sender.js';
import type { Outcome, Sender } from './target.js';

/** SHA-256 of no bytes, the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Credentials and scope of a signature. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  region: string;
}

/** One request to sign: `path` is what goes on the request line (percent-encoded). */
export interface S3Request {
  method: string;
  host: string;
  path: string;
  headers: Record<string, string | number>;
  /** Hex SHA-256 of the body (`EMPTY_SHA256` for none). */
  payloadHash: string;
}

/**
 * The headers of `request` with `X-Amz-Date`, `X-Amz-Content-Sha256`, the session token if any,
 * and `Authorization` (SigV4, service `s3`). A `X-Amz-Date` already in `headers` is kept (tests
 * sign at a fixed time).
 */
export function signS3(request: S3Request, credentials: S3Credentials): Record<string, string | number> {
  const signed = aws4.sign(
    {
      method: request.method,
      host: request.host,
      path: request.path,
      service: 's3',
      region: credentials.region,
      headers: { ...request.headers, 'X-Amz-Content-Sha256': request.payloadHash },
    },
    { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
  );
  return signed.headers as Record<string, string | number>;
}

/** A key segment as S3 canonicalises it (RFC 3986: also `!'()*`). */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Bytes hashed per turn of the event loop: a large object must not hold up live chunks. */
const HASH_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * Hex SHA-256 of a complete object's units, in order, without joining them; hashed a few MiB per
 * turn of the event loop. Resolves undefined when `cancelled()` says so meanwhile.
 */
export async function payloadHash(object: StoredObject, cancelled: () => boolean = () => false): Promise<string | undefined> {
  const hash = createHash('sha256');
  let sinceYield = 0;
  for (const unit of object.units) {
    hash.update(unit);
    sinceYield += unit.byteLength;
    if (sinceYield >= HASH_SLICE_BYTES) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cancelled()) return undefined;
    }
  }
  return hash.digest('hex');
}

/** A `Sender` for S3-compatible buckets: whole objects only. */
export class S3Sender implements Sender {
  readonly when = 'complete';
  private readonly agent: HttpAgent;
  private readonly send: (options: RequestOptions) => ClientRequest;
  private readonly endpoint: URL;
  private readonly s3: NonNullable<RelayTargetSettings['s3']>;

  constructor(
    private readonly target: RelayTargetSettings,
    private readonly cache: CachePolicy,
  ) {
    if (target.s3 === undefined) throw new RangeError(`relay target ${target.name} is not an S3 target`);
    this.s3 = target.s3;
    this.endpoint = new URL(this.s3.endpoint);
    const https = this.endpoint.protocol === 'https:';
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
  }

  /** `/bucket/keyPrefix/key`, path-style, each segment encoded. */
  objectPath(key: string): string {
    const parts = [this.s3.bucket, ...this.s3.keyPrefix.split('/'), ...key.split('/')].filter((p) => p !== '');
    return '/' + parts.map(encodeSegment).join('/');
  }

  private options(method: string, key: string, headers: Record<string, string | number>, hash: string): RequestOptions {
    const path = this.objectPath(key);
    const signed = signS3({ method, host: this.endpoint.host, path, headers, payloadHash: hash }, { ...this.s3 });
    return {
      method,
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname.replace(/^\[|\]$/g, ''),
      port: this.endpoint.port,
      path,
      agent: this.agent,
      headers: signed,
    };
  }

  put(key: string, object: StoredObject, done: (outcome: Outcome) => void): () => void {
    const headers = {
      'Content-Type': object.contentType,
      'Cache-Control': this.cache.for(object),
      'Content-Length': object.length,
    };
    let cancelled = false;
    let cancelRequest: (() => void) | undefined;
    payloadHash(object, () => cancelled)
      .then((hash) => {
        if (cancelled || hash === undefined) return;
        const options = this.options('PUT', key, headers, hash);
        cancelRequest = exchange(this.send, options, this.target.timeoutMs, (req, fail) => streamBody(req, object, fail), done);
      })
      // Signing or making the request threw (a header Node refuses): retrying will not help.
      .catch((err: unknown) => done({ ok: false, retry: false, reason: err instanceof Error ? err.message : String(err) }));
    return () => {
      if (cancelled) return;
      cancelled = true;
      if (cancelRequest !== undefined) cancelRequest();
      else queueMicrotask(() => done({ ok: false, retry: false, reason: 'cancelled', skipped: true }));
    };
  }

  delete(key: string, _via: string | undefined, done: (outcome: Outcome) => void): () => void {
    return exchange(this.send, this.options('DELETE', key, {}, EMPTY_SHA256), this.target.timeoutMs, noBody, done, (s) => (s >= 200 && s < 300) || s === 404);
  }

  close(): void {
    this.agent.destroy();
  }
}
