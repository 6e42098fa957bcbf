// Signed playback URLs, in the style of nginx's secure_link and CDN token auth. A token sits in
// the path, in front of what it grants: `/~<expires>.<segments>.<signature>/live/ch/out.m3u8`.
// It covers the first <segments> path segments after it (`/live/ch/`) until <expires> (Unix
// seconds), signed with HMAC-SHA256. Players resolve a manifest's relative URIs against its
// URL, so every segment, part and playlist below the signed one carries the same token without
// any player support. Checked before routing: the origin never sees a token past this file.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseRequestPath } from '../http/paths.js';

/** The latest expiry a token can carry (12 digits of Unix seconds: the year 33658). */
export const MAX_EXPIRES = 999_999_999_999;

/** `prefix` as the origin sees keys (decoded, normalised), ending in '/'; throws if it is not one. */
export function canonicalPrefix(prefix: string): string {
  const parsed = parseRequestPath(prefix);
  const canonical = parsed.ok ? (parsed.key === '/' ? '/' : `${parsed.key}/`) : undefined;
  if (!prefix.startsWith('/') || !prefix.endsWith('/') || canonical !== prefix) {
    throw new RangeError(`a signed prefix is a directory as keys are written, '/' to '/' (like /live/ch/): got '${prefix}'`);
  }
  return canonical;
}

/** What a request may do: go on with `key` (the token removed), or be refused with `reason`. */
export type Access = { ok: true; key: string } | { ok: false; reason: string };

/** Methods that read: the ones a token is needed for. Ingest has its own secret; OPTIONS is a preflight. */
const READS = new Set(['GET', 'HEAD']);

/** The first `segments` segments of `key`, as a prefix ending in '/' (`'/'` for 0). */
function prefixOf(key: string, segments: number): string | undefined {
  let end = 0;
  for (let i = 0; i < segments; i++) {
    end = key.indexOf('/', end + 1);
    if (end < 0) return undefined;
  }
  return key.slice(0, end + 1);
}

const segmentsIn = (prefix: string): number => prefix.split('/').length - 2;

/** Signs and checks path tokens with one secret. */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(
    secret: string,
    /** Keys under these prefixes need a token to be read. */
    readonly prefixes: readonly string[],
    /** Paths that never need one (the player page, time, health, metrics). */
    private readonly open: (key: string) => boolean = () => false,
  ) {
    if (secret.length === 0) throw new RangeError('signing secret must not be empty');
    this.key = Buffer.from(secret, 'utf8');
    // A prefix written unlike any key (`/live//`, `/live`) would protect nothing without a word.
    for (const p of prefixes) canonicalPrefix(p);
  }

  private mac(expires: number, prefix: string): Buffer {
    return createHmac('sha256', this.key).update(`${expires}.${prefix}`).digest();
  }

  /**
   * The path prefix that grants reading everything under `prefix` (a directory: ending in '/')
   * until `expires` (Unix seconds): `/~<expires>.<segments>.<signature>` + `prefix`.
   */
  sign(prefix: string, expires: number): string {
    canonicalPrefix(prefix);
    if (!Number.isSafeInteger(expires) || expires < 0 || expires > MAX_EXPIRES) throw new RangeError(`expires must be Unix seconds up to ${MAX_EXPIRES}, got ${expires}`);
    const encoded = prefix.split('/').map(encodeURIComponent).join('/');
    return `/~${expires}.${segmentsIn(prefix)}.${this.mac(expires, prefix).toString('base64url')}${encoded}`;
  }

  /** Judges a request for `key` (decoded, as routed) by `method` at `now` (ms). */
  admit(key: string, method: string | undefined, now = Date.now()): Access {
    let granted: string | undefined;
    if (key.startsWith('/~')) {
      const slash = key.indexOf('/', 1);
      const token = key.slice(2, slash < 0 ? key.length : slash);
      key = slash < 0 ? '/' : key.slice(slash);
      // One spelling per token: no leading zeros (the signature's own spelling is checked below).
      const m = /^(0|[1-9]\d{0,11})\.(0|[1-9]\d{0,2})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (m === null) return { ok: false, reason: 'malformed token' };
      const expires = Number(m[1]);
      const prefix = prefixOf(key, Number(m[2]));
      if (prefix === undefined) return { ok: false, reason: 'the token covers more of the path than there is' };
      const given = Buffer.from(m[3], 'base64url');
      if (given.length !== 32 || given.toString('base64url') !== m[3] || !timingSafeEqual(given, this.mac(expires, prefix))) return { ok: false, reason: 'bad token signature' };
      // After the signature: an expired token says so only when it was a real one.
      if (expires * 1000 <= now) return { ok: false, reason: 'token expired' };
      granted = prefix;
    }
    // A verified token covers this key by construction: its scope is this key's own first
    // segments (a token used under another directory fails the signature above).
    if (granted !== undefined || !READS.has(method ?? '') || this.open(key)) return { ok: true, key };
    if (this.prefixes.some((p) => key.startsWith(p))) return { ok: false, reason: 'a signed URL is needed' };
    return { ok: true, key };
  }
}

/**
 * A signed path prefix for `prefix` valid for `ttlSeconds` from `now` (ms), for operators and
 * their apps: `signPath('s3cret', '/live/ch/', 3600)` → `/~1767225600.2.Ab…/live/ch/`.
 */
export function signPath(secret: string, prefix: string, ttlSeconds: number, now = Date.now()): string {
  return new UrlSigner(secret, []).sign(prefix, Math.floor(now / 1000) + ttlSeconds);
}
