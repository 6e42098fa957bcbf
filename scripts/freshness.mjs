// Whether a package's build is older than its sources: `pnpm start` builds only then.
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
