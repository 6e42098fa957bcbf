// Smoke test of the latency bench: `--quick` (readers 1 and 5, one segment, 20 ms cadence)
// end to end as a child process against the real origin and the floor, then the JSON it printed.
// Proves the bench works and the bytes arrive intact; asserts nothing about timing.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseParser } from '../src/latency/http-parse.js';
import { splitChunks, loadFixture } from '../src/latency/fixture.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const runScript = join(benchDir, 'src', 'latency', 'run.ts');
const TIMEOUT_MS = 55_000;

interface Step {
  server: string;
  kind: string;
  readers: number;
  chunksPerSegment: number[];
  deliveries: { expected: number; received: number };
  errors: number;
  errorSamples: string[];
  mismatchedBytes: number;
  latencyMs: { count: number };
  serverUsage: { cpuSeconds: number; peakRssMiB?: number } | null;
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runScript, ...args], { cwd: benchDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    // The bench bounds itself; this is the last line of defence so the suite never hangs.
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('bench --quick measures origin and floor: every chunk to every reader, intact', async () => {
  const results = mkdtempSync(join(tmpdir(), 'latency-bench-'));
  try {
    const run = await runBench(['--quick', '--json', '--results-dir', results]);
    assert.is(run.code, 0, `bench exited ${run.code}:\n${run.stderr}`);
    const data = JSON.parse(run.stdout) as { steps: Step[]; machine: { cpuCount: number }; command: string };
    assert.ok(data.machine.cpuCount > 0);
    assert.ok(data.command.includes('--quick'));
    for (const server of ['origin', 'floor']) {
      for (const readers of [1, 5]) {
        const step = data.steps.find((s) => s.server === server && s.readers === readers);
        assert.ok(step, `no result for ${server} with ${readers} readers`);
        if (step === undefined) continue;
        const label = `${server} x${readers}: ${step.errorSamples.join('; ')}`;
        assert.is(step.errors, 0, label);
        assert.is(step.mismatchedBytes, 0, label);
        const chunks = step.chunksPerSegment.reduce((a, b) => a + b, 0);
        assert.ok(chunks >= 5, `${label}: ${chunks} chunks per run`);
        assert.is(step.deliveries.expected, readers * chunks, label);
        assert.is(step.deliveries.received, step.deliveries.expected, label);
        assert.is(step.latencyMs.count, step.deliveries.received, label);
        assert.ok(step.serverUsage !== null, `${label}: CPU of a spawned server is read`);
      }
    }
    assert.ok(existsSync(join(results, 'latency-latest.json')), 'results file written');
    const svg = readFileSync(join(results, 'latency-latest.svg'), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('origin p99') && svg.includes('floor p50'), 'chart has a line per server');
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
});

/** Feeds `wire` to a parser in pieces of `size` bytes; returns what it reported. */
function parseInPieces(wire: Buffer, size: number) {
  const seen = { status: 0, body: [] as Buffer[], completes: 0 };
  const parser = new ResponseParser({
    head: (status) => (seen.status = status),
    body: (data) => seen.body.push(Buffer.from(data)),
    complete: () => {
      seen.completes++;
      parser.reset();
    },
  });
  for (let at = 0; at < wire.length; at += size) parser.push(wire.subarray(at, at + size));
  return { status: seen.status, body: Buffer.concat(seen.body), completes: seen.completes };
}

test('http-parse: chunked (with extensions and trailers) and Content-Length, in pieces of any size', () => {
  const chunked = Buffer.from(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: video/iso.segment\r\n\r\n' +
      '5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: 1\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
  );
  for (const size of [1, 2, 3, 7, 64, chunked.length]) {
    const r = parseInPieces(chunked, size);
    assert.is(r.status, 200);
    assert.is(r.completes, 2, `pieces of ${size}`);
    assert.is(r.body.toString(), 'hello world!abc', `pieces of ${size}`);
  }
});

test('fixture: every segment splits into CMAF chunks that tile it', () => {
  const fixture = loadFixture();
  assert.ok(fixture.segments.length >= 3);
  assert.ok(fixture.init.length > 0);
  for (const s of fixture.segments) {
    const ends = splitChunks(s.bytes);
    assert.equal(ends, s.chunkEnds);
    assert.ok(ends.length >= 5, `${s.name}: ${ends.length} chunks`);
    assert.is(ends[ends.length - 1], s.bytes.length);
  }
});

test.run();
