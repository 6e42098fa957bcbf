// The input of the parser bench: a real fragmented MP4 made with ffmpeg on first use and kept in
// packages/bench/.cache/ (gitignored). Same ffmpeg build + same command = same bytes (bitexact,
// single-threaded x264, constant bitrate, fixed duration), so runs on one machine are comparable.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/bench, found from this file's own location. */
export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = join(benchDir, '.cache');

export interface Fixture {
  path: string;
  size: number;
  /** The ffmpeg command that made it (argv, ffmpeg first, output path last). */
  command: string[];
  /** True when this run generated it (false: it came from the cache). */
  generated: boolean;
}

/**
 * ffmpeg arguments for `seconds` of 1280x720 testsrc2 + a 440 Hz sine, x264 at a constant
 * 3.5 Mb/s, fragmented as `ftyp moov (moof mdat)* mfra` with one fragment per ~200 ms.
 * 60 s give ~27 MB and 300 chunks.
 */
export function ffmpegArgs(seconds: number, out: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency',
    '-x264-params', 'keyint=50:min-keyint=50:scenecut=0:nal-hrd=cbr',
    '-b:v', '3500k', '-minrate', '3500k', '-maxrate', '3500k', '-bufsize', '1750k', '-threads', '1',
    '-c:a', 'aac', '-b:a', '128k',
    '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-map_metadata', '-1',
    '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-frag_duration', '200000',
    '-f', 'mp4', out,
  ];
}

/** The fixture for a full run (60 s, ~27 MB) or for `--quick` (5 s, ~2.3 MB). */
export function ensureFixture(quick: boolean): Fixture {
  const seconds = quick ? 5 : 60;
  const ffmpeg = process.env.FFMPEG ?? 'ffmpeg';
  // The name carries a hash of the arguments: changing the command makes a new file.
  const id = createHash('sha256').update(ffmpegArgs(seconds, '').join(' ')).digest('hex').slice(0, 10);
  const path = join(cacheDir, `parser-${seconds}s-${id}.mp4`);
  const command = [ffmpeg, ...ffmpegArgs(seconds, path)];
  if (existsSync(path)) return { path, size: statSync(path).size, command, generated: false };

  mkdirSync(cacheDir, { recursive: true });
  // Written beside, then renamed: a concurrent or interrupted run never sees a partial file.
  const tmp = `${path}.${process.pid}.tmp.mp4`;
  const result = spawnSync(ffmpeg, ffmpegArgs(seconds, tmp), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`ffmpeg failed (${result.error?.message ?? `exit ${result.status}`}); set FFMPEG=/path/to/ffmpeg`);
  }
  renameSync(tmp, path);
  return { path, size: statSync(path).size, command, generated: true };
}
