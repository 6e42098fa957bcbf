// Ingest credentials: `Authorization: Bearer <secret>` or HTTP Basic whose password (or whole
// `user:password`) is the secret. Compared in constant time: both sides are hashed first, so the
// comparison runs on equal-length digests whatever the candidate's length.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { refuse } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';

/** `401` (no usable credentials), `403` (wrong ones), or accepted. */
export type AuthResult = { ok: true; user: string | undefined } | { ok: false; status: 401 | 403; reason: string };

/** The challenge sent with 401: both schemes are accepted. */
export const WWW_AUTHENTICATE = 'Bearer realm="boxstream-origin", Basic realm="boxstream-origin", charset="UTF-8"';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Checks `Authorization` headers against one ingest secret. */
export class IngestAuth {
  private readonly secret: Buffer;

  constructor(secret: string) {
    if (secret.length === 0) throw new RangeError('ingest secret must not be empty');
    this.secret = digest(secret);
  }

  /** Constant-time equality of `candidate` and the secret. */
  matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.secret);
  }

  /** Judges one request's `Authorization` header. */
  check(header: string | undefined): AuthResult {
    if (header === undefined || header === '') return { ok: false, status: 401, reason: 'credentials required' };
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (value === '') return { ok: false, status: 401, reason: 'empty bearer token' };
      return this.matches(value) ? { ok: true, user: undefined } : { ok: false, status: 403, reason: 'wrong credentials' };
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (value === '' || colon < 0) return { ok: false, status: 401, reason: 'malformed basic credentials' };
      const user = decoded.slice(0, colon);
      // Evaluate both forms every time: which one matched must not show in the timing.
      const byPassword = this.matches(decoded.slice(colon + 1));
      const byPair = this.matches(decoded);
      return byPassword || byPair ? { ok: true, user } : { ok: false, status: 403, reason: 'wrong credentials' };
    }
    return { ok: false, status: 401, reason: `unsupported authorization scheme '${scheme}'` };
  }
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h) || /^0{0,4}(:0{0,4}){6}:0{0,3}1$/.test(h);
  return false;
}

/**
 * The start-up warning for an ingest listener anyone on the network could upload to, or
 * undefined when it is loopback-only or protected by a secret.
 */
export function insecureIngestWarning(host: string, hasSecret: boolean): string | undefined {
  if (hasSecret || isLoopback(host)) return undefined;
  return (
    `WARNING: ingest (PUT/POST/DELETE) is open to anyone who can reach ${host}: no ingest secret is set. ` +
    'Set --ingest-secret (or BOXSTREAM_INGEST_SECRET), or move ingest to a private interface with --ingest-host/--ingest-port.'
  );
}

/**
 * Whether an ingest request (PUT/POST/DELETE) may proceed on this listener: the egress-only
 * listener refuses it (405), and with a secret set, credentials are required (401, 403).
 * Answers the refusal itself; on success records the Basic user name in `tally`.
 */
export function admitIngest(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, tally: RequestTally): boolean {
  if (ctx.role === 'egress') {
    refuse(req, res, 405, 'ingest is not accepted on this listener; use the ingest port', { Allow: 'GET, HEAD, OPTIONS' });
    return false;
  }
  if (ctx.auth === undefined) return true;
  const result = ctx.auth.check(req.headers.authorization);
  if (result.ok) {
    tally.user = result.user;
    return true;
  }
  ctx.metrics.authFailures++;
  const headers: Record<string, string> = result.status === 401 ? { 'WWW-Authenticate': WWW_AUTHENTICATE } : {};
  refuse(req, res, result.status, result.reason, headers);
  return false;
}
