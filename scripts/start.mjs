#!/usr/bin/env node
// `pnpm start`: builds the packages only when a source is newer than its build (or no build is
// there), then runs the origin's CLI in this process with the arguments given
// (`pnpm start --port 9000`; a leading `--`, which pnpm passes on, is dropped).
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './freshness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages', 'origin', 'dist', 'cli.js');

ensureBuilt(root, cli);

// `pnpm start -- --port 9000`: pnpm hands the `--` on; the CLI takes flags only.
if (process.argv[2] === '--') process.argv.splice(2, 1);

await import(pathToFileURL(cli).href);
