// Whether a package's build is older than its sources: `pnpm start` and `pnpm demo` build only then.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The files that make a package's build: its src/ tree and its build configuration. */
const CONFIG = ['package.json', 'tsup.config.ts', 'tsconfig.json'];

function times(dir, pick, start) {
  if (!existsSync(dir)) return start;
  let t = start;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = pick(t, entry.isDirectory() ? times(path, pick, start) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * True when any of `packages` (directories) has no `dist/`, or a source or configuration file
 * newer than the oldest file of its `dist/`.
 * @param {string[]} packages
 */
export function needsBuild(packages) {
  return packages.some((pkg) => {
    const built = times(join(pkg, 'dist'), Math.min, Infinity);
    if (built === Infinity) return true;
    const config = CONFIG.map((f) => join(pkg, f)).filter(existsSync).map((f) => statSync(f).mtimeMs);
    return Math.max(times(join(pkg, 'src'), Math.max, 0), ...config) > built;
  });
}

/**
 * Builds boxstream and the origin under `root` when `needsBuild` says so (or `cli` is missing);
 * exits the process with the build's status if it fails.
 * @param {string} root the workspace root
 * @param {string} cli the file the build must produce
 */
export function ensureBuilt(root, cli) {
  const packages = ['boxstream', 'origin'].map((name) => join(root, 'packages', name));
  if (!needsBuild(packages) && existsSync(cli)) return;
  // Run by pnpm, npm_execpath is pnpm itself (it may not be on PATH when started through npx):
  // a script run with node, or pnpm's standalone executable run as it is.
  const runner = process.env.npm_execpath;
  const shell = process.platform === 'win32';
  const build =
    runner && /\.[cm]?js$/.test(runner)
      ? spawnSync(process.execPath, [runner, 'run', 'build'], { cwd: root, stdio: 'inherit' })
      : spawnSync(runner && /pnpm/i.test(runner) ? runner : 'pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell });
  if (build.status !== 0) {
    if (build.error !== undefined) process.stderr.write(`cannot run the build (pnpm run build): ${build.error.message}\n`);
    process.exit(build.status ?? 1);
  }
}
