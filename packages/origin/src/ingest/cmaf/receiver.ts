// DASH-IF Live Media Ingest, Interface-1 (CMAF ingest): a POST or PUT to
// `<publishing point>/Streams(<track>)` carries one CMAF track, as one long-running chunked
// request or one request per segment. Its header becomes `<track>/init.mp4`, its chunks
// segments `<track>/<n>.m4s` (track.ts), served like any uploaded object while they are written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BoxStreamError, Parser, sniff, SNIFF_BYTES, type InitInfo, type ParseEvent } from 'boxstream';
import type { OriginContext } from '../../context.js';
import type { Exchange, Route } from '../../http/router.js';
import { whenDone } from '../../http/lifetime.js';
import { refuse, sendContinue, sendEmpty } from '../../http/respond.js';
import type { RequestTally } from '../../http/tally.js';
import { admitUpload } from '../../ops/limits.js';
import type { StoredObject } from '../../store/object.js';
import { admitIngest } from '../auth.js';
import { RequestBody, type BodySink } from '../body.js';
import { identityBody } from '../write.js';
import { ingestPath, type IngestPath } from './path.js';
import { PublishingPoint } from './publishing-point.js';
import { Standby } from './standby.js';
import type { IngestTrack } from './track.js';

/** Who pushes: the client's address and the User-Agent it sent. */
export interface PushSource {
  remote: string | undefined;
  userAgent: string | undefined;
}

/** A CMAF ingest track and the requests pushing it. */
export interface IngestTrackView {
  /** e.g. `/live/pp/` */
  publishingPoint: string;
  /** e.g. `video` */
  track: string;
  /** The request whose chunks are published, if one is open. */
  live: PushSource | undefined;
  /** Redundant encoders' requests standing by, ready to take over. */
  standby: PushSource[];
}

/** The publishing points pushed to this origin, and the route that receives their tracks. */
export class CmafIngest {
  private readonly points = new Map<string, PublishingPoint>();

  constructor(
    private readonly ctx: OriginContext,
    /** Segment length when the encoder does not mark segments (styp), seconds. */
    readonly segmentSeconds: number,
  ) {}

  /** The track behind `path`, made on first use (only for a push that brought media). */
  track(path: IngestPath): IngestTrack {
    let point = this.points.get(path.publishingPoint);
    if (point === undefined) this.points.set(path.publishingPoint, (point = new PublishingPoint(this.ctx, path.publishingPoint, this.segmentSeconds)));
    return point.track(path.track);
  }

  /** Every track pushed here, with the request feeding it and those standing by (see `Origin.ingest()`). */
  view(): IngestTrackView[] {
    const out: IngestTrackView[] = [];
    for (const point of this.points.values()) {
      for (const track of point.tracks.values()) {
        const live = track.owner as TrackPush | undefined;
        out.push({ publishingPoint: point.path, track: track.id, live: live?.from, standby: [...(track.standbys as Set<TrackPush>)].map((p) => p.from) });
      }
    }
    return out;
  }

  /** The track behind `path` when it exists. */
  find(path: IngestPath): IngestTrack | undefined {
    return this.points.get(path.publishingPoint)?.tracks.get(path.track);
  }

  /** PUT and POST to `Streams(...)` paths; everything else goes on to the next route. */
  readonly route: Route = ({ ctx, req, res, key, tally }: Exchange): boolean => {
    if (req.method !== 'PUT' && req.method !== 'POST') return false;
    const path = ingestPath(key);
    if (path === undefined) return false;
    if (!admitIngest(ctx, req, res, tally)) return true;
    if (path === null) {
      refuse(req, res, 400, 'Streams() must name a track with letters, digits, dot, dash or underscore');
      return true;
    }
    if (!identityBody(req, res) || !admitUpload(ctx, req, res)) return true;
    new TrackPush(ctx, this, path, req, res, tally);
    return true;
  };
}

/** One request pushing a track: its body through boxstream into the track. */
class TrackPush implements BodySink {
  private readonly body: RequestBody;
  private parser: Parser | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The track, once this push brought a header or a chunk and so took it over (or stood by). */
  private track: IngestTrack | undefined;
  /** Set while this push is a redundant encoder's, on standby behind the live push of the track. */
  private standby: Standby | undefined;
  /** Who pushes (for operators: which encoder is live). */
  readonly from: PushSource;
  /** The header a standby push sent (taken if it turns out to be a restart, see restartInstead). */
  private standbyHeader: { bytes: Uint8Array; init: InitInfo } | undefined;

  constructor(
    private readonly ctx: OriginContext,
    private readonly ingest: CmafIngest,
    private readonly path: IngestPath,
    req: IncomingMessage,
    private readonly res: ServerResponse,
    tally: RequestTally,
  ) {
    this.from = { remote: req.socket.remoteAddress, userAgent: req.headers['user-agent'] };
    // A long-running push has no total size: the limit applies to each segment (see publish).
    this.body = new RequestBody(ctx, req, res, Infinity, tally);
    ctx.metrics.uploadStarted();
    whenDone(req, res, () => ctx.metrics.uploadEnded());
    if (ctx.lifecycle.draining) res.shouldKeepAlive = false;
    this.body.start(this);
    // `Expect: 100-continue`: path, auth and limits passed, so the body is asked for.
    sendContinue(res);
  }

  private get owns(): boolean {
    return this.track !== undefined && this.track.owner === this;
  }

  /**
   * A second push of a track whose live push is still sending, with the same header (or none, per
   * segment): a redundant encoder. It stands by (DASH-IF ingest: synchronized encoders for
   * failover) instead of cutting the live one, and takes over when that one stops or falls behind.
   */
  private standsBy(track: IngestTrack | undefined): boolean {
    if (this.owns || this.standby !== undefined) return this.standby !== undefined;
    const live = track?.owner;
    if (track === undefined || live === undefined || live === this || track.header === undefined) return false;
    this.track = track;
    this.standBehind(track);
    return true;
  }

  /** Kept chunks count against the memory cap until they are let go or published. */
  private newStandby(track: IngestTrack): Standby {
    // (Once the body is over, nothing it holds is charged any more: see RequestBody.release.)
    return new Standby(track.forkSegmenter(), (bytes) => {
      if (!this.body.finished) this.body.discharge(bytes, null);
    });
  }

  /**
   * This standby becomes the track's live push; the one it replaces (when still sending) stands
   * by. `failover`: the live one was cut or fell behind (counted), rather than ended.
   */
  private promote(failover: boolean): void {
    const track = this.track as IngestTrack;
    const standby = this.standby as Standby;
    const previous = track.owner as TrackPush | undefined;
    this.standby = undefined;
    this.standbyHeader = undefined;
    track.standbys.delete(this);
    track.promote(this, standby);
    // Published, or not needed: either way no longer held by this push.
    standby.drop();
    if (previous !== undefined && previous !== this) previous.standBehind(track);
    if (failover) this.ctx.metrics.ingestFailovers++;
  }

  /** Stands by on `track`: a redundant push joining, or the live one overtaken (it may be slow rather than gone). */
  private standBehind(track: IngestTrack): void {
    this.standby = this.newStandby(track);
    track.standbys.add(this);
  }

  /** The live push ended or was cut (`failover`): the standby furthest along takes over at once. */
  private handOver(track: IngestTrack, failover: boolean): void {
    track.owner = undefined;
    let next: TrackPush | undefined;
    for (const push of track.standbys as Set<TrackPush>) {
      if (next === undefined || (push.standby?.end ?? -Infinity) > (next.standby?.end ?? -Infinity)) next = push;
    }
    next?.promote(failover);
  }

  /** A header that is not the track's: the track is reconfigured, and its standbys (of the old header) are refused. */
  private refuseStandbys(track: IngestTrack): void {
    for (const push of [...(track.standbys as Set<TrackPush>)]) {
      if (push === this) continue;
      push.body.fail(400, `track '${track.id}' was reconfigured (another header) by a newer request`);
    }
  }

  /**
   * A standby whose first chunk is far behind the live encoder is an encoder that restarted with
   * its timestamps from 0 while its old request still hangs: it takes the track over (the old
   * request is cut, as before redundancy), and its header starts a new run.
   */
  private restartInstead(): void {
    const header = this.standbyHeader as { bytes: Uint8Array; init: InitInfo };
    this.standbyHeader = undefined;
    this.leaveStandby();
    const track = this.claim();
    // Other standbys follow the old timeline: they would take it back at once.
    this.refuseStandbys(track);
    track.takeHeader(header.bytes, header.init);
  }

  /**
   * This push brought media: it pushes the track from now on. A push that was pushing it is cut
   * (an encoder that reconnected, a backup taking over) and the segment it was writing is
   * incomplete; a probe or a refused body never takes a track.
   */
  private claim(): IngestTrack {
    // (A standby knows its track without owning it.)
    if (this.owns) return this.track as IngestTrack;
    const track = this.ingest.track(this.path);
    const previous = track.owner as TrackPush | undefined;
    track.owner = this;
    this.track = track;
    if (previous !== undefined && previous !== this) {
      track.abortSegment(`track '${track.id}' is pushed by a newer request`);
      previous.body.fail(400, `track '${track.id}' is pushed by a newer request`);
    }
    return track;
  }

  take(piece: Buffer): void {
    if (this.parser === undefined) {
      this.held.push(piece);
      this.heldBytes += piece.byteLength;
      if (this.heldBytes < SNIFF_BYTES) return;
      const first = this.held.length === 1 ? this.held[0] : Buffer.concat(this.held);
      this.held = [];
      if (sniff(first) === undefined) return this.body.fail(415, 'not CMAF: the body does not start with an ISO-BMFF box');
      // Per-segment requests carry no header: their chunks get the track's timescales.
      const init = this.ingest.find(this.path)?.init;
      this.parser = new Parser(init ? { init } : {});
      return this.feed(first);
    }
    this.feed(piece);
  }

  private feed(piece: Buffer): void {
    let events: readonly ParseEvent[];
    try {
      events = (this.parser as Parser).push(piece);
    } catch (err) {
      return this.failParse(err);
    }
    this.publish(events);
  }

  private publish(events: readonly ParseEvent[]): void {
    for (const event of events) {
      if (this.body.finished) return;
      const parts = event.parts;
      const unit = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      let into: StoredObject | null = null;
      let kept = false;
      // Only a new request that sent its own header can be a restart (not one that stands behind).
      if (event.kind === 'chunk' && this.standby !== undefined && this.standbyHeader !== undefined && this.standby.end === undefined && (this.track as IngestTrack).restarts(event)) {
        this.restartInstead();
      }
      if (event.kind === 'header') {
        const track = this.ingest.track(this.path);
        if (track.sameHeader(unit) && this.standsBy(track)) {
          // A standby encoder restarted: its own decode times may start again.
          this.standbyHeader = { bytes: unit, init: event.init };
          (this.standby as Standby).restart();
        } else {
          this.leaveStandby();
          const owned = this.claim();
          if (!owned.sameHeader(unit)) this.refuseStandbys(owned);
          owned.takeHeader(unit, event.init);
        }
      } else if (event.kind === 'chunk' && this.standby !== undefined) {
        const reason = this.standby.check(event, this.path.track);
        if (reason !== undefined) {
          this.body.discharge(unit.byteLength, null);
          return this.body.fail(400, reason);
        }
        this.standby.chunk(unit, event);
        kept = true;
        const track = this.track as IngestTrack;
        if (track.owner === undefined || track.behind(this.standby)) this.promote(true);
      } else if (event.kind === 'chunk' && this.track === undefined && this.standsBy(this.ingest.find(this.path))) {
        // A redundant per-segment request (no header of its own): kept like any standby chunk.
        (this.standby as Standby).chunk(unit, event);
        kept = true;
      } else if (event.kind === 'chunk') {
        // Checked before taking the track over: media that cannot join it takes nothing.
        const known = this.track ?? this.ingest.find(this.path);
        const refusal = known === undefined ? { status: 412, reason: `track '${this.path.track}': a CMAF header must come before media` } : known.check(event);
        if (refusal !== undefined) {
          this.body.discharge(unit.byteLength, null);
          return this.body.fail(refusal.status, refusal.reason);
        }
        into = this.claim().chunk(unit, event);
      } else if (event.kind === 'data' && event.unit === 'chunk' && this.standby !== undefined) {
        this.standby.data(unit);
        kept = true;
      } else if (event.kind === 'data' && event.unit === 'chunk' && this.owns) {
        into = (this.track as IngestTrack).data(unit);
      }
      // Other boxes (mfra, a trailing free) are not part of any segment. A standby's are kept (and stay charged).
      if (!kept) this.body.discharge(unit.byteLength, into);
      if (this.standby !== undefined && this.standby.openBytes > this.ctx.maxObjectSize) {
        return this.body.fail(413, `segment larger than the limit of ${this.ctx.maxObjectSize} bytes`);
      }
      if (this.owns && (this.track as IngestTrack).openBytes > this.ctx.maxObjectSize) {
        return this.body.fail(413, `segment larger than the limit of ${this.ctx.maxObjectSize} bytes`);
      }
    }
  }

  end(): void {
    if (this.parser === undefined && this.heldBytes > 0) {
      // Fewer bytes than a box header: not CMAF.
      return this.body.fail(415, 'not CMAF: the body is shorter than a box header');
    }
    if (this.parser !== undefined) {
      let events: readonly ParseEvent[];
      try {
        events = this.parser.end();
      } catch (err) {
        return this.failParse(err);
      }
      this.publish(events);
      if (this.body.finished) return;
    }
    this.body.finish();
    // The push is over (a segment request, or the end of a long-running one): its segment is complete.
    if (this.standby !== undefined) {
      this.standby.closeSegment();
      // Nobody is live: what this one kept is better than nothing.
      if ((this.track as IngestTrack).owner === undefined) this.promote(false);
      else this.leaveStandby();
    }
    if (this.owns) {
      const track = this.track as IngestTrack;
      track.closeSegment();
      this.handOver(track, false);
    }
    if (this.ctx.lifecycle.draining) this.res.shouldKeepAlive = false;
    // An empty body is a probe of the endpoint (Interface-1, 7.1): 200 as well.
    sendEmpty(this.res, 200);
  }

  stop(reason: string): void {
    this.held = [];
    this.leaveStandby();
    if (!this.owns) return;
    const track = this.track as IngestTrack;
    track.abortSegment(reason);
    this.handOver(track, true);
  }

  private leaveStandby(): void {
    const standby = this.standby;
    if (standby === undefined) return;
    this.standby = undefined;
    this.track?.standbys.delete(this);
    standby.drop();
  }

  private failParse(err: unknown): void {
    if (!(err instanceof BoxStreamError)) return this.body.failUnexpected(err);
    this.publish(err.events);
    if (this.body.finished) return;
    this.body.fail(400, `malformed CMAF (${err.code}): ${err.message}`);
  }
}
