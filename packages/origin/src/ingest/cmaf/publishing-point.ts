// A publishing point of CMAF ingest: its tracks, the clock that maps their decode times to
// wallclock, and the LL-DASH MPD generated for them (`<publishing point>manifest.mpd`), stored
// like an uploaded manifest, so the stream model reads it and the LL-HLS playlists follow
// (`manifest.m3u8`, `manifest_<track>.m3u8`).
import { samples, type ChunkEvent } from 'boxstream';
import type { OriginContext } from '../../context.js';
import { renderLiveMpd } from '../../packaging/dash/mpd.js';
import { IngestTrack } from './track.js';

/** Seconds of segments the MPD promises behind the live edge. */
const TIME_SHIFT_SECONDS = 60;

export class PublishingPoint {
  readonly tracks = new Map<string, IngestTrack>();
  /** Wallclock (epoch ms) of decode time 0, set by the first chunk; undefined until then. */
  private availabilityStartTime: number | undefined;
  /** The longest chunk seen, seconds. */
  private chunkSeconds = 0;
  private reanchor = false;

  constructor(
    private readonly ctx: OriginContext,
    readonly path: string,
    private readonly segmentSeconds: number,
  ) {}

  /** The longest chunk seen on any track, seconds. */
  get longestChunk(): number {
    return this.chunkSeconds;
  }

  get mpdKey(): string {
    return `${this.path}manifest.mpd`;
  }

  track(id: string): IngestTrack {
    let track = this.tracks.get(id);
    if (track === undefined) this.tracks.set(id, (track = new IngestTrack(this.ctx, this, id, this.segmentSeconds)));
    return track;
  }

  /** A track's chunk was published: the first one of a track puts it in the MPD. */
  chunked(track: IngestTrack, event: ChunkEvent, bytes: number): void {
    const t = event.info.tracks[0];
    const seconds = event.info.duration;
    let changed = false;
    if (seconds !== undefined && seconds > this.chunkSeconds + 0.001) {
      this.chunkSeconds = seconds;
      changed = this.availabilityStartTime !== undefined;
    }
    if ((this.availabilityStartTime === undefined || this.reanchor) && t?.baseMediaDecodeTime !== undefined && t.timescale) {
      const ast = anchor(event, t.timescale);
      // An encoder that restarted with its timestamps going on keeps the clock; one whose
      // timestamps started again moves it (its segment numbers start again too).
      if (this.availabilityStartTime === undefined || Math.abs(ast - this.availabilityStartTime) > 1000) {
        this.availabilityStartTime = ast;
        changed = true;
      }
      this.reanchor = false;
    }
    if (track.bandwidth === undefined && seconds) {
      // A first guess from one chunk, generous: it is refined when a segment completes.
      track.bandwidth = Math.ceil(((bytes * 8) / seconds) * 1.5);
      track.frameRate = frameRate(event);
      changed = true;
    }
    if (changed) this.write();
  }

  /**
   * A segment of `track` completed with `bytes` over `seconds`. The declared bandwidth only grows.
   * The MPD is written again every time, so it stays as fresh as the segments (manifests expire
   * with `ttlMs` like other objects) and says what a marked track's first segment taught.
   */
  segmentDone(track: IngestTrack, bytes: number, seconds: number | undefined): void {
    if (seconds !== undefined && seconds > 0) {
      const measured = Math.ceil(((bytes * 8) / seconds) * 1.1);
      if (track.bandwidth === undefined || measured > track.bandwidth) track.bandwidth = measured;
    }
    this.write();
  }

  /**
   * A track ended (its `lmsg` segment completed) or went on after ending: the MPD says where the
   * stream ends once every track with media ended (DASH-IF IOP's end of a live stream:
   * `mediaPresentationDuration`, no more updates); the LL-HLS playlists follow with ENDLIST.
   */
  trackEnded(): void {
    if (this.availabilityStartTime !== undefined) this.write();
  }

  /** A track's decode times may start again (a header): the next chunk may move the clock. */
  runStarted(): void {
    this.reanchor = true;
  }

  /** A track's header changed (another encoder configuration): its facts in the MPD too. */
  headerChanged(): void {
    if (this.availabilityStartTime !== undefined) this.write();
  }

  /** Renders the MPD from the tracks that have media and stores it as the manifest. */
  private write(): void {
    const ast = this.availabilityStartTime;
    if (ast === undefined) return;
    // A track is declared once its segment length is known (a marked one: after its first segment).
    const tracks = [...this.tracks.values()]
      .filter((t) => t.init !== undefined && t.bandwidth !== undefined && t.segmentSeconds !== undefined)
      .map((t) => ({ id: t.id, init: t.init!, bandwidth: t.bandwidth!, frameRate: t.frameRate, segmentSeconds: t.segmentSeconds! }));
    if (tracks.length === 0) return;
    const withMedia = [...this.tracks.values()].filter((t) => t.bandwidth !== undefined);
    const ends = withMedia.map((t) => t.endedAt);
    const endSeconds = ends.every((e): e is number => e !== undefined) ? Math.max(...ends) : undefined;
    const text = renderLiveMpd({
      endSeconds,
      availabilityStartTime: ast,
      publishTime: Date.now(),
      chunkSeconds: this.chunkSeconds || this.segmentSeconds,
      timeShiftBufferDepth: TIME_SHIFT_SECONDS,
      tracks,
      utcTimingUrl: this.ctx.timePath === false ? undefined : this.ctx.timePath,
    });
    const store = this.ctx.store;
    const object = store.create(this.mpdKey, { contentType: 'application/dash+xml', kind: 'manifest' });
    object.publish(Buffer.from(text));
    object.complete();
    store.insert(object);
  }
}

/**
 * Wallclock of decode time 0, from the encoder's own clock where it says it (`prft`), else from
 * now: the chunk just completed, so its last sample's end is live now.
 */
function anchor(event: ChunkEvent, timescale: number): number {
  const prft = event.info.prft;
  if (prft !== undefined && prft.trackId === event.info.tracks[0]?.trackId) {
    return prft.wallclock - (Number(prft.mediaTime) / timescale) * 1000;
  }
  const t = event.info.tracks[0];
  const end = Number(t.baseMediaDecodeTime) + (t.duration ?? 0);
  return Date.now() - (end / timescale) * 1000;
}

/** Frames per second of a video chunk (from its sample durations), when it is one. */
function frameRate(event: ChunkEvent): number | undefined {
  const init = event.info.init?.tracks.find((x) => x.trackId === event.info.tracks[0]?.trackId);
  if (init?.handler !== 'vide' || !init.timescale) return undefined;
  const first = samples(event).next();
  const d = first.done ? undefined : first.value.duration;
  return d ? init.timescale / d : undefined;
}
