#!/usr/bin/env node
// Runs every package's `test` script and prints one plain total as the last line:
//   N passed, N failed
// uvu prints "Total: N" and "Passed: N" per run (no "Failed" line) and prints no summary
// at all when a test file fails to import, so a package whose run crashes or prints no
// summary is counted as one failure: a run that executed no test is never silent.
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const only = process.argv.slice(2);

const packages = readdirSync(packagesDir)
  .filter((name) => existsSync(join(packagesDir, name, 'package.json')))
  .filter((name) => only.length === 0 || only.includes(name))
  .filter((name) => JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')).scripts?.test);

function run(name) {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['run', '--silent', 'test'], {
      cwd: join(packagesDir, name),
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (stream, sink) => stream.on('data', (b) => { out += b; sink.write(b); });
    keep(child.stdout, process.stdout);
    keep(child.stderr, process.stderr);
    child.on('close', (code) => resolve({ name, code, out }));
  });
}

let passed = 0;
let failed = 0;
for (const name of packages) {
  console.log(`\n=== ${name} ===`);
  const { code, out } = await run(name);
  // uvu prints one summary per run; a package may run uvu more than once.
  const totals = [...out.matchAll(/^\s*Total:\s+(\d+)/gm)].map((m) => Number(m[1]));
  const passes = [...out.matchAll(/^\s*Passed:\s+(\d+)/gm)].map((m) => Number(m[1]));
  const total = totals.reduce((a, b) => a + b, 0);
  const pass = passes.reduce((a, b) => a + b, 0);
  passed += pass;
  failed += total - pass;
  if (totals.length === 0 || (code !== 0 && total === pass)) {
    console.log(`!! ${name}: test run exited with code ${code} without a complete summary`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
