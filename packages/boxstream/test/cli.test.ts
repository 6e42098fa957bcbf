// `boxstream inspect` as a real process: built CLI, files and standard input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
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
    child.on('close', (code) => resolve({ code, out, err }));
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

test('inspect FILE prints one line per unit with the chunk facts', async () => {
  const { code, out } = await run(['inspect', join(fixtures, 'lldash-stream.mp4')]);
  assert.is(code, 0);
  const lines = out.trim().split('\n');
  assert.is(lines.length, 1 + 1 + 10, 'title, header, 10 chunks');
  assert.match(lines[1], /^header\s+0\s+795\s+1:vide\/avc1@15360/);
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

test.run();
