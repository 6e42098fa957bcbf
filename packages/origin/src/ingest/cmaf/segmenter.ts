// Where a track's segments start and what they are numbered: one Segmenter follows one encoder's
// chunks (the track's current one, and each redundant encoder on standby its own), so encoders fed
// the same timeline cut and number their segments alike.
import type { ChunkEvent } from 'boxstream';

/** A tolerance for decode times that land a hair before a slot boundary. */
const EPSILON = 1e-6;

/** Decode time of a chunk, seconds (undefined without tfdt or timescale). */
export function chunkSeconds(event: ChunkEvent): number | undefined {
  const t = event.info.tracks[0];
  if (t?.baseMediaDecodeTime === undefined || !t.timescale) return undefined;
  return Number(t.baseMediaDecodeTime) / t.timescale;
}

/**
 * Segments are numbered by their slot on the decode timeline: number = start / segment length,
 * so the MPD's number-addressed template (`duration` = the segment length, `startNumber` 0) names
 * them, and encoders fed the same timeline name them alike. The length is `defaultSeconds` for an
 * encoder that does not mark segments (a segment then starts at the first independent chunk of a
 * new slot); an encoder that marks them with `styp` gets the length of its first segment, and
 * each of its segments is one (numbered by the slot its start rounds to).
 */
export class Segmenter {
  /** Segment length, seconds; undefined until known (an encoder's marked segments: after its first). */
  segmentSeconds: number | undefined;
  /** The encoder marks segments with styp: only those start one. */
  private marked = false;
  /** Decode time of the open segment's first chunk; `null` when no segment is open. */
  private start: number | undefined | null = null;
  /** Decode time the open segment's newest chunk ends at. */
  private end: number | undefined;
  /** The segment `place` opened last starts where a segment starts (not forced open mid-way). */
  openedAtStart = false;

  constructor(private readonly defaultSeconds: number) {}

  /** A segmenter for another encoder of the same track: what this one learnt, no segment open. */
  fork(): Segmenter {
    const other = new Segmenter(this.defaultSeconds);
    other.inherit(this);
    return other;
  }

  /** Takes what `from` learnt (whether segments are marked, their length) where this one has not learnt it yet. */
  inherit(from: Segmenter): void {
    if (from.marked && !this.marked) {
      this.marked = true;
      this.segmentSeconds = undefined;
    }
    this.segmentSeconds ??= from.segmentSeconds;
  }

  /**
   * The number of the segment `event` opens, or undefined when it joins the open one. `open`:
   * it opens one whatever it is (its segment's object was not written to: a takeover, a cut).
   */
  place(event: ChunkEvent, open = false): number | undefined {
    if (event.info.segmentStart && !this.marked) {
      // Marked after all (a push that joined mid-segment saw no styp at first): the length is learnt, not assumed.
      this.marked = true;
      this.segmentSeconds = undefined;
    }
    const t = chunkSeconds(event);
    let number: number | undefined;
    // Opened by the rules (a new slot, a styp), rather than because no segment was open.
    const natural = this.start !== null && this.opens(event);
    if (open || this.opens(event)) {
      this.learn();
      if (!this.marked) this.segmentSeconds = this.defaultSeconds;
      this.start = t;
      const d = this.segmentSeconds ?? this.defaultSeconds;
      // Forced open: a segment start only if the chunk is one (styp), or (unmarked) an independent chunk on a slot boundary.
      const onBoundary = !this.marked && t !== undefined && event.info.independent !== false && Math.abs(t / d - Math.round(t / d)) < 1e-3;
      this.openedAtStart = natural || event.info.segmentStart === true || onBoundary;
      // Marked segments start on their slot, give or take: round. Cut ones are inside theirs: floor.
      number = t === undefined ? 0 : this.marked ? Math.round(t / d) : Math.floor(t / d + EPSILON);
    }
    this.end = t !== undefined && event.info.duration !== undefined ? t + event.info.duration : undefined;
    return number;
  }

  /** The open segment is complete: the next chunk opens one. */
  close(): void {
    this.learn();
    this.start = null;
  }

  /** The open segment was cut: the next chunk opens one (sent again, it has the same number). */
  abandon(): void {
    this.start = null;
  }

  /** Another encoder configuration: how it marks segments is learnt again. */
  reset(): void {
    this.start = null;
    this.marked = false;
    this.segmentSeconds = undefined;
  }

  /** A marked encoder's first segment says how long they are. */
  private learn(): void {
    const { start, end } = this;
    // Only from a whole segment: one joined in the middle is shorter than the encoder's.
    if (this.marked && this.segmentSeconds === undefined && this.openedAtStart && start !== null && start !== undefined && end !== undefined && end > start) {
      this.segmentSeconds = Math.round((end - start) * 1000) / 1000;
    }
  }

  private opens(event: ChunkEvent): boolean {
    if (this.start === null || event.info.segmentStart) return true;
    if (this.marked || event.info.independent === false) return false;
    // A new slot of the decode timeline.
    const d = this.defaultSeconds;
    const t = chunkSeconds(event);
    const start = this.start;
    return t !== undefined && start !== undefined && Math.floor(t / d + EPSILON) > Math.floor(start / d + EPSILON);
  }
}
