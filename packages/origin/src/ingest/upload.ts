// One upload body becoming published units: ISO-BMFF bodies through boxstream, one unit per
// header/chunk/box event; other bodies one unit per received piece, the pieces that arrive in the
// same event-loop turn after the first being joined into one; manifests buffered and swapped in
// whole when their upload completes. Every byte is charged to the memory cap as it arrives.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BoxStreamError, Parser, SNIFF_BYTES, type ParseEvent } from 'boxstream';
import type { OriginContext } from '../context.js';
import { sendEmpty } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';
import { classify, contentTypeFor, manifestContentType, type ManifestKind } from '../store/classify.js';
import type { StoredObject } from '../store/object.js';
import { RequestBody, type BodySink } from './body.js';

/** One upload in progress: a body (read by `RequestBody`) becoming one object. */
export class Upload implements BodySink {
  /** Deleted before its object became visible: the rest of the body is read and dropped. */
  private cancelled = false;
  /** Whether this upload is listed in `ctx.pendingUploads` (until its object is visible). */
  private pending = true;
  /** Pieces before the object exists (sniffing) or the whole body (manifests). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private parser: Parser | null = null;
  private object: StoredObject | null = null;
  private replaced = false;
  private readonly body: RequestBody;
  /** The relays this upload came through (`CDN-Loop`), kept with the object for relays of our own. */
  private readonly via: string | undefined;

  constructor(
    private readonly ctx: OriginContext,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly key: string,
    private readonly manifest: ManifestKind | undefined,
    limit: number,
    private readonly tally: RequestTally,
  ) {
    const loop = req.headers['cdn-loop'];
    this.via = Array.isArray(loop) ? loop.join(', ') : loop;
    this.body = new RequestBody(ctx, req, res, limit, tally);
    this.body.start(this);
    req.on('close', () => this.unlist());
    let pending = ctx.pendingUploads.get(key);
    if (pending === undefined) ctx.pendingUploads.set(key, (pending = new Set()));
    pending.add(this);
  }

  /** DELETE of this key before the object became visible: finish the request, store nothing. */
  cancel(): void {
    this.pending = false;
    if (this.body.finished) return;
    this.cancelled = true;
    this.held = [];
    this.heldBytes = 0;
    this.body.dropRest();
  }

  private get finished(): boolean {
    return this.body.finished;
  }

  private discharge(bytes: number): void {
    this.body.discharge(bytes, this.object);
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

  /** One piece of the body, in order: held (sniffing, manifests) or fed to the object. */
  take(piece: Buffer): void {
    if (this.object !== null) return this.feed(piece);
    this.held.push(piece);
    this.heldBytes += piece.byteLength;
    if (this.manifest === undefined && this.heldBytes >= SNIFF_BYTES) this.begin();
  }

  end(): void {
    this.unlist();
    if (this.cancelled) {
      this.body.finish();
      return this.respond();
    }
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
    this.body.finish();
    object.complete();
    this.respond();
  }

  /** The body was refused or cut: what was published stays, the object is marked incomplete. */
  stop(reason: string): void {
    this.unlist();
    this.held = [];
    this.object?.abort(reason);
  }

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
    const object = store.create(this.key, { contentType, kind, via: this.via });
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
    const object = store.create(this.key, { contentType: contentTypeFor(this.key) ?? manifestContentType(kind), kind: 'manifest', via: this.via });
    this.body.finish();
    object.publish(body);
    object.complete();
    this.tally.chunks = 1;
    // Readers of the previous version were served it whole; from here GETs get this one.
    this.makeCurrent(object);
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
    if (!(err instanceof BoxStreamError)) return this.body.failUnexpected(err);
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

  private fail(status: number, text: string): void {
    this.body.fail(status, text);
  }
}
