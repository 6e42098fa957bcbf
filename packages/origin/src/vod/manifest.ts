// The MPD DASH players get for an asset still being transcoded: static, for the source's whole
// duration, from the start. Pure: ffmpeg's dynamic MPD in, a static one out.
//
// ffmpeg's own MPD is dynamic while it runs, clocked from the transcode's start. A transcode
// faster than real time lists segments whose availability time is still in the future, and
// dash.js then waits without a request; once the MPD turns static, dash.js ends playback at
// what it has buffered. A static MPD that declares every segment by number (they all last the
// ladder's segment length, the last one shorter) has neither problem: players start at 0 and
// may seek at once. A segment not made yet is held by the origin as any missing object is,
// and ffmpeg opens each segment's upload when it starts it, so a player that catches up with
// the transcode reads the segment as it is written.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

// Values stay the text they were (a title "007" must not become 7).
const XML_OPTIONS = { preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, format: true, indentBy: '  ', suppressEmptyNode: true } as const;

/** A node of fast-xml-parser's ordered form: `{ Tag: children, ':@': attributes }`. */
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/** MPD attributes that only a dynamic presentation has. */
const DYNAMIC_ONLY = ['availabilityStartTime', 'publishTime', 'minimumUpdatePeriod', 'timeShiftBufferDepth', 'suggestedPresentationDelay', 'availabilityEndTime'];

/** Elements a static presentation has no use for: the live clock and latency targets. */
const DYNAMIC_ELEMENTS = new Set(['UTCTiming', 'ServiceDescription']);

const tagOf = (n: OrderedNode): string | undefined => Object.keys(n).find((k) => k !== ':@');

/**
 * ffmpeg's MPD (`dynamic`) rewritten as a static one of `seconds`, every SegmentTemplate
 * addressing segments by number with a fixed `segmentSeconds` (its SegmentTimeline dropped).
 * Undefined when the text is not an MPD with SegmentTemplates.
 *
 * @example
 * const text = staticVodMpd(ffmpegMpd, 60, 4); // type="static" mediaPresentationDuration="PT60S"
 */
export function staticVodMpd(mpd: string, seconds: number, segmentSeconds: number): string | undefined {
  if (!(seconds > 0) || !(segmentSeconds > 0)) return undefined;
  let doc: OrderedNode[];
  try {
    doc = new XMLParser(XML_OPTIONS).parse(mpd) as OrderedNode[];
  } catch {
    return undefined;
  }
  const root = doc.find((n) => tagOf(n) === 'MPD');
  if (root === undefined) return undefined;
  const attrs = (root[':@'] ??= {});
  for (const a of DYNAMIC_ONLY) delete attrs[`@_${a}`];
  attrs['@_type'] = 'static';
  attrs['@_mediaPresentationDuration'] = `PT${Number(seconds.toFixed(3))}S`;
  let templates = 0;
  const visit = (nodes: OrderedNode[]): OrderedNode[] =>
    nodes
      .filter((n) => !DYNAMIC_ELEMENTS.has(tagOf(n) ?? ''))
      .map((n) => {
        const tag = tagOf(n);
        if (tag === undefined || !Array.isArray(n[tag])) return n;
        if (tag === 'SegmentTemplate') {
          templates++;
          const t = (n[':@'] ??= {});
          const timescale = Number(t['@_timescale'] ?? 1);
          t['@_duration'] = String(Math.round(segmentSeconds * (timescale > 0 ? timescale : 1)));
          delete t['@_availabilityTimeOffset'];
          delete t['@_availabilityTimeComplete'];
          n[tag] = (n[tag] as OrderedNode[]).filter((c) => tagOf(c) !== 'SegmentTimeline');
          return n;
        }
        n[tag] = visit(n[tag] as OrderedNode[]);
        return n;
      });
  root.MPD = visit(root.MPD as OrderedNode[]);
  if (templates === 0) return undefined;
  return new XMLBuilder(XML_OPTIONS).build(doc) as string;
}
