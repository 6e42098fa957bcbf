// Bad uploads and bad requests: aborted uploads cut their readers, malformed MP4 is refused
// without disturbing other streams, absurd sizes get 413, hostile paths get 400.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedUpload, RawClient, fixture, fixtureChunks, http, put, rawGet, sleep, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

let o: TestOrigin;
test.before.each(async () => {
  o = await startOrigin({ holdMs: 150, maxObjectSize: 1024 * 1024, maxManifestSize: 4096 });
});
test.after.each(async () => {
  await o.close();
});

test('an aborted upload cuts its readers without the terminating chunk; the object is not served as complete', async () => {
  const key = '/live/cut.m4s';
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0]);
  up.send(chunks[1]);
  await waitUntil(() => o.origin.store.get(key)?.units.length === 2);
  const reader = await rawGet(o.port, key);
  await reader.until((r) => (r?.chunks.length ?? 0) === 2);
  up.send(chunks[2].subarray(0, 500)); // half a chunk, then the encoder dies
  await sleep(20);
  up.abort();
  await waitUntil(() => reader.closed, 2000, 'reader connection closed');
  const r = reader.response();
  assert.is(r?.chunks.length, 2, 'the complete chunks were delivered');
  assert.not.ok(r?.terminated, 'no zero-length chunk');
  assert.not.ok(reader.data.subarray(-5).toString('latin1') === '0\r\n\r\n');
  assert.is(o.origin.store.get(key)?.state, 'aborted');
  const later = await http(o.port, 'GET', key);
  assert.is(later.status, 404, 'an aborted object is not served');
  assert.is(later.headers['cache-control'], 'no-store');
  assert.is(o.origin.store.stats().readers, 0);
});

test('a waiter on an aborted object gets the next upload of that key', async () => {
  const key = '/live/retry.m4s';
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0]);
  await waitUntil(() => o.origin.store.get(key) !== undefined);
  up.abort();
  await waitUntil(() => o.origin.store.get(key)?.state === 'aborted');
  const reader = await rawGet(o.port, key);
  await sleep(30);
  assert.is(reader.data.length, 0, 'held');
  assert.is((await put(o.port, key, segment)).status, 204);
  const r = await reader.until((x) => x?.status === 200 && x.body.length === segment.length);
  assert.ok(r.body.equals(segment));
  reader.destroy();
});

test('malformed MP4 gets 400 (mid-stream) or 415 (not ISO-BMFF); valid chunks are kept; other streams go on', async () => {
  // A healthy stream in parallel, with a reader.
  const goodKey = '/live/good.m4s';
  const good = await ChunkedUpload.start(o.port, goodKey);
  good.send(chunks[0]);
  await waitUntil(() => o.origin.store.get(goodKey) !== undefined);
  const goodReader = await rawGet(o.port, goodKey);
  await goodReader.until((r) => (r?.chunks.length ?? 0) === 1);

  // A stream that turns bad after one valid chunk: a box whose size is smaller than its header.
  const badKey = '/live/bad.m4s';
  const bad = await ChunkedUpload.start(o.port, badKey);
  bad.send(chunks[0]);
  await waitUntil(() => o.origin.store.get(badKey)?.units.length === 1);
  const badReader = await rawGet(o.port, badKey);
  await badReader.until((r) => (r?.chunks.length ?? 0) === 1);
  bad.send(Buffer.from([0, 0, 0, 3, 0x6d, 0x6f, 0x6f, 0x66]));
  const answer = await bad.client.until((r) => r !== undefined, 2000, 'error answer');
  assert.is(answer.status, 400);
  assert.match(answer.body.toString(), /malformed ISO-BMFF \(BAD_SIZE\)/);
  assert.is(answer.headers.connection, 'close');
  await waitUntil(() => badReader.closed, 2000, 'bad reader cut');
  assert.not.ok(badReader.response()?.terminated);
  assert.is(o.origin.store.get(badKey)?.state, 'aborted');
  assert.is(o.origin.store.get(badKey)?.units.length, 1, 'the valid chunk is kept');

  // Not ISO-BMFF at all under an MP4 name: 415.
  const junk = await put(o.port, '/live/junk.m4s', '<html>502 Bad Gateway</html>');
  assert.is(junk.status, 415);
  assert.match(junk.body.toString(), /not ISO-BMFF/);
  // Truncated at the end: 400.
  const short = await put(o.port, '/live/short.m4s', segment.subarray(0, segment.length - 10));
  assert.is(short.status, 400);
  assert.match(short.body.toString(), /TRUNCATED/);

  // The healthy stream did not notice.
  for (const c of chunks.slice(1)) good.send(c);
  assert.is((await good.end()).status, 201);
  const r = await goodReader.until((x) => x?.terminated === true);
  assert.ok(r.body.equals(segment));
  goodReader.destroy();
  badReader.destroy();
});

test('413 for absurd Content-Length, over-size chunked bodies and over-size manifests', async () => {
  const c = await new RawClient(o.port).ready();
  c.write('PUT /huge.m4s HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n');
  const r = await c.until((x) => x !== undefined);
  assert.is(r.status, 413);
  assert.is(r.headers.connection, 'close');
  await waitUntil(() => c.closed, 2000, 'connection closed after 413');
  assert.is(o.origin.store.get('/huge.m4s'), undefined);

  const up = await ChunkedUpload.start(o.port, '/live/big.ts');
  const piece = Buffer.alloc(256 * 1024, 0x47);
  for (let i = 0; i < 5; i++) up.send(piece);
  const over = await up.client.until((x) => x !== undefined, 2000, '413');
  assert.is(over.status, 413);
  assert.is(o.origin.store.get('/live/big.ts')?.state, 'aborted');

  const m = await put(o.port, '/live/out.mpd', Buffer.alloc(5000, 0x20));
  assert.is(m.status, 413);
  assert.is(o.origin.store.get('/live/out.mpd'), undefined);
  assert.is((await http(o.port, 'GET', '/time')).status, 200);
});

test('hostile paths get 400, before anything is stored', async () => {
  const targets = [
    '/../etc/passwd',
    '/live/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/live/%2E%2E/x.m4s',
    '/live%2fx.m4s',
    '/live%5cx.m4s',
    '/live\\x.m4s',
    '/a%00.m4s',
    '/bad%zz.m4s',
    '/bad%c3%28.m4s',
    '/' + 'a'.repeat(1100) + '.m4s',
  ];
  for (const t of targets) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const c = await new RawClient(o.port).ready();
      c.write(`${method} ${t} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd`);
      const r = await c.until((x) => x !== undefined, 2000, `${method} ${t}`);
      assert.is(r.status, 400, `${method} ${t}`);
      c.destroy();
    }
  }
  assert.is(o.origin.store.size, 0);
  assert.is((await http(o.port, 'PUT', '/', 'x')).status, 400, 'the root names no object');
});

test('unknown methods get 405 with Allow', async () => {
  const r = await http(o.port, 'PATCH', '/a.m4s', 'x');
  assert.is(r.status, 405);
  assert.match(String(r.headers.allow), /GET, HEAD, PUT, POST, DELETE, OPTIONS/);
});

test.run();
