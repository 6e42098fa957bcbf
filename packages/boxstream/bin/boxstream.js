#!/usr/bin/env node
// The command's entry point. It exists before the build, so installing links it without a
// warning; the command itself is the built dist/cli.js.
import('../dist/cli.js').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    process.stderr.write('boxstream: not built yet: run `pnpm build` in the workspace\n');
    process.exit(1);
  }
  throw err;
});
