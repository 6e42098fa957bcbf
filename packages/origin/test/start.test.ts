// `pnpm start` (scripts/start.mjs) builds only when a build is missing or older than its sources.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain ES module of the workspace's scripts, without type declarations
import { needsBuild } from '../../../scripts/freshness.mjs';

const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);

test('a build is needed when dist/ is missing, or a source or config file is newer than it', () => {
  const root = mkdtempSync(join(tmpdir(), 'boxstream-fresh-'));
  try {
    const pkg = join(root, 'pkg');
    mkdirSync(join(pkg, 'src', 'deep'), { recursive: true });
    writeFileSync(join(pkg, 'src', 'deep', 'a.ts'), 'x');
    writeFileSync(join(pkg, 'package.json'), '{}');
    at(join(pkg, 'src', 'deep', 'a.ts'), 1000);
    at(join(pkg, 'package.json'), 1000);
    assert.ok(needsBuild([pkg]), 'no dist/');
    mkdirSync(join(pkg, 'dist'));
    writeFileSync(join(pkg, 'dist', 'index.js'), 'x');
    writeFileSync(join(pkg, 'dist', 'cli.js'), 'x');
    at(join(pkg, 'dist', 'index.js'), 2000);
    at(join(pkg, 'dist', 'cli.js'), 2001);
    assert.not.ok(needsBuild([pkg]), 'built after every source');
    at(join(pkg, 'src', 'deep', 'a.ts'), 2000.5);
    assert.ok(needsBuild([pkg]), 'a source newer than the oldest built file');
    at(join(pkg, 'src', 'deep', 'a.ts'), 1000);
    at(join(pkg, 'package.json'), 3000);
    assert.ok(needsBuild([pkg]), 'package.json changed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
