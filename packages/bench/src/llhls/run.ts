// pnpm bench:llhls — the LL-HLS mode of the bench. For each reader count, on a fresh origin
// process, the same CMAF stream is pushed twice at the same cadence:
//   dash:  N readers GET each segment as it is written (the DASH path, one chunk per HTTP chunk)
//   llhls: N readers reload the generated media playlist with blocking requests and GET each new
//          part by byte range, as hls.js does
// and it reports the delay from the uploader's write of a chunk's last byte to (a) a DASH reader's
// receipt of it, (b) the blocked playlist response that lists it as a part, (c) that part's
// delivery. The goal: playlist-update p99 within 2x of chunk-delivery p99 at 1,000 readers.
import { machineInfo } from '../report/machine.js';
import { writeResults } from '../report/results.js';
import { now, sleep } from '../latency/clock.js';
import { benchDir, loadFixture, type StreamFixture } from '../latency/fixture.js';
import { processCpuSeconds } from '../latency/proc.js';
import { ReaderPool } from '../latency/reader-pool.js';
import { distribution, type Distribution } from '../latency/stats.js';
import { defaultOriginCli, killAllChildren, startTarget, type RunningTarget } from '../latency/targets.js';
import { Uploader, frameChunks } from '../latency/uploader.js';
import { LlhlsPool } from './pool.js';
import { join } from 'node:path';

const USAGE = `Usage: pnpm bench:llhls [options]
  --readers <list>     reader counts, comma-separated (default 100,1000)
  --segments <n>       segments pushed per phase (default 16)
  --warmup <n>         of those, the first ones not timed, in both phases (default 6: a fresh
                       request path has a tail several times the steady one for ~6 segments)
  --cadence <ms>       one CMAF chunk every <ms> (default 200: the fixture's real chunk duration)
  --repeats <n>        runs per reader count, each on a fresh origin; the run with the median
                       ratio is reported (default 3: one busy moment of a shared machine moves a p99)
  --workers <n>        reader worker threads (default 2)
  --origin-cli <path>  the origin to run (default: packages/origin/dist/cli.js)
  --results-dir <dir>  where llhls-<time>.json and llhls-latest.json go (default packages/bench/results)
  --cpu-prof <dir>     run the origin with --cpu-prof, profiles under <dir>/origin (see bench:profile)
`;

interface Options {
  readers: number[];
  segments: number;
  warmup: number;
  cadenceMs: number;
  repeats: number;
  workers: number;
  originCli: string;
  resultsDir: string;
  cpuProfDir: string | undefined;
}

function parse(argv: string[]): Options {
  const o: Options = { readers: [100, 1000], segments: 16, warmup: 6, cadenceMs: 200, repeats: 3, workers: 2, originCli: defaultOriginCli, resultsDir: join(benchDir, 'results'), cpuProfDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string, min: number): number => {
      if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`expected an integer >= ${min}, got '${v}'\n${USAGE}`);
      return Number(v);
    };
    switch (argv[i]) {
      case '--readers': o.readers = value().split(',').map((v) => int(v, 1)); break;
      case '--segments': o.segments = int(value(), 3); break;
      case '--warmup': o.warmup = int(value(), 2); break;
      case '--cadence': o.cadenceMs = int(value(), 1); break;
      case '--repeats': o.repeats = int(value(), 1); break;
      case '--workers': o.workers = int(value(), 1); break;
      case '--origin-cli': o.originCli = value(); break;
      case '--results-dir': o.resultsDir = value(); break;
      case '--cpu-prof': o.cpuProfDir = value(); break;
      case '--help': process.stdout.write(USAGE); process.exit(0);
      // falls through (process.exit does not return)
      default: throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  if (o.warmup >= o.segments) throw new Error(`--warmup ${o.warmup} leaves no timed segment of ${o.segments}\n${USAGE}`);
  return o;
}

/** An MPD naming the fixture's files the way ffmpeg's dash muxer names them. */
function mpd(): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="${new Date().toISOString()}" minBufferTime="PT2.0S">
  <Period id="0" start="PT0.0S">
    <AdaptationSet id="0" contentType="video" frameRate="30/1" segmentAlignment="true">
      <Representation id="v" mimeType="video/mp4" codecs="avc1.64001e" bandwidth="1000000" width="640" height="360">
        <SegmentTemplate timescale="1000000" duration="2000000" initialization="init.m4s" media="seg-$Number$.m4s" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;
}

/**
 * Pushes segments 1..count of the fixture (cycling) under `dir`, keeping a window of 6 like
 * ffmpeg, on one chunk schedule for the whole stream as an encoder's: the first chunk of a
 * segment comes one cadence after the last of the one before (later only when the upload's
 * answer, the window's DELETE and the hooks took longer than that), not as soon as the previous
 * upload was answered.
 */
async function push(target: RunningTarget, fixture: StreamFixture, dir: string, count: number, cadenceMs: number, hooks: { before?: (n: number) => Promise<void>; after?: (n: number, writeTimes: number[]) => Promise<void> }): Promise<Map<number, number[]>> {
  const up = new Uploader(target.host, target.port, 30_000);
  const times = new Map<number, number[]>();
  try {
    if ((await up.putWhole(`${dir}/out.mpd`, Buffer.from(mpd()))) >= 300) throw new Error('MPD upload refused');
    if ((await up.putWhole(`${dir}/init.m4s`, fixture.init)) >= 300) throw new Error('init upload refused');
    const frames = fixture.segments.map((s) => frameChunks(s));
    let scheduled = now();
    for (let n = 1; n <= count; n++) {
      await hooks.before?.(n);
      const chunks = frames[(n - 1) % frames.length];
      const startAt = Math.max(scheduled, now());
      scheduled = startAt + chunks.length * cadenceMs;
      const result = await up.putSegment(`${dir}/seg-${n}.m4s`, chunks, cadenceMs, undefined, startAt);
      if (result.status >= 300) throw new Error(`segment ${n}: status ${result.status}`);
      times.set(n, result.writeTimes);
      if (n > 6) await up.delete(`${dir}/seg-${n - 6}.m4s`);
      await hooks.after?.(n, result.writeTimes);
    }
  } finally {
    up.close();
  }
  return times;
}

interface Phase {
  latencyMs: Distribution;
  samples: number;
  errors: string[];
}

/** Cores used over the timed segments: the origin's, and this bench process's (its reader threads, uploader and bookkeeping). */
interface CpuUse {
  originCores: number;
  readerCores: number;
}

/** Starts counting CPU now; `stop()` gives the cores used since (NaN where /proc is missing). */
function cpuClock(pid: number | undefined): { stop: () => CpuUse } {
  const at = now();
  const origin0 = pid === undefined ? undefined : processCpuSeconds(pid);
  const client0 = process.cpuUsage();
  return {
    stop: () => {
      const seconds = (now() - at) / 1000;
      const origin1 = pid === undefined ? undefined : processCpuSeconds(pid);
      const client = process.cpuUsage(client0);
      return {
        originCores: origin0 === undefined || origin1 === undefined ? Number.NaN : (origin1 - origin0) / seconds,
        readerCores: (client.user + client.system) / 1e6 / seconds,
      };
    },
  };
}

/** N DASH readers, each GETting segment n as its upload starts (held joins). */
async function dashPhase(target: RunningTarget, fixture: StreamFixture, o: Options, readers: number): Promise<Phase & { cpu: CpuUse }> {
  const pool = new ReaderPool(fixture, o.workers);
  const latencies: number[] = [];
  const errors: string[] = [];
  let clock = cpuClock(target.pid);
  let cpu: CpuUse;
  try {
    errors.push(...(await pool.connect(target.host, target.port, readers, 10_000)));
    await push(target, fixture, '/live/dash', o.segments, o.cadenceMs, {
      before: async (n) => {
        if (n === o.warmup + 1) clock = cpuClock(target.pid);
        const r = await pool.get(`/live/dash/seg-${n}.m4s`, (n - 1) % fixture.segments.length);
        errors.push(...r.errors);
      },
      after: async (n, writeTimes) => {
        const reports = await pool.collect(now() + 10_000);
        for (const r of reports) {
          if (r.error !== null) errors.push(`seg-${n}: ${r.error}`);
          if (n <= o.warmup) continue;
          for (let i = 0; i < writeTimes.length; i++) if (!Number.isNaN(r.receipts[i])) latencies.push(r.receipts[i] - writeTimes[i]);
        }
      },
    });
    cpu = clock.stop();
  } finally {
    await pool.disconnect().catch(() => {});
    await pool.terminate();
  }
  return { latencyMs: distribution(latencies), samples: latencies.length, errors: errors.slice(0, 20), cpu };
}

/** N LL-HLS readers following the generated playlist from segment 2 on. */
async function llhlsPhase(target: RunningTarget, fixture: StreamFixture, o: Options, readers: number): Promise<{ playlist: Phase; part: Phase; playlists: number; parts: number; cpu: CpuUse }> {
  const pool = new LlhlsPool(o.workers);
  const last = fixture.segments[0].chunkEnds.length - 1;
  let clock = cpuClock(target.pid);
  try {
    const times = await push(target, fixture, '/live/hls', o.segments, o.cadenceMs, {
      // Once segment 1 is in (the channel has its timing), the readers join, as players do mid-stream.
      before: async (n) => {
        if (n === 2) await pool.start(target.host, target.port, '/live/hls/out_v.m3u8', readers, o.segments, last);
        if (n === o.warmup + 1) clock = cpuClock(target.pid);
      },
    });
    const cpu = clock.stop();
    // The last part was written: give the readers a moment to get it.
    await sleep(2000);
    const { seen, errors, playlists, parts } = await pool.collect();
    const toPlaylist: number[] = [];
    const toPart: number[] = [];
    for (const s of seen) {
      if (s.msn <= o.warmup) continue; // the readers join at segment 2: warm-up up to here
      const written = times.get(s.msn)?.[s.part];
      if (written === undefined) continue;
      toPlaylist.push(s.playlistAt - written);
      if (!Number.isNaN(s.partAt)) toPart.push(s.partAt - written);
    }
    const missingParts = seen.filter((s) => s.msn > o.warmup && Number.isNaN(s.partAt)).length;
    if (missingParts > 0) errors.push(`${missingParts} parts listed but not delivered`);
    return {
      playlist: { latencyMs: distribution(toPlaylist), samples: toPlaylist.length, errors },
      part: { latencyMs: distribution(toPart), samples: toPart.length, errors: [] },
      playlists,
      parts,
      cpu,
    };
  } finally {
    await pool.terminate();
  }
}

const cores = (c: CpuUse): string => `${c.originCores.toFixed(2)} / ${c.readerCores.toFixed(2)}`;
const ms = (v: number): string => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : '-');

/** A run in the results beside the median one: its tails, samples, errors and cores. */
type RunResult = Awaited<ReturnType<typeof run>>;

function brief(r: RunResult) {
  return {
    ratio: r.playlistP99OverChunkP99,
    chunkP99Ms: r.dash.latencyMs.p99,
    playlistP99Ms: r.llhls.playlist.latencyMs.p99,
    partP99Ms: r.llhls.part.latencyMs.p99,
    samples: { chunk: r.dash.samples, playlist: r.llhls.playlist.samples, part: r.llhls.part.samples },
    errors: r.dash.errors.length + r.llhls.playlist.errors.length,
    cpu: { dash: r.dash.cpu, llhls: r.llhls.cpu },
  };
}

/** One run at `readers`: a fresh origin, the DASH phase, then the LL-HLS phase. */
async function run(o: Options, fixture: StreamFixture, readers: number, label: string) {
  const target = await startTarget({ name: 'origin', kind: 'origin' }, { originCli: o.originCli, originArgs: ['--hold-ms', '10000', '--max-readers', '100000'], cpuProfDir: o.cpuProfDir, startTimeoutMs: 15_000 });
  try {
    const dash = await dashPhase(target, fixture, o, readers);
    const llhls = await llhlsPhase(target, fixture, o, readers);
    const ratio = llhls.playlist.latencyMs.p99 / dash.latencyMs.p99;
    process.stdout.write(
      `${label}: chunk (DASH) p50 ${ms(dash.latencyMs.p50)} p99 ${ms(dash.latencyMs.p99)} ms | playlist update p50 ${ms(llhls.playlist.latencyMs.p50)} p99 ${ms(llhls.playlist.latencyMs.p99)} ms | part p50 ${ms(llhls.part.latencyMs.p50)} p99 ${ms(llhls.part.latencyMs.p99)} ms | playlist p99 / chunk p99 ${ratio.toFixed(2)}x` +
        ` (${dash.samples} / ${llhls.playlist.samples} / ${llhls.part.samples} samples; errors: ${[...dash.errors, ...llhls.playlist.errors].length})\n` +
        `  cores used, origin / readers: DASH ${cores(dash.cpu)} | LL-HLS ${cores(llhls.cpu)}\n`,
    );
    for (const e of [...dash.errors, ...llhls.playlist.errors].slice(0, 5)) process.stdout.write(`  error: ${e}\n`);
    return { dash, llhls, playlistP99OverChunkP99: ratio };
  } finally {
    await target.stop();
  }
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2).filter((a) => a !== '--'));
  const fixture = loadFixture();
  const machine = machineInfo();
  const steps = [];
  for (const readers of o.readers) {
    const runs: RunResult[] = [];
    for (let r = 1; r <= o.repeats; r++) runs.push(await run(o, fixture, readers, `${readers} readers${o.repeats > 1 ? `, run ${r}/${o.repeats}` : ''}`));
    // The run with the median ratio, reported whole, the upper one of an even count (the goal
    // is an upper bound) and a run without samples (NaN) counted as the worst; every run in brief.
    const key = (x: RunResult): number => (Number.isNaN(x.playlistP99OverChunkP99) ? Infinity : x.playlistP99OverChunkP99);
    const median = [...runs].sort((a, b) => key(a) - key(b))[runs.length >> 1];
    steps.push({ readers, ...median, ratioByRun: runs.map((x) => x.playlistP99OverChunkP99), runs: runs.map(brief) });
  }
  const rows = steps.map((s) => `| ${s.readers} | ${ms(s.dash.latencyMs.p50)} | ${ms(s.dash.latencyMs.p99)} | ${ms(s.llhls.playlist.latencyMs.p50)} | ${ms(s.llhls.playlist.latencyMs.p99)} | ${ms(s.llhls.part.latencyMs.p50)} | ${ms(s.llhls.part.latencyMs.p99)} | ${s.playlistP99OverChunkP99.toFixed(2)}x | ${s.ratioByRun.map((x) => `${x.toFixed(2)}x`).join(' ')} |`);
  process.stdout.write(['', `Median run of ${o.repeats} per reader count:`, '', '| readers | chunk (DASH) p50 | chunk p99 | playlist update p50 | playlist p99 | part p50 | part p99 | playlist p99 ÷ chunk p99 | each run |', '|--:|--:|--:|--:|--:|--:|--:|--:|:--|', ...rows, ''].join('\n'));
  const { latest } = writeResults(o.resultsDir, 'llhls', {
    bench: 'llhls',
    command: `pnpm bench:llhls ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    options: { ...o, originCli: o.originCli },
    goal: 'playlist-update p99 within 2x of chunk-delivery p99 at 1,000 readers',
    steps,
  });
  process.stdout.write(`results: ${latest}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  killAllChildren();
  process.exit(1);
});
