// A live LL-DASH MPD for the tracks pushed to a publishing point (CMAF ingest): pure, tracks in,
// XML out. Number-addressed SegmentTemplate per track (`$RepresentationID$/$Number$.m4s`, number
// = floor(decode time / segment length)), availabilityTimeOffset for chunked delivery, UTCTiming
// to the origin's clock, a ServiceDescription with latency targets.
import type { InitInfo } from 'boxstream';

/** One track as the MPD declares it. */
export interface MpdTrack {
  /** Representation@id, and the directory its objects are under. */
  id: string;
  init: InitInfo;
  /** bits/s (Representation@bandwidth). */
  bandwidth: number;
  /** Frames per second of a video track, when known. */
  frameRate?: number;
  /** Segment length, seconds (SegmentTemplate@duration): segment n starts at n times it. */
  segmentSeconds: number;
}

/** Everything the MPD says. */
export interface LiveMpd {
  /** Wallclock of decode time 0, epoch ms (MPD@availabilityStartTime). */
  availabilityStartTime: number;
  /** epoch ms (MPD@publishTime). */
  publishTime: number;
  /** Longest chunk, seconds: a segment's first chunk is available this long after its start. */
  chunkSeconds: number;
  /** Seconds of segments kept for players that join behind the live edge. */
  timeShiftBufferDepth: number;
  tracks: readonly MpdTrack[];
  /** UTCTiming (http-xsdate) URL, or none. */
  utcTimingUrl: string | undefined;
  /**
   * Where the stream ended, seconds of the timeline, once every track sent its last segment
   * (`lmsg`): MPD@mediaPresentationDuration, and no MPD@minimumUpdatePeriod (no more updates).
   */
  endSeconds?: number;
}

/** A FrameRateType: an integer, or a fraction for NTSC-like rates (29.97 is 30000/1001). */
function frameRate(fps: number): string {
  if (Math.abs(fps - Math.round(fps)) < 0.001) return String(Math.round(fps));
  return `${Math.round(fps * 1001)}/1001`;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const iso = (ms: number): string => new Date(ms).toISOString();
const duration = (seconds: number): string => `PT${Number(seconds.toFixed(3))}S`;
const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => ` ${k}="${escape(String(v))}"`).join('');

/** Adaptation sets: the video tracks together (a ladder), audio by language, anything else alone. */
function adaptationSets(tracks: readonly MpdTrack[]): { type: string; lang: string | undefined; tracks: MpdTrack[] }[] {
  const sets = new Map<string, { type: string; lang: string | undefined; tracks: MpdTrack[] }>();
  for (const t of tracks) {
    const handler = t.init.tracks[0]?.handler;
    const type = handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : 'text';
    const lang = type === 'audio' ? t.init.tracks[0]?.language : undefined;
    const key = type === 'video' ? 'video' : type === 'audio' ? `audio:${lang}` : `other:${t.id}`;
    let set = sets.get(key);
    if (set === undefined) sets.set(key, (set = { type, lang, tracks: [] }));
    set.tracks.push(t);
  }
  return [...sets.values()];
}

function representation(t: MpdTrack, mpd: LiveMpd): string {
  const track = t.init.tracks[0];
  const timescale = track?.timescale || 1000;
  const video = track?.handler === 'vide';
  const audio = track?.handler === 'soun';
  const head = `      <Representation${attrs([
    ['id', t.id],
    ['mimeType', video ? 'video/mp4' : audio ? 'audio/mp4' : 'application/mp4'],
    ['codecs', track?.codecString],
    ['bandwidth', Math.max(1, Math.round(t.bandwidth))],
    ['width', video ? track?.width : undefined],
    ['height', video ? track?.height : undefined],
    ['frameRate', video && t.frameRate ? frameRate(t.frameRate) : undefined],
    ['audioSamplingRate', audio ? track?.sampleRate : undefined],
  ])}>`;
  const channels = audio && track?.channelCount
    ? `\n        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${track.channelCount}"/>`
    : '';
  const template = `\n        <SegmentTemplate${attrs([
    ['timescale', timescale],
    ['duration', Math.round(t.segmentSeconds * timescale)],
    ['startNumber', 0],
    ['presentationTimeOffset', 0],
    ['availabilityTimeOffset', Number(Math.max(0, t.segmentSeconds - mpd.chunkSeconds).toFixed(3))],
    ['availabilityTimeComplete', 'false'],
    ['initialization', '$RepresentationID$/init.mp4'],
    ['media', '$RepresentationID$/$Number$.m4s'],
  ])}/>`;
  return `${head}${channels}${template}\n      </Representation>`;
}

/**
 * The MPD text.
 *
 * @example
 * const xml = renderLiveMpd({ availabilityStartTime: ast, publishTime: Date.now(), chunkSeconds: 0.2,
 *   timeShiftBufferDepth: 60, tracks: [{ id: 'video', init, bandwidth: 3e6, segmentSeconds: 2 }], utcTimingUrl: '/time' });
 */
export function renderLiveMpd(mpd: LiveMpd): string {
  const longest = Math.max(...mpd.tracks.map((t) => t.segmentSeconds));
  const latencyTarget = Math.round(Math.max(1, 3 * mpd.chunkSeconds + 0.6) * 1000);
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<MPD${attrs([
      ['xmlns', 'urn:mpeg:dash:schema:mpd:2011'],
      ['profiles', 'urn:mpeg:dash:profile:isoff-live:2011,http://www.dashif.org/guidelines/low-latency-live-v5'],
      ['type', 'dynamic'],
      ['availabilityStartTime', iso(mpd.availabilityStartTime)],
      ['publishTime', iso(mpd.publishTime)],
      ['mediaPresentationDuration', mpd.endSeconds === undefined ? undefined : duration(mpd.endSeconds)],
      ['minimumUpdatePeriod', mpd.endSeconds === undefined ? duration(longest) : undefined],
      ['timeShiftBufferDepth', duration(mpd.timeShiftBufferDepth)],
      ['maxSegmentDuration', duration(longest * 2)],
      ['minBufferTime', duration(longest)],
    ])}>`,
    '  <ServiceDescription id="0">',
    `    <Latency target="${latencyTarget}" min="${Math.round(latencyTarget * 0.6)}" max="${latencyTarget * 3}"/>`,
    '    <PlaybackRate min="0.96" max="1.04"/>',
    '  </ServiceDescription>',
    '  <Period id="0" start="PT0S">',
  ];
  adaptationSets(mpd.tracks).forEach((set, i) => {
    lines.push(`    <AdaptationSet${attrs([['id', i], ['contentType', set.type], ['lang', set.lang === 'und' ? undefined : set.lang], ['segmentAlignment', 'true'], ['startWithSAP', 1]])}>`);
    for (const t of set.tracks) lines.push(representation(t, mpd));
    lines.push('    </AdaptationSet>');
  });
  lines.push('  </Period>');
  if (mpd.utcTimingUrl !== undefined) lines.push(`  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="${escape(mpd.utcTimingUrl)}"/>`);
  lines.push('</MPD>', '');
  return lines.join('\n');
}
