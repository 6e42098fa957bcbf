// Real encoder in, real players out: ffmpeg pushes live LL-DASH (+ the HLS playlists it writes)
// into an in-process origin, and Debian's Chromium plays it from the origin's /player page with
// dash.js (low-latency mode) and hls.js. Each run plays for PLAY_SECONDS and fails on a stall
// longer than one segment, any player error, playback that does not advance, or a live latency
// above LATENCY_CEILING. With BOXSTREAM_RECORD=1, measured latencies go to
// packages/bench/results/players-latest.json (tests never write tracked files otherwise).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createOrigin, type Origin, type OriginServer } from '../../src/index.js';
import { locatePlayerLibs } from '../../src/player/assets.js';
import {
  ffmpegArgs,
  launchChromium,
  play,
  readStats,
  startEncoder,
  summarize,
  waitFor,
  waitForObject,
  type Browser,
  type Encoder,
  type PlayResult,
  type StreamSpec,
} from './helpers.js';

const SEGMENT_SEC = 2;
const CHUNK_SEC = 0.25;
const PLAY_SECONDS = 20;
/** Playback must advance at least this much over PLAY_SECONDS (catch-up may make it more). */
const MIN_ADVANCE_SEC = 15;
/** Generous: LL-DASH here holds about 2 s, hls.js (whole segments only) about 5-6 s. */
const LATENCY_CEILING_SEC = 10;
/** hls.js' non-fatal events that report a stall (counted by the page's stall detector). */
const STALL_EVENT = /^hls\.js mediaError\/(bufferStalledError|bufferNudgeOnStall)$/;
const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

let origin: Origin;
let running: OriginServer;
let browser: Browser;
let base: string;
const suiteStarted = Date.now();
const runs: Record<string, unknown>[] = [];

const SINGLE: Omit<StreamSpec, 'base' | 'mpdPath'> = {
  segmentSec: SEGMENT_SEC,
  chunkSec: CHUNK_SEC,
  video: [{ width: 320, height: 180, kbps: 300 }],
  audio: [{ kbps: 64 }],
};

test.before(async () => {
  origin = createOrigin();
  running = await origin.listen(0, '127.0.0.1');
  base = running.url;
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  await running?.close(0);
  if (process.env.BOXSTREAM_RECORD === '1') writeReport();
});

interface Checked {
  name: string;
  result: PlayResult;
  encoder: Encoder;
  spec: StreamSpec;
}

/** The measurements of one run, recorded whether or not its assertions pass. */
function record({ name, result, encoder, spec }: Checked, failures: string[], pdtTruncationSec?: number): Record<string, unknown> {
  const reported = result.samples.map((s) => s.latency).filter((l): l is number => typeof l === 'number');
  // hls.js measures against EXT-X-PROGRAM-DATE-TIME, which ffmpeg writes in whole seconds
  // (the stream's start time truncated): take the truncation off to get the wall-clock latency.
  const latencies = pdtTruncationSec === undefined ? reported : reported.map((l) => l - pdtTruncationSec);
  const lat = summarize(latencies);
  const speeds = encoder.speeds.slice(4); // the first reports include start-up
  const run = {
    name,
    ok: failures.length === 0,
    failures,
    player: result.last.player,
    playerVersion: result.last.version,
    url: result.last.url,
    latencySource: result.last.latencySource,
    segmentSec: spec.segmentSec,
    chunkSec: spec.chunkSec,
    renditions: { video: spec.video, audio: spec.audio, tee: spec.tee === true },
    startupMs: result.startupMs,
    playedSec: result.samples.length,
    advanceSec: round(result.last.currentTime - result.first.currentTime),
    latencySec: { median: round(lat.median), worst: round(lat.worst), best: round(lat.best), mean: round(lat.mean), samples: latencies.map(round) },
    ...(pdtTruncationSec === undefined
      ? {}
      : { pdtTruncationSec: round(pdtTruncationSec), latencyAsReportedSec: { median: round(summarize(reported).median), worst: round(summarize(reported).worst) } }),
    targetLatencySec: result.last.targetLatency === null ? null : round(result.last.targetLatency),
    lowLatencyMode: result.last.lowLatency,
    stalls: result.last.stalls - result.first.stalls,
    stalledMs: Math.round(result.last.stallMs - result.first.stallMs),
    longestStallMs: Math.round(result.last.longestStallMs),
    errors: result.last.errors,
    warnings: result.last.warnings,
    pageErrors: result.pageErrors,
    bufferSec: summarize(result.samples.map((s) => s.buffer)),
    bitrates: [...new Set(result.samples.map((s) => s.bitrate))],
    playerRenditions: result.last.representations,
    droppedFrames: result.last.droppedFrames,
    framesDecoded: result.last.frames - result.first.frames,
    ffmpegSpeed: speeds.length ? { min: Math.min(...speeds), median: summarize(speeds).median, reports: speeds.length } : null,
    ffmpeg: ['ffmpeg', ...ffmpegArgs(spec)].join(' '),
  };
  runs.push(run);
  return run;
}

const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v);

/** The assertions every run makes; returns what failed (empty when everything held). */
function judge(c: Checked): string[] {
  const { result, encoder, spec } = c;
  const failures: string[] = [];
  const { first, last, samples } = result;
  const advance = last.currentTime - first.currentTime;
  if (samples.length < PLAY_SECONDS) failures.push(`played ${samples.length} s, wanted ${PLAY_SECONDS}`);
  // The picture, not only the sound: frames were decoded at (nearly) the stream's rate.
  const frames = last.frames - first.frames;
  if (!(last.width > 0 && last.height > 0)) failures.push(`no video picture (${last.width}x${last.height})`);
  if (!(frames >= advance * 30 * 0.9)) failures.push(`${frames} video frames decoded in ${advance.toFixed(2)} s of playback`);
  if (!(advance >= MIN_ADVANCE_SEC)) failures.push(`playback advanced ${advance.toFixed(2)} s in ${PLAY_SECONDS} s`);
  if (last.errors.length > 0) failures.push(`player errors: ${last.errors.join('; ')}`);
  // hls.js reports its stalls as non-fatal error events too: those are judged as stalls below;
  // any other error event fails the run.
  const otherEvents = last.warnings.filter((w) => !STALL_EVENT.test(w));
  if (otherEvents.length > 0) failures.push(`player error events: ${otherEvents.join('; ')}`);
  if (result.pageErrors.length > 0) failures.push(`page errors: ${result.pageErrors.join('; ')}`);
  // Stalls: none may last a segment, and together they may not add up to one either.
  const segmentMs = spec.segmentSec * 1000;
  if (last.longestStallMs >= segmentMs) failures.push(`a stall lasted ${Math.round(last.longestStallMs)} ms (segment: ${segmentMs} ms)`);
  const stalledMs = last.stallMs - first.stallMs + (last.stalling ? last.longestStallMs : 0);
  if (stalledMs >= segmentMs) failures.push(`${last.stalls - first.stalls} stalls, ${Math.round(stalledMs)} ms stalled in ${PLAY_SECONDS} s`);
  const missing = samples.filter((s) => typeof s.latency !== 'number').length;
  if (missing > 0) failures.push(`${missing} of ${samples.length} samples had no live latency`);
  const worst = Math.max(...samples.map((s) => (typeof s.latency === 'number' ? s.latency : Infinity)));
  if (!(worst <= LATENCY_CEILING_SEC)) failures.push(`live latency reached ${worst.toFixed(2)} s (ceiling ${LATENCY_CEILING_SEC} s)`);
  if (encoder.exited()) failures.push(`ffmpeg exited during the run:\n${encoder.stderr()}`);
  return failures;
}

async function withStream(spec: Omit<StreamSpec, 'base' | 'mpdPath'>, dir: string, run: (s: StreamSpec, encoder: Encoder) => Promise<void>): Promise<void> {
  const full: StreamSpec = { ...spec, base, mpdPath: `${dir}/out.mpd` };
  const encoder = startEncoder(full);
  try {
    await waitForObject(origin.store, full.mpdPath, 15_000, encoder);
    await run(full, encoder);
  } finally {
    await encoder.stop();
  }
}

const objectText = (key: string): string => {
  const o = origin.store.get(key);
  return o === undefined ? '' : Buffer.concat(o.units).toString('utf8');
};

/**
 * How far ffmpeg's EXT-X-PROGRAM-DATE-TIME (whole seconds) lies before the MPD's
 * availabilityStartTime (milliseconds) for the same segments: segment n starts at
 * availabilityStartTime + (n - 1) * segment duration.
 */
function pdtTruncation(dir: string, segmentSec: number): number {
  const ast = /availabilityStartTime="([^"]+)"/.exec(objectText(`${dir}/out.mpd`))?.[1];
  const playlist = objectText(`${dir}/media_0.m3u8`);
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
  const pdt = /#EXT-X-PROGRAM-DATE-TIME:(\S+)/.exec(playlist)?.[1]?.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  if (ast === undefined || pdt === undefined || !Number.isFinite(seq)) return NaN;
  const firstSegmentPdt = Date.parse(pdt) - (seq - 1) * segmentSec * 1000;
  return (Date.parse(ast) - firstSegmentPdt) / 1000;
}

const playerUrl = (manifest: string, player?: 'dash' | 'hls'): string =>
  `${base}/player?url=${encodeURIComponent(manifest)}${player ? `&player=${player}` : ''}`;

async function closePage(page: Page | undefined): Promise<void> {
  if (page) await Promise.race([page.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
}

test('the player libraries are installed (devDependencies of @boxstream/origin)', () => {
  const libs = locatePlayerLibs();
  assert.ok(libs.dash, 'dashjs is resolvable');
  assert.ok(libs.hls, 'hls.js is resolvable');
});

test('dash.js (low-latency mode) plays live LL-DASH from ffmpeg for 20 s; the stall detector fires when the encoder dies', async () => {
  await withStream(SINGLE, '/live/e2e-dash', async (spec, encoder) => {
    let page: Page | undefined;
    try {
      const played = await play(browser.context, playerUrl(spec.mpdPath), PLAY_SECONDS);
      page = played.page;
      const checked = { name: 'dash.js LL-DASH, 1 video + 1 audio', result: played.result, encoder, spec };
      const failures = judge(checked);
      if (played.result.last.lowLatency !== true) failures.push('dash.js did not switch to low-latency mode');
      if (played.result.last.latencySource !== 'dash.js getCurrentLiveLatency') failures.push(`latency came from ${played.result.last.latencySource}`);
      record(checked, failures);
      assert.equal(failures, [], failures.join('\n'));

      // The measurement can fail: stop the encoder and the page must report a growing stall.
      await encoder.stop();
      await waitFor(
        async () => {
          const s = await readStats(page!);
          return s.stalling && s.longestStallMs > spec.segmentSec * 1000;
        },
        15_000,
        'the page to report a stall longer than one segment after ffmpeg stopped',
        250,
      );
    } finally {
      await closePage(page);
    }
  });
});

test('hls.js plays the HLS playlists ffmpeg uploads (master.m3u8) for 20 s', async () => {
  await withStream(SINGLE, '/live/e2e-hls', async (spec, encoder) => {
    let page: Page | undefined;
    try {
      const dir = spec.mpdPath.slice(0, spec.mpdPath.lastIndexOf('/'));
      await waitForObject(origin.store, `${dir}/master.m3u8`, 15_000, encoder);
      // hls.js starts liveSyncDurationCount (2) segments behind the playlist's edge: with fewer
      // listed it starts at the first one and plays on the edge, starving at every reload.
      await waitFor(() => (objectText(`${dir}/media_0.m3u8`).match(/^#EXTINF/gm) ?? []).length >= 3, 15_000, 'three segments in media_0.m3u8');
      const played = await play(browser.context, playerUrl(`${dir}/master.m3u8`), PLAY_SECONDS);
      page = played.page;
      const checked = { name: 'hls.js, ffmpeg hls_playlist, 1 video + 1 audio', result: played.result, encoder, spec };
      const failures = judge(checked);
      if (played.result.last.player !== 'hls') failures.push(`the page chose ${played.result.last.player} for .m3u8`);
      if (played.result.last.latencySource !== 'program-date-time') failures.push(`latency came from ${played.result.last.latencySource}`);
      const truncation = pdtTruncation(dir, spec.segmentSec);
      if (!(truncation >= 0 && truncation < 1)) failures.push(`EXT-X-PROGRAM-DATE-TIME is ${truncation} s off the MPD's availabilityStartTime`);
      record(checked, failures, Number.isFinite(truncation) ? truncation : undefined);
      assert.equal(failures, [], failures.join('\n'));
    } finally {
      await closePage(page);
    }
  });
});

function versionOf(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout || r.stderr || '').split('\n')[0].trim();
}

/** The results file the bench reports (same shape of names as its own: <name>-<ts>.json + -latest). */
function writeReport(): void {
  if (runs.length === 0) return;
  const libs = locatePlayerLibs();
  const summary = (player: string) => {
    const mine = runs.filter((r) => r.player === player) as { latencySec: { samples: number[] } }[];
    const all = mine.flatMap((r) => r.latencySec.samples);
    const s = summarize(all);
    return all.length ? { medianSec: round(s.median), worstSec: round(s.worst), samples: all.length } : null;
  };
  const now = new Date();
  const data = {
    bench: 'players',
    startedAt: new Date(suiteStarted).toISOString(),
    durationSec: round((Date.now() - suiteStarted) / 1000),
    command: 'cd packages/origin && pnpm test (test/e2e/players.test.ts)',
    machine: { cpuCount: cpus().length, cpuModel: cpus()[0]?.model.trim(), loadAverage: loadavg().map(round), node: process.version },
    tools: {
      ffmpeg: versionOf('ffmpeg', ['-version']),
      chromium: versionOf(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version']),
      dashjs: libs.dash?.version,
      hlsjs: libs.hls?.version,
    },
    segmentSec: SEGMENT_SEC,
    chunkSec: CHUNK_SEC,
    playSeconds: PLAY_SECONDS,
    latencyCeilingSec: LATENCY_CEILING_SEC,
    latency: { dash: summary('dash'), hls: summary('hls') },
    runs,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const text = `${JSON.stringify(data, null, 2)}\n`;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  for (const name of [`players-${stamp}.json`, 'players-latest.json']) {
    const path = join(RESULTS_DIR, name);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
}

test('/player opened before the stream is up says it is waiting, then plays once the encoder starts', async () => {
  const full: StreamSpec = { ...SINGLE, base, mpdPath: '/live/late/out.mpd' };
  const page = await browser.context.newPage();
  try {
    await page.goto(playerUrl(full.mpdPath, 'dash'), { waitUntil: 'load', timeout: 15_000 });
    await waitFor(async () => (await readStats(page)).waitingForStream, 15_000, 'the page to say it waits', 100);
    assert.match((await page.textContent('#status')) ?? '', /waiting for the stream: .* is not there yet \(HTTP 404: /);
    const encoder = startEncoder(full);
    try {
      await waitFor(
        async () => {
          const s = await readStats(page);
          if (s.errors.length > 0) throw new Error(s.errors.join('; '));
          return s.started && s.currentTime > 0;
        },
        60_000,
        'playback once the stream is up',
        200,
      );
      const s = await readStats(page);
      assert.is(s.waitingForStream, false);
      assert.ok(s.waitedMs > 0);
    } finally {
      await encoder.stop();
    }
  } finally {
    await page.close();
  }
});

test.run();
