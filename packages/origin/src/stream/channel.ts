// One channel: the renditions an encoder's MPD declares, the media sequence numbering they share
// across encoder restarts, and the timing fixed once for the channel's life.
import type { ManifestDecl } from './mpd.js';
import { Rendition, type SegmentName } from './rendition.js';
import type { ChannelTiming, ChannelView } from './types.js';

/** Chunks each rendition must have (or one complete segment) before the channel's timing is fixed. */
const CHUNKS_BEFORE_TIMING = 3;
/** `$Time$` slots remembered: far more than a window lists. */
const MAX_TIME_SLOTS = 64;
/** `$Time$` starts this close (seconds) are one segment's, whatever the segment length. */
const SAME_START_SEC = 0.001;

/** Where a segment of an encoder run (epoch) starts, seconds, and the MSN it was given. */
interface TimeSlot {
  epoch: number;
  sec: number;
  msn: number;
}

export class Channel implements ChannelView {
  readonly renditions: Rendition[] = [];
  timing: ChannelTiming | undefined;
  ended = false;
  /** The MPD says the stream is over (static, or a final duration): it ends once its segments are in. */
  private endDeclared = false;
  /** Why the latest MPD cannot be mapped to playlists (nothing is generated then). */
  problem: string | undefined;
  /** MPD@availabilityStartTime, epoch ms: the stream's clock when chunks carry no prft. */
  availabilityStartTime: number | undefined;
  /** Bumped on every change a playlist shows: renders are cached per version. */
  version = 0;
  /** The encoder run (bumped when segment numbers or times go back). */
  epoch = 0;
  /** msn = $Number$ + offset in the current epoch (0 in the first: MSN is the segment number). */
  private offset = 0;
  /** First MSN of the current epoch. */
  private epochFirstMsn = 0;
  /**
   * `$Time$` templates: start (seconds, less the presentation time offset) and MSN of recent
   * segments, whichever rendition named them first, so every rendition numbers the segment
   * starting at a time alike: also one added later, or one whose window emptied.
   */
  private timeSlots: TimeSlot[] = [];
  /** The newest complete segment's duration seen, seconds (kept when the window empties). */
  private lastSpacing: number | undefined;
  /** Highest MSN given so far. */
  private maxMsn = -1;

  constructor(
    readonly mpdKey: string,
    readonly playlistKey: string,
    /** The channel's directory key, ending with '/': playlist URIs are relative to it. */
    readonly base: string,
    /** Keep every segment listed (see `ChannelView.event`). */
    readonly event = false,
  ) {}

  /** A rendition's key relative to the channel's directory, as a URI reference. */
  readonly relative = (key: string): string => {
    const rest = key.startsWith(this.base) ? key.slice(this.base.length) : key;
    return rest.split('/').map(encodeURIComponent).join('/');
  };

  /** Applies a new MPD: renditions are kept by id, added, or dropped. Returns the renditions added. */
  declare(manifest: ManifestDecl): Rendition[] {
    this.problem = undefined;
    this.availabilityStartTime = manifest.availabilityStartTime;
    this.endDeclared = manifest.ended;
    // A live MPD again makes the stream live; an ended one never un-ends it (an lmsg came first).
    if (!manifest.ended) this.ended = false;
    const added: Rendition[] = [];
    const next: Rendition[] = [];
    for (const decl of manifest.renditions) {
      let r = this.renditions.find((x) => x.decl.id === decl.id);
      if (r === undefined) {
        r = new Rendition(decl, this.playlistUriOf(decl.id), this.relative);
        r.epoch = this.epoch;
        if (this.event) r.windowLimit = Infinity;
        added.push(r);
      } else {
        r.redeclare(decl);
      }
      next.push(r);
    }
    this.renditions.splice(0, this.renditions.length, ...next);
    this.version++;
    return added;
  }

  /**
   * Ends the stream when its MPD said so: at once, except on an event channel (a VOD asset) whose
   * static MPD declares its last segment, written before its media while the asset is made: then
   * once that segment is in. A live encoder's final MPD may declare one segment more than some
   * rendition has (its duration runs to the longest track), so elsewhere it ends at once as before.
   * Call after segments come or go.
   */
  settleEnd(): void {
    if (this.endDeclared && !this.ended) this.ended = !this.event || this.renditions.every((r) => r.declaredLastIn);
  }

  /** `out_<id>.m3u8` beside the multivariant `out.m3u8`. */
  private playlistUriOf(id: string): string {
    const name = this.playlistKey.slice(this.base.length, -'.m3u8'.length);
    return encodeURIComponent(`${name}_${id}.m3u8`);
  }

  /**
   * The media sequence number of a new segment of `rendition` named `name`, and whether it
   * follows a restart (its number or time is not past the rendition's last one, or its init
   * changed). The first rendition to restart opens a new epoch; the others join it.
   */
  numberSegment(rendition: Rendition, name: SegmentName, restarted: boolean): { msn: number; discontinuity: boolean } {
    const last = rendition.lastName;
    // Strictly back: the same number again is a retry (or a re-upload) of that segment.
    const back =
      last !== undefined &&
      ((name.number !== undefined && last.number !== undefined && name.number < last.number) ||
        (name.time !== undefined && last.time !== undefined && name.time < last.time));
    const restart = back || restarted;
    if (restart) {
      if (this.epoch > rendition.epoch) {
        rendition.epoch = this.epoch;
      } else {
        this.epoch++;
        this.epochFirstMsn = this.maxMsn + 1;
        this.offset = name.number !== undefined ? this.epochFirstMsn - name.number : 0;
        rendition.epoch = this.epoch;
      }
    }
    const previous = rendition.segments[rendition.segments.length - 1];
    let msn: number;
    if (name.number !== undefined) msn = name.number + this.offset;
    else msn = this.numberByTime(rendition, name.time, restart);
    if (msn > this.maxMsn) this.maxMsn = msn;
    rendition.lastName = name;
    rendition.nextMsn = Math.max(rendition.nextMsn, msn + 1);
    // A gap in the numbering is a discontinuity too: what came between is missing.
    const gap = previous !== undefined && msn !== previous.msn + 1;
    return { msn, discontinuity: (restart && last !== undefined) || gap };
  }

  /**
   * The MSN of a `$Time$` segment: the slot of its encoder run nearest its start, moved by whole
   * segments (the same slot within half a segment: audio and video boundaries differ by a frame
   * or so). Before any segment's duration is known, arrival order, as at a stream's start.
   */
  private numberByTime(rendition: Rendition, time: bigint | undefined, restart: boolean): number {
    const epoch = rendition.epoch;
    const current = epoch === this.epoch;
    // A rendition still in an older run (the others restarted first) goes on in its own order.
    const arrival = restart || (current && rendition.nextMsn <= this.epochFirstMsn) ? this.epochFirstMsn : rendition.nextMsn;
    if (time === undefined) return arrival;
    const { presentationTimeOffset, timescale } = rendition.decl;
    const sec = (Number(time) - presentationTimeOffset) / timescale;
    let nearest: TimeSlot | undefined;
    for (const slot of this.timeSlots) {
      if (slot.epoch === epoch && (nearest === undefined || Math.abs(slot.sec - sec) < Math.abs(nearest.sec - sec))) nearest = slot;
    }
    const previous = rendition.segments[rendition.segments.length - 1];
    let msn = arrival;
    if (nearest !== undefined) {
      const off = sec - nearest.sec;
      // The nearest slot's own segment measures the step when it is complete (timelines vary).
      const own = this.completeDuration(nearest.msn);
      const length = own ?? this.segmentSpacing(rendition);
      if (Math.abs(off) < SAME_START_SEC) msn = nearest.msn; // the same start (a retry too)
      else if (own === undefined && off > 0 && nearest.msn === previous?.msn) msn = previous.msn + 1; // after its own open segment
      else if (length !== undefined) msn = nearest.msn + Math.round(off / length);
    }
    // A playlist's numbers never go back: not even after a restart that joins a run whose
    // numbers this rendition already passed (it carried on while the others restarted).
    if (previous !== undefined && previous.msn >= msn) msn = previous.msn + 1;
    if (current) msn = Math.max(msn, this.epochFirstMsn);
    if (nearest?.msn !== msn) {
      this.timeSlots.push({ epoch, sec, msn });
      if (this.timeSlots.length > MAX_TIME_SLOTS) this.timeSlots.shift();
    }
    return msn;
  }

  /** The duration of the complete segment numbered `msn` in any rendition, seconds. */
  private completeDuration(msn: number): number | undefined {
    for (const r of this.renditions) {
      for (const s of r.segments) {
        if (s.msn !== msn) continue;
        if (s.complete && s.duration > 0) return s.duration;
        break;
      }
    }
    return undefined;
  }

  /** Seconds between segment starts: the template's duration, else the newest complete segment's. */
  private segmentSpacing(rendition: Rendition): number | undefined {
    const { duration, timescale } = rendition.decl;
    if (duration !== undefined && duration > 0) return duration / timescale;
    for (const r of this.renditions) {
      for (let i = r.segments.length - 1; i >= 0; i--) {
        const s = r.segments[i];
        if (s.complete && s.duration > 0) return (this.lastSpacing = s.duration);
      }
    }
    return this.lastSpacing; // the window emptied: the spacing last seen
  }

  /**
   * Fixes the timing once every rendition has its init and a few chunks: PART-TARGET is the
   * longest chunk seen (rounded up to the millisecond), the target duration the longest of the
   * declared and complete segment durations. Players fail when either changes, so they never do.
   */
  fixTiming(): boolean {
    if (this.timing !== undefined) return true;
    if (this.renditions.length === 0) return false;
    let longestChunk = 0;
    let longestSegment = 0;
    for (const r of this.renditions) {
      if (r.init === undefined) return false;
      let chunks = 0;
      let completeSegment = false;
      for (const s of r.segments) {
        chunks += s.chunks.length;
        if (s.complete) {
          completeSegment = true;
          longestSegment = Math.max(longestSegment, s.duration);
        }
        for (const c of s.chunks) longestChunk = Math.max(longestChunk, c.duration);
      }
      if (chunks < CHUNKS_BEFORE_TIMING && !completeSegment) return false;
      // Without a declared duration (a SegmentTimeline), the first complete segment says it.
      if (r.decl.duration === undefined && !completeSegment) return false;
      const declared = r.decl.duration !== undefined ? r.decl.duration / r.decl.timescale : 0;
      longestSegment = Math.max(longestSegment, declared);
    }
    const partTarget = Math.ceil(longestChunk * 1000 - 1e-6) / 1000;
    const targetDuration = Math.max(1, Math.round(longestSegment));
    this.timing = { targetDuration, partTarget, partHoldBack: 3 * partTarget, skipUntil: 6 * targetDuration };
    this.version++;
    return true;
  }
}
