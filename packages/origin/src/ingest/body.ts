// One request body read the origin's way, whatever it becomes (one object, or a CMAF track's init
// and segments): bytes charged to the memory cap as they arrive and the request paused when the
// cap is full; a size limit (413); an idle timeout (408); the pieces of one event-loop turn
// batched; a refusal answered at once, the connection closed after it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { refuse } from '../http/respond.js';
import { dropAfterAnswer } from '../http/protocol.js';
import type { RequestTally } from '../http/tally.js';
import type { StoredObject } from '../store/object.js';
import type { Pausable } from './memory-gate.js';

/** Small pieces of one event-loop turn are joined up to this size (see `RequestBody.batch`). */
const BATCH_BYTES = 16 * 1024;

/** What a body becomes: told each piece, the end, or why it stopped early. */
export interface BodySink {
  /** One piece of the body, in order. */
  take(piece: Buffer): void;
  /** The body is complete (after its last piece). */
  end(): void;
  /** The body stopped early: refused (`reason` is the answer's text) or cut by the client. */
  stop(reason: string): void;
}

export class RequestBody implements Pausable {
  private received = 0;
  /** Bytes received and charged to the memory cap but not published yet. */
  private charged = 0;
  private paused = false;
  /** Responded, failed, or aborted: the rest is ignored. */
  finished = false;
  /** The request's body ended (all of it arrived). */
  private ended = false;
  /** The rest of the body is read and dropped (see `dropRest`). */
  private dropping = false;
  /**
   * Node hands over every HTTP chunk of a body as its own piece, and one socket read can hold
   * thousands of them (1-byte chunks). The first piece of an event-loop turn is processed at
   * once; the ones after it in the same turn are collected here and processed as one piece
   * when they reach BATCH_BYTES, or by a setImmediate right after the turn's I/O. So units (and
   * parser views) are bounded by bytes and reads, not by the chunk framing; a piece that arrives
   * alone, or a large one, is never delayed or copied.
   */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private turnOpen = false;
  private sink!: BodySink;

  constructor(
    private readonly ctx: OriginContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly limit: number,
    private readonly tally: RequestTally,
  ) {}

  /** Starts reading into `sink`. */
  start(sink: BodySink): void {
    this.sink = sink;
    const req = this.req;
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('close', this.onClose);
    req.on('error', this.onError);
    // The socket's own inactivity timer (no per-upload timer of ours): an upload that sends
    // nothing for ingestIdleMs is treated as aborted, so a stalled encoder cannot pin readers.
    if (this.ctx.ingestIdleMs > 0) req.setTimeout(this.ctx.ingestIdleMs, this.onIdle);
  }

  /** Reads the rest of the body and drops it (its object was deleted before it became visible). */
  dropRest(): void {
    if (this.finished) return;
    this.dropping = true;
    this.batch = [];
    this.batchBytes = 0;
    this.release();
    // Paused by the memory cap: the rest of the body is dropped, so read it again.
    this.resume();
  }

  /** The memory cap has no room: stop reading the body until `resume()` (see MemoryGate). */
  pause(): void {
    if (this.paused || this.finished) return;
    this.paused = true;
    this.req.pause();
    // Not an idle encoder: the origin stopped reading. The idle timeout waits until it reads again.
    if (this.ctx.ingestIdleMs > 0) this.req.setTimeout(0);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.finished && !this.dropping) return;
    if (this.ctx.ingestIdleMs > 0 && !this.ended) this.req.setTimeout(this.ctx.ingestIdleMs);
    this.req.resume();
  }

  refuseForMemory(waitedMs: number): void {
    this.paused = false;
    this.ctx.metrics.rejected.memory++;
    this.fail(507, `memory cap of ${this.ctx.maxMemoryBytes} bytes is held by uploads in progress; no room within ${waitedMs} ms`);
  }

  /** Charges `bytes` just received to the memory cap. */
  private charge(bytes: number): void {
    this.charged += bytes;
    this.ctx.store.holdIngest(bytes);
  }

  /**
   * `bytes` of what was charged are published now, into `object`, whose count takes them over.
   * Bytes published into a version that was replaced or deleted meanwhile stay charged until the
   * body ends: the cap must still see them.
   */
  discharge(bytes: number, object: StoredObject | null): void {
    if (object !== null && object.holding !== 'current' && !this.finished) return;
    this.charged -= bytes;
    this.ctx.store.holdIngest(-bytes);
  }

  /** The sink is done with the body (answered, or will answer): stop charging and feeding it. */
  finish(): void {
    this.finished = true;
    this.release();
  }

  /** The body is over: nothing it holds is charged any more, and it waits for room no longer. */
  release(): void {
    if (this.charged !== 0) this.discharge(this.charged, null);
    this.ctx.memory.forget(this);
  }

  private readonly onData = (piece: Buffer): void => {
    if (this.finished) return;
    this.received += piece.byteLength;
    this.tally.bytes = this.received;
    this.ctx.metrics.receivedBytes += piece.byteLength;
    if (this.received > this.limit) {
      return this.fail(413, `body larger than the limit of ${this.limit} bytes`);
    }
    if (this.dropping) return;
    this.charge(piece.byteLength);
    // Over the cap with nothing to evict: this piece is taken, the next ones wait for room.
    this.ctx.memory.admit(this);
    if (this.turnOpen) {
      // Only small pieces are joined, into units of about BATCH_BYTES; a large piece goes on
      // at once, as it is (after the small ones before it).
      if (piece.byteLength >= BATCH_BYTES) {
        this.flush();
        return this.take(piece);
      }
      this.batch.push(piece);
      this.batchBytes += piece.byteLength;
      if (this.batchBytes >= BATCH_BYTES) this.flush();
      return;
    }
    this.turnOpen = true;
    setImmediate(this.endTurn);
    this.take(piece);
  };

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    this.flush();
  };

  /** Processes the pieces collected in this turn as one (no copy when there is only one). */
  private flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    const piece = batch.length === 1 ? batch[0] : Buffer.concat(batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.take(piece);
  }

  private take(piece: Buffer): void {
    if (this.finished || this.dropping) return;
    try {
      this.sink.take(piece);
    } catch (err) {
      this.failUnexpected(err);
    }
  }

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.ctx.ingestIdleMs > 0) this.req.setTimeout(0);
    // The last pieces of this turn first.
    this.flush();
    if (this.finished) return;
    try {
      this.sink.end();
    } catch (err) {
      this.failUnexpected(err);
    }
  };

  private readonly onClose = (): void => {
    if (this.ended || this.finished) return;
    // What arrived is kept (readers get it, then see the cut).
    this.flush();
    if (this.finished) return;
    // The uploader went away mid-body: readers must see an incomplete object, not a short one.
    this.finish();
    this.sink.stop('upload aborted by the client');
  };

  private readonly onIdle = (): void => {
    if (this.ended) return;
    const text = `upload stalled: no body bytes for ${this.ctx.ingestIdleMs} ms`;
    if (!this.finished) this.ctx.metrics.uploadsStalled++;
    this.fail(408, text);
    // The rest of the body is not coming: drop the connection (HTTP/2: the stream) once the answer is out.
    dropAfterAnswer(this.req, this.res);
  };

  private readonly onError = (): void => {
    // 'close' follows and does the work; the listener keeps the error from being thrown.
  };

  failUnexpected(err: unknown): void {
    this.fail(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Refuses the rest of the body: answers now and closes the connection (lingeringly) after the answer. */
  fail(status: number, text: string): void {
    if (this.finished) return;
    this.finished = true;
    this.batch = [];
    this.batchBytes = 0;
    this.release();
    this.sink.stop(text);
    this.req.removeListener('data', this.onData);
    if (this.paused) {
      this.paused = false;
      this.req.resume();
    }
    refuse(this.req, this.res, status, text);
  }
}
