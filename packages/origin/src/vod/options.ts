// VOD settings: the ladder profiles, limits and tools, with their defaults. Pure.

/** One video rendition of the ladder. */
export interface VodProfile {
  /** Rendition name, shown in job status (e.g. `'720p'`). */
  name: string;
  /** Output height in pixels; the width follows the source's display aspect ratio (even). */
  height: number;
  /** Video bitrate, kbit/s (peak 1.1x, buffer 1.5x). */
  videoKbps: number;
}

/** Options of the VOD feature (`OriginOptions.vod`). It needs the disk tier (`dir`). */
export interface VodOptions {
  /** Video renditions, encoded only at or below the source's height. Default 1080p, 720p, 480p, 360p. */
  profiles?: readonly VodProfile[];
  /** Audio bitrate of the one AAC stereo rendition, kbit/s (when the source has audio). Default 128. */
  audioKbps?: number;
  /** Segment length, seconds (a keyframe starts each). Default 4. */
  segmentSeconds?: number;
  /** Largest upload, bytes; larger gets 413. Default 4 GiB. */
  maxUploadBytes?: number;
  /** Transcodes at once; the rest wait in order. Default 1. */
  maxJobs?: number;
  /** Jobs waiting (plus uploads in flight) beyond which uploads get 503. Default 16. */
  maxQueued?: number;
  /** The ffmpeg and ffprobe executables. Default `'ffmpeg'` and `'ffprobe'` from PATH. */
  ffmpeg?: string;
  ffprobe?: string;
  /** x264 preset. Default `'veryfast'`. */
  preset?: string;
}

/** The ladder most players and CDNs expect (bitrates for H.264 at 25-30 fps). */
export const DEFAULT_PROFILES: readonly VodProfile[] = [
  { name: '1080p', height: 1080, videoKbps: 5000 },
  { name: '720p', height: 720, videoKbps: 2800 },
  { name: '480p', height: 480, videoKbps: 1400 },
  { name: '360p', height: 360, videoKbps: 800 },
];

/** `VodOptions` after defaults and checks. */
export interface VodSettings {
  profiles: readonly VodProfile[];
  audioKbps: number;
  segmentSeconds: number;
  maxUploadBytes: number;
  maxJobs: number;
  maxQueued: number;
  ffmpeg: string;
  ffprobe: string;
  preset: string;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`vod.${name} must be a positive number, got ${value}`);
  return v;
}

/** Applies defaults and checks values. */
export function resolveVodOptions(options: VodOptions = {}): VodSettings {
  const profiles = options.profiles ?? DEFAULT_PROFILES;
  if (profiles.length === 0) throw new RangeError('vod.profiles must name at least one rendition');
  const names = new Set<string>();
  for (const p of profiles) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(p.name)) throw new RangeError(`vod.profiles: name '${p.name}' must be 1-32 letters, digits, '_' or '-'`);
    if (names.has(p.name)) throw new RangeError(`vod.profiles: name '${p.name}' is used twice`);
    names.add(p.name);
    if (!Number.isInteger(p.height) || p.height < 16 || p.height % 2 !== 0) throw new RangeError(`vod.profiles[${p.name}].height must be an even integer of at least 16, got ${p.height}`);
    positive(`profiles[${p.name}].videoKbps`, p.videoKbps, 0);
  }
  return {
    // Highest first: the first rendition is the one players start with when they know no better.
    profiles: [...profiles].sort((a, b) => b.height - a.height),
    audioKbps: positive('audioKbps', options.audioKbps, 128),
    segmentSeconds: positive('segmentSeconds', options.segmentSeconds, 4),
    maxUploadBytes: positive('maxUploadBytes', options.maxUploadBytes, 4 * 1024 ** 3),
    maxJobs: Math.floor(positive('maxJobs', options.maxJobs, 1)),
    maxQueued: Math.floor(positive('maxQueued', options.maxQueued, 16)),
    ffmpeg: options.ffmpeg ?? 'ffmpeg',
    ffprobe: options.ffprobe ?? 'ffprobe',
    preset: options.preset ?? 'veryfast',
  };
}
