// `pnpm demo` (scripts/demo.mjs) as a user runs it: the origin and a real ffmpeg ladder come up,
// the URLs are printed, the generated LL-HLS lists the three renditions and audio, and one
// Ctrl-C stops ffmpeg and the origin and exits 0.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { http } from '../helpers.js';
import { waitFor } from './helpers.js';

const DEMO = fileURLToPath(new URL('../../../../scripts/demo.mjs', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('pnpm demo: up with the URLs, the ladder in the generated playlist, one Ctrl-C stops everything', async () => {
  const demo = spawn(process.execPath, [DEMO, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  demo.stdout.on('data', (b: Buffer) => (out += b));
  demo.stderr.on('data', (b: Buffer) => (err += b));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  const pids: number[] = [];
  try {
    await waitFor(() => out.includes('the stream is up') || demo.exitCode !== null, 60_000, `the demo to be up (${out}${err})`);
    assert.ok(out.includes('the stream is up'), `${out}\n${err}`);
    const m = /origin on http:\/\/127\.0\.0\.1:(\d+) \(pid (\d+)\), ffmpeg pushing 720p, 480p, 360p \+ audio \(pid (\d+)\)/.exec(out);
    assert.ok(m, out);
    const [port, originPid, ffmpegPid] = [Number(m![1]), Number(m![2]), Number(m![3])];
    pids.push(originPid, ffmpegPid);
    assert.match(out, new RegExp(`LL-HLS in hls\\.js: +http://127\\.0\\.0\\.1:${port}/player\\?url=/live/demo/out\\.m3u8`));
    assert.match(out, /LL-DASH in dash\.js: +http:\/\/127\.0\.0\.1:\d+\/player\?url=\/live\/demo\/out\.mpd/);
    const playlist = await http(port, 'GET', '/live/demo/out.m3u8');
    assert.is(playlist.status, 200);
    const variants = playlist.body.toString().match(/^#EXT-X-STREAM-INF:.*RESOLUTION=(\d+x\d+)/gm) ?? [];
    assert.is(variants.length, 3, playlist.body.toString());
    assert.match(playlist.body.toString(), /TYPE=AUDIO/);
    assert.is((await http(port, 'GET', '/live/demo/out.mpd')).status, 200, "ffmpeg's MPD, for dash.js");
    demo.kill('SIGINT');
    assert.is(await exited, 0, err);
    assert.match(out, /pnpm demo: stopped/);
    assert.not.ok(alive(ffmpegPid), 'ffmpeg stopped');
    assert.not.ok(alive(originPid), 'the origin stopped');
  } finally {
    // Whatever happened: the demo asked to stop, then everything it started killed, group and all.
    if (demo.exitCode === null) {
      demo.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      demo.kill('SIGKILL');
    }
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  }
});

test('pnpm demo refuses flags that would close the origin to its own ffmpeg', async () => {
  const demo = spawn(process.execPath, [DEMO, '--ingest-secret', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  demo.stderr.on('data', (b: Buffer) => (err += b));
  const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
  assert.is(code, 2);
  assert.match(err, /--ingest-secret is not for the demo/);
});

test.run();
