// `--config FILE` (YAML or JSON keyed by flag names) and `--print-config`, through the real CLI:
// a file's settings take effect, flags override them, every error names the file, the line and
// the key, and what --print-config prints is a config file that reads back to the same settings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { http, runCli, waitUntil } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'boxstream-config-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function started(p: ReturnType<typeof runCli>): Promise<number> {
  await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:(\d+)\n/.test(p.out()) || p.err() !== '', 10_000, 'first line');
  const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(p.out());
  assert.ok(m, `no listening line; stderr: ${p.err()}`);
  return Number(m![1]);
}

test('a YAML file sets what the flags would, and flags given beside it win', async () => {
  const config = file(
    'origin.yaml',
    [
      '# an origin for one site',
      'port: 0',
      'hold-ms: 0',
      'cors-origin: https://player.example',
      'cache-prefix:',
      '  - prefix: /static/',
      '    cache-control: max-age=31536000, immutable',
      'no-player: true',
      'quiet: true',
      '',
    ].join('\n'),
  );
  const p = runCli(['--config', config, '--cors-origin', 'https://other.example']);
  try {
    const port = await started(p);
    await http(port, 'PUT', '/static/a.js', 'x');
    const r = await http(port, 'GET', '/static/a.js', undefined, { origin: 'https://other.example' });
    assert.is(r.headers['cache-control'], 'max-age=31536000, immutable', 'cache-prefix from the file');
    assert.is(r.headers['access-control-allow-origin'], 'https://other.example', 'the flag replaced the file\'s cors-origin');
    assert.is((await http(port, 'GET', '/player')).status, 404, 'no-player from the file');
    assert.is((await http(port, 'GET', '/live/missing.m4s')).status, 404, 'hold-ms 0: answered at once');
    assert.is(p.out().trim().split('\n').length, 1, 'quiet from the file: no access log');
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('JSON is read too', async () => {
  const p = runCli(['--config', file('origin.json', JSON.stringify({ port: 0, quiet: true, 'time-path': '/clock' }))]);
  try {
    const port = await started(p);
    assert.is((await http(port, 'GET', '/clock')).status, 200);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('errors name the file, the line and the key, and exit 2', async () => {
  const cases: [string, string, RegExp][] = [
    ['unknown.yaml', 'port: 0\nhold_ms: 10\n', /unknown\.yaml:2: hold_ms: not a setting \(did you mean 'hold-ms'\?\)/],
    ['meta.yaml', 'config: other.yaml\n', /meta\.yaml:1: config: not a setting/],
    ['int.yaml', 'port: 0\n\nhold-ms: soon\n', /int\.yaml:3: hold-ms must be a non-negative integer, got 'soon'/],
    ['float.yaml', 'ttl: 1.5\n', /float\.yaml:1: 1\.5 is not a whole number written in digits/],
    ['bool.yaml', 'quiet: yes please\n', /bool\.yaml:1: quiet: must be true or false/],
    ['list.yaml', 'cache-prefix:\n  - { prefix: /a/ }\n', /list\.yaml:2: cache-prefix: an entry is \{ prefix, cache-control \}/],
    ['rule.yaml', 'ttl-prefix: [archive=0]\n', /rule\.yaml:1: ttl-prefix must look like \/prefix\/=SECONDS/],
    ['relay.yaml', 'relay:\n  - url: http://x/\n    max-queue: 0\n', /relay\.yaml:2: relay: relay target http:\/\/x\/: maxQueue must be an integer of at least 1/],
    ['relaykey.yaml', 'relay:\n  - url: http://x/\n    queue: 5\n', /relaykey\.yaml:2: relay: 'queue' is not a relay setting/],
    ['syntax.yaml', 'port: [0\n', /syntax\.yaml:2:1: /],
    ['list-top.yaml', '- port: 0\n', /list-top\.yaml:1: the file must be a map of settings/],
    ['dup.yaml', 'port: 0\nport: 1\n', /dup\.yaml:2:1: Map keys must be unique/],
    ['hex.yaml', 'port: 0x10\n', /hex\.yaml:1: 0x10 is not a whole number written in digits/],
    ['exp.yaml', 'ttl-prefix:\n  - { prefix: /a/, ttl: 1e3 }\n', /exp\.yaml:2: 1e3 is not a whole number written in digits/],
    ['tag.yaml', 'sign-secret: !env SECRET\n', /tag\.yaml:1:\d+: .*(tag|Unresolved)/i],
    ['numstr.yaml', 'ingest-secret: 00042\n', /numstr\.yaml:1: 00042 is not a whole number written in digits|numstr\.yaml:1: ingest-secret: must be a string/],
    ['dashes.yaml', '--port: 0\n', /dashes\.yaml:1: --port: not a setting \(did you mean 'port'\?\)/],
    ['timepath.yaml', 'time-path: time\n', /timepath\.yaml:1: time-path must be a path starting with '\/'/],
    ['signprefix.yaml', 'sign-secret: x\nsign-prefix: [live/]\n', /signprefix\.yaml:2: sign-prefix: .*a directory as keys are written/],
    ['relaycred.yaml', 'relay: [/a/=http://u:***@b:1]\n', /relaycred\.yaml:1: relay: its credentials were not printed/],
    ['relaysecret.yaml', 'relay:\n  - url: http://b:1\n    secret: (set, not shown)\n', /relaysecret\.yaml:2: relay: its secret was not printed/],
  ];
  for (const [name, text, reason] of cases) {
    const p = runCli(['--config', file(name, text)]);
    assert.is(await p.exited, 2, name);
    assert.match(p.err(), reason, name);
    assert.not.match(p.err(), /Usage:/, `${name}: the reason, not the usage`);
  }
  const missing = runCli(['--config', join(dir, 'nope.yaml')]);
  assert.is(await missing.exited, 2);
  assert.match(missing.err(), /nope\.yaml: cannot read/);
  const device = runCli(['--config', '/dev/zero']);
  assert.is(await device.exited, 2);
  assert.match(device.err(), /\/dev\/zero: cannot read: not a config file/);
});

test('--print-config prints every setting, set ones as values and defaults commented, no secrets; it reads back the same', async () => {
  const config = file(
    'full.yaml',
    [
      'hold-ms: 2000',
      'ingest-secret: do-not-print-me',
      'ttl-prefix: [/archive/=0]',
      'relay:',
      '  - /live/=http://127.0.0.1:9',
      '  - { url: http://127.0.0.1:10/edge, prefix: /live/, max-queue: 50 }',
      '',
    ].join('\n'),
  );
  const p = runCli(['--config', config, '--port', '0', '--print-config']);
  assert.is(await p.exited, 0, p.err());
  const printed = p.out();
  assert.match(printed, /^port: 0$/m);
  assert.match(printed, /^hold-ms: 2000$/m);
  assert.match(printed, /^# host: 127\.0\.0\.1$/m);
  assert.match(printed, /^# ttl: 300$/m);
  assert.match(printed, /^ingest-secret: \(set, not shown\)$/m);
  assert.not.match(printed, /do-not-print-me/);
  assert.match(printed, /max-queue: 50/);
  // Read back (with the secret given again, as it is not printed): the same settings.
  const again = runCli(['--config', file('printed.yaml', printed), '--ingest-secret', 'x', '--print-config']);
  assert.is(await again.exited, 0, again.err());
  const body = (text: string): string => text.split('\n').slice(1).join('\n');
  assert.is(body(again.out()), body(printed));
});

test('a printed config does not start a less protected origin: its secrets must be given again; URL credentials are hidden', async () => {
  const config = file('secret.yaml', 'sign-secret: keep-me\nrelay: [/live/=http://alice:hunter2@127.0.0.1:9]\n');
  const p = runCli(['--config', config, '--print-config']);
  assert.is(await p.exited, 0, p.err());
  assert.match(p.out(), /^sign-secret: \(set, not shown\)$/m);
  assert.not.match(p.out(), /keep-me|hunter2/);
  assert.match(p.out(), /http:\/\/alice:\*\*\*@127\.0\.0\.1:9/);
  const printed = file('printed-secret.yaml', p.out().replace('alice:***@', ''));
  const again = runCli(['--config', printed, '--print-config']);
  assert.is(await again.exited, 2);
  assert.match(again.err(), /printed-secret\.yaml:\d+: sign-secret: the secret was not printed; give it with --sign-secret, BOXSTREAM_SIGN_SECRET or in the file/);
  const fromEnv = runCli(['--config', printed, '--print-config'], { BOXSTREAM_SIGN_SECRET: 'keep-me' });
  assert.is(await fromEnv.exited, 0, fromEnv.err());
  assert.match(fromEnv.out(), /^# sign-secret: \(from BOXSTREAM_SIGN_SECRET\)$/m);
});

test('--print-config checks like a start: a bad value exits 2 and prints nothing', async () => {
  const p = runCli(['--config', file('bad-ops.yaml', 'ops-listener: public\n'), '--print-config']);
  assert.is(await p.exited, 2);
  assert.is(p.out(), '');
  assert.match(p.err(), /bad-ops\.yaml:1: ops-listener must be 'any' or 'ingest'/);
});

test("the README's example config file is valid", async () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const example = /```yaml\n(# \/etc\/boxstream\/origin\.yaml[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, 'a yaml block starting "# /etc/boxstream/origin.yaml" in the README');
  const p = runCli(['--config', file('readme.yaml', example!), '--print-config'], { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' });
  assert.is(await p.exited, 0, p.err());
  assert.match(p.out(), /^ingest-port: 5000$/m);
  assert.match(p.out(), /s3-endpoint: http:\/\/s3\.local:9000/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
