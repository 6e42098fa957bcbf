// DASH-IF Live Media Ingest (Interface-1) request paths: `<publishing point>/Streams(<track>)`,
// and the AWS Elemental forms `.../Streams(<track>)/InitializationSegment` and `/Segment(<n>)`.

/** Where a track push goes. */
export interface IngestPath {
  /** The publishing point: the key's directory before `Streams(`, with its trailing slash. */
  publishingPoint: string;
  /** The name inside `Streams()` as sent, e.g. `video-720p.cmfv`. */
  name: string;
  /** The track's id: the name without a CMAF/MP4 extension, e.g. `video-720p`. */
  track: string;
}

const STREAMS = /^(\/(?:[^/]+\/)*)Streams\(([^()/]*)\)(?:\/(?:InitializationSegment|Segment\(\d+\)))?$/;
const EXTENSION = /\.(cmfv|cmfa|cmft|cmfm|mp4|m4s|m4v|m4a)$/i;
const TRACK = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The ingest path `key` names: undefined when it is no `Streams(...)` path, `null` when it looks
 * like one but does not parse, or its track name cannot name objects (empty, or characters other
 * than letters, digits, `._-`).
 */
export function ingestPath(key: string): IngestPath | null | undefined {
  const m = STREAMS.exec(key);
  // Something like Streams() that does not parse is a mistaken ingest, not an object name.
  if (m === null) return key.includes('/Streams(') ? null : undefined;
  const track = m[2].replace(EXTENSION, '');
  if (!TRACK.test(track)) return null;
  return { publishingPoint: m[1], name: m[2], track };
}
