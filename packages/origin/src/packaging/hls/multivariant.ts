// A channel's multivariant playlist: one variant per video rendition (or per audio rendition when
// there is no video), audio renditions in one group that every video variant names.
import type { ChannelView, RenditionView } from '../../stream/types.js';
import { quoted } from './format.js';

const AUDIO_GROUP = 'audio';

/** The multivariant playlist of `channel`: BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION, FRAME-RATE, audio group. */
export function renderMultivariant(channel: ChannelView): string {
  const video = channel.renditions.filter((r) => r.info.type === 'video');
  const audio = channel.renditions.filter((r) => r.info.type === 'audio');
  const out = ['#EXTM3U', '#EXT-X-VERSION:9', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (video.length === 0) {
    // Audio only: each audio rendition is a variant of its own.
    for (const r of audio) out.push(streamInf(r, [], []), r.playlistUri);
  } else {
    audio.forEach((r, i) => out.push(audioMedia(r, i === 0)));
    const audioCodecs = unique(audio.map((r) => r.info.codecs));
    const audioPeak = Math.max(0, ...audio.map((r) => peak(r)));
    const audioAverage = Math.max(0, ...audio.map((r) => average(r)));
    for (const r of video) {
      const line = streamInf(r, audioCodecs, [audioPeak, audioAverage]);
      out.push(audio.length > 0 ? `${line},AUDIO=${quoted(AUDIO_GROUP)}` : line, r.playlistUri);
    }
  }
  out.push('');
  return out.join('\n');
}

/** Bits per second a player must budget: the larger of what the encoder declared and the largest segment measured. */
function peak(r: RenditionView): number {
  return Math.max(r.info.bandwidth ?? 0, r.peakBandwidth ?? 0);
}

function average(r: RenditionView): number {
  return r.averageBandwidth ?? r.info.bandwidth ?? 0;
}

function streamInf(r: RenditionView, extraCodecs: string[], [extraPeak, extraAverage]: number[]): string {
  const info = r.info;
  const attrs = [`BANDWIDTH=${Math.ceil(peak(r) + (extraPeak ?? 0))}`];
  const avg = average(r) + (extraAverage ?? 0);
  if (avg > 0) attrs.push(`AVERAGE-BANDWIDTH=${Math.ceil(avg)}`);
  const codecs = unique([info.codecs, ...extraCodecs]);
  if (codecs.length > 0) attrs.push(`CODECS=${quoted(codecs.join(','))}`);
  if (info.width !== undefined && info.height !== undefined) attrs.push(`RESOLUTION=${info.width}x${info.height}`);
  if (info.frameRate !== undefined) attrs.push(`FRAME-RATE=${info.frameRate.toFixed(3)}`);
  return `#EXT-X-STREAM-INF:${attrs.join(',')}`;
}

function audioMedia(r: RenditionView, isDefault: boolean): string {
  const info = r.info;
  const attrs = [`TYPE=AUDIO`, `GROUP-ID=${quoted(AUDIO_GROUP)}`, `NAME=${quoted(info.lang !== undefined ? `${info.lang} ${info.id}` : `audio ${info.id}`)}`];
  if (info.lang !== undefined) attrs.push(`LANGUAGE=${quoted(info.lang)}`);
  attrs.push(`DEFAULT=${isDefault ? 'YES' : 'NO'}`, 'AUTOSELECT=YES');
  if (info.channels !== undefined && /^\d+$/.test(info.channels)) attrs.push(`CHANNELS=${quoted(info.channels)}`);
  attrs.push(`URI=${quoted(r.playlistUri)}`);
  return `#EXT-X-MEDIA:${attrs.join(',')}`;
}

function unique(values: (string | undefined)[]): string[] {
  const seen: string[] = [];
  for (const v of values) if (v !== undefined && v !== '' && !seen.includes(v)) seen.push(v);
  return seen;
}
