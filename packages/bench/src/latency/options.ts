// Command-line options of the latency bench, with their defaults and bounds.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDir } from './fixture.js';
import type { JoinMode } from './measure.js';
import { defaultOriginCli, type TargetSpec } from './targets.js';

export const USAGE = `Usage: pnpm bench [options]     (tsx src/latency/run.ts)

Per-chunk latency and fan-out of live chunked-CMAF origins: a raw-socket uploader PUTs a real
CMAF stream one chunk at a time; N raw-socket readers GET each segment while it is uploaded.

  --readers 1,10,100,1000   reader counts to sweep (max 10000)
  --cadences 200            ms between chunks; a list compares cadences; 0 = as fast as possible
  --fast                    cadence 20 ms (same as --cadences 20)
  --segments 6              timed segments per step (the fixture's 3 are reused in turn)
  --warmup 10               untimed segments before them: a fresh server's first ~6 have a
                            p99 several times the steady one (JIT, TCP windows)
  --repeats 1               measure every (readers, server) this many times, alternating
                            servers, and pool the samples
  --join held|catchup       held: readers GET before the upload starts (default);
                            catchup: halfway through it (timed on the chunks after joining)
  --workers 2               reader worker threads
  --servers origin,floor    which of our servers to spawn (the floor is needed for ratios); also:
                            relay   (upload to origin A, read at origin B that A relays to)
                            varnish (upload to the origin, read through varnishd in front of it)
  --target URL              also measure a running server (repeatable)
  --target-pid PID          pid of the n-th --target, to read its CPU and RSS (repeatable)
  --target-ingest URL       where the n-th --target's uploads go, when --target is an edge in
                            front of it (repeatable; default: the --target itself)
  --path-prefix /bench      base path of the uploaded objects
  --origin-cli PATH         the origin's CLI (default packages/origin/dist/cli.js)
  --origin-arg ARG          extra argument for the origin (repeatable)
  --cpu-prof DIR            run spawned servers with node --cpu-prof, profiles in DIR/<server>/
                            (summarise: tsx src/latency/profile-summary.ts DIR/origin)
  --settle-ms MS            wait between the GETs and the upload (default 100 + readers/2)
  --timeout-ms 15000        how long a reader may lag behind its segment's upload
  --quick                   smoke run: readers 1,5, 1 segment, cadence 20 ms
  --json                    JSON on stdout (the tables go to stderr)
  --results-dir DIR         where results are written (default packages/bench/results)
  --no-chart                do not write the SVG chart
  --help
`;

export interface BenchOptions {
  readers: number[];
  cadences: number[];
  segments: number;
  warmup: number;
  repeats: number;
  join: JoinMode;
  workers: number;
  targets: TargetSpec[];
  pathPrefix: string;
  originCli: string;
  originArgs: string[];
  cpuProfDir: string | undefined;
  settleMs: number | undefined;
  timeoutMs: number;
  quick: boolean;
  json: boolean;
  resultsDir: string;
  chart: boolean;
  argv: string[];
}

export class UsageError extends Error {}

function list(name: string, text: string, min: number, max: number): number[] {
  const out = text.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: '${s}' is not an integer in ${min}..${max}`);
    return n;
  });
  if (out.length === 0 || out.length > 20) throw new UsageError(`--${name}: 1 to 20 values`);
  return out;
}

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  return list(name, text, min, max)[0];
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      readers: { type: 'string' },
      cadences: { type: 'string' },
      cadence: { type: 'string' },
      fast: { type: 'boolean' },
      segments: { type: 'string' },
      warmup: { type: 'string' },
      repeats: { type: 'string' },
      join: { type: 'string' },
      workers: { type: 'string' },
      servers: { type: 'string' },
      target: { type: 'string', multiple: true },
      'target-pid': { type: 'string', multiple: true },
      'target-ingest': { type: 'string', multiple: true },
      'path-prefix': { type: 'string' },
      'origin-cli': { type: 'string' },
      'origin-arg': { type: 'string', multiple: true },
      'cpu-prof': { type: 'string' },
      'settle-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      'results-dir': { type: 'string' },
      'no-chart': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const joinMode = values.join ?? 'held';
  if (joinMode !== 'held' && joinMode !== 'catchup') throw new UsageError(`--join must be held or catchup, got '${joinMode}'`);
  const cadenceText = values.cadences ?? values.cadence ?? (values.fast ? '20' : quick ? '20' : '200');
  const servers = (values.servers ?? 'origin,floor').split(',').map((s) => s.trim()).filter(Boolean);
  const kinds = ['origin', 'floor', 'relay', 'varnish'] as const;
  for (const s of servers) if (!(kinds as readonly string[]).includes(s)) throw new UsageError(`--servers: unknown '${s}' (${kinds.join(', ')})`);
  const targets: TargetSpec[] = servers.map((s) => ({ name: s, kind: s as (typeof kinds)[number] }));
  const pids = values['target-pid'] ?? [];
  const ingests = values['target-ingest'] ?? [];
  if (ingests.length > (values.target ?? []).length) throw new UsageError('--target-ingest: one per --target at most');
  const httpUrl = (flag: string, url: string): URL => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--${flag}: '${url}' is not a URL`);
    }
    if (parsed.protocol !== 'http:') throw new UsageError(`--${flag}: only http:// URLs (got '${url}')`);
    return parsed;
  };
  (values.target ?? []).forEach((url, i) => {
    const parsed = httpUrl('target', url);
    const ingestUrl = ingests[i] === undefined ? undefined : httpUrl('target-ingest', ingests[i]).href;
    const pid = pids[i] === undefined ? undefined : int('target-pid', pids[i], 0, 1, 2 ** 22);
    targets.push({ name: parsed.host, kind: 'external', url, pid, ingestUrl });
  });
  if (targets.length === 0) throw new UsageError('nothing to measure: give --servers or --target');
  const prefix = (values['path-prefix'] ?? '/bench').replace(/\/+$/, '');
  if (!prefix.startsWith('/') && prefix !== '') throw new UsageError('--path-prefix must start with /');
  return {
    readers: list('readers', values.readers ?? (quick ? '1,5' : '1,10,100,1000'), 1, 10_000),
    cadences: list('cadences', cadenceText, 0, 10_000),
    segments: int('segments', values.segments, quick ? 1 : 6, 1, 100),
    warmup: int('warmup', values.warmup, quick ? 0 : 10, 0, 100),
    repeats: int('repeats', values.repeats, 1, 1, 20),
    join: joinMode,
    workers: int('workers', values.workers, 2, 1, 16),
    targets,
    pathPrefix: prefix,
    originCli: values['origin-cli'] ?? defaultOriginCli,
    originArgs: values['origin-arg'] ?? [],
    cpuProfDir: values['cpu-prof'],
    settleMs: values['settle-ms'] === undefined ? undefined : int('settle-ms', values['settle-ms'], 0, 0, 60_000),
    timeoutMs: int('timeout-ms', values['timeout-ms'], 15_000, 100, 600_000),
    quick,
    json: values.json ?? false,
    resultsDir: values['results-dir'] ?? join(benchDir, 'results'),
    chart: !(values['no-chart'] ?? false),
    argv,
  };
}
