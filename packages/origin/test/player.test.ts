// GET /player and the player libraries it serves from local node_modules: types, caching, CORS,
// validators; the install notice when they are missing; `player: false` and `--no-player`;
// and the lookup working from a CommonJS build (where import.meta.url is not available).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { locatePlayerLibs } from '../src/player/assets.js';
import { renderPlayerPage } from '../src/player/page.js';
import { createPlayerRoute, ASSET_CACHE_CONTROL } from '../src/player/route.js';
import { http, put, startOrigin, fixture, waitUntil } from './helpers.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));

test('GET /player: one self-contained HTML page with the libraries found', async () => {
  const o = await startOrigin();
  try {
    const libs = locatePlayerLibs();
    for (const path of ['/player', '/player/', '/player?url=%2Flive%2Fout.mpd&player=dash']) {
      const r = await http(o.port, 'GET', path, undefined, { Origin: 'http://elsewhere.example' });
      assert.is(r.status, 200, path);
      assert.is(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.is(r.headers['access-control-allow-origin'], '*', 'CORS like every response');
      assert.is(r.headers['cache-control'], 'no-cache');
      assert.is(Number(r.headers['content-length']), r.body.length);
      const html = r.body.toString();
      assert.match(html, /^<!doctype html>/);
      // Nothing fetched from anywhere but this origin: no absolute URLs in src/href.
      assert.not.match(html, /(src|href)="(https?:)?\/\//);
      assert.not.match(html, /https?:\/\/(?!www\.w3\.org)/, 'no external URL at all');
      const config = JSON.parse(/<script id="boxstream-config" type="application\/json">(.*?)<\/script>/s.exec(html)![1]);
      assert.equal(config.libs.dash, { pkg: 'dashjs', version: libs.dash!.version, src: `/player/dash.all.min.js?v=${libs.dash!.version}` });
      assert.equal(config.libs.hls, { pkg: 'hls.js', version: libs.hls!.version, src: `/player/hls.min.js?v=${libs.hls!.version}` });
      assert.is(config.timePath, '/time');
      assert.ok(html.includes('window.__stats'), 'exports stats for tests');
      assert.not.ok(html.includes('id="missing"'), 'no install notice when both are installed');
    }
    const head = await http(o.port, 'HEAD', '/player');
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 1000);
  } finally {
    await o.close();
  }
});

test('GET /player/dash.all.min.js and /player/hls.min.js: the local files, long-cached, with validators', async () => {
  const o = await startOrigin();
  try {
    const libs = locatePlayerLibs();
    for (const lib of [libs.dash!, libs.hls!]) {
      const r = await http(o.port, 'GET', `${lib.path}?v=${lib.version}`);
      assert.is(r.status, 200, lib.path);
      assert.is(r.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.is(r.headers['cache-control'], ASSET_CACHE_CONTROL);
      assert.is(r.headers['access-control-allow-origin'], '*');
      assert.ok(r.body.equals(readFileSync(lib.file)), `${lib.path} is the installed bundle`);
      const etag = r.headers.etag as string;
      assert.match(etag, /^"[\w.-]+"$/);
      const again = await http(o.port, 'GET', lib.path, undefined, { 'If-None-Match': etag });
      assert.is(again.status, 304);
      assert.is(again.body.length, 0);
      const head = await http(o.port, 'HEAD', lib.path);
      assert.is(head.status, 200);
      assert.is(Number(head.headers['content-length']), r.body.length);
      assert.is(head.body.length, 0);
    }
    assert.match(libs.dash!.file, /dist[\\/]modern[\\/]umd[\\/]dash\.all\.min\.js$/);
  } finally {
    await o.close();
  }
});

test('/player owns only its own paths: uploads under /player/ still work; other methods get 405', async () => {
  const o = await startOrigin();
  try {
    assert.is((await http(o.port, 'PUT', '/player', 'x')).status, 405);
    assert.is((await http(o.port, 'DELETE', '/player/hls.min.js')).status, 405);
    assert.is((await http(o.port, 'OPTIONS', '/player')).status, 204);
    assert.is((await put(o.port, '/player/live/a.m4s', fixture('lldash-segment.m4s'))).status, 201);
    const r = await http(o.port, 'GET', '/player/live/a.m4s');
    assert.is(r.status, 200);
    assert.ok(r.body.equals(fixture('lldash-segment.m4s')));
    assert.is((await http(o.port, 'GET', '/player/nothing.js')).status, 404);
  } finally {
    await o.close();
  }
});

test('player: false serves no page', async () => {
  const o = await startOrigin({ player: false, holdMs: 0 });
  try {
    assert.is((await http(o.port, 'GET', '/player')).status, 404);
    assert.is((await http(o.port, 'GET', '/player/dash.all.min.js')).status, 404);
  } finally {
    await o.close();
  }
});

test('libraries not installed: the page says how to install them, the scripts are 404', async () => {
  // Looked up from a directory with no node_modules, and without the NODE_PATH pnpm's shims set.
  const env = { ...process.env };
  delete env.NODE_PATH;
  // c8 cannot merge a child's coverage of files tsx transformed for it with the test process's own.
  env.NODE_V8_COVERAGE = '';
  const lookup = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', `import { locatePlayerLibs } from './src/player/assets.ts'; process.stdout.write(JSON.stringify(locatePlayerLibs([${JSON.stringify(join(tmpdir(), 'no-such-dir', 'x.js'))}])));`],
    { cwd: pkg, env, encoding: 'utf8', timeout: 20_000 },
  );
  assert.is(lookup.status, 0, lookup.stderr);
  assert.equal(JSON.parse(lookup.stdout), {}, 'neither found (undefined values drop out of the JSON)');
  const none = { dash: undefined, hls: undefined, shaka: undefined };
  const route = createPlayerRoute({ timePath: '/time', locate: () => none });
  const server = createServer((req, res) => {
    if (!route.handle(req, res, (req.url ?? '').split('?')[0])) res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const page = await http(port, 'GET', '/player');
    assert.is(page.status, 200);
    const html = page.body.toString();
    assert.ok(html.includes('id="missing"'));
    assert.ok(html.includes('pnpm install'), 'workspace instructions');
    assert.ok(html.includes('npm i dashjs hls.js'), 'own-project instructions');
    assert.ok(html.includes('"dash":null') && html.includes('"hls":null'));
    const js = await http(port, 'GET', '/player/dash.all.min.js');
    assert.is(js.status, 404);
    assert.match(js.body.toString(), /pnpm install/);
    assert.is(js.headers['cache-control'], 'no-store');
  } finally {
    server.close();
  }
  // One missing: the notice names that one only.
  const libs = locatePlayerLibs();
  const html = renderPlayerPage({ dash: libs.dash, hls: undefined, shaka: libs.shaka }, { timePath: false });
  assert.ok(html.includes('hls.js (npm package <code>hls.js</code>)'));
  assert.not.ok(html.includes('dash.js (npm package'));
});

test('the page escapes what it embeds', () => {
  const libs = locatePlayerLibs();
  const evil = { ...libs.dash!, version: '</script><script>alert(1)</script>' };
  const html = renderPlayerPage({ dash: evil, hls: undefined, shaka: undefined }, { timePath: '/time' });
  assert.not.ok(html.includes('</script><script>alert(1)'));
});

test('the libraries are found from a CommonJS build too (no import.meta.url there)', async () => {
  const dir = mkdtempSync(join(pkg, '.cjs-check-'));
  try {
    const { build } = await import('tsup');
    await build({
      entry: { assets: join(pkg, 'src/player/assets.ts') },
      format: ['cjs'],
      outDir: dir,
      silent: true,
      config: false,
      target: 'node20',
      outExtension: () => ({ js: '.cjs' }),
    });
    const built = readFileSync(join(dir, 'assets.cjs'), 'utf8');
    assert.ok(built.includes('__filename'), 'the CJS fallback is in the bundle');
    const script = join(dir, 'check.cjs');
    writeFileSync(script, `const libs = require('./assets.cjs').locatePlayerLibs(require('./assets.cjs').defaultSearchBases().slice(0, 1));\nprocess.stdout.write(JSON.stringify({ dash: libs.dash && libs.dash.file, hls: libs.hls && libs.hls.file }));\n`);
    // cwd elsewhere, so only the module's own location can find them.
    const r = spawnSync(process.execPath, [script], { cwd: tmpdir(), encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 0, r.stderr);
    const found = JSON.parse(r.stdout);
    assert.match(found.dash, /dash\.all\.min\.js$/);
    assert.match(found.hls, /hls\.min\.js$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--no-player turns the page off in the CLI', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0', '--hold-ms', '0', '--quiet', '--no-player'], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_V8_COVERAGE: '' } });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b));
  try {
    await waitUntil(() => out.includes('\n'), 10_000, 'first line');
    const port = Number(/:(\d+)\n/.exec(out)![1]);
    assert.is((await http(port, 'GET', '/player')).status, 404);
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
