// The README's example is a real file that runs: it is quoted verbatim and executed here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('README quotes examples/chunks.mjs verbatim, and it runs on a fixture', () => {
  const example = readFileSync(join(root, 'examples', 'chunks.mjs'), 'utf8');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.includes(example.trim()), 'README carries the example as is');
  // Runs against the built package (`pnpm build` first), resolved by its own name.
  const out = execFileSync(process.execPath, [join(root, 'examples', 'chunks.mjs'), join(root, 'test', 'fixtures', 'lldash-stream.mp4')], { encoding: 'utf8' });
  const lines = out.trim().split('\n');
  assert.is(lines[0], 'header 1:avc1');
  assert.is(lines.length, 11);
  assert.is(lines[1], 'chunk #1 at 795, 5925 bytes, 0.200 s, decode time 0, starts with a keyframe');
});

test('README quotes examples/info.mjs verbatim, and it prints codecs, edit offset and presentation times', () => {
  const example = readFileSync(join(root, 'examples', 'info.mjs'), 'utf8');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.includes(example.trim()), 'README carries the example as is');
  const out = execFileSync(process.execPath, [join(root, 'examples', 'info.mjs'), join(root, 'test', 'fixtures', 'codecs', 'h264-bframes-elst.mp4')], { encoding: 'utf8' });
  assert.equal(out.trim().split('\n'), [
    'video/mp4; codecs="avc1.640009"',
    '  track 1: avc1.640009, 64x64, timescale 15360, edit offset 1024',
    'chunk #1: track 1 from 1024, 10 samples, 1 keyframe, 0 events',
    'chunk #2: track 1 from 6144, 10 samples, 1 keyframe, 0 events',
    'chunk #3: track 1 from 11264, 10 samples, 1 keyframe, 0 events',
  ]);
});

test.run();
