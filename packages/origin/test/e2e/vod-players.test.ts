// VOD with real components end to end: a 60 s 1080p file uploaded through the /player page's
// form in Debian's Chromium, transcoded by Debian's ffmpeg into the default ladder, played by
// hls.js (an EVENT playlist, from its start) and dash.js (a static MPD of the whole asset) while
// the transcode still runs, then to the end with seeks once it is done. Prints the time from the
// upload's end to each player's first frame.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createOrigin, type Origin, type OriginServer } from '../../src/index.js';
import { launchChromium, readStats, waitFor, type Browser } from './helpers.js';

const SECONDS = 60;
const FPS = 25;
const work = mkdtempSync(join(tmpdir(), 'boxstream-vod-e2e-'));
let origin: Origin;
let running: OriginServer;
let browser: Browser;

test.before(async () => {
  // ultrafast: the ladder's four renditions of 1080p on a shared 2-core machine, players running.
  origin = createOrigin({ dir: join(work, 'store'), vod: { preset: 'ultrafast' }, warn: () => {} });
  running = await origin.listen(0, '127.0.0.1');
  browser = await launchChromium();
});

test.after(async () => {
  await browser?.close();
  await running?.close(0);
  origin?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Vod {
  uploads: { status: number | null; endedAt: number | null; job: { name: string } | null }[];
}

/** A player page that collects what went wrong on it. */
async function openPlayer(url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  return { page, problems };
}

/** Waits for playback to start, failing at once on a player error. */
async function untilPlaying(page: Page, kind: string): Promise<void> {
  await waitFor(
    async () => {
      const s = await readStats(page);
      if (s.errors.length > 0) throw new Error(`${kind}: ${s.errors.join('; ')}`);
      return s.started && s.currentTime > 0;
    },
    60_000,
    `${kind} to play`,
    100,
  );
}

/** Seeks as a viewer does, pressing play again if the video had paused (at its end, when a slow transcode let the player get there first). */
const seek = (page: Page, t: number) =>
  page.evaluate((to) => {
    const v = document.getElementById('video') as HTMLVideoElement;
    v.currentTime = to;
    if (v.paused) void v.play().catch(() => {});
  }, t);
/** What the video element says: polled by the waits, printed when one times out. */
const videoState = (page: Page) =>
  page.evaluate(() => {
    const v = document.getElementById('video') as HTMLVideoElement;
    const buffered = Array.from({ length: v.buffered.length }, (_, i) => `${v.buffered.start(i).toFixed(2)}-${v.buffered.end(i).toFixed(2)}`);
    return { t: v.currentTime, ended: v.ended, duration: v.duration, paused: v.paused, readyState: v.readyState, seeking: v.seeking, buffered, error: v.error?.message };
  });

test('a 60 s 1080p file uploaded through the form plays in hls.js and dash.js before its transcode ends, then to the end with seeks', async () => {
  const file = join(work, 'talk.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${FPS}`,
    '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=48000',
    '-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-y', file,
  ]);

  // The upload, as a person does it: the page's form.
  const form = await openPlayer(`${running.url}/player`);
  await form.page.setInputFiles('#vod-file', file);
  await form.page.fill('#vod-name', 'talk');
  await form.page.click('#vod-form button[type=submit]');
  await waitFor(async () => (await form.page.evaluate(() => (window as unknown as { __vod: Vod }).__vod.uploads[0]?.status ?? null)) !== null, 120_000, 'the upload to be answered');
  const upload = await form.page.evaluate(() => (window as unknown as { __vod: Vod }).__vod.uploads[0]);
  assert.is(upload.status, 202);
  const uploadEnded = upload.endedAt!;
  assert.is(upload.job!.name, 'talk');
  assert.equal(origin.vod!.job('talk')!.renditions.map((r) => r.name), ['1080p', '720p', '480p', '360p', 'audio']);
  // The page lists the job with its progress.
  await waitFor(async () => (await form.page.textContent('#vod-jobs'))!.includes('talk'), 10_000, 'the job in the page');

  // hls.js starts as soon as the generated playlists exist (they wait for the first segments),
  // from the start of the EVENT playlist, while the transcode goes on.
  await waitFor(async () => (await fetch(`${running.url}/vod/talk/manifest.m3u8`)).status === 200, 120_000, 'the first segments');
  const hls = await openPlayer(`${running.url}/player?player=hls&start=0&url=/vod/talk/manifest.m3u8`);
  await untilPlaying(hls.page, 'hls.js');
  const hlsFirstFrame = (Date.now() - uploadEnded) / 1000;
  const during = origin.vod!.job('talk')!;
  console.log(`  hls.js: first frame ${hlsFirstFrame.toFixed(1)} s after the upload ended (transcode ${during.percent}% done)`);
  assert.is(during.state, 'transcoding', 'hls.js played before the transcode ended');

  // dash.js too, from the MPD the origin serves while the transcode runs: static, the whole
  // asset, every segment by number (ffmpeg's own is dynamic, and dash.js waits on it forever
  // when the transcode runs faster than real time, as this one does).
  const served = await (await fetch(`${running.url}/vod/talk/manifest.mpd`)).text();
  assert.match(served, /type="static"/);
  assert.match(served, new RegExp(`mediaPresentationDuration="PT${SECONDS}S"`));
  const dash = await openPlayer(`${running.url}/player?player=dash&url=/vod/talk/manifest.mpd`);
  await untilPlaying(dash.page, 'dash.js');
  const dashFirstFrame = (Date.now() - uploadEnded) / 1000;
  const dashDuring = origin.vod!.job('talk')!;
  console.log(`  dash.js: first frame ${dashFirstFrame.toFixed(1)} s after the upload ended (transcode ${dashDuring.percent}% done)`);
  assert.is(dashDuring.state, 'transcoding', 'dash.js played before the transcode ended');

  await waitFor(() => ['done', 'failed'].includes(origin.vod!.job('talk')!.state), 300_000, 'the transcode to end', 500);
  assert.is(origin.vod!.job('talk')!.state, 'done', origin.vod!.job('talk')!.error);
  // ffmpeg's final MPD replaces it: the segments it lists are the ones players were promised.
  const final = await (await fetch(`${running.url}/vod/talk/manifest.mpd`)).text();
  const counts = [...final.matchAll(/<SegmentTimeline>([\s\S]*?)<\/SegmentTimeline>/g)].map(([, t]) =>
    [...t.matchAll(/<S [^>]*>/g)].reduce((n, [s]) => n + 1 + Number(/\br="(\d+)"/.exec(s)?.[1] ?? 0), 0),
  );
  console.log(`  segments per rendition in ffmpeg's final MPD: ${counts.join(', ')} (promised ${SECONDS / 4})`);
  for (const n of counts) assert.ok(n >= SECONDS / 4, `every promised segment was made (${counts})`);
  const players = [
    { kind: 'hls.js', ...hls },
    { kind: 'dash.js', ...dash },
  ];

  // Then the whole asset: seek into the middle, then near the end, and play to the end.
  for (const p of players) {
    await seek(p.page, 30);
    await waitFor(async () => (await videoState(p.page)).t > 31, 30_000, `${p.kind} to play on from 30 s`, 100).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(await videoState(p.page))}; requests: ${p.problems.join(', ')}; stats: ${JSON.stringify(await readStats(p.page))}`);
    });
    await waitFor(async () => Math.abs((await videoState(p.page)).duration - SECONDS) < 0.5, 30_000, `${p.kind} to learn the whole duration`, 250);
    await seek(p.page, SECONDS - 4);
    await waitFor(async () => {
      const s = await videoState(p.page);
      return s.ended || s.t >= SECONDS - 0.3;
    }, 30_000, `${p.kind} to play to the end`, 100);
    const s = await readStats(p.page);
    assert.equal(s.errors, [], `${p.kind} had no player error`);
    assert.equal(p.problems, [], `${p.kind} had no failed request or page error`);
  }

  // Every rendition decodes without an error and ends where the source does.
  const job = origin.vod!.job('talk')!;
  for (const r of job.renditions) {
    const text = await (await fetch(`${running.url}/vod/talk/manifest_${r.id}.m3u8`)).text();
    assert.match(text, /#EXT-X-ENDLIST/);
    const uris = [/#EXT-X-MAP:URI="([^"]+)"/.exec(text)![1], ...text.split('\n').filter((l) => l.endsWith('.m4s') && !l.startsWith('#'))];
    const bytes = Buffer.concat(await Promise.all(uris.map(async (u) => Buffer.from(await (await fetch(`${running.url}/vod/talk/${u}`)).arrayBuffer()))));
    const out = join(work, `r${r.id}.mp4`);
    writeFileSync(out, bytes);
    const decode = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
    assert.is(decode.stderr.trim(), '', `${r.name} decodes without errors`);
    const [start, duration] = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration', '-of', 'csv=p=0', out], { encoding: 'utf8' }).stdout.trim().split(',').map(Number);
    const frame = r.type === 'audio' ? 1024 / 48000 : 1 / FPS;
    assert.ok(Math.abs(start + duration - SECONDS) <= frame + 1e-6, `${r.name} ends at ${start + duration} s`);
    rmSync(out);
  }
});

test.run();
