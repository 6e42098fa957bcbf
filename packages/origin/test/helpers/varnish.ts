// Debian's varnishd with one of the shipped VCLs (varnish/*.vcl, copied with the backend ports
// the test uses), on a free loopback port, its worker threads started before any client comes.
// Without varnishd the tests that use it fail, saying how to install it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, sleep, waitUntil } from '../helpers.js';

export const VARNISH_DIR = fileURLToPath(new URL('../../varnish/', import.meta.url));

/** Debian puts varnishd in /usr/sbin, which is not on every PATH. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

export function requireProgram(name: string): string {
  const found = findProgram(name);
  if (found === undefined) {
    throw new Error(`${name} not found (PATH, /usr/sbin): these tests need Varnish 7.1, Debian: apt-get install -y varnish (.ci/run installs it)`);
  }
  return found;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

export interface Varnish {
  /** Where players connect. */
  port: number;
  /** A varnishstat counter (`MAIN.threads`, `VBE.boot.a.req`). */
  stat(name: string): Promise<number>;
  /** varnishadm, through the instance's working directory (its secret file is there). */
  adm(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface VarnishOptions {
  /** The shipped VCL to run, e.g. `origin.vcl`. */
  vcl: string;
  /** Its backends' ports as shipped (`"8080"`) and the ports to use instead. */
  ports: Record<string, number>;
  /** Worker threads per pool (2 pools), all started before this resolves. Default 600. */
  threadsPerPool?: number;
}

/** Starts varnishd with a copy of a shipped VCL (and the rules it includes). */
export async function startVarnish(options: VarnishOptions): Promise<Varnish> {
  const varnishd = requireProgram('varnishd');
  const varnishstat = requireProgram('varnishstat');
  const varnishadm = requireProgram('varnishadm');
  const threadsPerPool = options.threadsPerPool ?? 600;
  const dir = await mkdtemp(join(tmpdir(), 'boxstream-varnish-'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const close = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // varnishd's worker process runs as the `varnish` user when started as root: it must be
    // able to reach its working directory (mkdtemp makes 0700 directories).
    await chmod(dir, 0o755);
    let vcl = await readFile(join(VARNISH_DIR, options.vcl), 'utf8');
    for (const [shipped, port] of Object.entries(options.ports)) {
      const line = new RegExp(`^(\\s*\\.port = )"${shipped}";$`, 'm');
      if (!line.test(vcl)) throw new Error(`${options.vcl} names no backend port "${shipped}"`);
      vcl = vcl.replace(line, `$1"${port}";`);
    }
    const vclFile = join(dir, options.vcl);
    await writeFile(vclFile, vcl);
    // The rules it includes, beside it.
    await writeFile(join(dir, 'edge.vcl'), await readFile(join(VARNISH_DIR, 'edge.vcl')));
    const workdir = join(dir, 'n');
    const tuning = ['-p', 'thread_pools=2', '-p', `thread_pool_min=${threadsPerPool}`, '-p', 'thread_queue_limit=1000'];
    for (let attempt = 1; ; attempt++) {
      const listen = await freePort();
      let output = '';
      const proc = spawn(varnishd, ['-F', '-a', `127.0.0.1:${listen}`, '-f', vclFile, '-n', workdir, '-s', 'malloc,64m', ...tuning], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      let failed = false;
      exited = new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.once('error', (err) => {
          failed = true;
          output += `\n${err.message}`;
          resolve();
        });
      });
      proc.stdout!.on('data', (b: Buffer) => (output += b));
      proc.stderr!.on('data', (b: Buffer) => (output += b));
      const gone = (): boolean => failed || proc.exitCode !== null || proc.signalCode !== null;
      await waitUntil(() => /Child launched OK/.test(output) || gone(), 20_000, 'varnishd to start');
      if (gone()) {
        // Someone took the port between freePort() and the bind: try another one.
        if (attempt < 3 && /Could not get socket|Address already in use/i.test(output)) continue;
        throw new Error(`varnishd exited:\n${output}`);
      }
      const stat = async (name: string): Promise<number> => {
        const out = await run(varnishstat, ['-n', workdir, '-1', '-f', name]);
        const m = new RegExp(`^${name.replace(/\./g, '\\.')}\\s+(\\d+)`, 'm').exec(out);
        return m === null ? NaN : Number(m[1]);
      };
      // All worker threads up before any client comes (the pools start them in the background).
      const deadline = Date.now() + 15_000;
      while (!((await stat('MAIN.threads')) >= 2 * threadsPerPool)) {
        if (Date.now() > deadline) throw new Error(`varnishd has ${await stat('MAIN.threads')} threads, not ${2 * threadsPerPool}`);
        await sleep(20);
      }
      return { port: listen, stat, adm: (...args) => run(varnishadm, ['-n', workdir, ...args]), close };
    }
  } catch (err) {
    await close();
    throw err;
  }
}
