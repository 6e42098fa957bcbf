// What ffprobe says of an uploaded file: is it a video we can transcode, and its facts. Every
// packet is read (not decoded), so a truncated file is caught here, before anything is kept.
import { spawn } from 'node:child_process';
import { stderrLines } from './stderr.js';

/** The facts of a source the ladder needs. */
export interface SourceFacts {
  /** Seconds. */
  duration: number;
  /**
   * Seconds of the video stream, when the container says (the ladder's segments span it; the
   * audio may run a frame longer). Absent from records made before it was read.
   */
  videoDuration?: number;
  /** Display size after rotation and sample aspect ratio. */
  width: number;
  height: number;
  /** Frames per second (average). */
  frameRate: number | undefined;
  videoCodec: string;
  audioCodec: string | undefined;
  audioChannels: number | undefined;
}

/** The result of a probe: facts, or the reason the file is refused. */
export type ProbeResult = { ok: true; facts: SourceFacts } | { ok: false; reason: string };

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  channels?: number;
  nb_frames?: string;
  nb_read_packets?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

/**
 * The containers a source may be in. Never playlists or concat lists (HLS, DASH, ffconcat): an
 * uploaded text file naming `/etc/...` as its segment would read the origin's own files.
 */
export const SOURCE_FORMATS = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mpegts,avi,flv,asf,mpeg,mxf,ogg,dv,yuv4mpegpipe,h264,hevc';

/** Input options for ffprobe and ffmpeg: a local file, in one of SOURCE_FORMATS. */
export const SOURCE_INPUT_OPTIONS = ['-protocol_whitelist', 'file', '-format_whitelist', SOURCE_FORMATS];

/** Longest a probe may take, ms (reading every packet of a few GiB takes seconds). */
const PROBE_TIMEOUT_MS = 120_000;

/** Runs `ffprobe` on `file`. Never throws: a missing ffprobe is a reason too. */
export function probe(ffprobe: string, file: string): Promise<ProbeResult> {
  const args = ['-v', 'error', ...SOURCE_INPUT_OPTIONS, '-count_packets', '-show_format', '-show_streams', '-of', 'json', file];
  return new Promise((resolve) => {
    const child = spawn(ffprobe, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 8192) err += b.toString('utf8');
    });
    child.on('error', (e) => resolve({ ok: false, reason: `ffprobe could not run: ${e.message}` }));
    child.on('close', (code, signal) => {
      // The first complaints, one line, without the path of our temporary file.
      const said = stderrLines(err.split(file).join('the file')).slice(0, 3).join('; ');
      if (code !== 0) return resolve({ ok: false, reason: said || `ffprobe ended with ${signal ?? `exit code ${code}`}` });
      resolve(judge(Buffer.concat(out).toString('utf8'), said));
    });
  });
}

/** The facts from ffprobe's JSON, or why they do not make a video we can transcode. Pure. */
export function judge(json: string, complaints: string): ProbeResult {
  let parsed: { streams?: ProbeStream[]; format?: { duration?: string } };
  try {
    parsed = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'ffprobe gave no readable answer' };
  }
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (video === undefined || !(video.width! > 0) || !(video.height! > 0)) return { ok: false, reason: `no video stream${complaints ? ` (${complaints})` : ''}` };
  // Demuxing every packet stops early at a cut: fewer packets than the header promised.
  const promised = Number(video.nb_frames);
  const read = Number(video.nb_read_packets);
  if (/partial file/i.test(complaints) || (promised > 0 && read < promised)) {
    return { ok: false, reason: `the file is truncated (${read} of ${promised} video frames present${complaints ? `; ${complaints}` : ''})` };
  }
  const duration = Number(parsed.format?.duration);
  if (!(duration > 0)) return { ok: false, reason: 'the file has no duration' };
  const audio = streams.find((s) => s.codec_type === 'audio');
  let width = video.width!;
  let height = video.height!;
  const sar = ratio(video.sample_aspect_ratio);
  if (sar !== undefined && sar > 0) width = Math.round(width * sar);
  const rotation = Number(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0);
  if (Math.abs(rotation) % 180 === 90) [width, height] = [height, width];
  return {
    ok: true,
    facts: {
      duration,
      ...(Number(video.duration) > 0 ? { videoDuration: Number(video.duration) } : {}),
      width,
      height,
      frameRate: ratio(video.avg_frame_rate),
      videoCodec: video.codec_name ?? 'unknown',
      audioCodec: audio?.codec_name,
      audioChannels: audio?.channels,
    },
  };
}

/** `'30000/1001'` as a number; undefined for `'0/0'` and the like. */
function ratio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const [n, d] = text.split(/[/:]/).map(Number);
  const v = d === undefined ? n : n / d;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}
