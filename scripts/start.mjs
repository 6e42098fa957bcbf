#!/usr/bin/env node
// `pnpm start`: builds the packages only when a source is newer than its build (or no build is
// there), then runs the origin's CLI in this process with the arguments given
// (`pnpm start --port 9000`; a leading `--`, which pnpm passes on, is dropped).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { needsBuild } from './freshness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['boxstream', 'origin'].map((name) => join(root, 'packages', name));
const cli = join(root, 'packages', 'origin', 'dist', 'cli.js');

const stale = needsBuild(packages);

if (stale || !existsSync(cli)) {
  // Run by pnpm, npm_execpath is pnpm itself (it may not be on PATH when started through npx):
  // a script run with node, or pnpm's standalone executable run as it is.
  const runner = process.env.npm_execpath;
  const shell = process.platform === 'win32';
  const build =
    runner && /\.[cm]?js$/.test(runner)
      ? spawnSync(process.execPath, [runner, 'run', 'build'], { cwd: root, stdio: 'inherit' })
      : spawnSync(runner && /pnpm/i.test(runner) ? runner : 'pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// `pnpm start -- --port 9000`: pnpm hands the `--` on; the CLI takes flags only.
if (process.argv[2] === '--') process.argv.splice(2, 1);

await import(pathToFileURL(cli).href);
