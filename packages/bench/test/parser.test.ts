// Smoke test of the parser bench: `--quick` end to end as a child process (small generated file,
// one repeat), then the JSON it wrote. Proves the bench works; asserts nothing about speed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const here = dirname(fileURLToPath(import.meta.url));
const runScript = join(here, '..', 'src', 'parser', 'run.ts');
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const CONTENDERS = ['floor', 'boxstream', 'mp4frag', 'mp4box', 'codem', 'cml'];
// boxstream built from an earlier commit runs beside today's when this checkout has that commit.
const hasBaseline = spawnSync('git', ['rev-parse', '--verify', '24b8955^{commit}'], { cwd: here }).status === 0;

interface Result {
  contender: string;
  piece: number;
  mbPerSec: number;
  chunksPerSec: number;
  tally: { moof: number; mdat: number; chunks: number; seqSum: number | null };
  check: boolean;
}

test('bench:parser --quick runs every contender and they agree on the chunks', () => {
  const out = mkdtempSync(join(tmpdir(), 'parser-bench-'));
  try {
    const run = spawnSync(process.execPath, [tsxCli, runScript, '--quick', '--out', out], { encoding: 'utf8' });
    assert.is(run.status, 0, `bench exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
    assert.ok(run.stdout.includes('| piece'), 'prints a table');

    const files = readdirSync(out);
    assert.ok(files.includes('parser-latest.json'), 'writes parser-latest.json');
    assert.ok(files.some((f) => /^parser-\d{4}-.*Z\.json$/.test(f)), 'writes parser-<timestamp>.json');
    const data = JSON.parse(readFileSync(join(out, 'parser-latest.json'), 'utf8'));

    assert.ok(data.machine.cpuCount > 0 && typeof data.machine.cpuModel === 'string');
    assert.ok(data.fixture.size > 1_000_000, 'a real file of a few MB');
    assert.ok(data.command.line.includes('--quick'));

    const results = data.results as Result[];
    const pieces = [1400, 16384, 65536, 0];
    const contenders = hasBaseline ? [...CONTENDERS, 'baseline'] : CONTENDERS;
    assert.is(Boolean(data.baseline.commit), hasBaseline, `baseline: ${JSON.stringify(data.baseline)}`);
    assert.is(results.length, contenders.length * pieces.length);
    const chunks = results[0].tally.chunks;
    assert.ok(chunks > 0);
    for (const id of contenders) {
      for (const piece of pieces) {
        const r = results.find((x) => x.contender === id && x.piece === piece);
        assert.ok(r, `${id} at ${piece}`);
        assert.ok(r.mbPerSec > 0 && Number.isFinite(r.mbPerSec), `${id} at ${piece}: throughput`);
        assert.ok(r.chunksPerSec > 0, `${id} at ${piece}: chunks/s`);
        assert.is(r.tally.chunks, chunks, `${id} at ${piece}: chunk count`);
        assert.is(r.tally.moof, chunks, `${id} at ${piece}: moof count`);
        assert.ok(r.check, `${id} at ${piece}: check column`);
      }
    }
    const readers = new Set((data.contenders as { id: string; readsSequence: boolean }[]).filter((c) => c.readsSequence).map((c) => c.id));
    assert.ok(readers.has('boxstream') && readers.has('mp4box') && !readers.has('floor'));
    const seq = results.filter((r) => readers.has(r.contender)).map((r) => r.tally.seqSum);
    assert.ok(seq.every((s) => s === seq[0] && s !== null), 'every parser that reads mfhd read the same sequence numbers');
    if (hasBaseline) assert.ok(results.every((r) => r.contender === 'floor' || typeof (r as Result & { timeVsBaseline?: number }).timeVsBaseline === 'number'));

    assert.is(data.allocations.boxstream.length, pieces.length);
    for (const a of data.allocations.boxstream) assert.ok(a.bytesPerChunk > 0 && a.chunks === chunks);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test.run();
