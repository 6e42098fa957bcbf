// End-to-end helpers: ffmpeg pushing a live LL-DASH (+ HLS) stream into an in-process origin,
// Debian's Chromium driven by playwright-core, and the /player page's window.__stats sampled
// once a second. Every wait is bounded; everything started here is stopped by its owner.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { StoreView } from '../../src/index.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  // Several players play at once in tabs of one window: none may be throttled as a background tab.
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` until true; throws after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, ms: number, what: string, every = 50): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** Chromium with a fresh user data dir, removed on close. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: 30_000,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    async close() {
      await Promise.race([context.close().catch(() => {}), sleep(10_000)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One live encode. */
export interface Encoder {
  proc: ChildProcess;
  /** Everything ffmpeg wrote to stderr (warnings and errors only). */
  stderr(): string;
  /** `speed=` values from `-progress`, one per report (about every 0.5 s), as numbers. */
  speeds: number[];
  exited(): boolean;
  stop(): Promise<void>;
}

export interface StreamSpec {
  /** Origin base URL, http://127.0.0.1:PORT */
  base: string;
  /** Object path of the MPD, e.g. /live/e2e/out.mpd */
  mpdPath: string;
  segmentSec: number;
  chunkSec: number;
  /** Video renditions (width x height, kbit/s); audio renditions (kbit/s). */
  video: { width: number; height: number; kbps: number }[];
  audio: { kbps: number }[];
  /** Push through `-f tee` (the dash muxer as a tee slave) rather than `-f dash` directly. */
  tee?: boolean;
}

const FPS = 30;

/** The dash muxer options every run uses (REFERENCE.md's low-latency command, with a nested path). */
function dashOptions(s: StreamSpec): [string, string][] {
  return [
    ['seg_duration', String(s.segmentSec)],
    ['frag_type', 'duration'],
    ['frag_duration', String(s.chunkSec)],
    ['streaming', '1'],
    ['ldash', '1'],
    ['lhls', '1'],
    ['hls_playlist', '1'],
    ['window_size', '5'],
    ['extra_window_size', '5'],
    ['use_timeline', '0'],
    ['use_template', '1'],
    ['utc_timing_url', `${s.base}/time`],
    ['method', 'PUT'],
    ['http_persistent', '1'],
    ['write_prft', '1'],
    ['index_correction', '1'],
    ['adaptation_sets', 'id=0,streams=v id=1,streams=a'],
    ['init_seg_name', 'init-$RepresentationID$.m4s'],
    ['media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s'],
  ];
}

/** The ffmpeg argument list for a spec (exported so the report can show it). */
export function ffmpegArgs(s: StreamSpec): string[] {
  const gop = String(Math.round(s.segmentSec * FPS));
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${s.video[0].width}x${s.video[0].height}:rate=${FPS}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
  ];
  const multi = s.video.length > 1 || s.audio.length > 1;
  if (multi) {
    // One decode, scaled once per rendition.
    const scales = s.video.map((v, i) => `[s${i}]scale=${v.width}:${v.height}[v${i}]`).join(';');
    const split = `[0:v]split=${s.video.length}${s.video.map((_, i) => `[s${i}]`).join('')}`;
    args.push('-filter_complex', `${split};${scales}`);
    s.video.forEach((_, i) => args.push('-map', `[v${i}]`));
    s.audio.forEach(() => args.push('-map', '1:a'));
  } else {
    args.push('-map', '0:v', '-map', '1:a');
  }
  args.push(
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0',
  );
  s.video.forEach((v, i) => args.push(`-b:v:${i}`, `${v.kbps}k`, `-maxrate:v:${i}`, `${v.kbps}k`, `-bufsize:v:${i}`, `${v.kbps}k`));
  args.push('-c:a', 'aac', '-ac', '2');
  s.audio.forEach((a, i) => args.push(`-b:a:${i}`, `${a.kbps}k`));
  const options = dashOptions(s);
  const url = `${s.base}${s.mpdPath}`;
  if (s.tee) {
    // tee parses its argument twice with av_get_token: first split into slaves at '|', then
    // each slave's [key=value:...] options. Escape a value for the second pass (':' and ']'
    // end a value), then the whole slave for the first.
    const esc = (v: string, special: RegExp): string => v.replace(special, (c) => `\\${c}`);
    const opts = ['f=dash', 'strict=experimental', ...options.map(([k, v]) => `${k}=${esc(v, /[\\:'\]]/g)}`)].join(':');
    // tee does not ask encoders for global headers the way -f dash does: without them x264
    // puts SPS/PPS in-band only and the MPD says codecs="avc1", which browsers refuse.
    args.push('-flags:v', '+global_header', '-flags:a', '+global_header');
    args.push('-f', 'tee', esc(`[${opts}]${url}`, /[\\'|]/g));
  } else {
    args.push('-f', 'dash', '-strict', 'experimental');
    for (const [k, v] of options) args.push(`-${k}`, v);
    args.push(url);
  }
  return args;
}

export function startEncoder(spec: StreamSpec): Encoder {
  return startFfmpeg(ffmpegArgs(spec));
}

/**
 * The ffmpeg command of the repository README's "Push a live stream" section, as an argument
 * list, aimed at `base` instead of http://127.0.0.1:8080: the tests run what users copy.
 */
export function readmeFfmpegArgs(base: string): string[] {
  const readme = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
  const section = readme.slice(readme.indexOf('## Push a live stream'));
  const block = /```sh\n(ffmpeg [\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('no ffmpeg command under "## Push a live stream" in README.md');
  const words = shellWords(block.replace(/\\\n/g, ' '));
  return words.slice(1).map((w) => w.replaceAll('http://127.0.0.1:8080', base));
}

/** Splits a POSIX shell command line into words (single and double quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+?)(?=\s|'|"|$)|(\s+)/g;
  let word: string | undefined;
  for (const m of line.matchAll(re)) {
    if (m[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    word = (word ?? '') + (m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]));
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** ffmpeg with `args`, its stderr kept (bounded) and `-progress pipe:1` speeds parsed. */
export function startFfmpeg(args: string[]): Encoder {
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const speeds: number[] = [];
  let exited = false;
  proc.on('exit', () => (exited = true));
  proc.on('error', (e) => {
    exited = true;
    err += `spawn failed: ${e.message}\n`;
  });
  proc.stderr!.on('data', (b: Buffer) => {
    err += b;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  proc.stdout!.on('data', (b: Buffer) => {
    out += b;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl).trim();
      out = out.slice(nl + 1);
      const m = /^speed=\s*([\d.]+)x$/.exec(line);
      if (m) speeds.push(Number(m[1]));
    }
  });
  return {
    proc,
    stderr: () => err,
    speeds,
    exited: () => exited,
    async stop() {
      if (exited) return;
      proc.kill('SIGTERM');
      const gone = await Promise.race([new Promise<boolean>((r) => proc.once('exit', () => r(true))), sleep(3000).then(() => false)]);
      if (!gone && !exited) {
        proc.kill('SIGKILL');
        await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(3000)]);
      }
    },
  };
}

/** Waits until `key` is a complete object in the store (a manifest is complete once swapped in). */
export function waitForObject(store: StoreView, key: string, ms: number, encoder?: Encoder): Promise<void> {
  return waitFor(
    () => {
      if (encoder?.exited()) throw new Error(`ffmpeg exited before ${key} appeared:\n${encoder.stderr()}`);
      return store.get(key)?.state === 'complete';
    },
    ms,
    key,
  );
}

/** What the page exports on window.__stats (see src/player/client.ts). */
export interface PlayerStats {
  /** The page is waiting for a manifest that is not there yet (and how long it waited, ms). */
  waitingForStream: boolean;
  waitedMs: number;
  player: string | null;
  version: string | null;
  url: string | null;
  ready: boolean;
  started: boolean;
  playing: boolean;
  currentTime: number;
  latency: number | null;
  latencySource: string | null;
  targetLatency: number | null;
  edgeLatency: number | null;
  buffer: number;
  bitrate: number | null;
  audioBitrate: number | null;
  width: number;
  height: number;
  playbackRate: number;
  lowLatency: boolean | null;
  stalls: number;
  stallMs: number;
  longestStallMs: number;
  stalling: boolean;
  errors: string[];
  warnings: string[];
  droppedFrames: number;
  /** Video frames decoded so far (getVideoPlaybackQuality().totalVideoFrames). */
  frames: number;
  representations: { video: { id: string; bandwidth: number; width: number; height: number }[]; audio: unknown[] } | null;
  updatedAt: number;
}

export const readStats = (page: Page): Promise<PlayerStats> =>
  page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __stats: unknown }).__stats)) as PlayerStats);

/** One second's sample, relative to when playback started. */
export interface Sample {
  t: number;
  currentTime: number;
  latency: number | null;
  buffer: number;
  playbackRate: number;
  stalls: number;
  bitrate: number | null;
}

export interface PlayResult {
  startupMs: number;
  samples: Sample[];
  first: PlayerStats;
  last: PlayerStats;
  pageErrors: string[];
}

/**
 * Opens /player?url=… in a new page, waits (bounded) for playback to start, then samples
 * window.__stats once a second for `seconds`. The page is left open for the caller; `onPage`
 * sees it before it loads (to watch its requests).
 */
export async function play(context: BrowserContext, pageUrl: string, seconds: number, startTimeoutMs = 25_000, onPage?: (page: Page) => void): Promise<{ page: Page; result: PlayResult }> {
  const page = await context.newPage();
  onPage?.(page);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) pageErrors.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  const opened = Date.now();
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 15_000 });
  await waitFor(
    async () => {
      const s = await readStats(page);
      if (s.errors.length > 0) throw new Error(`player errors before playback started: ${s.errors.join('; ')}`);
      return s.started && s.currentTime > 0;
    },
    startTimeoutMs,
    `playback to start at ${pageUrl}`,
    200,
  );
  const startupMs = Date.now() - opened;
  const first = await readStats(page);
  const t0 = Date.now();
  const samples: Sample[] = [];
  let last = first;
  for (let i = 1; i <= seconds; i++) {
    await sleep(Math.max(0, t0 + i * 1000 - Date.now()));
    last = await readStats(page);
    samples.push({
      t: (Date.now() - t0) / 1000,
      currentTime: last.currentTime,
      latency: last.latency,
      buffer: last.buffer,
      playbackRate: last.playbackRate,
      stalls: last.stalls,
      bitrate: last.bitrate,
    });
  }
  return { page, result: { startupMs, samples, first, last, pageErrors } };
}

export function summarize(values: number[]): { median: number; worst: number; best: number; mean: number } {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  const median = v.length === 0 ? NaN : v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, worst: v[v.length - 1] ?? NaN, best: v[0] ?? NaN, mean: v.reduce((a, b) => a + b, 0) / (v.length || 1) };
}

/**
 * What a live run must show (strict: no stall at all): the player it asked for, no player or
 * page error, a latency in every sample with a median at most `latencyCeiling`, playback that
 * advanced at least 90% of `seconds`, and a picture. Empty when all holds.
 */
export function liveChecks(result: PlayResult, player: string, seconds: number, latencyCeiling: number): string[] {
  const { first, last, samples } = result;
  const failures: string[] = [];
  const latencies = samples.map((s) => s.latency).filter((l): l is number => typeof l === 'number');
  const latency = summarize(latencies);
  const advance = last.currentTime - first.currentTime;
  if (last.player !== player) failures.push(`the page played with ${last.player}`);
  if (last.errors.length > 0) failures.push(`player errors: ${last.errors.join('; ')}`);
  if (result.pageErrors.length > 0) failures.push(`page errors: ${result.pageErrors.join('; ')}`);
  const stalls = last.stalls - first.stalls;
  if (stalls > 0) failures.push(`${stalls} stalls (${Math.round(last.stallMs - first.stallMs)} ms) in ${seconds} s`);
  if (latencies.length < samples.length) failures.push(`${samples.length - latencies.length} of ${samples.length} samples had no latency`);
  if (!(latency.median <= latencyCeiling)) failures.push(`median live latency ${latency.median.toFixed(3)} s (goal ${latencyCeiling} s; worst ${latency.worst.toFixed(3)} s)`);
  if (!(advance >= seconds * 0.9)) failures.push(`playback advanced ${advance.toFixed(2)} s in ${seconds} s`);
  if (!(last.width > 0)) failures.push('no video picture');
  return failures;
}
