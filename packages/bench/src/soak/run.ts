// pnpm bench:soak: a live stream in real time for many minutes against the origin (a child
// process), to see what a long run does to memory and latency. Renditions are uploaded one
// CMAF chunk per HTTP chunk at the fixture's own cadence; the first leaves by window DELETEs
// (like ffmpeg's window_size), the others by a TTL. Readers join and leave all the time: some
// ask for the next segment before it exists (held), some join the live one mid-way (catch-up),
// some leave mid-segment. Every byte read is compared with the upload. Every sample interval
// prints the origin's RSS, CPU, stored bytes and objects, and the per-chunk latency of the
// interval; the whole curve goes to results/soak-realtime-<ts>.json. Not part of the test suite.
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { now, sleep } from '../latency/clock.js';
import { benchDir, loadFixture, type SegmentFixture } from '../latency/fixture.js';
import { ResponseParser } from '../latency/http-parse.js';
import { processCpuSeconds, rssBytes } from '../latency/proc.js';
import { distribution } from '../latency/stats.js';
import { defaultOriginCli, killAllChildren, startTarget } from '../latency/targets.js';
import { Uploader, frameChunks } from '../latency/uploader.js';
import { machineInfo } from '../report/machine.js';
import { writeResults } from '../report/results.js';

const USAGE = `Usage: pnpm bench:soak [options]     (tsx src/soak/run.ts)

  --minutes 20        how long the stream runs (wall clock)
  --renditions 2      renditions uploaded in parallel (the first by window DELETEs, the others by TTL)
  --readers 24        concurrent readers, each joining and leaving again and again
  --window 6          segments the first rendition keeps (older ones are DELETEd)
  --cadence-ms 200    ms between chunks (the fixture's chunks are 200 ms of media)
  --sample-s 10       seconds per reported interval
  --max-memory-mib 64 the origin's memory cap
  --origin-cli PATH   the origin's CLI (default packages/origin/dist/cli.js)
  --results-dir DIR   where the JSON goes (default packages/bench/results)
`;

const MiB = 1024 * 1024;

interface Options {
  minutes: number;
  renditions: number;
  readers: number;
  window: number;
  cadenceMs: number;
  sampleS: number;
  maxMemoryMib: number;
  originCli: string;
  resultsDir: string;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      renditions: { type: 'string' },
      readers: { type: 'string' },
      window: { type: 'string' },
      'cadence-ms': { type: 'string' },
      'sample-s': { type: 'string' },
      'max-memory-mib': { type: 'string' },
      'origin-cli': { type: 'string' },
      'results-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name: keyof typeof values, fallback: number, min: number): number => {
    const raw = values[name];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < min) {
      process.stderr.write(`--${name} must be a number >= ${min}\n\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    minutes: num('minutes', 20, 0.1),
    renditions: num('renditions', 2, 1),
    readers: num('readers', 24, 0),
    window: num('window', 6, 1),
    cadenceMs: num('cadence-ms', 200, 1),
    sampleS: num('sample-s', 10, 1),
    maxMemoryMib: num('max-memory-mib', 64, 1),
    originCli: values['origin-cli'] ?? defaultOriginCli,
    resultsDir: values['results-dir'] ?? join(benchDir, 'results'),
  };
}

/** One uploaded segment, as readers see it: its bytes and when each chunk was written. */
interface LiveSegment {
  fixture: SegmentFixture;
  writeTimes: number[];
}

/** What every part of the run shares. */
class Run {
  /** Segments by key, while they may still be read. */
  readonly segments = new Map<string, LiveSegment>();
  /** The number of the segment being uploaded, per rendition. */
  readonly live: number[];
  latencies: number[] = [];
  reads = 0;
  leftEarly = 0;
  mismatches = 0;
  errors = 0;
  running = true;

  constructor(readonly opts: Options) {
    this.live = new Array<number>(opts.renditions).fill(0);
  }
}

const keyOf = (rendition: number, n: number): string => `/soak/r${rendition}/seg-${n}.m4s`;

/** One rendition's encoder: init once, then segment after segment in real time. */
async function encode(run: Run, host: string, port: number, rendition: number, fixture: ReturnType<typeof loadFixture>): Promise<void> {
  const uploader = new Uploader(host, port, 30_000);
  const framed = fixture.segments.map(frameChunks);
  try {
    await uploader.putWhole(`/soak/r${rendition}/init.m4s`, fixture.init);
    for (let n = 1; run.running; n++) {
      const index = (n - 1) % fixture.segments.length;
      const live: LiveSegment = { fixture: fixture.segments[index], writeTimes: [] };
      run.segments.set(keyOf(rendition, n), live);
      run.live[rendition] = n;
      const result = await uploader.putSegment(keyOf(rendition, n), framed[index], run.opts.cadenceMs, () => live.writeTimes.push(now()));
      if (result.status !== 201) run.errors++;
      // Readers may still be on the last few; forget older ones (the origin decides what it keeps).
      run.segments.delete(keyOf(rendition, n - 3 * run.opts.window));
      if (rendition === 0 && n > run.opts.window && (await uploader.delete(keyOf(0, n - run.opts.window))) !== 200) run.errors++;
    }
  } catch (err) {
    if (run.running) {
      run.errors++;
      process.stderr.write(`encoder ${rendition}: ${(err as Error).message}\n`);
    }
  } finally {
    uploader.close();
  }
}

/** Reads one segment; resolves when it ended, the reader left, or it failed. */
function readSegment(run: Run, host: string, port: number, key: string, leaveAt: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const live = run.segments.get(key);
    if (live === undefined) return resolve();
    const bytes = live.fixture.bytes;
    const ends = live.fixture.chunkEnds;
    const askedAt = now();
    let offset = 0;
    let chunk = 0;
    let status = 0;
    let settled = false;
    const socket: Socket = connect({ host, port, noDelay: true });
    const done = (): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve();
    };
    const parser = new ResponseParser({
      head: (s) => (status = s),
      body: (data) => {
        if (status !== 200) return;
        if (!data.equals(bytes.subarray(offset, offset + data.length))) run.mismatches++;
        offset += data.length;
        const t = now();
        // A chunk written after the request was sent: its latency is what a live reader waits.
        while (chunk < ends.length && ends[chunk] <= offset) {
          const written = live.writeTimes[chunk];
          if (written !== undefined && written >= askedAt) run.latencies.push(t - written);
          chunk++;
        }
        if (leaveAt !== undefined && offset >= leaveAt) {
          run.leftEarly++;
          done();
        }
      },
      complete: () => {
        if (status === 200) {
          run.reads++;
          if (offset !== bytes.length) run.mismatches++;
        } else if (status !== 404) {
          run.errors++;
        }
        done();
      },
    });
    socket.on('connect', () => socket.write(`GET ${key} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (piece: Buffer) => {
      try {
        parser.push(piece);
      } catch {
        run.errors++;
        done();
      }
    });
    socket.on('error', () => done());
    socket.on('close', () => {
      if (!settled && !parser.close()) run.errors++;
      done();
    });
  });
}

/** A viewer: joins a rendition (early or mid-segment), follows a few segments, leaves, comes back. */
async function view(run: Run, host: string, port: number): Promise<void> {
  while (run.running) {
    await sleep(Math.random() * 3000);
    const rendition = Math.floor(Math.random() * run.opts.renditions);
    let n = run.live[rendition] + (Math.random() < 0.5 ? 1 : 0);
    if (n === 0) continue;
    const follow = 1 + Math.floor(Math.random() * 4);
    for (let k = 0; k < follow && run.running; k++, n++) {
      while (run.running && run.segments.get(keyOf(rendition, n)) === undefined) await sleep(50);
      const live = run.segments.get(keyOf(rendition, n));
      if (live === undefined) break;
      // One viewer in ten leaves in the middle of a segment.
      const leaveAt = Math.random() < 0.1 ? Math.floor(Math.random() * live.fixture.bytes.length) : undefined;
      await readSegment(run, host, port, keyOf(rendition, n), leaveAt);
      if (leaveAt !== undefined) break;
    }
  }
}

/** GET /metrics and pick the gauges of interest. */
function scrape(host: string, port: number): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.on('data', (b) => (text += b));
      res.on('end', () => {
        const out: Record<string, number> = {};
        for (const name of ['memory_bytes', 'objects', 'readers', 'held_requests', 'evictions_total', 'expired_total', 'deletes_total']) {
          const m = new RegExp(`^boxstream_origin_${name} (\\S+)$`, 'm').exec(text);
          if (m) out[name] = Number(m[1]);
        }
        resolve(out);
      });
    });
    req.on('error', () => resolve({}));
    req.end();
  });
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const fixture = loadFixture();
  const segmentSeconds = (fixture.segments[0].chunkEnds.length * opts.cadenceMs) / 1000;
  const ttl = Math.ceil(2 * opts.window * segmentSeconds);
  const ttlArgs = Array.from({ length: opts.renditions - 1 }, (_, i) => ['--ttl-prefix', `/soak/r${i + 1}/=${ttl}`]).flat();
  const target = await startTarget(
    { name: 'origin', kind: 'origin' },
    { originCli: opts.originCli, originArgs: ['--ttl', '0', ...ttlArgs, '--max-memory-mib', String(opts.maxMemoryMib)], cpuProfDir: undefined, startTimeoutMs: 15_000 },
  );
  const pid = target.pid as number;
  const run = new Run(opts);
  const machine = machineInfo();
  process.stdout.write(
    `soak: ${opts.minutes} min, ${opts.renditions} renditions of ${segmentSeconds} s segments (${opts.cadenceMs} ms chunks), ` +
      `${opts.readers} readers joining and leaving, window ${opts.window} / TTL ${ttl} s, cap ${opts.maxMemoryMib} MiB, origin pid ${pid}\n`,
  );
  process.stdout.write('   t(s)  rss MiB  cpu %  stored MiB  objects  readers  reads  p50 ms  p99 ms  max ms  errors  mismatches\n');
  const encoders = Array.from({ length: opts.renditions }, (_, r) => encode(run, target.host, target.port, r, fixture));
  const viewers = Array.from({ length: opts.readers }, () => view(run, target.host, target.port));
  const samples: Record<string, number>[] = [];
  const started = now();
  let cpuBefore = processCpuSeconds(pid) ?? 0;
  let readsBefore = 0;
  const endAt = started + opts.minutes * 60_000;
  while (now() < endAt) {
    await sleep(Math.min(opts.sampleS * 1000, endAt - now()));
    const latencies = run.latencies;
    run.latencies = [];
    const d = distribution(latencies);
    const cpu = processCpuSeconds(pid) ?? cpuBefore;
    const gauges = await scrape(target.host, target.port);
    const t = (now() - started) / 1000;
    const sample = {
      t: round(t, 1),
      rssMiB: round((rssBytes(pid) ?? 0) / MiB, 1),
      cpuPercent: round(((cpu - cpuBefore) / opts.sampleS) * 100, 1),
      storedMiB: round((gauges.memory_bytes ?? 0) / MiB),
      objects: gauges.objects ?? 0,
      readers: gauges.readers ?? 0,
      reads: run.reads - readsBefore,
      chunks: d.count,
      p50: round(d.p50),
      p99: round(d.p99),
      max: round(d.max),
      errors: run.errors,
      mismatches: run.mismatches,
    };
    cpuBefore = cpu;
    readsBefore = run.reads;
    samples.push(sample);
    const cols = [sample.t, sample.rssMiB, sample.cpuPercent, sample.storedMiB, sample.objects, sample.readers, sample.reads, sample.p50, sample.p99, sample.max, sample.errors, sample.mismatches];
    const widths = [7, 8, 6, 11, 8, 8, 6, 7, 7, 7, 7, 11];
    process.stdout.write(cols.map((c, i) => String(c).padStart(widths[i])).join(' ') + '\n');
  }
  run.running = false;
  await Promise.all([...encoders, ...viewers]);
  await target.stop();
  const half = samples.slice(Math.floor(samples.length / 2));
  const rss = samples.map((s) => s.rssMiB);
  const summary = {
    rssMiB: { first: rss[0], last: rss[rss.length - 1], max: Math.max(...rss), secondHalfMin: Math.min(...half.map((s) => s.rssMiB)), secondHalfMax: Math.max(...half.map((s) => s.rssMiB)) },
    storedMiBMax: Math.max(...samples.map((s) => s.storedMiB)),
    p99MsMedianOfIntervals: distribution(samples.map((s) => s.p99)).p50,
    reads: run.reads,
    leftEarly: run.leftEarly,
    errors: run.errors,
    mismatches: run.mismatches,
  };
  const { latest } = writeResults(opts.resultsDir, 'soak-realtime', {
    kind: 'soak-realtime',
    command: `pnpm bench:soak ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: new Date(Date.now() - opts.minutes * 60_000).toISOString(),
    machine,
    options: { ...opts, originCli: undefined, resultsDir: undefined },
    segmentSeconds,
    ttlSeconds: ttl,
    summary,
    samples,
  });
  process.stdout.write(`\n${JSON.stringify(summary)}\nwritten: ${latest}\n`);
  process.exitCode = run.errors === 0 && run.mismatches === 0 ? 0 : 1;
}

process.on('SIGINT', () => {
  killAllChildren();
  process.exit(130);
});

main().catch((err) => {
  process.stderr.write(`bench:soak: ${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
