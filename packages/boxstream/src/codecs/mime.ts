// The MIME type of a CMAF header's content, with its RFC 6381 codecs parameter.
import type { InitInfo } from '../init/moov.js';
import type { TrackInfo } from '../init/trak.js';

/**
 * `video/mp4; codecs="avc1.64001f,mp4a.40.2"`: what `MediaSource.isTypeSupported()` and
 * `addSourceBuffer()` take. `video/` when a track is video, `audio/` when all are audio,
 * `application/` otherwise; the codecs of the given tracks (all of them by default) in order,
 * duplicates once. Tracks without a codec string are left out.
 *
 * @example
 * const init = parseInit(initBytes);
 * const buffer = mediaSource.addSourceBuffer(mimeType(init));
 */
export function mimeType(init: InitInfo, tracks: readonly TrackInfo[] = init.tracks): string {
  const kind = tracks.some((t) => t.handler === 'vide')
    ? 'video'
    : tracks.length > 0 && tracks.every((t) => t.handler === 'soun')
      ? 'audio'
      : 'application';
  const codecs = [...new Set(tracks.map((t) => t.codecString).filter((c): c is string => c !== undefined))];
  return codecs.length === 0 ? `${kind}/mp4` : `${kind}/mp4; codecs="${codecs.join(',')}"`;
}
