// The CLI as a real process: first line "listening on http://HOST:PORT", one access log line
// per request, clean exit on SIGTERM and SIGINT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { fixture, http, put, runCli, sleep, waitUntil } from './helpers.js';

async function started(p: ReturnType<typeof runCli>): Promise<number> {
  await waitUntil(() => p.out().includes('\n'), 10_000, 'first line');
  const first = p.out().split('\n')[0];
  const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(first);
  assert.ok(m, `first line: ${first}`);
  return Number(m![1]);
}

test('--port 0 prints the chosen port first, logs each request, stops on SIGTERM', async () => {
  const p = runCli(['--port', '0', '--hold-ms', '50']);
  try {
    const port = await started(p);
    assert.ok(port > 0);
    assert.is((await put(port, '/live/a.m4s', fixture('lldash-segment.m4s'))).status, 201);
    assert.is((await http(port, 'GET', '/live/a.m4s')).status, 200);
    assert.is((await http(port, 'GET', '/live/none.m4s')).status, 404);
    await waitUntil(() => p.out().split('\n').length >= 5, 3000, 'log lines');
    const lines = p.out().trim().split('\n').slice(1);
    assert.match(lines[0], /PUT \/live\/a\.m4s 201 bytes=22169 chunks=5 ms=/);
    assert.match(lines[1], /GET \/live\/a\.m4s 200 bytes=22169 chunks=5 ms=/);
    assert.match(lines[2], /GET \/live\/none\.m4s 404 /);
    p.child.kill('SIGTERM');
    assert.is(await p.exited, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('SIGINT with a live reader connected still exits cleanly', async () => {
  const p = runCli(['--port', '0', '--quiet', '--hold-ms', '10000', '--cors-origin', 'https://player.example']);
  try {
    const port = await started(p);
    const held = http(port, 'GET', '/live/waiting.m4s').catch(() => undefined);
    const r = await http(port, 'GET', '/time');
    assert.is(r.headers['access-control-allow-origin'], 'https://player.example');
    p.child.kill('SIGINT');
    assert.is(await p.exited, 0);
    await held;
    assert.is(p.out().trim().split('\n').length, 1, '--quiet: no access log');
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('--help prints usage; a bad flag exits 2', async () => {
  const help = runCli(['--help']);
  assert.is(await help.exited, 0);
  assert.match(help.out(), /Usage: boxstream-origin/);
  assert.match(help.out(), /--hold-ms/);
  const bad = runCli(['--port', 'eighty']);
  assert.is(await bad.exited, 2);
  assert.match(bad.err(), /--port must be/);
});

test('--version names the package version, from the source and from the installed command', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const v = runCli(['--version']);
  assert.is(await v.exited, 0);
  assert.is(v.out(), `boxstream-origin ${pkg.version}\n`);
  // The bin entry (a launcher that exists before the build, so installs link it without a warning).
  const bin = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/boxstream-origin.js', import.meta.url)), '--version'], { encoding: 'utf8' });
  assert.is(bin.status, 0, bin.stderr);
  assert.is(bin.stdout, `boxstream-origin ${pkg.version}\n`);
});

test('a port in use: exit 1, and the message says to pick another with --port', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const p = runCli(['--port', String((busy.address() as AddressInfo).port), '--no-vod']);
    assert.is(await p.exited, 1);
    assert.match(p.err(), /cannot listen: .*EADDRINUSE.*pick one with --port <n>/);
  } finally {
    busy.close();
  }
});

test('--relay /live/=URL pushes what arrives under /live/ to a second origin, with --relay-secret', async () => {
  const b = runCli(['--port', '0', '--quiet', '--ingest-secret', 's3cret']);
  let a: ReturnType<typeof runCli> | undefined;
  try {
    const bPort = await started(b);
    a = runCli(['--port', '0', '--quiet', '--relay', `/live/=http://127.0.0.1:${bPort}`, '--relay-secret', 's3cret']);
    const aPort = await started(a);
    const segment = fixture('lldash-segment.m4s');
    assert.is((await put(aPort, '/live/a.m4s', segment)).status, 201);
    assert.is((await put(aPort, '/other/b.m4s', segment)).status, 201);
    // The relay runs in the child: ask its /metrics until the PUT was acknowledged.
    const sent = `boxstream_origin_relay_sent_total{target="http://127.0.0.1:${bPort}"} 1`;
    let text = '';
    for (const deadline = Date.now() + 5000; !text.includes(sent) && Date.now() < deadline; await sleep(20)) {
      text = (await http(aPort, 'GET', '/metrics')).body.toString();
    }
    assert.ok(text.includes(sent), text);
    assert.ok((await http(bPort, 'GET', '/live/a.m4s')).body.equals(segment));
    assert.is((await http(bPort, 'GET', '/other/b.m4s')).status, 404);
  } finally {
    a?.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
  }
});

test('numbers are digits only: empty, exponent and out-of-range ports, and a memory cap of 0, exit 2 with the reason', async () => {
  const cases: [string[], RegExp][] = [
    [['--port', ''], /--port must be a non-negative integer, got ''/],
    [['--port', '1e5'], /--port must be a non-negative integer, got '1e5'/],
    [['--port', '1e3'], /--port must be a non-negative integer, got '1e3'/],
    [['--port', '70000'], /--port must be at most 65535/],
    [['--ingest-port', '0x50'], /--ingest-port must be a non-negative integer/],
    [['--max-memory-mib', '0'], /--max-memory-mib must be at least 1/],
    [['--ops-listener', 'public'], /--ops-listener must be 'any' or 'ingest'/],
    [['--cache-prefix', 'vod=max-age=1'], /--cache-prefix must look like \/prefix\/=CACHE-CONTROL/],
    [['--relay', 'live=http://x'], /--relay must look like \[\/prefix\/=\]http:\/\/host:port/],
    [['--relay', 's3://bucket'], /S3 credentials missing/],
  ];
  for (const [args, reason] of cases) {
    const p = runCli(args);
    assert.is(await p.exited, 2, args.join(' '));
    assert.match(p.err(), reason);
  }
});

test.run();
