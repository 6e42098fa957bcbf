#!/usr/bin/env node
// The command's entry point. It exists before the build, so installing links it without a
// warning; the command itself is the built dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('boxstream-origin: not built yet: run `pnpm build` in the workspace\n');
  process.exit(1);
}
await import(cli.href);
