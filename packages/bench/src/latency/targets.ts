// The servers under test: our origin and the floor relay, each started as a child process so
// its CPU time and peak RSS can be read from /proc; two hops in front of the origin (a second
// origin fed by relay, Varnish), measured beside it in the same run; and any external server
// given by URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDir } from './fixture.js';
import { startVarnish } from './varnish.js';

/**
 * `relay`: the uploader PUTs to origin A, which relays to origin B, where the readers are.
 * `varnish`: the uploader PUTs to the origin, the readers GET through varnishd in front of it.
 */
export type TargetKind = 'origin' | 'floor' | 'relay' | 'varnish' | 'external';

export interface TargetSpec {
  /** Shown in tables and charts: origin, floor, or host:port. */
  name: string;
  kind: TargetKind;
  /** External targets: where they listen. */
  url?: string;
  /** External targets: a pid whose CPU and RSS to read (--target-pid). */
  pid?: number;
  /** External targets: where uploads go, when not to `url` (--target-ingest: an origin behind an edge). */
  ingestUrl?: string;
}

export interface RunningTarget {
  spec: TargetSpec;
  /** Where the readers connect. */
  host: string;
  port: number;
  /** Where the uploader connects (the same as the readers but for relay, varnish and --target-ingest). */
  ingestHost: string;
  ingestPort: number;
  /** The process to read /proc of; undefined for an external target without --target-pid. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  originCli: string;
  /** Extra arguments for the origin's CLI. */
  originArgs: string[];
  /** When set, children run with --cpu-prof and write their profiles here. */
  cpuProfDir: string | undefined;
  startTimeoutMs: number;
}

export const defaultOriginCli = join(benchDir, '..', 'origin', 'dist', 'cli.js');

const children = new Set<ChildProcess>();

/** Registers a child for `killAllChildren` (every server the bench starts, varnishd included). */
export function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Last resort on exit: no child outlives the bench. */
export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

let floorScript: { dir: string; file: string } | undefined;

/**
 * floor.ts as a plain .mjs, transpiled once by the workspace's TypeScript compiler, so the floor
 * process carries no TypeScript loader (which would inflate its RSS and CPU).
 */
async function floorModule(): Promise<string> {
  if (floorScript !== undefined) return floorScript.file;
  const ts = (await import('typescript')).default;
  const source = readFileSync(join(benchDir, 'src', 'latency', 'floor.ts'), 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-bench-'));
  const file = join(dir, 'floor.mjs');
  writeFileSync(file, out.outputText);
  floorScript = { dir, file };
  return file;
}

export function removeFloorModule(): void {
  if (floorScript !== undefined) rmSync(floorScript.dir, { recursive: true, force: true });
  floorScript = undefined;
}

/** Spawns `node args...` and waits for its "listening on http://host:port" line. */
function spawnServer(name: string, args: string[], timeoutMs: number, cpuProfDir: string | undefined): Promise<{ child: ChildProcess; host: string; port: number }> {
  // One folder per server, so the profiles of the origin and of the floor are told apart.
  const nodeArgs = cpuProfDir === undefined ? args : ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, name), ...args];
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  track(child);
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print "listening on" within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /listening on http:\/\/([^\s:]+|\[[^\]]+\]):(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stdout?.resume(); // keep draining whatever it prints later
      resolve({ child, host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening; stderr: ${stderr}`));
    });
  });
}

/** SIGTERM, then SIGKILL if it is not gone in `graceMs`. Lets --cpu-prof write its profile. */
function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startTarget(spec: TargetSpec, options: SpawnOptions): Promise<RunningTarget> {
  if (spec.kind === 'external') {
    const url = new URL(spec.url as string);
    const ingest = new URL(spec.ingestUrl ?? (spec.url as string));
    const hostOf = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '');
    return { spec, host: hostOf(url), port: Number(url.port || 80), ingestHost: hostOf(ingest), ingestPort: Number(ingest.port || 80), pid: spec.pid, stop: async () => {} };
  }
  if (spec.kind === 'floor') {
    const { child, host, port } = await spawnServer(spec.name, [await floorModule(), '--port', '0', '--host', '127.0.0.1'], options.startTimeoutMs, options.cpuProfDir);
    return { spec, host, port, ingestHost: host, ingestPort: port, pid: child.pid, stop: () => stopChild(child) };
  }
  const origin = await spawnOrigin(spec.name, [], options);
  if (spec.kind === 'origin') return { spec, ...origin.at, ingestHost: origin.at.host, ingestPort: origin.at.port, pid: origin.child.pid, stop: () => stopChild(origin.child) };
  if (spec.kind === 'relay') {
    // The origin above is B (readers); A takes the uploads and relays each chunk to B.
    try {
      const a = await spawnOrigin(`${spec.name}-a`, ['--relay', `http://${origin.at.host}:${origin.at.port}`], options);
      return {
        spec,
        ...origin.at,
        ingestHost: a.at.host,
        ingestPort: a.at.port,
        pid: origin.child.pid,
        stop: async () => {
          await stopChild(a.child);
          await stopChild(origin.child);
        },
      };
    } catch (err) {
      await stopChild(origin.child);
      throw err;
    }
  }
  try {
    const edge = await startVarnish(origin.at.host, origin.at.port, options.startTimeoutMs);
    return {
      spec,
      host: edge.host,
      port: edge.port,
      ingestHost: origin.at.host,
      ingestPort: origin.at.port,
      pid: origin.child.pid,
      stop: async () => {
        await edge.stop();
        await stopChild(origin.child);
      },
    };
  } catch (err) {
    await stopChild(origin.child);
    throw err;
  }
}

/** Our origin's CLI as a child, with `extra` arguments before the user's --origin-arg ones. */
async function spawnOrigin(name: string, extra: string[], options: SpawnOptions): Promise<{ child: ChildProcess; at: { host: string; port: number } }> {
  if (!existsSync(options.originCli)) {
    throw new Error(`${options.originCli} is missing: build the origin first (pnpm build at the workspace root)`);
  }
  // --quiet: an access log line per request would be the origin's own cost, not the relaying.
  const args = [options.originCli, '--port', '0', '--host', '127.0.0.1', '--quiet', ...extra, ...options.originArgs];
  const { child, host, port } = await spawnServer(name, args, options.startTimeoutMs, options.cpuProfDir);
  return { child, at: { host, port } };
}
