// boxstream runs in a real browser: Debian's Chromium loads the built ESM bundle, streams a fixture
// through the web TransformStream and must report the same events as Node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { fixture, parseAll } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { parserTransformStream, Parser } from '/dist/index.js';
const summary = (e) => e.kind === 'chunk'
  ? [e.kind, e.offset, e.size, e.info.sequenceNumber, String(e.info.tracks[0].baseMediaDecodeTime), e.info.independent]
  : [e.kind, e.offset, e.size];
try {
  const response = await fetch('/fixture.mp4');
  const events = [];
  for await (const e of response.body.pipeThrough(parserTransformStream())) events.push(summary(e));
  // The plain parser too, in 1000-byte pieces, with parts checked against the file.
  const bytes = new Uint8Array(await (await fetch('/fixture.mp4')).arrayBuffer());
  const parser = new Parser();
  let same = true, count = 0;
  for (let at = 0; at < bytes.length; at += 1000) {
    for (const e of parser.push(bytes.subarray(at, at + 1000))) {
      count++;
      let o = e.offset;
      for (const p of e.parts) { for (let i = 0; i < p.length; i++) if (p[i] !== bytes[o + i]) same = false; o += p.length; }
    }
  }
  count += parser.end().length;
  window.__result = { events, same, count, userAgent: navigator.userAgent };
} catch (err) { window.__result = { error: String(err) }; }
</script>`;

test('the ESM bundle parses a fixture in Chromium exactly as in Node', async () => {
  const bundle = join(root, 'dist', 'index.js');
  assert.ok(existsSync(bundle), 'dist/index.js exists (run `pnpm build` first)');
  assert.ok(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  const name = 'lldash-stream.mp4';
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    if (url === '/fixture.mp4') return res.writeHead(200, { 'Content-Type': 'video/mp4' }).end(fixture(name));
    if (url.startsWith('/dist/') && /^[\w./-]+$/.test(url) && !url.includes('..')) {
      const file = join(root, url);
      if (existsSync(file)) return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(readFileSync(file));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'boxstream-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 20_000 });
    const result = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as {
      events?: unknown[];
      same?: boolean;
      count?: number;
      error?: string;
      userAgent?: string;
    };
    assert.is(result.error, undefined);
    assert.match(result.userAgent ?? '', /Chrome/);
    const node = parseAll(fixture(name)).map((e) =>
      e.kind === 'chunk'
        ? [e.kind, e.offset, e.size, e.info.sequenceNumber, String(e.info.tracks[0].baseMediaDecodeTime), e.info.independent]
        : [e.kind, e.offset, e.size],
    );
    assert.equal(result.events, node);
    assert.is(result.same, true, 'every part holds the file bytes at its offset');
    assert.is(result.count, node.length);
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test.run();
