// GET and HEAD. A complete object is served like a static file (length, validators, ranges); an
// object still being written is served chunked from byte 0 and then follows the upload: each
// published unit is written once, in the tick it was published, to every reader that is caught up.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { whenDone } from './lifetime.js';
import { admitRead } from './limits.js';
import type { OriginMetrics } from './metrics.js';
import type { OriginContext, RequestTally } from './options.js';
import { parseRange, sliceUnits } from './range.js';
import { sendNotFound, sendText } from './respond.js';
import type { KeyWaiter, ObjectReader, StoredObject } from './store.js';
import { parseHttpDate } from './time.js';

/** Answers a GET or HEAD for `key`; a missing key is held for `ctx.holdMs`. */
export function handleRead(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, key: string, tally: RequestTally): void {
  if (!admitRead(ctx, res)) return;
  const object = ctx.store.get(key);
  // An aborted upload is not an object a player can use: treat it as not there (yet).
  if (object !== undefined && object.state !== 'aborted') return serve(ctx, req, res, object, tally);
  if (ctx.holdMs > 0) {
    new HeldRead(ctx, req, res, key, tally);
    return;
  }
  sendNotFound(res);
}

function serve(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, object: StoredObject, tally: RequestTally): void {
  const head = req.method === 'HEAD';
  if (object.state === 'writing') {
    // No Content-Length: Node frames the body chunked, and a cut connection tells the player
    // the object is incomplete. Range is ignored: the body always starts at byte 0.
    res.writeHead(200, { 'Content-Type': object.contentType, 'Cache-Control': ctx.liveCacheControl, ...STORED_OBJECT_HEADERS });
    if (head) {
      res.end();
      return;
    }
    const cursor = new Cursor(ctx, req, res, object, object.units, tally);
    cursor.start();
    // The player should learn that its segment exists on the upload's first byte; but a flush
    // now costs a write per reader before anyone gets the first chunk, which usually follows in
    // the same turn (and carries the headers with it). So flush at the end of the turn, once,
    // for the readers that got nothing meanwhile.
    if (!cursor.wroteAny) flushAtEndOfTurn(cursor);
    return;
  }
  serveComplete(ctx, req, res, object, head, tally);
}

function serveComplete(ctx: OriginContext, req: IncomingMessage, res: ServerResponse, object: StoredObject, head: boolean, tally: RequestTally): void {
  const etag = object.etag as string;
  ctx.retention.touch(object);
  const validators = {
    ETag: etag,
    'Last-Modified': object.lastModified,
    'Cache-Control': object.manifest ? ctx.manifestCacheControl : ctx.segmentCacheControl,
  };
  if (notModified(req, object)) {
    res.writeHead(304, validators);
    res.end();
    return;
  }
  const length = object.length;
  const range = ifRangeHolds(req, object) ? parseRange(req.headers.range, length) : undefined;
  if (range === 'unsatisfiable') {
    sendText(res, 416, 'range not satisfiable', { 'Content-Range': `bytes */${length}` });
    return;
  }
  let units: readonly Uint8Array[] = object.units;
  let status = 200;
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    'Content-Length': String(length),
    'Accept-Ranges': 'bytes',
    ...validators,
    ...STORED_OBJECT_HEADERS,
  };
  if (range !== undefined) {
    status = 206;
    units = sliceUnits(object.units, range.start, range.end + 1);
    headers['Content-Length'] = String(range.end - range.start + 1);
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${length}`;
  }
  res.writeHead(status, headers);
  if (head) {
    res.end();
    return;
  }
  new Cursor(ctx, req, res, object, units, tally).start();
}

/**
 * Stored objects are whatever an encoder uploaded, served on the same origin as /player: a
 * browser must never sniff one into HTML or run it as a document with this origin's rights.
 */
const STORED_OBJECT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': 'sandbox',
});

/** If-None-Match (weak comparison, RFC 9110 13.1.2), else If-Modified-Since. */
function notModified(req: IncomingMessage, object: StoredObject): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    if (inm.trim() === '*') return true;
    const etag = object.etag as string;
    for (const tag of inm.split(',')) {
      const t = tag.trim();
      if (t === etag || t === 'W/' + etag) return true;
    }
    return false;
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = parseHttpDate(ims);
  return Number.isFinite(since) && Math.floor(object.modifiedAt / 1000) * 1000 <= since;
}

/** If-Range: the range applies only when the validator still matches (strong comparison). */
function ifRangeHolds(req: IncomingMessage, object: StoredObject): boolean {
  const ifRange = req.headers['if-range'];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) return v === object.etag;
  return v === object.lastModified;
}

/**
 * A response following a list of units: `index` is the next unit to write. Woken by the object
 * on every publish and state change; writes while the socket takes them, then waits for
 * 'drain' and catches up from the list. No copies: the units are the stored ones. No timers
 * while the reader keeps up; while it waits for 'drain', its socket's own inactivity timeout
 * (`readerStallMs`) is armed, so a client that stops reading cannot hold the object forever.
 */
/** Live readers whose headers go out at the end of this turn unless a unit carried them first. */
let headersToFlush: Cursor[] = [];

/** One setImmediate per turn for all the readers woken in it: no timer per reader. */
function flushAtEndOfTurn(cursor: Cursor): void {
  if (headersToFlush.push(cursor) === 1) setImmediate(flushPendingHeaders);
}

function flushPendingHeaders(): void {
  const batch = headersToFlush;
  headersToFlush = [];
  for (const cursor of batch) cursor.flushHeadersIfIdle();
}

class Cursor implements ObjectReader {
  private index = 0;
  private waiting = false;
  private done = false;
  private stallListening = false;
  /** True when `units` is the object's own list (it may still grow); false for a range's views. */
  private readonly follows: boolean;
  /** Units from this index on were published while this reader was following (fan-out, not catch-up). */
  private liveFrom = 0;
  private readonly metrics: OriginMetrics;

  constructor(
    private readonly ctx: OriginContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly object: StoredObject,
    private readonly units: readonly Uint8Array[],
    private readonly tally: RequestTally,
  ) {
    this.follows = units === object.units;
    this.metrics = ctx.metrics;
  }

  /** True once a unit was written (its headers went with it). */
  get wroteAny(): boolean {
    return this.index > 0;
  }

  /** Sends the headers alone when no unit has carried them yet (see `flushAtEndOfTurn`). */
  flushHeadersIfIdle(): void {
    if (this.index === 0 && !this.done && !this.res.destroyed) this.res.flushHeaders();
  }

  start(): void {
    this.liveFrom = this.follows ? this.units.length : Infinity;
    this.object.addReader(this);
    // Released when the response closes or its connection does (a pipelined response queued
    // behind another one never sees its own 'close' when the client leaves).
    whenDone(this.req, this.res, this.release);
    this.pump();
  }

  wake(): void {
    if (!this.waiting) this.pump();
  }

  private pump(): void {
    if (this.done) return;
    try {
      this.writeAvailable();
    } catch {
      // A response broken under us must cost this reader only, never the upload or the others.
      this.release();
      this.res.destroy();
    }
  }

  private writeAvailable(): void {
    const units = this.units;
    const res = this.res;
    const tally = this.tally;
    while (this.index < units.length) {
      const unit = units[this.index++];
      tally.bytes += unit.byteLength;
      this.metrics.sentBytes += unit.byteLength;
      tally.chunks++;
      if (!res.write(unit)) {
        this.waiting = true;
        res.once('drain', this.onDrain);
        this.armStall();
        return;
      }
    }
    const state = this.object.state;
    if (!this.follows || state === 'complete') {
      this.release();
      res.end();
    } else if (state === 'aborted') {
      this.release();
      cutResponse(res, this.ctx.readerStallMs);
    }
  }

  /** One inactivity timeout on the socket while this reader waits for 'drain' (none while it keeps up). */
  private armStall(): void {
    const ms = this.ctx.readerStallMs;
    if (ms <= 0) return;
    if (!this.stallListening) {
      this.stallListening = true;
      this.res.on('timeout', this.onStall);
    }
    // Queued behind another response: Node arms it on the socket when this one's turn comes.
    this.res.setTimeout(ms);
  }

  private readonly onStall = (): void => {
    if (!this.waiting || this.done) return;
    this.metrics.readerStalls++;
    this.release();
    this.res.destroy();
  };

  private readonly onDrain = (): void => {
    this.waiting = false;
    if (this.stallListening) this.res.socket?.setTimeout(0);
    const from = Math.max(this.index, this.liveFrom);
    this.pump();
    // Units published while this reader waited for 'drain' reached it only now: that is their
    // fan-out delay (one clock read per drain, no timer).
    if (from < this.index) {
      const now = performance.now();
      const at = this.object.publishedAt;
      for (let i = from; i < this.index; i++) this.metrics.fanout.observe((now - at[i]) / 1000);
    }
  };

  private readonly release = (): void => {
    if (this.done) return;
    this.done = true;
    this.object.removeReader(this);
  };
}

/**
 * Ends a chunked response without its terminating zero-length chunk: the bytes already written
 * are flushed, then the connection is closed, so the player sees a truncated body and knows the
 * object is incomplete. A response still queued behind another one on a pipelined connection
 * is cut when its turn comes, once Node has flushed what it buffered for it. A client that does
 * not read what is left is dropped after `stallMs` without progress (`0`: never).
 */
function cutResponse(res: ServerResponse, stallMs: number): void {
  const socket = res.socket;
  if (socket === null) {
    if (!res.destroyed) res.once('socket', () => process.nextTick(cutResponse, res, stallMs));
    return;
  }
  if (socket.destroyed) return;
  socket.end(); // flushes what is buffered (end() uncorks), then FIN
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  if (stallMs > 0) socket.setTimeout(stallMs, () => socket.destroy());
}

/**
 * A GET or HEAD held until its key appears (LL-DASH players ask a little before a segment
 * starts), answered 404 after `holdMs`. Released at once when the client goes away.
 */
class HeldRead implements KeyWaiter {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ctx: OriginContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly key: string,
    private readonly tally: RequestTally,
  ) {
    ctx.metrics.holds++;
    ctx.store.wait(key, this);
    this.timer = setTimeout(this.expire, ctx.holdMs);
    // Also when the connection closes while this response is queued behind another one.
    whenDone(req, res, this.leave);
  }

  arrive(object: StoredObject): void {
    this.ctx.metrics.earlyJoins++;
    clearTimeout(this.timer);
    serve(this.ctx, this.req, this.res, object, this.tally);
  }

  private readonly expire = (): void => {
    this.ctx.store.unwait(this.key, this);
    sendNotFound(this.res);
  };

  /** The request is over (it may have been answered already): idempotent. */
  private readonly leave = (): void => {
    clearTimeout(this.timer);
    this.ctx.store.unwait(this.key, this);
  };
}
