// One upload body becoming published units: ISO-BMFF bodies through boxstream, one unit per
// header/chunk/box event; other bodies one unit per received piece, the pieces that arrive in the
// same event-loop turn after the first being joined into one; manifests buffered and swapped in
// whole when their upload completes. Every byte is charged to the memory cap as it arrives.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BoxStreamError, Parser, SNIFF_BYTES, type ParseEvent } from 'boxstream';
import type { OriginContext } from '../context.js';
import { refuse, sendEmpty } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';
import { classify, contentTypeFor, manifestContentType, type ManifestKind } from '../store/classify.js';
import type { StoredObject } from '../store/object.js';
import type { Pausable } from './memory-gate.js';

/** Small pieces of one event-loop turn are joined up to this size (see `Upload.batch`). */
const BATCH_BYTES = 16 * 1024;

/** One upload in progress. */
export class Upload implements Pausable {
  private received = 0;
  /** Bytes received and charged to the memory cap but not published yet. */
  private charged = 0;
  private paused = false;
  private finished = false; // responded, failed, or aborted: ignore the rest
  private ended = false;
  /** Deleted before its object became visible: the rest of the body is read and dropped. */
  private cancelled = false;
  /** Whether this upload is listed in `ctx.pendingUploads` (until its object is visible). */
  private pending = true;
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
  /** Pieces before the object exists (sniffing) or the whole body (manifests). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private parser: Parser | null = null;
  private object: StoredObject | null = null;
  private replaced = false;

  constructor(
    private readonly ctx: OriginContext,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly key: string,
    private readonly manifest: ManifestKind | undefined,
    private readonly limit: number,
    private readonly tally: RequestTally,
  ) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('close', this.onClose);
    req.on('error', this.onError);
    // The socket's own inactivity timer (no per-upload timer of ours): an upload that sends
    // nothing for ingestIdleMs is treated as aborted, so a stalled encoder cannot pin readers.
    if (ctx.ingestIdleMs > 0) req.setTimeout(ctx.ingestIdleMs, this.onIdle);
    let pending = ctx.pendingUploads.get(key);
    if (pending === undefined) ctx.pendingUploads.set(key, (pending = new Set()));
    pending.add(this);
  }

  /** DELETE of this key before the object became visible: finish the request, store nothing. */
  cancel(): void {
    this.pending = false;
    if (this.finished) return;
    this.cancelled = true;
    this.held = [];
    this.heldBytes = 0;
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
    if (this.finished && !this.cancelled) return;
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
   * `bytes` of what was charged are published now, into the current version, whose count takes
   * them over. Bytes published into a version that was replaced or deleted meanwhile stay charged
   * until the upload ends: the cap must still see them.
   */
  private discharge(bytes: number): void {
    if (this.object !== null && this.object.holding !== 'current' && !this.finished) return;
    this.charged -= bytes;
    this.ctx.store.holdIngest(-bytes);
  }

  /** The upload is over: nothing it holds is charged any more, and it waits for room no longer. */
  private release(): void {
    if (this.charged !== 0) this.discharge(this.charged);
    this.ctx.memory.forget(this);
  }

  /** Leaves `ctx.pendingUploads`: the object is visible now, or the upload is over. */
  private unlist(): void {
    if (!this.pending) return;
    this.pending = false;
    const set = this.ctx.pendingUploads.get(this.key);
    if (set === undefined) return;
    set.delete(this);
    if (set.size === 0) this.ctx.pendingUploads.delete(this.key);
  }

  private readonly onData = (piece: Buffer): void => {
    if (this.finished) return;
    this.received += piece.byteLength;
    this.tally.bytes = this.received;
    this.ctx.metrics.receivedBytes += piece.byteLength;
    if (this.received > this.limit) {
      return this.fail(413, `body larger than the limit of ${this.limit} bytes`);
    }
    if (this.cancelled) return;
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

  /** One piece of the body, in order: held (sniffing, manifests) or fed to the object. */
  private take(piece: Buffer): void {
    if (this.finished || this.cancelled) return;
    try {
      if (this.object !== null) return this.feed(piece);
      this.held.push(piece);
      this.heldBytes += piece.byteLength;
      if (this.manifest === undefined && this.heldBytes >= SNIFF_BYTES) this.begin();
    } catch (err) {
      this.failUnexpected(err);
    }
  }

  private readonly onEnd = (): void => {
    this.ended = true;
    if (this.ctx.ingestIdleMs > 0) this.req.setTimeout(0);
    // The last pieces of this turn first.
    this.flush();
    this.unlist();
    if (this.finished) return;
    if (this.cancelled) {
      this.finished = true;
      this.release();
      return this.respond();
    }
    try {
      if (this.manifest !== undefined) return this.swapManifest();
      if (this.object === null) this.begin();
      const object = this.object as StoredObject;
      if (this.parser !== null) {
        let events: readonly ParseEvent[];
        try {
          events = this.parser.end();
        } catch (err) {
          return this.failParse(err);
        }
        this.publishEvents(events);
      }
      this.finished = true;
      this.release();
      object.complete();
      this.respond();
    } catch (err) {
      this.failUnexpected(err);
    }
  };

  private readonly onClose = (): void => {
    this.unlist();
    if (this.ended || this.finished) return;
    // What arrived is kept (readers get it, then see the cut).
    this.flush();
    if (this.finished) return;
    // The uploader went away mid-body: readers must see an incomplete object, not a short one.
    this.finished = true;
    this.release();
    this.object?.abort('upload aborted by the client');
  };

  private readonly onIdle = (): void => {
    if (this.ended) return;
    const text = `upload stalled: no body bytes for ${this.ctx.ingestIdleMs} ms`;
    if (!this.finished) this.ctx.metrics.uploadsStalled++;
    this.fail(408, text);
    // The rest of the body is not coming: drop the connection once the answer is out.
    const socket = this.req.socket;
    if (this.res.writableFinished) socket.destroy();
    else this.res.once('finish', () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  private readonly onError = (): void => {
    // 'close' follows and does the work; the listener keeps the error from being thrown.
  };

  /** Classifies the body by its name and first bytes (once), then makes the object visible. */
  private begin(): void {
    const first = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, Math.min(this.heldBytes, SNIFF_BYTES));
    const { kind, contentType, isoBmff } = classify(this.key, first.subarray(0, SNIFF_BYTES));
    if (isoBmff) {
      this.parser = new Parser();
      // A segment of a known rendition: chunk facts get its init's timescales and defaults.
      this.parser.init = this.ctx.streams.initFor(this.key);
    }
    const store = this.ctx.store;
    const object = store.create(this.key, { contentType, kind });
    this.object = object;
    this.unlist();
    this.makeCurrent(object);
    const held = this.held;
    this.held = [];
    for (const piece of held) {
      if (this.finished) return;
      this.feed(piece);
    }
  }

  /** One received piece into the object: through the parser, or as it is. */
  private feed(piece: Buffer): void {
    const parser = this.parser;
    if (parser === null) {
      this.discharge(piece.byteLength);
      (this.object as StoredObject).publish(piece);
      this.tally.chunks++;
      return;
    }
    let events: readonly ParseEvent[];
    try {
      events = parser.push(piece);
    } catch (err) {
      return this.failParse(err);
    }
    this.publishEvents(events);
  }

  private publishEvents(events: readonly ParseEvent[]): void {
    const object = this.object as StoredObject;
    for (const event of events) {
      const parts = event.parts;
      if (parts.length === 0) continue;
      // One unit per event; several views are joined once here, never per reader.
      const unit = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      this.discharge(unit.byteLength);
      object.publish(unit, event);
      this.tally.chunks++;
    }
  }

  private swapManifest(): void {
    const body = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    const store = this.ctx.store;
    const kind = this.manifest as ManifestKind;
    const object = store.create(this.key, { contentType: contentTypeFor(this.key) ?? manifestContentType(kind), kind: 'manifest' });
    this.release();
    object.publish(body);
    object.complete();
    this.tally.chunks = 1;
    // Readers of the previous version were served it whole; from here GETs get this one.
    this.makeCurrent(object);
    this.finished = true;
    this.respond();
  }

  /** Makes `object` the key's current version; notes whether it replaced one (in memory, or only on disk) for 201/204. */
  private makeCurrent(object: StoredObject): void {
    const onDisk = this.ctx.disk?.lookup(this.key) !== undefined;
    this.replaced = this.ctx.store.insert(object) !== undefined || onDisk;
  }

  /** 201 or 204; once shutdown began, with `Connection: close` so the encoder reconnects elsewhere. */
  private respond(): void {
    if (this.ctx.lifecycle.draining) this.res.shouldKeepAlive = false;
    sendEmpty(this.res, this.replaced ? 204 : 201);
  }

  /** A parser error: keep the units that were valid, mark the object aborted, refuse the body. */
  private failParse(err: unknown): void {
    if (!(err instanceof BoxStreamError)) return this.failUnexpected(err);
    this.publishEvents(err.events as ParseEvent[]);
    let status = 400;
    let text = `malformed ISO-BMFF (${err.code}): ${err.message}`;
    if (err.code === 'JUNK' && err.offset === 0) {
      status = 415;
      text = `body is not ISO-BMFF: ${err.message}`;
    } else if (err.code === 'TOO_LARGE') {
      status = 413;
    }
    this.fail(status, text);
  }

  private failUnexpected(err: unknown): void {
    this.fail(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  }

  /** Refuses the rest of the body: answers now and closes the connection (lingeringly) after the answer. */
  private fail(status: number, text: string): void {
    if (this.finished) return;
    this.finished = true;
    this.unlist();
    this.held = [];
    this.batch = [];
    this.batchBytes = 0;
    this.release();
    this.object?.abort(text);
    this.req.removeListener('data', this.onData);
    if (this.paused) {
      this.paused = false;
      this.req.resume();
    }
    refuse(this.req, this.res, status, text);
  }
}
