// The parser core type-checks with the ES and DOM libraries only (tsconfig.core.json): it runs in
// browsers, so no Node API may creep in. Checked with the real compiler, both ways.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tscBin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const tsc = (project: string) => spawnSync(process.execPath, [tscBin, '-p', project], { encoding: 'utf8' });

test('src (minus the Node adapter and the CLI) compiles without @types/node', () => {
  const r = tsc(join(root, 'tsconfig.core.json'));
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test('the same check fails for core code that reaches for a Node API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-core-'));
  try {
    writeFileSync(join(dir, 'uses-node.ts'), "export const copy = (b: Uint8Array) => Buffer.from(b);\n");
    const config = { extends: join(root, 'tsconfig.core.json'), include: [join(root, 'src'), join(dir, 'uses-node.ts')], exclude: [join(root, 'src/node.ts'), join(root, 'src/adapters/node.ts'), join(root, 'src/cli.ts')] };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const r = tsc(join(dir, 'tsconfig.json'));
    assert.is.not(r.status, 0);
    assert.match(r.stdout, "Cannot find name 'Buffer'");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
