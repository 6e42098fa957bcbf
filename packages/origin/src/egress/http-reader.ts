// A response that reads an object through a cursor: the cursor's sink over a ServerResponse.
// Each unit is written once, in the tick it was published, to every reader that is caught up;
// a reader whose buffers are full waits for 'drain' and catches up from the unit list. No copies,
// no timers while the reader keeps up. A reader over HTTP/1.1 that owns its socket may leave up
// to BURST_BYTES in Node's buffers before it waits (a player joining a live object mid-way takes
// its missed chunks in one turn instead of one 'drain' round trip per 16 KiB). While bytes sit
// buffered, one inactivity timer per reader (`readerStallMs`) checks that the client takes them,
// so a client that stops reading cannot hold the object.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { whenDone } from '../http/lifetime.js';
import { abortResponse, http2Stream, resetAfterFlush } from '../http/protocol.js';
import type { OriginMetrics } from '../ops/metrics.js';
import type { RequestTally } from '../http/tally.js';
import { ObjectCursor, type CursorRange, type CursorSink } from '../store/cursor.js';
import type { StoredObject } from '../store/object.js';

/**
 * What an HTTP/1.1 reader may leave in Node's buffers before it waits for 'drain' (the socket's
 * own mark is 16 KiB, a few chunks). Views of stored units, not copies; the stall timer bounds
 * how long a client that stops reading pins them.
 */
export const BURST_BYTES = 256 * 1024;

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
  /** The response's HTTP/2 stream, or undefined over HTTP/1.x. */
  private readonly h2: ServerHttp2Stream | undefined;
  /** Body bytes handed to an HTTP/2 response (minus what its stream still buffers: what the client took). */
  private written = 0;
  /** Bytes are buffered and the stall timer watches them. */
  private watching = false;
  /** What the client had taken at the last check (progress resets the stall timeout). */
  private takenAtCheck = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  /** The response closed, or its connection did: nothing more to watch. */
  private released = false;

  constructor(
    private readonly ctx: ReaderContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    object: StoredObject,
    range: CursorRange | undefined,
    private readonly tally: RequestTally,
    private readonly hooks: ReaderHooks = {},
  ) {
    this.h2 = http2Stream(res);
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
      if (this.h2 !== undefined) this.written += bytes.byteLength;
      if (res.write(bytes)) return true;
      if (!this.watching) this.watchStall();
      // Over HTTP/2 'drain' also waits for the client's flow-control window: no burst there. A
      // response queued behind another one on a pipelined connection (no socket yet) waits too.
      const socket = res.socket;
      if (this.h2 === undefined && socket !== null && !socket.destroyed && res.writableLength < BURST_BYTES) return true;
      res.once('drain', this.onDrain);
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
    // The client must still take the tail (up to BURST_BYTES): watched until the response closes.
    if (!this.watching && this.buffered() > 0) this.watchStall();
  }

  abort(reason: string): void {
    if (!this.wrote && this.hooks.nothing !== undefined) return this.hooks.nothing();
    cutResponse(this.res, this.ctx.readerStallMs);
  }

  private broken(): void {
    this.cursor.close();
    abortResponse(this.res);
  }

  /** Bytes written to the response and not yet taken by the client (or the kernel). */
  private buffered(): number {
    return this.h2 !== undefined ? this.h2.writableLength : this.res.writableLength;
  }

  /**
   * Bytes the client has taken, as a count that grows as it takes them: over HTTP/1.1 the
   * socket's completed writes (chunk framing and heads included; a write of what piled up is
   * counted once the kernel took all of it), over HTTP/2 the body bytes its stream passed on.
   * Undefined while a pipelined response waits for its turn. Read when the stall watch starts
   * and at each check, never per write (`bytesWritten` copies Node's list of buffered writes; a
   * write callback per unit would cost a closure and a tick per write on the fan-out path).
   */
  private taken(): number | undefined {
    if (this.h2 !== undefined) return this.written - this.h2.writableLength;
    const socket = this.res.socket;
    return socket === null ? undefined : socket.bytesWritten - socket.writableLength;
  }

  /**
   * Bytes are buffered: from now on the client must take some every `readerStallMs`. One timer
   * per reader, made once and refreshed (no socket timeouts, no listeners per wait): it is the
   * same over HTTP/1.1 and HTTP/2, where Node restarts a stream's own timeout whenever its
   * session sends anything, and a session carries a player's other requests.
   */
  private watchStall(): void {
    const ms = this.ctx.readerStallMs;
    if (ms <= 0) return;
    this.watching = true;
    this.takenAtCheck = this.taken() ?? -1;
    if (this.stallTimer === undefined) this.stallTimer = setTimeout(this.onStallCheck, ms);
    else this.stallTimer.refresh();
  }

  private readonly onStallCheck = (): void => {
    if (this.released || !this.watching) return;
    if (this.buffered() === 0) {
      this.watching = false; // caught up: nothing to watch until the next full write
      return;
    }
    const taken = this.taken();
    // Queued behind another response on a pipelined connection (undefined): not its turn yet.
    if (taken === undefined || taken !== this.takenAtCheck) {
      this.takenAtCheck = taken ?? -1;
      this.stallTimer?.refresh();
      return;
    }
    this.ctx.metrics.readerStalls++;
    this.broken();
  };

  private readonly onDrain = (): void => {
    this.watching = false;
    this.cursor.resume();
  };

  private readonly release = (): void => {
    this.released = true;
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
