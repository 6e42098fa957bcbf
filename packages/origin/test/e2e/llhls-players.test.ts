// The origin's own LL-HLS, played by real players: the README's ffmpeg command (unchanged but for
// the origin's address) and the 3 video + 2 audio tee ladder push LL-DASH; hls.js (low-latency
// mode, from the /player page) in Debian's Chromium plays the playlists the origin generates from
// the chunks, for 60 s each, and must hold a median live latency of 1.5 s or less with no stall
// and no error, loading parts (byte-range requests) rather than whole segments (a run that fails
// is played once more on a fresh page, and both are recorded: the machines are shared). Shaka Player
// plays the same LL-HLS at the same latency goal, and dash.js keeps playing ffmpeg's own MPD of
// the same stream.
// With BOXSTREAM_RECORD=1 the measurements go to packages/bench/results/llhls-players-latest.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from 'playwright-core';
import { createOrigin, type Origin, type OriginServer } from '../../src/index.js';
import {
  launchChromium,
  play,
  readmeFfmpegArgs,
  startEncoder,
  startFfmpeg,
  summarize,
  waitFor,
  type Browser,
  type Encoder,
  type PlayResult,
} from './helpers.js';

const HLS_SECONDS = 60;
const OTHER_SECONDS = 20;
const LATENCY_GOAL_SEC = 1.5;
/** Both streams here use 2 s segments. */
const SEGMENT_MS = 2000;
const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

let origin: Origin;
let running: OriginServer;
let browser: Browser;
let base: string;
const runs: Record<string, unknown>[] = [];

test.before(async () => {
  origin = createOrigin();
  running = await origin.listen(0, '127.0.0.1');
  base = running.url;
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  await running?.close(0);
  origin?.close();
  if (process.env.BOXSTREAM_RECORD === '1') writeReport();
});

const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v);

/** What a player's page asked the origin for, by kind. */
interface Requests {
  /** Byte-range GETs of media segments: LL-HLS parts (or a preload hint). */
  parts: number;
  /** Playlist GETs with a blocking-reload directive. */
  blocking: number;
  playlists: number;
}

function countRequests(page: Page, seen: Requests): void {
  page.on('request', (r: Request) => {
    const url = new URL(r.url());
    if (url.pathname.endsWith('.m3u8')) {
      seen.playlists++;
      if (url.searchParams.has('_HLS_msn')) seen.blocking++;
    } else if (/\.m4s$/.test(url.pathname) && r.headers().range !== undefined) {
      seen.parts++;
    }
  });
}

/**
 * Plays `manifest` with `player` for `seconds`. hls.js on LL-HLS must not stall at all
 * (`strict`); the other players may stall briefly, as long as the stalls add up to less than
 * one segment (what `players.test.ts` allows).
 */
async function judgePlay(name: string, manifest: string, player: 'hls' | 'shaka' | 'dash', seconds: number, encoder: Encoder, latencyCeiling: number, query = '', strict = player === 'hls'): Promise<{ failures: string[]; requests: Requests; result: PlayResult }> {
  const requests: Requests = { parts: 0, blocking: 0, playlists: 0 };
  let played: { page: Page; result: PlayResult } | undefined;
  const failures: string[] = [];
  try {
    played = await play(browser.context, `${base}/player?url=${encodeURIComponent(manifest)}&player=${player}${query}`, seconds, 30_000, (p) => countRequests(p, requests));
    const { result } = played;
    const { first, last, samples } = result;
    const latencies = samples.map((s) => s.latency).filter((l): l is number => typeof l === 'number');
    const latency = summarize(latencies);
    const advance = last.currentTime - first.currentTime;
    if (last.player !== player) failures.push(`the page played with ${last.player}`);
    if (last.errors.length > 0) failures.push(`player errors: ${last.errors.join('; ')}`);
    if (result.pageErrors.length > 0) failures.push(`page errors: ${result.pageErrors.join('; ')}`);
    const stalls = last.stalls - first.stalls;
    const stalledMs = last.stallMs - first.stallMs + (last.stalling ? last.longestStallMs : 0);
    if (strict ? stalls > 0 : stalledMs >= SEGMENT_MS) failures.push(`${stalls} stalls (${Math.round(stalledMs)} ms) in ${seconds} s`);
    if (latencies.length < samples.length) failures.push(`${samples.length - latencies.length} of ${samples.length} samples had no latency`);
    if (!(latency.median <= latencyCeiling)) failures.push(`median live latency ${latency.median.toFixed(3)} s (goal ${latencyCeiling} s)`);
    if (!(advance >= seconds * 0.9)) failures.push(`playback advanced ${advance.toFixed(2)} s in ${seconds} s`);
    if (!(last.width > 0)) failures.push('no video picture');
    if (encoder.exited()) failures.push(`ffmpeg exited during the run:\n${encoder.stderr()}`);
    runs.push({
      name,
      player,
      query,
      version: last.version,
      manifest,
      ok: failures.length === 0,
      failures,
      startupMs: result.startupMs,
      latencySec: { median: round(latency.median), worst: round(latency.worst), best: round(latency.best), samples: latencies.map(round) },
      latencySource: last.latencySource,
      targetLatencySec: last.targetLatency === null ? null : round(last.targetLatency),
      stalls,
      stalledMs: Math.round(stalledMs),
      requests: { ...requests },
      renditions: last.representations,
      droppedFrames: last.droppedFrames,
    });
    return { failures, requests, result };
  } finally {
    if (played) await Promise.race([played.page.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
}

/**
 * judgePlay for hls.js, once more on a fresh page when the first run failed: these machines are
 * shared, and a stall can come from a neighbour. A real regression fails both runs; the failures
 * of a first run that the second made good are kept in the record (`retriedAfter`).
 */
async function judgeHls(name: string, manifest: string, encoder: Encoder): Promise<{ failures: string[]; requests: Requests; result: PlayResult }> {
  const first = await judgePlay(name, manifest, 'hls', HLS_SECONDS, encoder, LATENCY_GOAL_SEC);
  const checked = hlsChecks(first);
  if (checked.length === 0) return first;
  process.stderr.write(`${name}: first run failed (${checked.join('; ')}), playing again on a fresh page\n`);
  const second = await judgePlay(`${name} (second run)`, manifest, 'hls', HLS_SECONDS, encoder, LATENCY_GOAL_SEC);
  const last = runs[runs.length - 1];
  last.retriedAfter = checked;
  return { ...second, failures: hlsChecks(second) };
}

/** What an hls.js run must show besides judgePlay's checks: low-latency mode, parts and blocking reloads really used. */
function hlsChecks(run: { failures: string[]; requests: Requests; result: PlayResult }): string[] {
  const failures = [...run.failures];
  if (run.result.last.lowLatency !== true) failures.push('hls.js was not in low-latency mode');
  if (run.requests.parts < HLS_SECONDS * 2) failures.push(`only ${run.requests.parts} part (byte-range) requests in ${HLS_SECONDS} s`);
  if (run.requests.blocking < HLS_SECONDS * 2) failures.push(`only ${run.requests.blocking} blocking playlist reloads in ${HLS_SECONDS} s`);
  return failures;
}

/** Waits for the generated multivariant playlist (it exists once every rendition has chunks). */
async function waitForPlaylist(path: string, encoder: Encoder): Promise<void> {
  await waitFor(
    () => {
      if (encoder.exited()) throw new Error(`ffmpeg exited:\n${encoder.stderr()}`);
      const channel = origin.streams.channel(path.replace(/\.m3u8$/, '.mpd'));
      return channel?.timing !== undefined;
    },
    20_000,
    `${path} to be generated`,
  );
}

test("the README's ffmpeg command: hls.js plays the generated LL-HLS at 1.5 s or less for 60 s, loading parts; Shaka plays it; dash.js plays ffmpeg's MPD", async () => {
  const encoder = startFfmpeg(readmeFfmpegArgs(base));
  try {
    await waitForPlaylist('/live/out.m3u8', encoder);
    const hls = await judgeHls('hls.js, README command', '/live/out.m3u8', encoder);
    assert.equal(hls.failures, [], hls.failures.join('\n'));

    // Shaka 5.2 at its own target, in low-latency mode: each segment read as one request streamed
    // as it is written, the playlist by a blocking reload for each next segment.
    const shaka = await judgePlay('Shaka Player, README command', '/live/out.m3u8', 'shaka', OTHER_SECONDS, encoder, LATENCY_GOAL_SEC);
    const segments = (OTHER_SECONDS * 1000) / SEGMENT_MS;
    if (shaka.requests.blocking < segments) shaka.failures.push(`only ${shaka.requests.blocking} blocking playlist reloads in ${OTHER_SECONDS} s`);
    assert.equal(shaka.failures, [], shaka.failures.join('\n'));

    const dash = await judgePlay("dash.js, ffmpeg's MPD of the same stream", '/live/out.mpd', 'dash', OTHER_SECONDS, encoder, 3);
    assert.equal(dash.failures, [], dash.failures.join('\n'));
  } finally {
    await encoder.stop();
  }
});

test("3 video + 2 audio through -f tee: hls.js plays the generated LL-HLS at 1.5 s or less for 60 s; dash.js plays ffmpeg's MPD with every rendition", async () => {
  const encoder = startEncoder({
    base,
    mpdPath: '/live/ladder/out.mpd',
    segmentSec: SEGMENT_MS / 1000,
    chunkSec: 0.2,
    video: [
      { width: 320, height: 180, kbps: 400 },
      { width: 256, height: 144, kbps: 250 },
      { width: 160, height: 90, kbps: 120 },
    ],
    audio: [{ kbps: 64 }, { kbps: 32 }],
    tee: true,
  });
  try {
    await waitForPlaylist('/live/ladder/out.m3u8', encoder);
    const hls = await judgeHls('hls.js, 3 video + 2 audio via -f tee', '/live/ladder/out.m3u8', encoder);
    const levels = hls.result.last.representations;
    if (levels?.video.length !== 3) hls.failures.push(`hls.js saw ${levels?.video.length} video levels`);
    if (levels?.audio.length !== 2) hls.failures.push(`hls.js saw ${levels?.audio.length} audio renditions`);
    assert.equal(hls.failures, [], hls.failures.join('\n'));

    const dash = await judgePlay("dash.js, ffmpeg's MPD of the ladder", '/live/ladder/out.mpd', 'dash', OTHER_SECONDS, encoder, 3);
    const reps = dash.result.last.representations;
    if (reps?.video.length !== 3) dash.failures.push(`dash.js saw ${reps?.video.length} video representations`);
    if (reps?.audio.length !== 2) dash.failures.push(`dash.js saw ${reps?.audio.length} audio representations`);
    if (dash.result.last.lowLatency !== true) dash.failures.push('dash.js did not switch to low-latency mode');
    assert.equal(dash.failures, [], dash.failures.join('\n'));
  } finally {
    await encoder.stop();
  }
});

function writeReport(): void {
  if (runs.length === 0) return;
  const data = {
    bench: 'llhls-players',
    at: new Date().toISOString(),
    command: 'BOXSTREAM_RECORD=1 npx uvu -r tsx test/e2e llhls-players (in packages/origin)',
    machine: { cpuCount: cpus().length, cpuModel: cpus()[0]?.model.trim(), loadAverage: loadavg().map(round), node: process.version },
    runs,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'llhls-players-latest.json');
  writeFileSync(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

test.run();
