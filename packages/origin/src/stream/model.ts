// The stream model: listens to the store and knows which object is which rendition's init or
// segment, with each chunk's offset, duration and independence. The one place that knows
// "streams": channels come from the MPDs encoders upload (see mpd.ts), chunks from the parser
// events the store hands to its listeners. A listener that throws costs one event, never an upload.
import { Parser, concat, parseInit, type ChunkInfo, type InitInfo, type ParseEvent } from 'boxstream';
import type { StoredObject } from '../store/object.js';
import type { ObjectStore, RemoveReason } from '../store/store.js';
import { Channel } from './channel.js';
import { readMpd } from './mpd.js';
import { Segment, type Rendition, type SegmentName } from './rendition.js';
import type { ChannelView, ChunkFact } from './types.js';

/** What a generated playlist URL names: a channel's multivariant playlist, or one rendition's media playlist. */
export interface PlaylistTarget {
  channel: Channel;
  rendition: Rendition | undefined;
}

/** The segment an object version is being built into. */
interface Building {
  object: StoredObject;
  channel: Channel;
  rendition: Rendition;
  segment: Segment;
  /** The last chunk closes the stream (`lmsg`). */
  last: boolean;
}

/** The read-only face of the stream model that the origin's API hands out. */
export interface StreamsView {
  /** Every channel, mapped or not. */
  channels(): ChannelView[];
  /** The channel of an MPD key (`/live/out.mpd`). */
  channel(mpdKey: string): ChannelView | undefined;
  /** Operators' view: renditions, live edge, last chunk time, ingest bitrate; what `/streams` answers. */
  status(): StreamStatus[];
}

/** One channel as `/streams` shows it. */
export interface StreamStatus {
  mpd: string;
  playlist: string;
  /** Why no playlist is generated (an MPD the origin cannot map), else undefined. */
  problem: string | undefined;
  ended: boolean;
  /** Every segment stays listed (a VOD asset); see `ChannelView.event`. */
  event: boolean;
  timing: Channel['timing'];
  renditions: {
    id: string;
    type: string;
    playlist: string;
    bandwidth: number | undefined;
    codecs: string | undefined;
    width: number | undefined;
    height: number | undefined;
    init: boolean;
    segments: number;
    /** Newest part: media sequence number and part index. */
    liveEdge: { msn: number; part: number } | undefined;
    /** ISO 8601 time the last chunk arrived. */
    lastChunkAt: string | undefined;
    /** Measured bits per second over the complete segments in the window. */
    ingestBitrate: number | undefined;
    partsOverTarget: number;
  }[];
}

export class StreamModel implements StreamsView {
  private readonly byMpd = new Map<string, Channel>();
  private readonly byPlaylist = new Map<string, PlaylistTarget>();
  private readonly building = new Map<StoredObject, Building>();
  private readonly listeners = new Set<(channel: Channel) => void>();

  constructor(
    private readonly store: ObjectStore,
    private readonly warn: (message: string) => void,
    /** With a disk tier, an object evicted from memory is still served (from its file). */
    private readonly hasDisk: boolean,
    /** Key prefixes whose channels keep every segment listed (VOD assets; see `ChannelView.event`). */
    private readonly eventPrefixes: readonly string[] = [],
  ) {
    store.on('create', this.onCreate);
    store.on('publish', this.onPublish);
    store.on('complete', this.onComplete);
    store.on('abort', this.onAbort);
    store.on('delete', this.onDelete);
    store.on('discard', this.onDiscard);
  }

  close(): void {
    this.store.off('create', this.onCreate);
    this.store.off('publish', this.onPublish);
    this.store.off('complete', this.onComplete);
    this.store.off('abort', this.onAbort);
    this.store.off('delete', this.onDelete);
    this.store.off('discard', this.onDiscard);
  }

  /** Called after every change to a channel's playlists (egress answers held playlist requests here). */
  onChange(listener: (channel: Channel) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  channels(): Channel[] {
    return [...this.byMpd.values()];
  }

  channel(mpdKey: string): Channel | undefined {
    return this.byMpd.get(mpdKey);
  }

  /** The channel (and rendition) a generated playlist key names. */
  playlistAt(key: string): PlaylistTarget | undefined {
    return this.byPlaylist.get(key);
  }

  /** The init a new upload of `key` should seed its parser with, when `key` is a known rendition's segment. */
  initFor(key: string): InitInfo | undefined {
    return this.renditionOf(key)?.rendition.init;
  }

  // --- store events -------------------------------------------------------------------------

  private readonly onCreate = (key: string, object: StoredObject): void => {
    if (object.state === 'complete') return this.available(key, object);
    if (object.kind === 'media') this.beginSegment(key, object);
  };

  private readonly onComplete = (key: string, object: StoredObject): void => {
    const building = this.building.get(object);
    if (building !== undefined) return this.endSegment(object, building);
    // Manifests complete before they become current ('create' follows): only current versions here.
    if (this.store.get(key) === object) this.available(key, object);
  };

  private readonly onPublish = (_key: string, object: StoredObject, unit: Uint8Array, event: ParseEvent | undefined): void => {
    const building = this.building.get(object);
    if (building === undefined || event === undefined) return;
    const segment = building.segment;
    if (event.kind === 'chunk') {
      this.takeChunk(building, event.info, object.length - unit.byteLength, event.complete ? unit.byteLength : undefined, false);
    } else if (event.kind === 'data' && event.unit === 'chunk' && event.last && segment.open !== undefined) {
      const open = segment.open;
      segment.open = undefined;
      this.addChunk(building, { offset: open.offset, size: object.length - open.offset, duration: open.duration, independent: open.independent }, undefined);
    }
  };

  private readonly onAbort = (_key: string, object: StoredObject): void => {
    const building = this.building.get(object);
    if (building !== undefined) this.leaveOut(object, building, undefined);
  };

  private readonly onDelete = (key: string, object: StoredObject, reason: RemoveReason): void => {
    const channel = this.byMpd.get(key);
    // An MPD evicted from memory is not a stream ending: the channel stays as it was.
    if (channel !== undefined) return reason === 'evict' ? undefined : this.removeChannel(channel);
    // Evicted from memory with a disk tier: still served, so still listed.
    if (reason === 'evict' && this.hasDisk) return;
    const found = this.renditionOf(key);
    if (found === undefined) return;
    const { channel: ch, rendition } = found;
    const i = rendition.indexOf(key, object.version);
    if (i < 0) return;
    this.building.delete(object);
    rendition.dropThrough(i);
    ch.version++;
    this.changed(ch);
  };

  /** A key the disk tier alone held is gone (DELETE or TTL): it leaves the model as a delete would. */
  private readonly onDiscard = (key: string): void => {
    const channel = this.byMpd.get(key);
    if (channel !== undefined) return this.removeChannel(channel);
    const found = this.renditionOf(key);
    if (found === undefined) return;
    const i = found.rendition.indexOf(key);
    if (i < 0) return;
    found.rendition.dropThrough(i);
    found.channel.version++;
    this.changed(found.channel);
  };

  // --- manifests and inits --------------------------------------------------------------------

  /** A complete object became current: an MPD to (re)read, or an init to learn. */
  private available(key: string, object: StoredObject): void {
    if (object.kind === 'manifest' && key.endsWith('.mpd')) return this.readManifest(key, object);
    if (object.kind !== 'init') {
      // A complete segment that arrived whole (loaded from disk, or before its MPD was read).
      if (object.kind === 'media') this.adopt(key, object);
      return;
    }
    for (const { channel, rendition } of this.renditionsWithInit(key)) {
      this.learnInit(channel, rendition, object);
    }
  }

  private readManifest(key: string, object: StoredObject): void {
    const text = Buffer.from(concat(object.units)).toString('utf8');
    const result = readMpd(text, key);
    let channel = this.byMpd.get(key);
    if (channel === undefined) {
      const base = key.slice(0, key.lastIndexOf('/') + 1);
      const event = this.eventPrefixes.some((p) => key.startsWith(p));
      channel = new Channel(key, key.slice(0, -'.mpd'.length) + '.m3u8', base, event);
      this.byMpd.set(key, channel);
      this.byPlaylist.set(channel.playlistKey, { channel, rendition: undefined });
    }
    if (!result.ok) {
      if (channel.problem !== result.reason) this.warn(`${key}: no LL-HLS playlists: ${result.reason}`);
      channel.problem = result.reason;
      channel.version++;
      this.changed(channel);
      return;
    }
    const before = new Set(channel.renditions);
    const added = channel.declare(result.manifest);
    for (const r of before) if (!channel.renditions.includes(r)) this.byPlaylist.delete(channel.base + decodeURIComponent(r.playlistUri));
    for (const r of channel.renditions) this.byPlaylist.set(channel.base + decodeURIComponent(r.playlistUri), { channel, rendition: r });
    // Objects that arrived before this MPD named them: inits, then segments in order.
    if (added.length > 0) this.adoptStored(channel, added);
    channel.settleEnd();
    this.changed(channel);
  }

  private learnInit(channel: Channel, rendition: Rendition, object: StoredObject): void {
    let init: InitInfo;
    const bytes = concat(object.units);
    try {
      init = parseInit(bytes);
    } catch (err) {
      this.warn(`${object.key}: not a usable init segment: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const previous = rendition.initBytes;
    rendition.init = init;
    rendition.initBytes = bytes;
    // A different init under the same name is a restarted (or reconfigured) encoder.
    if (previous !== undefined && Buffer.compare(previous, bytes) !== 0) rendition.initChanged = true;
    channel.fixTiming();
    this.changed(channel);
  }

  /** Stored objects a new rendition names: its init, then its segments in name order. */
  private adoptStored(channel: Channel, added: Rendition[]): void {
    for (const r of added) {
      const initKey = r.decl.initKey;
      const init = initKey === undefined ? undefined : this.store.get(initKey);
      if (init !== undefined && init.state === 'complete') this.learnInit(channel, r, init);
      const found: { key: string; name: SegmentName }[] = [];
      for (const key of this.store.keys()) {
        const name = r.decl.matchKey(key);
        if (name !== undefined) found.push({ key, name });
      }
      found.sort((a, b) => compareNames(a.name, b.name));
      for (const { key } of found) {
        const object = this.store.get(key);
        if (object !== undefined && object.kind === 'media' && object.state !== 'aborted') this.adopt(key, object);
      }
    }
  }

  /** A segment object the model has not followed from its first byte: its chunks are read again from its units. */
  private adopt(key: string, object: StoredObject): void {
    if (this.building.has(object)) return;
    const building = this.beginSegment(key, object);
    if (building === undefined) return;
    const parser = new Parser();
    parser.init = building.rendition.init;
    let at = 0;
    try {
      for (const unit of object.units) {
        for (const event of parser.push(unit)) this.onPublishAt(object, building, event, at + unit.byteLength);
        at += unit.byteLength;
      }
    } catch {
      return this.leaveOut(object, building, 'its bytes do not parse');
    }
    if (object.state === 'complete' && this.building.has(object)) this.endSegment(object, building);
  }

  /** Replays one parse event of an adopted object whose bytes up to `end` are published. */
  private onPublishAt(object: StoredObject, building: Building, event: ParseEvent, end: number): void {
    if (event.kind !== 'chunk' || !event.complete || !this.building.has(object)) return;
    this.takeChunk(building, event.info, end - event.size, event.size, true);
  }

  /**
   * A chunk event at `offset` of the segment: listed now when `size` is known, or held open until
   * its last data event (a chunk delivered in pieces). Left out when it has no durations.
   */
  private takeChunk(building: Building, info: ChunkInfo, offset: number, size: number | undefined, quiet: boolean): void {
    if (info.lastSegment) building.last = true;
    const facts = chunkFacts(info, building.rendition.init);
    if (facts === undefined) return this.leaveOut(building.object, building, 'a chunk without durations (no init for its track?)');
    if (size === undefined) building.segment.open = { offset, ...facts };
    else this.addChunk(building, { offset, size, ...facts }, info, quiet);
  }

  // --- segments -------------------------------------------------------------------------------

  private beginSegment(key: string, object: StoredObject): Building | undefined {
    const found = this.renditionOf(key);
    if (found === undefined) return undefined;
    const { channel, rendition } = found;
    const name = rendition.decl.matchKey(key);
    if (name === undefined) return undefined;
    // A re-upload of a key in the window: the newest segment again (a retry) takes its place;
    // an older one takes the segments before it along (their bytes are being replaced).
    const old = rendition.indexOf(key);
    if (old >= 0 && old === rendition.segments.length - 1) rendition.segments.pop();
    else if (old >= 0) rendition.dropThrough(old);
    const restarted = rendition.initChanged;
    rendition.initChanged = false;
    const { msn, discontinuity } = channel.numberSegment(rendition, name, restarted);
    const segment = new Segment(msn, key, channel.relative(key), discontinuity, object.version);
    rendition.push(segment);
    const building: Building = { object, channel, rendition, segment, last: false };
    this.building.set(object, building);
    return building;
  }

  private addChunk(building: Building, chunk: ChunkFact, info: ChunkInfo | undefined, quiet = false): void {
    const { channel, rendition, segment } = building;
    if (segment.chunks.length === 0) {
      const misfit = this.misfit(rendition, info);
      if (misfit !== undefined) return this.leaveOut(building.object, building, misfit);
      this.placeSegment(channel, rendition, segment, info);
    }
    segment.addChunk(chunk);
    rendition.lastChunkAt = Date.now();
    if (channel.timing !== undefined && chunk.duration > channel.timing.partTarget + 1e-6) rendition.partsOverTarget++;
    channel.fixTiming();
    channel.version++;
    if (!quiet) this.changed(channel);
  }

  /** Why a segment's first chunk cannot belong to its rendition (a track its init does not have). */
  private misfit(rendition: Rendition, info: ChunkInfo | undefined): string | undefined {
    const init = rendition.init;
    if (init === undefined || info === undefined) return undefined;
    for (const t of info.tracks) {
      if (!init.tracks.some((x) => x.trackId === t.trackId)) return `track ${t.trackId} is not in ${rendition.decl.initKey ?? 'its init'}`;
    }
    return undefined;
  }

  /** At its first chunk: the segment's decode time and wallclock (EXT-X-PROGRAM-DATE-TIME). */
  private placeSegment(channel: Channel, rendition: Rendition, segment: Segment, info: ChunkInfo | undefined): void {
    const track = info?.tracks[0];
    const timescale = track?.timescale ?? rendition.init?.tracks.find((t) => t.trackId === track?.trackId)?.timescale;
    const decode = track?.baseMediaDecodeTime !== undefined && timescale ? Number(track.baseMediaDecodeTime) / timescale : undefined;
    segment.decodeTime = decode ?? 0;
    // Decode time going back (or jumping ahead) without a restart of the numbering: the media
    // timeline is not continuous, and players must be told.
    const i = rendition.segments.indexOf(segment);
    const previous = i > 0 ? rendition.segments[i - 1] : undefined;
    if (previous !== undefined && decode !== undefined && !segment.discontinuity) {
      const expected = previous.decodeTime + previous.duration;
      if (Math.abs(decode - expected) > Math.max(0.5, previous.duration / 2)) segment.discontinuity = true;
    }
    if (segment.discontinuity) rendition.anchor = undefined;
    if (rendition.anchor === undefined && decode !== undefined) {
      const prft = info?.prft;
      let wallMs: number;
      if (prft !== undefined && timescale) wallMs = prft.wallclock + (decode - signed(prft.mediaTime) / timescale) * 1000;
      else if (channel.availabilityStartTime !== undefined) wallMs = channel.availabilityStartTime + (decode - rendition.decl.presentationTimeOffset / rendition.decl.timescale) * 1000;
      else wallMs = Date.now();
      rendition.anchor = { wallMs, decode };
    }
    const anchor = rendition.anchor;
    const pdt = anchor !== undefined && decode !== undefined ? anchor.wallMs + (decode - anchor.decode) * 1000 : Date.now();
    // A clock that makes no date (absurd prft or decode times) falls back to the arrival time.
    segment.programDateTime = Math.abs(pdt) < 8.64e15 ? pdt : Date.now();
  }

  private endSegment(object: StoredObject, building: Building): void {
    this.building.delete(object);
    const { channel, segment } = building;
    if (segment.chunks.length === 0) return this.leaveOut(object, building, undefined);
    segment.complete = true;
    if (building.last) channel.ended = true;
    channel.settleEnd();
    channel.fixTiming();
    channel.version++;
    this.changed(channel);
  }

  /** Drops a segment that cannot be listed; `why` is logged. */
  private leaveOut(object: StoredObject, building: Building, why: string | undefined): void {
    this.building.delete(object);
    const { channel, rendition, segment } = building;
    const i = rendition.segments.indexOf(segment);
    if (i >= 0) {
      // Only the newest segment can be left out without a hole: an older one takes the window before it along.
      if (i === rendition.segments.length - 1) rendition.segments.pop();
      else rendition.dropThrough(i);
    }
    if (why !== undefined) this.warn(`${segment.key}: left out of the playlist: ${why}`);
    channel.version++;
    this.changed(channel);
  }

  private removeChannel(channel: Channel): void {
    this.byMpd.delete(channel.mpdKey);
    this.byPlaylist.delete(channel.playlistKey);
    for (const r of channel.renditions) this.byPlaylist.delete(channel.base + decodeURIComponent(r.playlistUri));
    for (const [object, b] of this.building) if (b.channel === channel) this.building.delete(object);
    channel.renditions.length = 0;
    channel.ended = true;
    channel.version++;
    this.changed(channel);
  }

  // --- lookups --------------------------------------------------------------------------------

  /** The channel and rendition whose media template names `key`. */
  private renditionOf(key: string): { channel: Channel; rendition: Rendition } | undefined {
    for (const channel of this.byMpd.values()) {
      for (const rendition of channel.renditions) {
        if (rendition.decl.matchKey(key) !== undefined) return { channel, rendition };
      }
    }
    return undefined;
  }

  private *renditionsWithInit(key: string): Generator<{ channel: Channel; rendition: Rendition }> {
    for (const channel of this.byMpd.values()) {
      for (const rendition of channel.renditions) if (rendition.decl.initKey === key) yield { channel, rendition };
    }
  }

  private changed(channel: Channel): void {
    for (const listener of this.listeners) listener(channel);
  }

  status(): StreamStatus[] {
    return this.channels().map((c) => ({
      mpd: c.mpdKey,
      playlist: c.playlistKey,
      problem: c.problem,
      ended: c.ended,
      event: c.event,
      timing: c.timing,
      renditions: c.renditions.map((r) => {
        const last = r.segments[r.segments.length - 1];
        const withChunks = last !== undefined && last.chunks.length === 0 ? r.segments[r.segments.length - 2] : last;
        return {
          id: r.info.id,
          type: r.info.type,
          playlist: c.base + decodeURIComponent(r.playlistUri),
          bandwidth: r.info.bandwidth,
          codecs: r.info.codecs,
          width: r.info.width,
          height: r.info.height,
          init: r.init !== undefined,
          segments: r.segments.length,
          liveEdge: withChunks === undefined ? undefined : { msn: withChunks.msn, part: withChunks.chunks.length - 1 },
          lastChunkAt: r.lastChunkAt === undefined ? undefined : new Date(r.lastChunkAt).toISOString(),
          ingestBitrate: r.averageBandwidth === undefined ? undefined : Math.round(r.averageBandwidth),
          partsOverTarget: r.partsOverTarget,
        };
      }),
    }));
  }
}

/** Duration (seconds) and independence of a chunk, filling in timescales and trex flags from the init. */
function chunkFacts(info: ChunkInfo, init: InitInfo | undefined): { duration: number; independent: boolean } | undefined {
  let duration = info.duration;
  let independent = info.independent;
  if (duration === undefined || independent === undefined) {
    duration = undefined;
    independent = info.tracks.length > 0;
    for (const t of info.tracks) {
      const track = init?.tracks.find((x) => x.trackId === t.trackId);
      const timescale = t.timescale ?? track?.timescale;
      if (t.duration !== undefined && timescale) duration = Math.max(duration ?? 0, t.duration / timescale);
      const keyframe = t.keyframe ?? (track?.trex !== undefined ? (track.trex.sampleFlags & 0x00010000) === 0 : undefined);
      if (keyframe !== true) independent = false;
    }
  }
  if (duration === undefined || !(duration > 0)) return undefined;
  return { duration, independent };
}

/**
 * prft media_time is unsigned in ISO/IEC 14496-12, but ffmpeg writes an AAC track's priming
 * offset as a negative number in it (2^64 - 1024): read values past 2^63 as negative.
 */
function signed(value: bigint): number {
  return Number(value >= 1n << 63n ? value - (1n << 64n) : value);
}

function compareNames(a: SegmentName, b: SegmentName): number {
  if (a.number !== undefined && b.number !== undefined) return a.number - b.number;
  if (a.time !== undefined && b.time !== undefined) return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
  return 0;
}

