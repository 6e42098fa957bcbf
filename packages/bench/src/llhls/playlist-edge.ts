// The little of a media playlist an LL-HLS reader needs: its newest part (media sequence number,
// index, URI and byte range) and whether the stream ended. One pass over the lines, no regex per
// line, so a thousand readers can afford it ten times a second.

export interface PlaylistEdge {
  msn: number;
  part: number;
  uri: string;
  offset: number;
  length: number;
  ended: boolean;
}

const PART = '#EXT-X-PART:';
const SEQUENCE = '#EXT-X-MEDIA-SEQUENCE:';
const SKIP = '#EXT-X-SKIP:SKIPPED-SEGMENTS=';

/** The newest EXT-X-PART of `text`, or undefined when it lists none. */
export function playlistEdge(text: string): PlaylistEdge | undefined {
  let msn = 0;
  let partIndex = -1;
  let edge: PlaylistEdge | undefined;
  let ended = false;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const c = text.charCodeAt(at);
    if (c === 35 /* # */) {
      if (text.startsWith(PART, at)) {
        partIndex++;
        const line = text.slice(at, end);
        const uri = /URI="([^"]*)"/.exec(line)?.[1] ?? '';
        const range = /BYTERANGE="(\d+)@(\d+)"/.exec(line);
        edge = { msn, part: partIndex, uri, length: range ? Number(range[1]) : -1, offset: range ? Number(range[2]) : 0, ended: false };
      } else if (text.startsWith(SEQUENCE, at)) {
        msn = Number(text.slice(at + SEQUENCE.length, end));
      } else if (text.startsWith(SKIP, at)) {
        msn += parseInt(text.slice(at + SKIP.length, end), 10);
      } else if (text.startsWith('#EXT-X-ENDLIST', at)) {
        ended = true;
      }
    } else if (end > at) {
      // A segment URI line: the next segment starts.
      msn++;
      partIndex = -1;
    }
    at = end + 1;
  }
  if (edge !== undefined) edge.ended = ended;
  return edge;
}
