// PUT/POST (equal) and DELETE: the HTTP checks in front of an upload, and removals. The body
// itself is handled by `Upload` (upload.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { whenDone } from '../http/lifetime.js';
import { refuse, sendContinue, sendEmpty, sendNotFound } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';
import { admitUpload } from '../ops/limits.js';
import { manifestContentType, manifestKind } from '../store/classify.js';
import { Upload } from './upload.js';
import { looped } from '../relay/loop.js';

/**
 * True for a body sent as it is; else answers 415. Players would get encoded bytes (uploaders'
 * headers are never replayed), and the parser would see no boxes.
 */
export function identityBody(req: IncomingMessage, res: ServerResponse): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return true;
  refuse(req, res, 415, `Content-Encoding '${encoding}' is not supported; upload identity bytes`);
  return false;
}

/** Answers a PUT or POST to `key`. */
export function handleWrite(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string, tally: RequestTally): void {
  if (key === '/') return refuse(req, res, 400, 'path names no object');
  if (!identityBody(req, res)) return;
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && !onlyChunked(te)) {
    // Node decodes the chunked framing only: any other coding would be stored still encoded.
    return refuse(req, res, 501, `Transfer-Encoding '${te}' is not supported; use chunked`);
  }
  if (looped(req.headers['cdn-loop'], ctx.loopToken)) {
    return refuse(req, res, 508, 'relay loop: this origin already relayed this object (CDN-Loop names it)');
  }
  const manifest = manifestKind(key, req.headers['content-type']);
  const limit = manifest !== undefined ? ctx.maxManifestSize : ctx.maxObjectSize;
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return refuse(req, res, 413, `body of ${declared} bytes is larger than the limit of ${limit} bytes`);
  }
  if (!admitUpload(ctx, req, res)) return;
  const metrics = ctx.metrics;
  metrics.uploadStarted();
  // In flight until the request is over, whichever way the upload ends (its connection closing
  // while the response is still queued behind another one included).
  whenDone(req, res, () => metrics.uploadEnded());
  // While draining, finish this upload but let the encoder reconnect elsewhere afterwards.
  if (ctx.lifecycle.draining) res.shouldKeepAlive = false;
  new Upload(ctx, req, res, key, manifest, limit, tally);
  // `Expect: 100-continue`: only now that size, auth and limits passed is the body asked for.
  sendContinue(res);
}

/** Whether a Transfer-Encoding list names chunked only (`chunked`, any case; Node rejects repeats). */
function onlyChunked(te: string): boolean {
  for (const coding of te.split(',')) if (coding.trim().toLowerCase() !== 'chunked') return false;
  return true;
}

/**
 * Answers a DELETE of `key`: 200, or 404 when there is nothing under it. It also applies to the
 * uploads of `key` that have not made their object visible yet (a manifest being buffered, a
 * body whose first bytes are still being sniffed): they finish, but never bring the key back.
 * With the disk tier, the file goes too.
 */
export function handleDelete(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string): void {
  // A removal this origin relayed coming back round (A relays to B, B to A): it must not remove
  // a version uploaded here since.
  const loop = req.headers['cdn-loop'];
  if (looped(loop, ctx.loopToken)) return refuse(req, res, 508, 'relay loop: this origin already relayed this removal (CDN-Loop names it)');
  // Readers in flight hold the object itself, so they finish with what they were following:
  // a complete object is sent whole; one still being written keeps following its upload.
  const pending = ctx.pendingUploads.get(key);
  if (pending !== undefined) {
    ctx.pendingUploads.delete(key);
    for (const upload of pending) upload.cancel();
  }
  if (!removeKey(ctx, key, Array.isArray(loop) ? loop.join(', ') : loop) && pending === undefined) return sendNotFound(res);
  sendEmpty(res, 200);
}

/** Stores `body` as the complete DASH manifest `key`, as an upload of it would (the origin's own writes). */
export function publishManifest(ctx: OriginContext, key: string, body: Buffer): void {
  const object = ctx.store.create(key, { contentType: manifestContentType('dash'), kind: 'manifest' });
  object.publish(body);
  object.complete();
  ctx.store.insert(object);
}

/**
 * Removes `key` from memory and from the disk tier, and has the relays remove it at their
 * targets (even when this origin no longer held it: a target may still). `via` is the
 * `CDN-Loop` the removal arrived with. False when neither memory nor disk held it.
 */
export function removeKey(ctx: OriginContext, key: string, via?: string): boolean {
  const inMemory = ctx.store.delete(key) !== undefined;
  // Not in memory but on disk (evicted, or not loaded at start): the file goes too.
  const removed = inMemory || (ctx.disk !== undefined && ctx.disk.discard(key));
  ctx.relays?.removed(key, via);
  return removed;
}

/** Removes every key under `prefix` (ending with '/'), in memory and on disk. Returns how many. */
export function removeUnder(ctx: OriginContext, prefix: string): number {
  const keys = new Set<string>();
  for (const key of ctx.store.keys()) if (key.startsWith(prefix)) keys.add(key);
  if (ctx.disk !== undefined) for (const key of ctx.disk.keys()) if (key.startsWith(prefix)) keys.add(key);
  let removed = 0;
  for (const key of keys) if (removeKey(ctx, key)) removed++;
  return removed;
}
