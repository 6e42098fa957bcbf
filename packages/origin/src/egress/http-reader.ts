// A response that reads an object through a cursor: the cursor's sink over a ServerResponse.
// Each unit is written once, in the tick it was published, to every reader that is caught up;
// a reader whose socket is full waits for 'drain' and catches up from the unit list. No copies,
// no timers while the reader keeps up; while it waits for 'drain', its own inactivity timeout
// (`readerStallMs`: the socket's over HTTP/1.1, the stream's over HTTP/2, where 'drain' also
// waits for the client's flow-control window) is armed, so a client that stops reading cannot
// hold the object.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { whenDone } from '../http/lifetime.js';
import { abortResponse, http2Stream, resetAfterFlush } from '../http/protocol.js';
import type { OriginMetrics } from '../ops/metrics.js';
import type { RequestTally } from '../http/tally.js';
import { ObjectCursor, type CursorRange, type CursorSink } from '../store/cursor.js';
import type { StoredObject } from '../store/object.js';

/** Optional steps around the body, for responses whose head depends on what the cursor finds. */
export interface ReaderHooks {
  /** Runs before the first byte is written (a range of an object in progress sends its head only then). */
  beforeFirst?(): void;
  /** The cursor ended or aborted before writing a byte: answer in place of a body (a 416, a 404). */
  nothing?(): void;
}

/** What a reader needs from the origin. */
export interface ReaderContext {
  metrics: OriginMetrics;
  readerStallMs: number;
}

/** Streams `range` of `object` into `res`. Call `start()`. */
export class HttpReader implements CursorSink {
  readonly cursor: ObjectCursor;
  private wrote = false;
  private stallListening = false;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ReaderContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    object: StoredObject,
    range: CursorRange | undefined,
    private readonly tally: RequestTally,
    private readonly hooks: ReaderHooks = {},
  ) {
    this.cursor = new ObjectCursor(object, this, range);
  }

  /** True once a byte was written (the head went with it). */
  get wroteAny(): boolean {
    return this.wrote;
  }

  start(): void {
    // Released when the response closes or its connection does (a pipelined response queued
    // behind another one never sees its own 'close' when the client leaves).
    whenDone(this.req, this.res, this.release);
    try {
      this.cursor.start();
    } catch {
      this.broken();
    }
  }

  /** Sends the head alone when no byte has carried it yet (see `flushAtEndOfTurn`). */
  flushHeadersIfIdle(): void {
    if (!this.wrote && !this.cursor.done && !this.res.destroyed) this.res.flushHeaders();
  }

  write(bytes: Uint8Array): boolean {
    const res = this.res;
    try {
      if (!this.wrote) {
        this.wrote = true;
        this.hooks.beforeFirst?.();
      }
      this.tally.bytes += bytes.byteLength;
      this.tally.chunks++;
      this.ctx.metrics.sentBytes += bytes.byteLength;
      if (res.write(bytes)) return true;
      res.once('drain', this.onDrain);
      this.armStall();
      return false;
    } catch {
      // A response broken under us must cost this reader only, never the upload or the others.
      this.broken();
      return false;
    }
  }

  end(): void {
    if (!this.wrote && this.hooks.nothing !== undefined) return this.hooks.nothing();
    this.res.end();
  }

  abort(reason: string): void {
    if (!this.wrote && this.hooks.nothing !== undefined) return this.hooks.nothing();
    cutResponse(this.res, this.ctx.readerStallMs);
  }

  private broken(): void {
    this.cursor.close();
    abortResponse(this.res);
  }

  /**
   * One inactivity timeout while this reader waits for 'drain' (none while it keeps up): the
   * socket's own over HTTP/1.1; over HTTP/2 a timer of ours, since Node restarts a stream's
   * timeout whenever its session sends anything, and a session carries a player's other requests.
   */
  private armStall(): void {
    const ms = this.ctx.readerStallMs;
    if (ms <= 0) return;
    if (http2Stream(this.res) !== undefined) {
      this.stallTimer ??= setTimeout(this.onStall, ms);
      return;
    }
    if (!this.stallListening) {
      this.stallListening = true;
      this.res.on('timeout', this.onStall);
    }
    // Queued behind another response: Node arms it on the socket when this one's turn comes.
    this.res.setTimeout(ms);
  }

  private disarmStall(): void {
    if (this.stallTimer !== undefined) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    // 'drain' comes only to the response writing now, so the socket is its own.
    if (this.stallListening) this.res.setTimeout(0);
  }

  private readonly onStall = (): void => {
    this.stallTimer = undefined;
    if (this.cursor.done) return;
    this.ctx.metrics.readerStalls++;
    this.broken();
  };

  private readonly onDrain = (): void => {
    this.disarmStall();
    this.cursor.resume();
  };

  private readonly release = (): void => {
    // Our timer only: the socket's timeout belongs to the connection again (keep-alive).
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.cursor.close();
  };
}

/** Live readers whose head goes out at the end of this turn unless a unit carried it first. */
let headersToFlush: HttpReader[] = [];

/**
 * The player should learn that its segment exists on the upload's first byte, but a flush now
 * costs a write per reader before anyone gets the first chunk, which usually follows in the same
 * turn (and carries the head with it). So the head goes at the end of the turn, once, for the
 * readers that got nothing meanwhile: one setImmediate per turn for all of them.
 */
export function flushAtEndOfTurn(reader: HttpReader): void {
  if (headersToFlush.push(reader) === 1) setImmediate(flushPendingHeaders);
}

function flushPendingHeaders(): void {
  const batch = headersToFlush;
  headersToFlush = [];
  for (const reader of batch) reader.flushHeadersIfIdle();
}

/**
 * Ends a chunked response without its terminating zero-length chunk: the bytes already written
 * are flushed, then the connection is closed (HTTP/2: the stream is reset, not ended), so the
 * player sees a truncated body and knows the object is incomplete. A response still queued behind another one on a pipelined connection
 * is cut when its turn comes, once Node has flushed what it buffered for it. A client that does
 * not read what is left is dropped after `stallMs` without progress (`0`: never).
 */
export function cutResponse(res: ServerResponse, stallMs: number): void {
  // HTTP/2: the stream is reset after its bytes went out; the session and its other streams stay.
  const stream = http2Stream(res);
  if (stream !== undefined) return resetAfterFlush(stream, stallMs);
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
