// Signed playback URLs: a path token (`/~<expires>.<segments>.<signature>/live/ch/...`) grants
// reading one directory until it expires. Accepted, expired, tampered, out of scope, and the
// relative URIs of a signed manifest carrying the token on their own; the CLI prints tokens.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { signPath } from '../src/index.js';
import { UrlSigner } from '../src/egress/signed-urls.js';
import { fixture, http, put, runCli, startOrigin } from './helpers.js';

const quiet = (): void => {};
const segment = fixture('lldash-segment.m4s');
const SECRET = 'playback-secret';

test('a signed path reads its directory; unsigned, expired, tampered or out-of-scope reads get 403', async () => {
  const o = await startOrigin({ warn: quiet, signing: { secret: SECRET, prefixes: ['/live/'] } });
  try {
    for (const key of ['/live/ch/seg-1.m4s', '/live/ch/hd/seg-1.m4s', '/live/other/seg-1.m4s', '/public/seg-1.m4s']) {
      assert.is((await put(o.port, key, segment)).status, 201, `upload ${key}: writes use the ingest rules, not tokens`);
    }
    const signed = signPath(SECRET, '/live/ch/', 60);
    assert.match(signed, /^\/~\d+\.2\.[A-Za-z0-9_-]{43}\/live\/ch\/$/);
    const ok = await http(o.port, 'GET', `${signed}seg-1.m4s`);
    assert.is(ok.status, 200);
    assert.ok(ok.body.equals(segment));
    assert.is((await http(o.port, 'GET', `${signed}hd/seg-1.m4s`)).status, 200, 'below the signed directory');
    assert.is((await http(o.port, 'HEAD', `${signed}seg-1.m4s`)).status, 200);
    assert.is((await http(o.port, 'GET', `${signed}seg-1.m4s`, undefined, { range: 'bytes=0-99' })).status, 206);
    const refused = async (path: string, reason: RegExp): Promise<void> => {
      const r = await http(o.port, 'GET', path);
      assert.is(r.status, 403, path);
      assert.match(r.body.toString(), reason, path);
    };
    await refused('/live/ch/seg-1.m4s', /a signed URL is needed/);
    await refused(`${signed.replace('/live/ch/', '/live/other/')}seg-1.m4s`, /bad token signature/);
    const expired = new UrlSigner(SECRET, []).sign('/live/ch/', Math.floor(Date.now() / 1000) - 1);
    await refused(`${expired}seg-1.m4s`, /token expired/);
    const sig = /\.([A-Za-z0-9_-]{43})\//.exec(signed)![1];
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    await refused(`${signed.replace(sig, flipped)}seg-1.m4s`, /bad token signature/);
    const later = signed.replace(/~(\d+)\./, (_, e: string) => `~${Number(e) + 3600}.`);
    await refused(`${later}seg-1.m4s`, /bad token signature/);
    await refused('/~123.x.abc/live/ch/seg-1.m4s', /malformed token/);
    // A token for the whole origin reaches everything; a token for one channel only that one.
    const all = signPath(SECRET, '/', 60);
    assert.is((await http(o.port, 'GET', `${all}live/other/seg-1.m4s`)).status, 200);
    await refused(`${signPath(SECRET, '/live/other/', 60)}seg-2.m4s`.replace('/live/other/', '/live/ch/'), /bad token signature/);
    // Climbing out of the signed directory is refused as a path before any token is read.
    assert.is((await http(o.port, 'GET', `${signPath(SECRET, '/live/other/', 60)}../ch/seg-1.m4s`)).status, 400);
    // A valid token used outside what it covers.
    const other = signPath(SECRET, '/live/other/', 60);
    await refused(`${other.slice(0, other.indexOf('/live/'))}/live/ch/seg-1.m4s`, /bad token signature/);
    // Outside the protected prefixes: open, with or without a token.
    assert.is((await http(o.port, 'GET', '/public/seg-1.m4s')).status, 200);
    // Ops paths and the player page never need one.
    for (const path of ['/time', '/healthz', '/metrics', '/player']) assert.is((await http(o.port, 'GET', path)).status, 200, path);
    // Logs carry no token.
    const lines: string[] = [];
    const logged = await startOrigin({ warn: quiet, signing: { secret: SECRET }, log: (e) => lines.push(`${e.path} ${e.status}`) });
    try {
      await http(logged.port, 'GET', `${signPath(SECRET, '/live/', 60)}x.m4s`);
      await http(logged.port, 'GET', `${signed.replace(sig, flipped)}x.m4s`);
      assert.equal(lines, ['/live/x.m4s 404', '/~(token)/live/ch/x.m4s 403']);
    } finally {
      await logged.close();
    }
  } finally {
    await o.close();
  }
});

test("a manifest's relative URIs carry its token: what a player asks for next is signed too", async () => {
  const o = await startOrigin({ warn: quiet, signing: { secret: SECRET } });
  try {
    await put(o.port, '/live/ch/out.mpd', fixture('lldash.mpd'), { 'content-type': 'application/dash+xml' });
    await put(o.port, '/live/ch/chunk-stream0-00001.m4s', segment);
    const manifest = new URL(`http://127.0.0.1:${o.port}${signPath(SECRET, '/live/ch/', 60)}out.mpd`);
    assert.is((await http(o.port, 'GET', manifest.pathname)).status, 200);
    // As a player resolves a SegmentTemplate's relative media URL against the manifest's.
    const next = new URL('chunk-stream0-00001.m4s', manifest);
    assert.is((await http(o.port, 'GET', next.pathname)).status, 200);
  } finally {
    await o.close();
  }
});

test('the CLI: --sign prints a signed path, --sign-secret protects reads, errors exit 2', async () => {
  const printed = runCli(['--sign', '/live/ch/', '--sign-ttl', '120'], { BOXSTREAM_SIGN_SECRET: SECRET });
  assert.is(await printed.exited, 0, printed.err());
  const path = printed.out().trim();
  assert.match(path, /^\/~\d+\.2\.[A-Za-z0-9_-]{43}\/live\/ch\/$/);
  const expires = Number(/~(\d+)\./.exec(path)![1]);
  assert.ok(Math.abs(expires - (Date.now() / 1000 + 120)) < 30, 'valid for --sign-ttl seconds');
  const o = await startOrigin({ warn: quiet, signing: { secret: SECRET } });
  try {
    await put(o.port, '/live/ch/a.m4s', segment);
    assert.is((await http(o.port, 'GET', `${path}a.m4s`)).status, 200, 'the CLI and the origin agree');
  } finally {
    await o.close();
  }
  const cases: [string[], RegExp][] = [
    [['--sign', '/live/ch/'], /--sign needs --sign-secret/],
    [['--sign', 'live', '--sign-secret', 'x'], /--sign: a signed prefix is a directory/],
    [['--sign-prefix', '/live/'], /--sign-prefix needs --sign-secret/],
  ];
  for (const [args, reason] of cases) {
    const p = runCli(args);
    assert.is(await p.exited, 2, args.join(' '));
    assert.match(p.err(), reason);
  }
});

test('signing options are checked: no prefix, or one written unlike keys, would protect nothing', async () => {
  const { resolveOptions } = await import('../src/options.js');
  assert.throws(() => resolveOptions({ signing: { secret: '' } }), /signing.secret must be a non-empty string/);
  assert.throws(() => resolveOptions({ signing: { secret: 'x', prefixes: [] } }), /at least one prefix/);
  for (const bad of ['live/', '/live', '/live//', '/live/./', '/caf%C3%A9/']) {
    assert.throws(() => resolveOptions({ signing: { secret: 'x', prefixes: [bad] } }), /a directory as keys are written/, bad);
  }
  assert.throws(() => signPath('x', '/live', 60), /a directory/);
  assert.throws(() => new UrlSigner('x', []).sign('/live/', 1e12), /up to 999999999999/);
});

test('a path under /player/ or /vod/ that the page or the job list does not own is content: it needs a token', async () => {
  const o = await startOrigin({ warn: quiet, signing: { secret: SECRET } });
  try {
    assert.is((await put(o.port, '/player/secret.m4s', segment)).status, 201);
    assert.is((await http(o.port, 'GET', '/player/secret.m4s')).status, 403);
    assert.is((await http(o.port, 'GET', `${signPath(SECRET, '/player/', 60)}secret.m4s`)).status, 200);
    assert.is((await http(o.port, 'GET', '/player')).status, 200);
    assert.is((await http(o.port, 'GET', '/player/hls.min.js')).status !== 403, true, 'the page\'s own scripts are open');
  } finally {
    await o.close();
  }
});

test('one spelling per token, a name signed as keys are written, and no token in the log even for a refused path', async () => {
  const lines: string[] = [];
  const o = await startOrigin({ warn: quiet, signing: { secret: SECRET }, log: (e) => lines.push(`${e.path} ${e.status}`) });
  try {
    await put(o.port, '/live/caf\u00e9/a.m4s'.replace('\u00e9', '%C3%A9'), segment);
    const signed = signPath(SECRET, '/live/café/', 60);
    assert.match(signed, /\/live\/caf%C3%A9\/$/, 'the path is percent-encoded, the key signed decoded');
    assert.is((await http(o.port, 'GET', `${signed}a.m4s`)).status, 200);
    const m = /^\/~(\d+)\.(\d+)\.([A-Za-z0-9_-]{43})/.exec(signed)!;
    assert.is((await http(o.port, 'GET', signed.replace(`~${m[1]}.`, `~0${m[1]}.`) + 'a.m4s')).status, 403, 'leading zero');
    assert.is((await http(o.port, 'GET', signed.replace(`.${m[2]}.`, `.0${m[2]}.`) + 'a.m4s')).status, 403, 'leading zero');
    // The last base64url character carries 4 unused bits: only the canonical one is the token.
    const last = m[3].at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)];
    assert.is((await http(o.port, 'GET', signed.replace(m[3], m[3].slice(0, -1) + twin) + 'a.m4s')).status, 403, 'another spelling of the signature');
    lines.length = 0;
    assert.is((await http(o.port, 'GET', `${signed}seg%ZZ.m4s`)).status, 400);
    assert.equal(lines, ['/~(token)/live/caf%C3%A9/seg%ZZ.m4s 400']);
  } finally {
    await o.close();
  }
});

test.run();
