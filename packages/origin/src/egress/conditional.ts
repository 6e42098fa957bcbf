// Conditional requests (RFC 9110 13): If-None-Match / If-Modified-Since for 304, and If-Range,
// which lets a range apply only while the object is the one the client has part of.
import type { IncomingMessage } from 'node:http';
import { parseHttpDate } from '../http/time.js';

/** If-None-Match (weak comparison, RFC 9110 13.1.2), else If-Modified-Since. */
export function notModified(req: IncomingMessage, etag: string, modifiedAt: number): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    for (const tag of inm.split(',')) {
      const t = tag.trim();
      if (t === etag || t === 'W/' + etag) return true;
    }
    return false;
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = parseHttpDate(ims);
  return Number.isFinite(since) && Math.floor(modifiedAt / 1000) * 1000 <= since;
}

/**
 * If-Range (RFC 9110 13.1.5): the range applies only when the validator still matches. An
 * entity-tag must match strongly; an HTTP-date (in any of the three formats) must equal the
 * Last-Modified time to the second.
 */
export function ifRangeHolds(req: IncomingMessage, etag: string, modifiedAt: number): boolean {
  const ifRange = req.headers['if-range'];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag;
  const date = parseHttpDate(v);
  return Number.isFinite(date) && date === Math.floor(modifiedAt / 1000) * 1000;
}
