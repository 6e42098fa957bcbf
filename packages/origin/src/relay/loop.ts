// Relay loops (A relays to B, B back to A) are caught with the `CDN-Loop` header (RFC 8586):
// each relay appends its origin's token to the value its object arrived with, and an upload
// whose `CDN-Loop` already names this origin is refused with 508 instead of going round again.
import { randomBytes } from 'node:crypto';

/** A new origin's token (one per `createOrigin`, new on every start). */
export function newLoopToken(): string {
  return `boxstream-${randomBytes(6).toString('hex')}`;
}

/** Whether a `CDN-Loop` value already names `token`. */
export function looped(header: string | string[] | undefined, token: string): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  return value.split(',').some((entry) => entry.split(';')[0].trim() === token);
}

/** The `CDN-Loop` value a relay sends for an object that arrived with `via`. */
export function loopHeader(via: string | undefined, token: string): string {
  return via === undefined || via === '' ? token : `${via}, ${token}`;
}
