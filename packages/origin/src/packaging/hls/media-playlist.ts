// One rendition's LL-HLS media playlist (draft-pantos-hls-rfc8216bis): every CMAF chunk is an
// EXT-X-PART addressed as a byte range of the segment being written, so HLS players fetch the
// very bytes DASH players get. Pure: a channel in, text out.
import type { ChannelView, RenditionView, SegmentFact } from '../../stream/types.js';
import { dateTime, quoted, seconds } from './format.js';

/** The newest part a playlist lists: its parent's media sequence number and its index there. */
export interface LiveEdge {
  msn: number;
  part: number;
  /** True when that part ends its segment (the segment is complete). */
  segmentComplete: boolean;
}

/** Options of `renderMediaPlaylist`. */
export interface MediaPlaylistOptions {
  /** Answer a delta update (`_HLS_skip=YES`): segments older than the skip boundary become EXT-X-SKIP. */
  skip?: boolean;
}

/**
 * The segments a playlist lists: the window up to the first segment still being written (a
 * playlist has one segment in progress, the last; an encoder that opens the next segment before
 * the previous one ends shows it once that one ended), without one that has no chunk yet.
 */
export function listedSegments(rendition: RenditionView): readonly SegmentFact[] {
  const segments = rendition.segments;
  let end = 0;
  while (end < segments.length && segments[end].complete) end++;
  if (end < segments.length && segments[end].chunks.length > 0) end++;
  return end === segments.length ? segments : segments.slice(0, end);
}

/** The stream ended and this rendition has no segment still being written: EXT-X-ENDLIST. */
export function hasEnded(channel: ChannelView, rendition: RenditionView): boolean {
  if (!channel.ended) return false;
  for (const s of rendition.segments) if (!s.complete) return false;
  return true;
}

/** The last part of a rendition's playlist, or undefined when it lists none. */
export function liveEdge(rendition: RenditionView): LiveEdge | undefined {
  const listed = listedSegments(rendition);
  const last = listed[listed.length - 1];
  if (last === undefined) return undefined;
  return { msn: last.msn, part: last.chunks.length - 1, segmentComplete: last.complete };
}

/**
 * The media playlist of `rendition` in `channel`. The channel must have its timing (see
 * `ChannelView.timing`). Parts are listed for the segment being written and the complete ones
 * within 3 target durations of the live edge (RFC 8216bis 6.2.2); a delta update replaces the
 * complete segments older than the skip boundary with EXT-X-SKIP (6.2.5.1).
 */
export function renderMediaPlaylist(channel: ChannelView, rendition: RenditionView, options: MediaPlaylistOptions = {}): string {
  const timing = channel.timing;
  if (timing === undefined) throw new Error(`channel ${channel.mpdKey} has no timing yet`);
  const segments = listedSegments(rendition);
  const first = segments[0];
  const out: string[] = [
    '#EXTM3U',
    // 9: EXT-X-SKIP may be answered (RFC 8216bis 8); nothing else here needs more than 6.
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${timing.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(timing.partHoldBack)},CAN-SKIP-UNTIL=${seconds(timing.skipUntil)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(timing.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? rendition.nextMsn}`,
  ];
  const ended = hasEnded(channel, rendition);
  // Segments are only ever added (EVENT) until the last one is there (VOD: RFC 8216bis 4.4.3.5).
  if (channel.event) out.push(`#EXT-X-PLAYLIST-TYPE:${ended ? 'VOD' : 'EVENT'}`);
  if (rendition.discontinuitySequence > 0) out.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${rendition.discontinuitySequence}`);

  // Where the playlist ends, in seconds from the first segment's start: parts and skips are
  // decided by distance from there.
  let end = 0;
  for (const segment of segments) end += segment.duration;
  const partsFrom = end - 3 * timing.targetDuration;
  let skipped = 0;
  if (options.skip === true && !ended) {
    const boundary = end - timing.skipUntil;
    let at = 0;
    for (const segment of segments) {
      at += segment.duration;
      if (!segment.complete || at > boundary) break;
      skipped++;
    }
    if (skipped > 0) out.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  }

  const initUri = rendition.info.initUri;
  let at = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    at += segment.duration;
    if (i < skipped) continue;
    if (segment.discontinuity && i > 0) out.push('#EXT-X-DISCONTINUITY');
    // Before the first listed segment, and again after a discontinuity (a restarted encoder's
    // init may differ under the same name).
    if (initUri !== undefined && (i === skipped || segment.discontinuity)) out.push(`#EXT-X-MAP:URI=${quoted(initUri)}`);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${dateTime(segment.programDateTime)}`);
    if (!segment.complete || at >= partsFrom) writeParts(out, segment);
    if (segment.complete) out.push(`#EXTINF:${seconds(segment.duration)},`, segment.uri);
  }

  if (ended) {
    out.push('#EXT-X-ENDLIST');
  } else {
    const hint = preloadHint(rendition, segments, timing.partTarget);
    if (hint !== undefined) out.push(hint);
  }
  for (const other of channel.renditions) {
    if (other === rendition) continue;
    const edge = liveEdge(other);
    if (edge === undefined) continue;
    out.push(`#EXT-X-RENDITION-REPORT:URI=${quoted(other.playlistUri)},LAST-MSN=${edge.msn},LAST-PART=${edge.part}`);
  }
  out.push('');
  return out.join('\n');
}

function writeParts(out: string[], segment: SegmentFact): void {
  const uri = quoted(segment.uri);
  for (const chunk of segment.chunks) {
    const independent = chunk.independent ? ',INDEPENDENT=YES' : '';
    out.push(`#EXT-X-PART:DURATION=${seconds(chunk.duration)},URI=${uri},BYTERANGE="${chunk.size}@${chunk.offset}"${independent}`);
  }
}

/**
 * The next part: the rest of the segment being written (an open byte range from its end so far),
 * or the start of the next segment once the last one is complete, or about to be, and the
 * template can name it.
 */
function preloadHint(rendition: RenditionView, listed: readonly SegmentFact[], partTarget: number): string | undefined {
  const last = listed[listed.length - 1];
  const pending = rendition.segments[listed.length];
  if (last !== undefined && !last.complete) {
    // A segment that already lasts about as long as its segments do is about to end: its next
    // part will be the next segment's first. Hinting a range past its end would get a 416.
    const expected = rendition.info.segmentDuration ?? lastComplete(listed)?.duration;
    const ending = expected !== undefined && last.duration + partTarget / 2 >= expected;
    if (!ending || rendition.nextUri === undefined) return `#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(last.uri)},BYTERANGE-START=${last.size}`;
    return `#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(rendition.nextUri)}`;
  }
  // A segment that exists but has no chunk yet is the next one.
  if (pending !== undefined) return `#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(pending.uri)}`;
  if (rendition.nextUri !== undefined) return `#EXT-X-PRELOAD-HINT:TYPE=PART,URI=${quoted(rendition.nextUri)}`;
  return undefined;
}

function lastComplete(segments: readonly SegmentFact[]): SegmentFact | undefined {
  for (let i = segments.length - 1; i >= 0; i--) if (segments[i].complete) return segments[i];
  return undefined;
}
