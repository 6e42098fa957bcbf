// varnishd (Debian's `varnish`) in front of an origin, with the VCL the origin ships
// (packages/origin/varnish/origin.vcl), its backend pointed at the origin under test.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { benchDir } from './fixture.js';
import { track } from './targets.js';

export const VCL_FILE = join(benchDir, '..', 'origin', 'varnish', 'origin.vcl');

/** Debian puts varnishd and varnishstat in /usr/sbin, which is not on every PATH. */
function program(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** Working directories of running varnishd instances: removed on any exit, even a watchdog's. */
const workdirs = new Set<string>();
process.on('exit', () => {
  for (const dir of workdirs) rmSync(dir, { recursive: true, force: true });
});

/** A free loopback port (bound, then released): varnishd takes no port 0 it would tell us about. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Worker threads varnishd has started (`MAIN.threads`), 0 when it cannot be asked. */
function threads(varnishstat: string, workdir: string): number {
  const out = spawnSync(varnishstat, ['-n', workdir, '-1', '-f', 'MAIN.threads'], { encoding: 'utf8' });
  return Number(/MAIN\.threads\s+(\d+)/.exec(out.stdout ?? '')?.[1] ?? 0);
}

/** Starts varnishd on a free loopback port in front of `host:port`; resolves once it answers /healthz. */
export async function startVarnish(host: string, port: number, timeoutMs: number): Promise<{ host: string; port: number; stop(): Promise<void> }> {
  const varnishd = program('varnishd');
  const varnishstat = program('varnishstat');
  if (varnishd === undefined || varnishstat === undefined) throw new Error('varnishd is not installed (Debian: apt-get install -y varnish)');
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-bench-varnish-'));
  workdirs.add(dir);
  // varnishd started as root works as an unprivileged user, which must reach the VCL (mkdtemp makes 0700).
  chmodSync(dir, 0o755);
  const vcl = readFileSync(VCL_FILE, 'utf8')
    .replace(/^(\s*\.host\s*=\s*)"[^"]*";/m, `$1"${host}";`)
    .replace(/^(\s*\.port\s*=\s*)"[^"]*";/m, `$1"${port}";`);
  writeFileSync(join(dir, 'origin.vcl'), vcl);
  // The rules it includes, beside it.
  writeFileSync(join(dir, 'edge.vcl'), readFileSync(join(VCL_FILE, '..', 'edge.vcl')));
  const edgePort = await freePort();
  // Threads: every reader of a live object holds one; the bench goes up to 10,000 readers.
  const child = spawn(
    varnishd,
    ['-F', '-a', `127.0.0.1:${edgePort}`, '-f', join(dir, 'origin.vcl'), '-n', join(dir, 'n'), '-s', 'malloc,256m', '-p', 'thread_pools=2', '-p', 'thread_pool_min=1000', '-p', 'thread_pool_max=6000', '-p', 'thread_queue_limit=2000'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  let stderr = '';
  child.on('error', (err) => (stderr += `\n${err.message}`));
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    workdirs.delete(dir);
  };
  const deadline = Date.now() + timeoutMs;
  // Up once it answers through to the origin, and once its worker threads are started (each
  // reader of a live object holds one; a reader queued for a thread would be timed too).
  while (!(await healthy(edgePort)) || threads(varnishstat, join(dir, 'n')) < 2000) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const started = threads(varnishstat, join(dir, 'n'));
      await stop();
      throw new Error(`varnishd not ready on 127.0.0.1:${edgePort} within ${timeoutMs} ms (${started} of 2000 threads, or /healthz not answered): ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host: '127.0.0.1', port: edgePort, stop };
}
