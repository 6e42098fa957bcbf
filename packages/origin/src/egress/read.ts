// GET and HEAD. A complete object is served like a static file (length, validators, ranges),
// from memory or from the disk tier; an object still being written is served chunked and follows
// its upload (a byte range of it is served as the bytes are written); a missing key is held.
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { whenDone } from '../http/lifetime.js';
import { abortResponse } from '../http/protocol.js';
import { sendNotFound, sendText } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';
import { admitRead } from '../ops/limits.js';
import type { DiskEntry } from '../store/disk.js';
import { StoredObject, type ObjectReader } from '../store/object.js';
import type { KeyWaiter } from '../store/store.js';
import { ifRangeHolds, notModified } from './conditional.js';
import { STORED_OBJECT_HEADERS, etagOf, lastModifiedOf, type ObjectInfo } from './headers.js';
import { HttpReader, flushAtEndOfTurn } from './http-reader.js';
import { parseLiveRange, parseRange } from './range.js';

/** How long a read of the missing `key` is held: `holdMs`, or longer where a hold rule says so. */
function holdMsFor(ctx: OriginContext, key: string): number {
  let ms = ctx.holdMs;
  for (const rule of ctx.holdRules) ms = Math.max(ms, rule(key) ?? 0);
  return ms;
}

/** Answers a GET or HEAD for `key`; a missing key is held for `holdMsFor()` it. */
export function handleRead(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string, tally: RequestTally): void {
  if (!admitRead(ctx, res)) return;
  const object = ctx.store.get(key);
  // An aborted upload is not an object a player can use: treat it as not there (yet).
  if (object !== undefined && object.state !== 'aborted') return serve(ctx, req, res, object, tally);
  if (object === undefined && ctx.disk !== undefined) {
    const found = ctx.disk.lookup(key);
    if (found instanceof StoredObject) return serveComplete(ctx, req, res, found, tally);
    if (found !== undefined) return void serveFile(ctx, req, res, found, tally);
  }
  const holdMs = holdMsFor(ctx, key);
  if (holdMs > 0) return void new HeldRead(ctx, req, res, key, tally, holdMs);
  sendNotFound(res);
}

/** HTTP/1.0 has no chunked framing: a cut body would look complete, so such clients get complete objects only. */
function needsComplete(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
}

function serve(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, object: StoredObject, tally: RequestTally): void {
  if (object.state === 'complete') return serveComplete(ctx, req, res, object, tally);
  if (needsComplete(req)) return void new HeldRead(ctx, req, res, object.key, tally, ctx.holdMs, object);
  serveLive(ctx, req, res, object, tally);
}

/** The head every object response starts from. */
function objectHeaders(ctx: OriginContext, info: ObjectInfo): Record<string, string> {
  return { 'Content-Type': info.contentType, 'Cache-Control': ctx.cache.for(info), ...STORED_OBJECT_HEADERS };
}

/**
 * An object still being written, from byte 0 or from a range's first byte, chunk by chunk as
 * they are published. No Content-Length (Node frames the body chunked), so a cut connection
 * tells the player the object is incomplete.
 */
function serveLive(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, object: StoredObject, tally: RequestTally): void {
  const headers = objectHeaders(ctx, object);
  ctx.setHeaders?.(headers, object);
  // No validator exists yet for If-Range to match: such a request gets the whole body.
  const range = req.headers['if-range'] === undefined ? parseLiveRange(req.headers.range) : undefined;
  if (range === undefined) {
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    const reader = new HttpReader(ctx, req, res, object, undefined, tally);
    reader.start();
    if (!reader.wroteAny) flushAtEndOfTurn(reader);
    return;
  }
  // A range of an object in progress (LL-HLS byte-range parts): 206 once its first byte exists.
  // A range ending at or beyond the largest possible object, or an open one, follows the object
  // to its end (RFC 8673's indeterminate length); any other has an exact Content-Length.
  const { start, last } = range;
  if (start >= ctx.maxObjectSize) return sendText(res, 416, 'range not satisfiable');
  const open = last === undefined || last >= ctx.maxObjectSize;
  headers['Content-Range'] = `bytes ${start}-${open ? Math.max(last ?? 0, ctx.maxObjectSize - 1) : last}/*`;
  if (!open) headers['Content-Length'] = String(last - start + 1);
  if (req.method === 'HEAD') {
    res.writeHead(206, headers);
    return void res.end();
  }
  const reader = new HttpReader(ctx, req, res, object, { start, end: open ? Infinity : last + 1 }, tally, {
    beforeFirst: () => res.writeHead(206, headers),
    nothing: () => {
      // Nothing of the range exists: the object ended before it, or its upload failed.
      if (object.state === 'complete') sendText(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${object.length}` });
      else sendNotFound(res, 'upload aborted');
    },
  });
  reader.start();
}

/**
 * The head of a complete object's response: 304, 416 (answered here, returns undefined), or the
 * status, headers and byte range to send.
 */
function completeHead(
  ctx: OriginContext,
  req: IncomingMessage,
  res: ServerResponse,
  info: ObjectInfo,
): { status: number; headers: Record<string, string>; start: number; end: number } | undefined {
  const etag = etagOf(info);
  const headers = objectHeaders(ctx, info);
  headers.ETag = etag;
  headers['Last-Modified'] = lastModifiedOf(info);
  ctx.setHeaders?.(headers, info);
  if (notModified(req, etag, info.modifiedAt)) {
    const { 'Content-Type': _type, ...validators } = headers;
    res.writeHead(304, validators);
    res.end();
    return undefined;
  }
  const length = info.length;
  const range = ifRangeHolds(req, etag, info.modifiedAt) ? parseRange(req.headers.range, length) : undefined;
  if (range === 'unsatisfiable') {
    sendText(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${length}` });
    return undefined;
  }
  headers['Accept-Ranges'] = 'bytes';
  if (range === undefined) {
    headers['Content-Length'] = String(length);
    return { status: 200, headers, start: 0, end: length };
  }
  headers['Content-Length'] = String(range.end - range.start + 1);
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${length}`;
  return { status: 206, headers, start: range.start, end: range.end + 1 };
}

function serveComplete(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, object: StoredObject, tally: RequestTally): void {
  ctx.retention.touch(object);
  const head = completeHead(ctx, req, res, object);
  if (head === undefined) return;
  res.writeHead(head.status, head.headers);
  if (req.method === 'HEAD') return void res.end();
  new HttpReader(ctx, req, res, object, { start: head.start, end: head.end }, tally).start();
}

/** A complete object from the disk tier: the same head as from memory, the body from its file. */
async function serveFile(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, entry: DiskEntry, tally: RequestTally): Promise<void> {
  ctx.metrics.diskReads++;
  const info: ObjectInfo = { ...entry, state: 'complete', length: entry.size, modifiedAt: entry.mtimeMs };
  const head = completeHead(ctx, req, res, info);
  if (head === undefined) return;
  if (req.method === 'HEAD' || head.start === head.end) {
    res.writeHead(head.status, head.headers);
    return void res.end();
  }
  let handle;
  try {
    handle = await open(entry.file, 'r');
  } catch {
    // Removed between the lookup and now (DELETE, TTL): it is gone.
    if (!res.headersSent && !res.destroyed) sendNotFound(res);
    return;
  }
  if (res.destroyed) return void handle.close().catch(() => undefined);
  const stream = handle.createReadStream({ start: head.start, end: head.end - 1 });
  res.writeHead(head.status, head.headers);
  stream.on('data', (piece) => {
    tally.bytes += piece.length;
    tally.chunks++;
    ctx.metrics.sentBytes += piece.length;
  });
  // A read error mid-body cuts the response: the client sees it is incomplete.
  stream.on('error', () => abortResponse(res));
  whenDone(req, res, () => stream.destroy());
  stream.pipe(res);
}

/**
 * A GET or HEAD held until its key appears (LL-DASH players ask a little before a segment
 * starts) or, for an HTTP/1.0 client, until the object is complete; answered 404 after `holdMs`
 * (or a hold rule's longer time).
 * Released at once when the client goes away.
 */
class HeldRead implements KeyWaiter, ObjectReader {
  private readonly timer: NodeJS.Timeout;
  /** The object being waited for to complete (HTTP/1.0 clients only). */
  private pending: StoredObject | undefined;
  private done = false;

  constructor(
    private readonly ctx: OriginContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly key: string,
    private readonly tally: RequestTally,
    holdMs: number,
    writing?: StoredObject,
  ) {
    ctx.metrics.holds++;
    this.timer = setTimeout(this.expire, holdMs);
    if (writing !== undefined) this.follow(writing);
    else ctx.store.wait(key, this);
    // Also when the connection closes while this response is queued behind another one.
    whenDone(req, res, this.leave);
  }

  arrive(object: StoredObject): void {
    if (this.done) return;
    this.ctx.metrics.earlyJoins++;
    if (object.state === 'writing' && needsComplete(this.req)) return this.follow(object);
    this.finish();
    this.answer(() => serve(this.ctx, this.req, this.res, object, this.tally));
  }

  /** Woken by the object it follows: answers once it completed (or failed). */
  wake(object: StoredObject): void {
    if (this.done || object.state === 'writing') return;
    this.finish();
    if (object.state === 'complete') this.answer(() => serveComplete(this.ctx, this.req, this.res, object, this.tally));
    else sendNotFound(this.res, 'upload aborted');
  }

  /** Runs on the uploader's stack: a failure (a throwing setHeaders hook) must cost this request only. */
  private answer(serveIt: () => void): void {
    try {
      serveIt();
    } catch (err) {
      sendText(this.res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The object exists: wait for it to complete for as long as its upload lasts (bounded by ingestIdleMs), not holdMs. */
  private follow(object: StoredObject): void {
    // Without an idle timeout nothing bounds an upload: then holdMs still does.
    if (this.ctx.ingestIdleMs > 0) clearTimeout(this.timer);
    this.pending = object;
    object.addReader(this);
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.ctx.store.unwait(this.key, this);
    this.pending?.removeReader(this);
    this.pending = undefined;
  }

  private readonly expire = (): void => {
    if (this.done) return;
    this.finish();
    sendNotFound(this.res);
  };

  /** The request is over (it may have been answered already): idempotent. */
  private readonly leave = (): void => {
    if (!this.done) this.finish();
  };
}
