// Redundant CMAF ingest with real encoders: two ffmpeg processes, started together so that their
// timelines match (DASH-IF ingest's synchronized sources: the same decode times, keyframes every
// 2 s), push the same video and audio tracks to one publishing point, each as the spec's example
// does (one long-running POST per track). dash.js and hls.js play the generated manifests in
// Chromium; mid-stream the encoder that is live on the video track is SIGKILLed, and the other
// one, standing by, takes over. Players must go on without an error or a stall (a run whose
// players stall is run once more, whole, on another publishing point: these machines are shared,
// and a real regression fails both), and every track's segment list must have no gap and no
// duplicate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { createOrigin, type Origin, type OriginServer } from '../../src/index.js';
import { launchChromium, play, readStats, sleep, startFfmpeg, summarize, waitFor, type Browser, type Encoder, type PlayResult } from './helpers.js';

const BEFORE_SECONDS = 10;
const PLAY_SECONDS = 30;
let origin: Origin;
let running: OriginServer;
let browser: Browser;

test.before(async () => {
  origin = createOrigin();
  running = await origin.listen(0, '127.0.0.1');
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  await running?.close(0);
  origin?.close();
});

/** One encoder: the spec's example for a video and an audio track, told apart by its User-Agent. */
function encoderArgs(point: string, agent: string): string[] {
  const push = (track: string): string[] => [
    '-f', 'mp4', '-movflags', 'empty_moov+separate_moof+default_base_moof+cmaf', '-frag_duration', '200000',
    '-user_agent', agent, '-method', 'POST', `${running.url}${point}Streams(${track})`,
  ];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30',
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-map', '0:v', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-b:v', '600k', '-bf', '0', ...push('video.cmfv'),
    '-map', '1:a', '-c:a', 'aac', '-b:a', '64k', ...push('audio.cmfa'),
  ];
}

/** The segment numbers a generated media playlist lists, in order. */
async function listed(playlist: string): Promise<number[]> {
  const text = await (await fetch(`${running.url}${playlist}`)).text();
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((uri) => Number(/(\d+)\.m4s$/.exec(uri)?.[1]));
}

/**
 * The whole scenario on publishing point `point`. What the origin must get right (the failover,
 * no gap, no duplicate, nothing cut) is asserted; what the players saw is returned as failures
 * (a stall can come from a neighbour on these shared machines: the caller plays once more).
 */
async function failover(point: string): Promise<string[]> {
  const failovers = origin.metrics.ingestFailovers;
  // Started in the same turn: their timestamps both start at 0 a few milliseconds apart.
  const encoders = { 'encoder-a': startFfmpeg(encoderArgs(point, 'encoder-a')), 'encoder-b': startFfmpeg(encoderArgs(point, 'encoder-b')) };
  const all = Object.values(encoders);
  const tracks = () => origin.ingest().filter((t) => t.publishingPoint === point);
  const failures: string[] = [];
  try {
    await waitFor(
      () => {
        for (const e of all) if (e.exited()) throw new Error(`ffmpeg exited:\n${e.stderr()}`);
        return tracks().length === 2 && tracks().every((t) => t.live !== undefined && t.standby.length === 1) && origin.streams.channel(`${point}manifest.mpd`)?.timing !== undefined;
      },
      20_000,
      'both encoders on both tracks, one live and one standing by',
    );
    assert.is(origin.metrics.ingestFailovers, failovers);
    const victim = tracks().find((t) => t.track === 'video')!.live!.userAgent as keyof typeof encoders;
    const survivor = victim === 'encoder-a' ? 'encoder-b' : 'encoder-a';
    const pages: Page[] = [];
    const playing = [
      play(browser.context, `${running.url}/player?url=${encodeURIComponent(`${point}manifest.mpd`)}&player=dash`, PLAY_SECONDS, 30_000, (p) => pages.push(p)),
      play(browser.context, `${running.url}/player?url=${encodeURIComponent(`${point}manifest.m3u8`)}&player=hls`, PLAY_SECONDS, 30_000, (p) => pages.push(p)),
    ];
    // Both playing, then BEFORE_SECONDS more: the live encoder dies mid-stream.
    await waitFor(async () => pages.length === 2 && (await Promise.all(pages.map((p) => readStats(p).then((s) => s.started && s.currentTime > 0, () => false)))).every(Boolean), 30_000, 'both players to start');
    const playingAt = Date.now();
    await sleep(BEFORE_SECONDS * 1000);
    encoders[victim].proc.kill('SIGKILL');
    const killedAt = (Date.now() - playingAt) / 1000;
    await waitFor(() => tracks().every((t) => t.live?.userAgent === survivor), 10_000, `${survivor} live on every track`);
    const results = await Promise.all(playing);
    try {
      for (const [name, { result }] of [['dash.js', results[0]], ['hls.js', results[1]]] as [string, { result: PlayResult }][]) {
        const { first, last, samples } = result;
        if (last.errors.length > 0) failures.push(`${name}: ${last.errors.join('; ')}`);
        const advance = last.currentTime - first.currentTime;
        if (!(advance >= PLAY_SECONDS * 0.9)) failures.push(`${name} advanced ${advance.toFixed(2)} s in ${PLAY_SECONDS} s`);
        const stalls = last.stalls - first.stalls;
        const stalledMs = last.stallMs - first.stallMs + (last.stalling ? last.longestStallMs : 0);
        // When each stall began, in seconds of playback, beside the kill's.
        const at = samples.filter((x, i) => x.stalls > (i === 0 ? first.stalls : samples[i - 1].stalls)).map((x) => x.t.toFixed(0));
        const latency = summarize(samples.map((x) => x.latency).filter((l): l is number => typeof l === 'number'));
        process.stderr.write(`${point} ${name}: ${stalls} stalls (${Math.round(stalledMs)} ms${at.length > 0 ? ` at ${at.join(', ')} s` : ''}; the kill at ${killedAt.toFixed(0)} s), median latency ${latency.median.toFixed(3)} s\n`);
        if (stalls > 0) failures.push(`${name}: ${stalls} stalls (${Math.round(stalledMs)} ms at ${at.join(', ')} s; the kill at ${killedAt.toFixed(0)} s)`);
      }
    } finally {
      await Promise.all(results.map((r) => r.page.close().catch(() => {})));
    }
    assert.ok(origin.metrics.ingestFailovers > failovers, 'the video track failed over');
    assert.not.ok(encoders[survivor].exited(), `the survivor exited:\n${encoders[survivor].stderr()}`);
    for (const track of ['video', 'audio']) {
      const numbers = await listed(`${point}manifest_${track}.m3u8`);
      assert.ok(numbers.length >= 5, `${track}: ${numbers.join(' ')}`);
      for (let i = 1; i < numbers.length; i++) assert.is(numbers[i], numbers[i - 1] + 1, `${track}'s playlist: ${numbers.join(' ')}`);
      const dir = `${point}${track}/`;
      const stored = [...origin.store.keys()].filter((k) => k.startsWith(dir) && k.endsWith('.m4s')).map((k) => Number(/(\d+)\.m4s$/.exec(k)![1])).sort((x, y) => x - y);
      for (let i = 1; i < stored.length; i++) assert.is(stored[i], stored[i - 1] + 1, `${track}'s segments: ${stored.join(' ')}`);
      assert.ok(stored.every((n) => origin.store.get(`${dir}${n}.m4s`)!.state !== 'aborted'), `${track}: no segment left cut`);
    }
    return failures;
  } finally {
    await Promise.all(all.map((e: Encoder) => e.stop()));
  }
}

test('two synchronized encoders push the same tracks; the live one is killed mid-stream; dash.js and hls.js play on; no gap, no duplicate', async () => {
  const first = await failover('/live/red/');
  if (first.length === 0) return;
  process.stderr.write(`first run failed (${first.join('; ')}): the whole scenario once more\n`);
  const second = await failover('/live/red-again/');
  assert.equal(second, [], `${second.join('\n')} (first run: ${first.join('; ')})`);
});

test.run();
