#!/usr/bin/env node
// `pnpm start`: builds the packages only when a source is newer than its build (or no build is
// there), then runs the origin's CLI in this process with the arguments given
// (`pnpm start -- --port 9000`).
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
  // Run by pnpm, npm_execpath is pnpm itself (it may not be on PATH when started through npx).
  const pnpm = process.env.npm_execpath;
  const build = pnpm ? spawnSync(process.execPath, [pnpm, 'run', 'build'], { cwd: root, stdio: 'inherit' }) : spawnSync('pnpm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

await import(pathToFileURL(cli).href);
