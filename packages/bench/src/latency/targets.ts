// The servers under test: our origin and the floor relay, each started as a child process so
// its CPU time and peak RSS can be read from /proc, and any external server given by URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDir } from './fixture.js';

export type TargetKind = 'origin' | 'floor' | 'external';

export interface TargetSpec {
  /** Shown in tables and charts: origin, floor, or host:port. */
  name: string;
  kind: TargetKind;
  /** External targets: where they listen. */
  url?: string;
  /** External targets: a pid whose CPU and RSS to read (--target-pid). */
  pid?: number;
}

export interface RunningTarget {
  spec: TargetSpec;
  host: string;
  port: number;
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
  children.add(child);
  child.once('exit', () => children.delete(child));
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
    return { spec, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), pid: spec.pid, stop: async () => {} };
  }
  let args: string[];
  if (spec.kind === 'origin') {
    if (!existsSync(options.originCli)) {
      throw new Error(`${options.originCli} is missing: build the origin first (pnpm build at the workspace root)`);
    }
    // --quiet: an access log line per request would be the origin's own cost, not the relaying.
    args = [options.originCli, '--port', '0', '--host', '127.0.0.1', '--quiet', ...options.originArgs];
  } else {
    args = [await floorModule(), '--port', '0', '--host', '127.0.0.1'];
  }
  const { child, host, port } = await spawnServer(spec.name, args, options.startTimeoutMs, options.cpuProfDir);
  return { spec, host, port, pid: child.pid, stop: () => stopChild(child) };
}
