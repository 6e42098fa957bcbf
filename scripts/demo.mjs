#!/usr/bin/env node
// `pnpm demo`: the origin and a live ffmpeg test-source ladder into it (3 video renditions and
// audio, LL-DASH, from which the origin generates LL-HLS), then the URLs to watch it. Ctrl-C
// stops both. `pnpm demo --port 9000`; other flags go to the origin (`pnpm demo --dir ./media`).
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from './freshness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages', 'origin', 'dist', 'cli.js');
const CHANNEL = '/live/demo';
/** The ladder: one decode of testsrc2, scaled once per rendition. */
const LADDER = [
  { width: 1280, height: 720, kbps: 2500 },
  { width: 854, height: 480, kbps: 1200 },
  { width: 640, height: 360, kbps: 600 },
];

const say = (line) => process.stdout.write(`${line}\n`);
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
if (!args.some((a) => a === '--port' || a.startsWith('--port='))) args.push('--port', '8080');
// The demo's ffmpeg pushes to an open origin over http: flags that close it would only hang it.
const closing = args.find((a) => /^--(ingest-port|ingest-secret|sign-secret|sign-prefix|tls-cert|tls-key|config)(=|$)/.test(a));
if (closing !== undefined) {
  process.stderr.write(`pnpm demo: ${closing.split('=')[0]} is not for the demo (its ffmpeg pushes to an open origin over http); run the origin with pnpm start instead\n`);
  process.exit(2);
}

if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).error !== undefined) {
  process.stderr.write('pnpm demo: needs ffmpeg on PATH (Debian: apt-get install -y ffmpeg)\n');
  process.exit(1);
}
ensureBuilt(root, cli);

/** The last lines a child wrote to stderr, to show if it dies. */
function tail(child) {
  let text = '';
  child.stderr.on('data', (b) => (text = (text + b).slice(-4000)));
  return () => text.trim();
}

function ffmpegArgs(base) {
  const gop = '60'; // 2 s segments at 30 fps
  const split = `[0:v]split=${LADDER.length}${LADDER.map((_, i) => `[s${i}]`).join('')};` + LADDER.map((r, i) => `[s${i}]scale=${r.width}:${r.height}[v${i}]`).join(';');
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-filter_complex', split,
    ...LADDER.flatMap((_, i) => ['-map', `[v${i}]`]), '-map', '1:a',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-bf', '0',
    ...LADDER.flatMap((r, i) => [`-b:v:${i}`, `${r.kbps}k`, `-maxrate:v:${i}`, `${r.kbps}k`, `-bufsize:v:${i}`, `${r.kbps}k`]),
    '-c:a', 'aac', '-b:a', '96k', '-ac', '2',
    '-f', 'dash', '-strict', 'experimental', '-seg_duration', '2', '-frag_type', 'duration', '-frag_duration', '0.2',
    '-streaming', '1', '-ldash', '1', '-lhls', '1', '-hls_playlist', '1', '-window_size', '5', '-extra_window_size', '5', '-remove_at_exit', '1',
    '-use_timeline', '0', '-use_template', '1', '-utc_timing_url', `${base}/time`,
    '-method', 'PUT', '-http_persistent', '1', '-write_prft', '1',
    '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
    '-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    `${base}${CHANNEL}/out.mpd`,
  ];
}

/** Resolves with the origin's URL once it prints "listening on" (within 30 s). */
function listening(child) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the origin did not say "listening on" within 30 s')), 30_000);
    let out = '';
    child.stdout.on('data', function onData(b) {
      out += b;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(m[1]);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the origin exited (${code}) before listening`));
    });
  });
}

const status = (url) =>
  new Promise((resolve) => {
    const req = get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve(0));
  });

// Their own process groups: Ctrl-C reaches this script only, which stops ffmpeg first (its
// uploads end), then the origin, each once, group and all. If this script is killed outright
// (SIGKILL) it cannot: their pids are printed so they can be stopped by hand.
// Secrets in the environment would close the origin to the demo's own ffmpeg and players.
const env = { ...process.env };
for (const name of ['BOXSTREAM_INGEST_SECRET', 'BOXSTREAM_SIGN_SECRET']) delete env[name];
const origin = spawn(process.execPath, [cli, '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
origin.on('error', (err) => process.stderr.write(`pnpm demo: cannot start the origin: ${err.message}\n`));
const originErr = tail(origin);
let ffmpeg;
let ffmpegErr = () => '';
let stopping = false;

const running = (child) => child !== undefined && child.pid !== undefined && child.exitCode === null && child.signalCode === null;

/** Signals a child's whole process group (it leads one: VOD transcodes of the origin are in it). */
function signal(child, name) {
  try {
    process.kill(-child.pid, name);
  } catch {
    // Already gone.
  }
}

/** Stops ffmpeg, then the origin (each SIGTERM, then SIGKILL after 5 s), and exits with `code`. A second Ctrl-C: at once. */
async function stop(code) {
  if (stopping) {
    for (const child of [ffmpeg, origin]) if (running(child)) signal(child, 'SIGKILL');
    process.exit(code === 0 ? 130 : code);
  }
  stopping = true;
  for (const child of [ffmpeg, origin]) {
    if (!running(child)) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    signal(child, 'SIGTERM');
    const timer = setTimeout(() => signal(child, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  say('pnpm demo: stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));
process.on('exit', () => {
  for (const child of [ffmpeg, origin]) if (running(child)) signal(child, 'SIGKILL');
});
// 'close', not 'exit': what it wrote last (a busy port, say) is all read by then.
origin.once('close', (code) => {
  if (stopping) return;
  process.stderr.write(`pnpm demo: the origin exited (${code})\n${originErr()}\n`);
  void stop(1);
});

let base;
try {
  base = await listening(origin);
} catch (err) {
  if (stopping) await new Promise(() => {}); // Ctrl-C while starting: stop() exits
  process.stderr.write(`pnpm demo: ${err.message}\n${originErr()}\n`);
  await stop(1);
}
if (stopping) await new Promise(() => {});
ffmpeg = spawn('ffmpeg', ffmpegArgs(base), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
ffmpeg.on('error', (err) => process.stderr.write(`pnpm demo: cannot start ffmpeg: ${err.message}\n`));
ffmpegErr = tail(ffmpeg);
ffmpeg.once('close', (code) => {
  if (stopping) return;
  process.stderr.write(`pnpm demo: ffmpeg exited (${code})\n${ffmpegErr()}\n`);
  void stop(1);
});

say(`origin on ${base} (pid ${origin.pid}), ffmpeg pushing ${LADDER.map((r) => `${r.height}p`).join(', ')} + audio (pid ${ffmpeg.pid})`);
say('');
say(`  LL-HLS in hls.js:   ${base}/player?url=${CHANNEL}/out.m3u8`);
say(`  LL-DASH in dash.js: ${base}/player?url=${CHANNEL}/out.mpd`);
say(`  for other players:  ${base}${CHANNEL}/out.m3u8   ${base}${CHANNEL}/out.mpd`);
say(`  the stream model:   ${base}/streams`);
say('');
// Ready once the generated LL-HLS playlist answers (the first segment is under way).
const deadline = Date.now() + 60_000;
while (!stopping && (await status(`${base}${CHANNEL}/out.m3u8`)) !== 200) {
  if (Date.now() > deadline) {
    process.stderr.write(`pnpm demo: no playlist after 60 s\n${ffmpegErr()}\n${originErr()}\n`);
    await stop(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
if (!stopping) say('the stream is up; Ctrl-C stops ffmpeg and the origin');
