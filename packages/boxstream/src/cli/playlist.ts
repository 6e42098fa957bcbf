// Just enough of an HLS playlist (RFC 8216bis) for `inspect URL` to follow a live stream: the
// variants of a multivariant playlist; the init (EXT-X-MAP), segments, parts and preload hint of a
// media playlist. Not a general parser: it reads only the tags it uses.

export interface MediaPlaylist {
  mediaSequence: number;
  targetDuration: number;
  /** EXT-X-SERVER-CONTROL CAN-BLOCK-RELOAD=YES: `_HLS_msn` requests are held until it exists. */
  canBlock: boolean;
  endList: boolean;
  /** EXT-X-MAP URI, as written. */
  map: string | undefined;
  segments: { msn: number; uri: string }[];
  /** The URI of the segment after the last listed one, when its parts are byte ranges of it. */
  nextUri: string | undefined;
}

/** Attributes of a tag line: `KEY=value,KEY="quoted, with commas"`. */
export function attributes(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out[m[1]] = m[2].startsWith('"') ? m[2].slice(1, -1) : m[2];
  return out;
}

/** The variant URIs of a multivariant playlist, in order (empty for a media playlist). */
export function variants(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('#EXT-X-STREAM-INF')) return;
    const uri = lines.slice(i + 1).find((l) => l.trim() !== '' && !l.startsWith('#'));
    if (uri) out.push(uri.trim());
  });
  return out;
}

/** Reads a media playlist. */
export function mediaPlaylist(text: string): MediaPlaylist {
  const p: MediaPlaylist = { mediaSequence: 0, targetDuration: 6, canBlock: false, endList: false, map: undefined, segments: [], nextUri: undefined };
  let partUri: string | undefined;
  let rangedParts = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      p.segments.push({ msn: p.mediaSequence + p.segments.length, uri: line });
      partUri = undefined;
      continue;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    if (tag === '#EXT-X-MEDIA-SEQUENCE') p.mediaSequence = Number(value);
    else if (tag === '#EXT-X-TARGETDURATION') p.targetDuration = Number(value);
    else if (tag === '#EXT-X-ENDLIST') p.endList = true;
    else if (tag === '#EXT-X-SERVER-CONTROL') p.canBlock = attributes(value)['CAN-BLOCK-RELOAD'] === 'YES';
    else if (tag === '#EXT-X-MAP') p.map = attributes(value).URI;
    else if (tag === '#EXT-X-PART' || tag === '#EXT-X-PRELOAD-HINT') {
      const a = attributes(value);
      if (tag === '#EXT-X-PRELOAD-HINT' && a.TYPE !== 'PART') continue;
      partUri = a.URI;
      rangedParts = a.BYTERANGE !== undefined || a['BYTERANGE-START'] !== undefined;
    }
  }
  // Parts after the last segment belong to the next one; when they are byte ranges of one
  // resource, that resource is the segment being written.
  if (partUri !== undefined && rangedParts) p.nextUri = partUri;
  return p;
}
