// The ladder for one source and the ffmpeg command that encodes it into the origin. Pure.
import type { VodProfile, VodSettings } from './options.js';
import { SOURCE_INPUT_OPTIONS, type SourceFacts } from './probe.js';

/** One video rendition to encode. */
export interface LadderRung {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
}

/** What a source becomes. */
export interface Ladder {
  video: LadderRung[];
  /** The source's display aspect ratio as `w/h`: every rung keeps it exactly (through its SAR). */
  aspect: string;
  /** Audio bitrate, kbit/s, or undefined for a source without audio. */
  audioKbps: number | undefined;
}

/** The nearest even number (H.264 in 4:2:0 wants even sizes). */
const even = (n: number): number => Math.max(2, 2 * Math.round(n / 2));

/**
 * The profiles at or below the source's height (never upscaled); a source smaller than every
 * profile gets one rendition at its own size with the smallest profile's bitrate.
 */
export function planLadder(settings: VodSettings, source: SourceFacts): Ladder {
  const aspect = source.width / source.height;
  const rung = (p: VodProfile, height: number): LadderRung => ({ name: p.name, height, width: even(height * aspect), videoKbps: p.videoKbps });
  let video = settings.profiles.filter((p) => p.height <= source.height).map((p) => rung(p, p.height));
  if (video.length === 0) {
    const smallest = settings.profiles[settings.profiles.length - 1];
    // Rounded down: never a pixel more than the source has.
    const height = Math.max(2, 2 * Math.floor(source.height / 2));
    video = [rung({ ...smallest, name: `${height}p` }, height)];
  }
  return { video, aspect: `${source.width}/${source.height}`, audioKbps: source.audioCodec !== undefined ? settings.audioKbps : undefined };
}

/**
 * ffmpeg's arguments: one decode, a scaler per rung (an even size, and a sample aspect ratio that
 * keeps the display aspect exact: the DASH muxer refuses an adaptation set whose ratios differ), x264 with a keyframe at every segment
 * boundary (so every rendition's segments align), AAC stereo, and the DASH muxer PUTting
 * init, segments and the MPD to `mpdUrl` (dynamic while it runs, static at the end). Progress
 * goes to stdout as key=value lines.
 */
export function transcodeArgs(settings: VodSettings, ladder: Ladder, source: string, mpdUrl: string): string[] {
  const n = ladder.video.length;
  const split = n > 1 ? `[0:v:0]split=${n}${ladder.video.map((_, i) => `[s${i}]`).join('')};` : '';
  const scalers = ladder.video.map((r, i) => `${n > 1 ? `[s${i}]` : '[0:v:0]'}scale=${r.width}:${r.height},setdar=${ladder.aspect}[v${i}]`).join(';');
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', ...SOURCE_INPUT_OPTIONS, '-i', source];
  args.push('-filter_complex', split + scalers);
  ladder.video.forEach((r, i) => {
    args.push('-map', `[v${i}]`, `-b:v:${i}`, `${r.videoKbps}k`, `-maxrate:v:${i}`, `${Math.round(r.videoKbps * 1.1)}k`, `-bufsize:v:${i}`, `${Math.round(r.videoKbps * 1.5)}k`);
  });
  const seg = settings.segmentSeconds;
  args.push('-c:v', 'libx264', '-preset', settings.preset, '-profile:v', 'high', '-pix_fmt', 'yuv420p');
  args.push('-force_key_frames', `expr:gte(t,n_forced*${seg})`, '-sc_threshold', '0');
  if (ladder.audioKbps !== undefined) args.push('-map', '0:a:0', '-c:a', 'aac', '-b:a', `${ladder.audioKbps}k`, '-ac', '2', '-ar', '48000');
  const sets = ladder.audioKbps !== undefined ? 'id=0,streams=v id=1,streams=a' : 'id=0,streams=v';
  args.push(
    '-f', 'dash',
    '-seg_duration', String(seg),
    // Players never see ffmpeg's dynamic MPD (they get a static one, vod/manifest.ts): a short
    // update period only keeps its minimumUpdatePeriod sane (ffmpeg's default is 500 s).
    '-update_period', String(Math.max(1, Math.round(seg))),
    '-use_template', '1',
    '-use_timeline', '1',
    '-adaptation_sets', sets,
    '-init_seg_name', 'init-$RepresentationID$.m4s',
    '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    '-method', 'PUT',
    '-http_persistent', '1',
    '-http_opts', 'auth_type=basic',
    mpdUrl,
  );
  return args;
}
