// `boxstream inspect` as a real process: built CLI, files and standard input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Parser } from '../src/index.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
// The built CLI, as users run it (`pnpm build` first; the root `pnpm test` does).
const cli = join(here, '..', 'dist', 'cli.js');
const fixtures = join(here, 'fixtures');

function run(args: string[], stdin?: Uint8Array): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm build\` first`);
    // Not measured by c8: the child's coverage would be merged over the library's (see package.json).
    const env = { ...process.env };
    delete env.NODE_V8_COVERAGE;
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    // A CLI that never ends (a follow loop gone wrong) fails the test instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (stdin) {
      // Write in pieces with pauses, as a live upload would arrive.
      let at = 0;
      const step = () => {
        if (at >= stdin.length) return void child.stdin.end();
        child.stdin.write(stdin.subarray(at, at + 4096));
        at += 4096;
        setTimeout(step, 1);
      };
      step();
    } else child.stdin.end();
  });
}

test('--version names the package version, through the bin entry too (it exists before the build)', async () => {
  const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string };
  const r = await run(['--version']);
  assert.is(r.code, 0);
  assert.is(r.out, `boxstream ${pkg.version}\n`);
  const bin = spawnSync(process.execPath, [join(here, '..', 'bin', 'boxstream.js'), '--version'], { encoding: 'utf8' });
  assert.is(bin.status, 0, bin.stderr);
  assert.is(bin.stdout, `boxstream ${pkg.version}\n`);
});

test('inspect FILE prints one line per unit with the chunk facts', async () => {
  const { code, out } = await run(['inspect', join(fixtures, 'lldash-stream.mp4')]);
  assert.is(code, 0);
  const lines = out.trim().split('\n');
  assert.is(lines.length, 1 + 1 + 10, 'title, header, 10 chunks');
  assert.match(lines[1], /^header\s+0\s+795\s+1:vide\/avc1\.64000c@15360/);
  assert.match(lines[2], /^chunk\s+795\s+5925\s+1\s+1\s+0\s+0\.200\s+K\s+\[styp prft moof mdat\]/);
  assert.match(lines[3], /^chunk\s+6720\s+3958\s+2\s+1\s+3072\s+0\.200\s+-\s+\[prft moof mdat\]/);
});

test('inspect - reads standard input as it arrives; --tree and --json', async () => {
  const bytes = fixture('multitrack.mp4');
  const table = await run(['inspect', '-'], bytes);
  assert.is(table.code, 0);
  assert.match(table.out, /chunk\s+1784\s+8843\s+1\s+1,2,3/);
  assert.match(table.out, /box\s+33200\s+324\s+\[mfra\]/);
  const tree = await run(['inspect', '--tree', join(fixtures, 'init.mp4')]);
  assert.match(tree.out, /\n {14}avc1 @417 size 173\n {16}avcC @503 size 51\n/);
  const json = await run(['inspect', '--json', join(fixtures, 'fragmented.mp4')]);
  const events = json.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.map((e) => e.kind), ['header', 'chunk', 'chunk', 'chunk', 'chunk', 'box']);
  assert.is(events[2].info.tracks[0].baseMediaDecodeTime, '15360');
});

test('inspect reports a malformed stream with its code and exits 1; bad usage exits 2', async () => {
  const bad = await run(['inspect', '-'], new TextEncoder().encode('<html>not found</html>'));
  assert.is(bad.code, 1);
  assert.match(bad.err, /error: JUNK/);
  assert.match(bad.err, /starts with text: "<html>no"/);
  const usage = await run(['frobnicate']);
  assert.is(usage.code, 2);
  assert.match(usage.err, /usage: boxstream inspect/);
});

test('inspect | head -1: a reader that goes away ends it quietly, without an EPIPE crash', async () => {
  const env = { ...process.env };
  delete env.NODE_V8_COVERAGE;
  // The real pipeline: head exits after the first line while inspect still has lines to print.
  const script = `set -o pipefail; "${process.execPath}" "${cli}" inspect - | head -1`;
  const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  child.stdin.on('error', () => undefined);
  // The stream arrives in two bursts, as from a live upload: the second after head has left.
  const bytes = fixture('lldash-stream.mp4');
  child.stdin.write(bytes);
  await new Promise((r) => setTimeout(r, 300));
  child.stdin.end(bytes);
  const code = await closed;
  assert.is(out.split('\n').length, 2, 'one line');
  assert.not.match(err, /EPIPE|Error/, err);
  assert.is(code, 0);
});

/**
 * A live LL-HLS origin in miniature: init, one complete segment (msn 1), and segment 2 being
 * written. Segment 2's body is held after its first chunk until `release()`; a blocking request
 * for msn 3 gets the final playlist (ENDLIST). Real sockets, real HTTP.
 */
async function miniOrigin() {
  const stream = fixture('lldash-stream.mp4');
  const init = stream.subarray(0, 795);
  const seg1 = stream.subarray(795, 795 + 22169);
  const seg2 = stream.subarray(795 + 22169);
  const firstChunk = [...new Parser({ init }).push(seg2)].find((e) => e.kind === 'chunk')!;
  const head = (extra: string) =>
    `#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6\n#EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1.0,\nseg1.m4s\n${extra}`;
  const live = head(`#EXT-X-PART:DURATION=0.2,URI="seg2.m4s",BYTERANGE=${firstChunk.size}@0,INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg2.m4s",BYTERANGE-START=${firstChunk.size}\n`);
  const ended = head('#EXTINF:1.0,\nseg2.m4s\n#EXT-X-ENDLIST\n');
  let release = () => undefined as void;
  const released = new Promise<void>((r) => (release = r));
  const asked: string[] = [];
  const server = createServer((req, res: ServerResponse) => {
    asked.push(req.url!);
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/live/out.m3u8') return void res.end(url.searchParams.get('_HLS_msn') === '3' ? ended : live);
    if (url.pathname === '/live/init.mp4') return void res.end(init);
    if (url.pathname === '/live/seg1.m4s') return void res.end(seg1);
    if (url.pathname === '/live/seg2.m4s') {
      res.write(seg2.subarray(0, firstChunk.size));
      return void released.then(() => res.end(seg2.subarray(firstChunk.size)));
    }
    res.statusCode = 404;
    res.end('<html>404 Not Found</html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, asked, release, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('inspect URL.m3u8 follows a live stream: init, the segment being written chunk by chunk, then the next', async () => {
  const o = await miniOrigin();
  try {
    const env = { ...process.env };
    delete env.NODE_V8_COVERAGE;
    const child = spawn(process.execPath, [cli, 'inspect', `${o.base}/live/out.m3u8`], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    // The first chunk of the segment being written is printed while the rest is still held.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no chunk of segment 2 printed:\n${out}\n${err}`)), 15000);
      child.stdout.on('data', (b) => {
        out += b;
        if (/segment 2 .*seg2\.m4s\nchunk .*\n/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.not.ok(o.asked.some((u) => u.includes('_HLS_msn=3')), 'segment 2 is still being read');
    o.release();
    assert.is(await closed, 0, err);
    const lines = out.trim().split('\n');
    assert.ok(lines.includes(`# init ${o.base}/live/init.mp4`));
    assert.match(out, /header\s+0\s+795\s+1:vide\/avc1\.64000c@15360/);
    // It starts at the live edge (segment 2, being written), not at segment 1; durations in seconds.
    assert.not.ok(o.asked.includes('/live/seg1.m4s'));
    assert.is(lines.filter((l) => l.startsWith('chunk')).length, 5);
    assert.ok(lines.filter((l) => l.startsWith('chunk')).every((l) => /\s0\.200\s/.test(l)), 'every chunk has its duration');
    // Then a blocking reload for the next segment found the stream ended.
    assert.ok(o.asked.includes('/live/out.m3u8?_HLS_msn=3&_HLS_part=0'), o.asked.join(' '));
  } finally {
    await o.close();
  }
});

/**
 * An LL-HLS server whose parts are files of their own (no byte ranges), 3 segments of 2 parts,
 * advancing one part per blocking request it holds: `_HLS_msn`/`_HLS_part` answered once that
 * part exists. `jump` makes the window skip ahead after the first segment is served.
 */
async function partFileOrigin(opts: { jump?: boolean } = {}) {
  const stream = fixture('lldash-stream.mp4');
  const init = stream.subarray(0, 795);
  const seg = stream.subarray(795, 795 + 22169);
  let parts = 2; // parts published so far (segment 1 complete)
  const playlistRequests: string[] = [];
  let jumped = false;
  const text = () => {
    const first = jumped ? 5 : 1;
    const done = jumped ? 6 : Math.floor(parts / 2);
    let body = `#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5\n#EXT-X-PART-INF:PART-TARGET=0.5\n#EXT-X-MEDIA-SEQUENCE:${first}\n#EXT-X-MAP:URI="init.mp4"\n`;
    for (let n = first; n <= done; n++) body += `#EXT-X-PART:DURATION=0.5,URI="s${n}.p0.m4s"\n#EXT-X-PART:DURATION=0.5,URI="s${n}.p1.m4s"\n#EXTINF:1.0,\ns${n}.m4s\n`;
    if (!jumped && parts % 2 === 1) body += `#EXT-X-PART:DURATION=0.5,URI="s${done + 1}.p0.m4s"\n`;
    if (jumped || parts >= 6) body += '#EXT-X-ENDLIST\n';
    return body;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/p/out.m3u8') {
      playlistRequests.push(req.url!);
      const msn = Number(url.searchParams.get('_HLS_msn') ?? 0);
      const part = Number(url.searchParams.get('_HLS_part') ?? 0);
      // Hold until that part exists: publish parts until it does (a fast encoder).
      while (!jumped && parts < 6 && parts < (msn - 1) * 2 + part + 1) parts++;
      return void res.end(text());
    }
    if (url.pathname === '/p/init.mp4') return void res.end(init);
    if (/^\/p\/s\d\.m4s$/.test(url.pathname)) {
      res.end(seg);
      if (opts.jump) jumped = true;
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, playlistRequests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('inspect URL.m3u8 with parts as separate files: each segment once it is listed, no busy loop', async () => {
  const o = await partFileOrigin();
  try {
    const r = await run(['inspect', `${o.base}/p/out.m3u8`]);
    assert.is(r.code, 0, r.err);
    assert.equal(r.out.match(/^# segment .*$/gm), [`# segment 1 ${o.base}/p/s1.m4s`, `# segment 2 ${o.base}/p/s2.m4s`, `# segment 3 ${o.base}/p/s3.m4s`]);
    // At most two blocking reloads per segment (its first part, then the part after it).
    assert.ok(o.playlistRequests.length <= 1 + 2 * 3, o.playlistRequests.join(' '));
  } finally {
    await o.close();
  }
});

test('inspect URL.m3u8 whose window moved past the next segment: says so and goes on at the window', async () => {
  const o = await partFileOrigin({ jump: true });
  try {
    const r = await run(['inspect', `${o.base}/p/out.m3u8`]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /# segments 2-4 left the playlist before they were read/);
    assert.equal(r.out.match(/^# segment \d+/gm), ['# segment 1', '# segment 5', '# segment 6']);
  } finally {
    await o.close();
  }
});

test('inspect URL: an HTTP error is said plainly; --init seeds a lone segment; --segments stops', async () => {
  const o = await miniOrigin();
  try {
    o.release();
    const missing = await run(['inspect', `${o.base}/live/nope.m4s`]);
    assert.is(missing.code, 1);
    assert.match(missing.err, /error: HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/live\/nope\.m4s/);
    const seeded = await run(['inspect', '--init', `${o.base}/live/init.mp4`, `${o.base}/live/seg1.m4s`]);
    assert.is(seeded.code, 0, seeded.err);
    assert.is(seeded.out.match(/ 0\.200 /g)?.length, 5);
    const bare = await run(['inspect', `${o.base}/live/seg1.m4s`]);
    assert.match(bare.out, /\s\?\s+K/, 'without the init the duration is unknown');
    const one = await run(['inspect', '--segments', '1', `${o.base}/live/out.m3u8`]);
    assert.is(one.code, 0, one.err);
    assert.is(one.out.match(/^# segment /gm)?.length, 1);
    const unknown = await run(['inspect', '--frobnicate', 'x']);
    assert.is(unknown.code, 2);
  } finally {
    await o.close();
  }
});

test.run();
