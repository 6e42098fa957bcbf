// GET and HEAD of the LL-HLS playlists generated from the stream model: the multivariant
// playlist beside the encoder's MPD and one media playlist per rendition, with blocking reloads
// and delta updates (RFC 8216bis 6.2.5). A held request is answered in the very turn the part it
// waits for is published, and each playlist version is rendered once and shared by every request.
import type { ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { whenDone } from '../http/lifetime.js';
import { countSent } from '../http/tally.js';
import { sendNotFound, sendText } from '../http/respond.js';
import type { Exchange } from '../http/router.js';
import { hasEnded, liveEdge, renderMediaPlaylist, renderMultivariant, type LiveEdge } from '../packaging/hls/index.js';
import type { Channel } from '../stream/channel.js';
import type { StreamModel } from '../stream/model.js';
import type { Rendition } from '../stream/rendition.js';
import type { StoredObject } from '../store/object.js';
import { handleRead } from './read.js';

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/** What a request's `_HLS_` query parameters ask for. */
export interface Directives {
  msn: number | undefined;
  part: number | undefined;
  skip: boolean;
}

/** Reads `_HLS_msn`, `_HLS_part` and `_HLS_skip` from a request target; a string is the reason for a 400. */
export function parseDirectives(target: string): Directives | string {
  const q = target.indexOf('?');
  const directives: Directives = { msn: undefined, part: undefined, skip: false };
  if (q < 0) return directives;
  const params = new URLSearchParams(target.slice(q + 1));
  const number = (name: string): number | undefined | string => {
    const v = params.get(name);
    if (v === null) return undefined;
    if (!/^\d{1,15}$/.test(v)) return `${name} must be a non-negative integer, got '${v}'`;
    return Number(v);
  };
  const msn = number('_HLS_msn');
  const part = number('_HLS_part');
  if (typeof msn === 'string') return msn;
  if (typeof part === 'string') return part;
  // RFC 8216bis 6.2.5.2: _HLS_part without _HLS_msn is a client error.
  if (part !== undefined && msn === undefined) return '_HLS_part requires _HLS_msn';
  const skip = params.get('_HLS_skip');
  if (skip !== null && skip !== 'YES' && skip !== 'v2') return `_HLS_skip must be YES or v2, got '${skip}'`;
  directives.msn = msn;
  directives.part = part;
  directives.skip = skip !== null;
  return directives;
}

/** One request held until its channel has timing, or its rendition has the part it asked for. */
interface Held {
  x: Exchange;
  channel: Channel;
  rendition: Rendition | undefined;
  directives: Directives;
  timer: NodeJS.Timeout;
  done: boolean;
  /** A plain load: not answered between segments, but at the next segment's first part (or as it is at the timeout). */
  betweenSegments: boolean;
}

/**
 * A GET for a `.m3u8` that is neither generated nor stored yet: a player may ask before the
 * encoder's MPD arrives. Held until a channel generates it, or an upload stores it (then it is
 * served as any object), or `holdMs` ends.
 */
interface Early {
  x: Exchange;
  timer: NodeJS.Timeout;
  done: boolean;
}

/** Renders of one playlist at one channel version, as bytes shared by every response. */
interface Rendered {
  version: number;
  full: Buffer | undefined;
  delta: Buffer | undefined;
}

/** Serves generated playlists; `route` plugs into the router before stored objects. */
export class PlaylistService {
  private readonly held = new Map<Channel, Set<Held>>();
  private heldCount = 0;
  private readonly renders = new WeakMap<object, Rendered>();
  private readonly early = new Map<string, Set<Early>>();

  constructor(
    private readonly ctx: OriginContext,
    private readonly model: StreamModel,
  ) {
    model.onChange(this.onChange);
  }

  /** Requests held right now (the leak tests watch this return to 0). */
  get holding(): number {
    let early = 0;
    for (const set of this.early.values()) early += set.size;
    return this.heldCount + early;
  }

  /** Answers GET/HEAD of a generated playlist; leaves everything else to the next route. */
  readonly route = (x: Exchange): boolean => {
    const { req, res, key } = x;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !key.endsWith('.m3u8')) return false;
    const target = this.model.playlistAt(key);
    if (target === undefined) {
      if (this.ctx.holdMs === 0 || this.ctx.store.get(key) !== undefined || this.ctx.disk?.lookup(key) !== undefined) return false;
      this.holdEarly(x);
      return true;
    }
    const { channel, rendition } = target;
    if (channel.problem !== undefined) {
      sendNotFound(res, `no LL-HLS playlist for this stream: ${channel.problem}`);
      return true;
    }
    const directives = parseDirectives(req.url ?? '');
    if (typeof directives === 'string') {
      sendText(res, 400, directives);
      return true;
    }
    if (channel.timing === undefined) {
      this.hold(x, channel, rendition, directives, this.ctx.holdMs);
      return true;
    }
    if (rendition !== undefined && !playable(channel, rendition)) {
      // Players take a live playlist without a complete segment for an empty one (hls.js: a
      // fatal levelEmptyError on its first load): it waits for the first segment to complete.
      this.hold(x, channel, rendition, directives, Math.max(this.ctx.holdMs, 3000 * channel.timing.targetDuration));
      return true;
    }
    if (rendition !== undefined && directives.msn === undefined && betweenSegments(channel, rendition)) {
      // A playlist that ends with a complete segment has only a hint for the next one: Shaka
      // (5.2) fails to load one ("reading 'match'"). A plain load (a player starting) waits for
      // the next segment's first part, which comes within a part target or two; an encoder
      // that pauses between segments costs it one target duration at most.
      this.hold(x, channel, rendition, directives, 1000 * channel.timing.targetDuration, true);
      return true;
    }
    if (rendition === undefined || hasEnded(channel, rendition) || directives.msn === undefined) {
      this.answer(x, channel, rendition, directives);
      return true;
    }
    const refusal = this.refusal(channel, rendition, directives);
    if (refusal !== undefined) {
      sendText(res, 400, refusal);
      return true;
    }
    if (this.satisfied(rendition, directives)) this.answer(x, channel, rendition, directives);
    // RFC 8216bis 6.2.5.2: a server SHOULD answer 503 after holding for 3 target durations.
    else this.hold(x, channel, rendition, directives, 3000 * channel.timing.targetDuration);
    return true;
  };

  /** 400 reasons of RFC 8216bis 6.2.5.2: an msn more than 2 past the last, or a part too far ahead. */
  private refusal(channel: Channel, rendition: Rendition, d: Directives): string | undefined {
    const edge = liveEdge(rendition);
    const msn = d.msn as number;
    if (edge === undefined) return undefined;
    if (msn > edge.msn + 2) return `_HLS_msn=${msn} is more than 2 past the last media sequence number ${edge.msn}`;
    const partTarget = (channel.timing as NonNullable<Channel['timing']>).partTarget;
    // The Advance Part Limit: 3 / PART-TARGET parts below 1 s targets, else 3.
    const limit = partTarget < 1 ? Math.ceil(3 / partTarget) : 3;
    const ahead = msn === edge.msn ? (d.part ?? 0) - edge.part : msn > edge.msn ? (d.part ?? 0) + 1 : 0;
    if (ahead > limit) return `_HLS_part=${d.part} of _HLS_msn=${msn} is more than ${limit} parts past the last part`;
    return undefined;
  }

  /** Whether the playlist now has what the directives wait for (part P of M, or segment M). */
  private satisfied(rendition: Rendition, d: Directives, edge = liveEdge(rendition)): boolean {
    if (d.msn === undefined) return true;
    if (edge === undefined) return false;
    if (edge.msn > d.msn) return true;
    if (edge.msn < d.msn) return false;
    // A part index past the parent's last part means part 0 of the next segment (6.2.5.2).
    return d.part === undefined ? edge.segmentComplete : edge.part >= d.part;
  }

  private hold(x: Exchange, channel: Channel, rendition: Rendition | undefined, directives: Directives, ms: number, between = false): void {
    if (this.heldCount >= this.ctx.maxReaders) {
      sendText(x.res, 503, 'too many held playlist requests', { 'Retry-After': '1' });
      return;
    }
    const held: Held = { x, channel, rendition, directives, timer: setTimeout(() => this.expire(held), ms), done: false, betweenSegments: between };
    let set = this.held.get(channel);
    if (set === undefined) this.held.set(channel, (set = new Set()));
    set.add(held);
    this.heldCount++;
    this.ctx.metrics.holds++;
    whenDone(x.req, x.res, () => this.release(held));
  }

  /** Turns `held` into a wait between segments: answered at the next part, or as it is after one target duration. */
  private waitBetweenSegments(held: Held, channel: Channel): void {
    held.betweenSegments = true;
    clearTimeout(held.timer);
    held.timer = setTimeout(() => this.expire(held), 1000 * (channel.timing as NonNullable<Channel['timing']>).targetDuration);
  }

  private release(held: Held): void {
    if (held.done) return;
    held.done = true;
    clearTimeout(held.timer);
    const set = this.held.get(held.channel);
    if (set !== undefined && set.delete(held)) {
      this.heldCount--;
      if (set.size === 0) this.held.delete(held.channel);
    }
  }

  private expire(held: Held): void {
    if (held.done) return;
    this.release(held);
    if (held.betweenSegments && held.channel.timing !== undefined && held.rendition !== undefined && playable(held.channel, held.rendition)) {
      // No next part came: the playlist as it is.
      try {
        this.answer(held.x, held.channel, held.rendition, held.directives);
      } catch (err) {
        sendText(held.x.res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
      return;
    }
    if (held.channel.timing === undefined) sendNotFound(held.x.res, 'no playlist yet: the stream has not published enough chunks');
    else if (held.rendition !== undefined && !playable(held.channel, held.rendition)) {
      sendText(held.x.res, 503, 'no complete segment yet', { 'Retry-After': '1' });
    } else sendText(held.x.res, 503, `_HLS_msn=${held.directives.msn} _HLS_part=${held.directives.part ?? ''} did not appear in time`, { 'Retry-After': '1' });
  }

  private holdEarly(x: Exchange): void {
    if (this.holding >= this.ctx.maxReaders) {
      sendText(x.res, 503, 'too many held playlist requests', { 'Retry-After': '1' });
      return;
    }
    const early: Early = { x, timer: setTimeout(() => this.leaveEarly(early) && sendNotFound(x.res), this.ctx.holdMs), done: false };
    let set = this.early.get(x.key);
    if (set === undefined) this.early.set(x.key, (set = new Set()));
    set.add(early);
    this.ctx.metrics.holds++;
    // An upload of the very key: served as a stored object.
    const waiter = {
      arrive: (_object: StoredObject): void => {
        if (this.leaveEarly(early)) handleRead(this.ctx, x.req, x.res, x.key, x.tally);
      },
    };
    this.ctx.store.wait(x.key, waiter);
    whenDone(x.req, x.res, () => {
      this.leaveEarly(early);
      this.ctx.store.unwait(x.key, waiter);
    });
  }

  /** Stops holding `early`; true when it was still held (the caller answers it). */
  private leaveEarly(early: Early): boolean {
    if (early.done) return false;
    early.done = true;
    clearTimeout(early.timer);
    const set = this.early.get(early.x.key);
    set?.delete(early);
    if (set?.size === 0) this.early.delete(early.x.key);
    return true;
  }

  /** A channel changed: answer the held requests it now satisfies, in this turn. */
  private readonly onChange = (channel: Channel): void => {
    if (this.early.size > 0) this.serveEarly();
    const set = this.held.get(channel);
    if (set === undefined) return;
    const gone = this.model.channel(channel.mpdKey) !== channel;
    // Each rendition's live edge once per change, not once per held request.
    const edges = new Map<Rendition, LiveEdge | undefined>();
    const edgeOf = (r: Rendition): LiveEdge | undefined => {
      if (!edges.has(r)) edges.set(r, liveEdge(r));
      return edges.get(r);
    };
    for (const held of set) {
      if (gone) {
        this.release(held);
        sendNotFound(held.x.res, 'the stream ended');
        continue;
      }
      if (channel.timing === undefined) continue;
      const { rendition, directives } = held;
      const ready =
        rendition === undefined || hasEnded(channel, rendition) || (playable(channel, rendition) && this.satisfied(rendition, directives, edgeOf(rendition)));
      if (!ready) continue;
      if (rendition !== undefined && directives.msn === undefined && betweenSegments(channel, rendition)) {
        // A plain load that waited for the channel's timing or its first segment now waits, one
        // target duration at most, for the next segment's first part (see route).
        if (!held.betweenSegments) this.waitBetweenSegments(held, channel);
        continue;
      }
      this.release(held);
      this.ctx.metrics.playlistHoldsAnswered++;
      // Runs on the uploader's stack: a failure must cost this request only.
      try {
        this.answer(held.x, channel, rendition, directives);
      } catch (err) {
        sendText(held.x.res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };

  /** Early requests whose playlist a channel now generates go through the route again. */
  private serveEarly(): void {
    for (const [key, set] of this.early) {
      if (this.model.playlistAt(key) === undefined) continue;
      for (const early of set) {
        if (!this.leaveEarly(early)) continue;
        // Runs on the uploader's stack: a failure must cost this request only.
        try {
          this.route(early.x);
        } catch (err) {
          sendText(early.x.res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }

  private answer(x: Exchange, channel: Channel, rendition: Rendition | undefined, d: Directives): void {
    const body = this.render(channel, rendition, d.skip && rendition !== undefined);
    const timing = channel.timing as NonNullable<Channel['timing']>;
    // A URL with directives names one playlist update: a CDN may keep it. Without, the playlist
    // changes every part: cache it for no more than about one part target.
    let cacheControl: string;
    if (rendition === undefined) cacheControl = this.ctx.cacheControl.manifest;
    else if (d.msn !== undefined) cacheControl = 'max-age=60';
    else cacheControl = timing.partTarget < 1 ? 'no-cache' : `max-age=${Math.floor(timing.partTarget)}`;
    send(x, body, cacheControl);
  }

  /** The playlist's bytes at the channel's current version: rendered once, shared by every request. */
  private render(channel: Channel, rendition: Rendition | undefined, delta: boolean): Buffer {
    const owner: object = rendition ?? channel;
    let cached = this.renders.get(owner);
    if (cached === undefined || cached.version !== channel.version) {
      cached = { version: channel.version, full: undefined, delta: undefined };
      this.renders.set(owner, cached);
    }
    if (delta) return (cached.delta ??= this.count(renderMediaPlaylist(channel, rendition as Rendition, { skip: true })));
    return (cached.full ??= this.count(rendition === undefined ? renderMultivariant(channel) : renderMediaPlaylist(channel, rendition)));
  }

  private count(text: string): Buffer {
    this.ctx.metrics.playlistRenders++;
    return Buffer.from(text);
  }
}

function send({ req, res }: Exchange, body: Buffer, cacheControl: string): void {
  const r: ServerResponse = res;
  r.writeHead(200, { 'Content-Type': PLAYLIST_TYPE, 'Content-Length': String(body.byteLength), 'Cache-Control': cacheControl });
  if (req.method === 'HEAD') return void r.end();
  countSent(r, body.byteLength);
  r.end(body);
}

/** The newest listed segment is complete and the stream goes on: the next one has no part yet. */
function betweenSegments(channel: Channel, rendition: Rendition): boolean {
  return !hasEnded(channel, rendition) && liveEdge(rendition)?.segmentComplete === true;
}

/**
 * A media playlist worth answering: not one whose only segment is its first, still being
 * written (an empty window, the encoder having deleted every segment, is answered as it is).
 */
function playable(channel: Channel, rendition: Rendition): boolean {
  if (rendition.segments.length === 0) return true;
  for (const s of rendition.segments) if (s.complete) return true;
  return hasEnded(channel, rendition);
}
