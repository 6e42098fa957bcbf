// Reads of objects still being written that are not "from byte 0 to the end": byte ranges
// (206 as the bytes are written, LL-HLS byte-range parts depend on it), and HTTP/1.0 clients,
// which cannot tell a cut body from a complete one and so get complete objects only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChunkedUpload, RawClient, fixture, fixtureChunks, http, rawGet, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();
let o: TestOrigin;

test.before(async () => {
  o = await startOrigin({ holdMs: 2000 });
});
test.after(async () => {
  await o.close();
});

/** Waits until `n` readers follow objects (the requests reached the origin before what comes next). */
const readers = (n: number): Promise<void> => waitUntil(() => o.origin.store.stats().readers >= n, 3000, `${n} readers`);

async function uploading(key: string, first: number): Promise<ChunkedUpload> {
  const up = await ChunkedUpload.start(o.port, key);
  for (const c of chunks.slice(0, first)) up.send(c);
  await waitUntil(() => o.origin.store.get(key)?.length === chunks.slice(0, first).reduce((n, c) => n + c.length, 0));
  return up;
}

test('a closed range of an object in progress: 206 bytes a-b/*, sent as its bytes are written', async () => {
  const up = await uploading('/r/a.m4s', 1);
  // The range starts inside chunk 2 and ends inside chunk 3: none of it exists yet.
  const start = chunks[0].length + 10;
  const last = chunks[0].length + chunks[1].length + 20;
  const r = await rawGet(o.port, '/r/a.m4s', 'GET', `Range: bytes=${start}-${last}\r\n`);
  await readers(1);
  up.send(chunks[1]);
  const partial = await r.until((x) => (x?.body.length ?? 0) > 0);
  assert.is(partial.status, 206);
  assert.is(partial.headers['content-range'], `bytes ${start}-${last}/*`);
  assert.is(partial.headers['content-length'], String(last - start + 1));
  assert.ok(partial.body.equals(segment.subarray(start, start + partial.body.length)), 'the range so far, before the rest is written');
  assert.is(partial.body.length, chunks[1].length - 10);
  up.send(chunks[2]);
  const whole = await r.until((x) => (x?.body.length ?? 0) === last - start + 1);
  assert.ok(whole.body.equals(segment.subarray(start, last + 1)));
  for (const c of chunks.slice(3)) up.send(c);
  assert.is((await up.end()).status, 201);
  r.destroy();
});

test('an open range of an object in progress follows it to its end; one from byte 0 is a plain 200', async () => {
  const up = await uploading('/r/b.m4s', 2);
  const start = 100;
  const open = await rawGet(o.port, '/r/b.m4s', 'GET', `Range: bytes=${start}-\r\n`);
  const zero = await rawGet(o.port, '/r/b.m4s', 'GET', 'Range: bytes=0-\r\n');
  await readers(2);
  for (const c of chunks.slice(2)) up.send(c);
  assert.is((await up.end()).status, 201);
  const r = await open.until((x) => x?.terminated === true);
  assert.is(r.status, 206);
  assert.match(r.headers['content-range'], new RegExp(`^bytes ${start}-\\d+/\\*$`));
  assert.ok(r.body.equals(segment.subarray(start)));
  const z = await zero.until((x) => x?.terminated === true);
  assert.is(z.status, 200);
  assert.ok(z.body.equals(segment));
  open.destroy();
  zero.destroy();
});

test('a range that starts past the end the object reaches: 416 once it completes; a cut upload: 404', async () => {
  const up = await uploading('/r/c.m4s', 1);
  const past = await rawGet(o.port, '/r/c.m4s', 'GET', `Range: bytes=${segment.length + 5}-${segment.length + 10}\r\n`);
  await readers(1);
  for (const c of chunks.slice(1)) up.send(c);
  assert.is((await up.end()).status, 201);
  const r = await past.until((x) => x !== undefined);
  assert.is(r.status, 416);
  assert.is(r.headers['content-range'], `bytes */${segment.length}`);
  past.destroy();
  // The upload dies before the range's first byte exists.
  const dying = await uploading('/r/d.m4s', 1);
  const waiting = await rawGet(o.port, '/r/d.m4s', 'GET', `Range: bytes=${chunks[0].length + 1}-\r\n`);
  await readers(1);
  dying.abort();
  assert.is((await waiting.until((x) => x !== undefined)).status, 404);
  waiting.destroy();
  // A closed range the object ends inside: what exists, then the connection is cut (not a clean end).
  const short = await uploading('/r/e.m4s', 1);
  const cut = await rawGet(o.port, '/r/e.m4s', 'GET', `Range: bytes=0-${segment.length + 100}\r\n`);
  await readers(1);
  for (const c of chunks.slice(1)) short.send(c);
  await short.end();
  await waitUntil(() => cut.closed, 3000, 'cut');
  const got = cut.response() as NonNullable<ReturnType<RawClient['response']>>;
  assert.is(got.status, 206);
  assert.ok(got.body.equals(segment), 'every byte there is');
  assert.ok(Number(got.headers['content-length']) > got.body.length, 'fewer bytes than promised: the client sees the cut');
});

test('HTTP/1.0 readers get complete objects only: held until the upload completes, 404 if it fails', async () => {
  const up = await uploading('/r/old.m4s', 2);
  const reader = await new RawClient(o.port).ready();
  reader.write('GET /r/old.m4s HTTP/1.0\r\n\r\n');
  await waitUntil(() => o.origin.metrics.holds > 0);
  assert.is(reader.received, 0, 'nothing while the object is written');
  for (const c of chunks.slice(2)) up.send(c);
  assert.is((await up.end()).status, 201);
  const r = await reader.until((x) => x !== undefined && x.body.length === segment.length);
  assert.is(r.status, 200);
  assert.is(r.headers['content-length'], String(segment.length));
  assert.ok(r.body.equals(segment));
  // Longer than holdMs is fine (the upload's own idle timeout bounds the wait); a failed upload: 404,
  // never a body that looks complete.
  const slow = await uploading('/r/slow.m4s', 1);
  const late = await new RawClient(o.port).ready();
  late.write('GET /r/slow.m4s HTTP/1.0\r\n\r\n');
  await waitUntil(() => o.origin.metrics.holds > 1);
  await new Promise((r) => setTimeout(r, 2500)); // past holdMs (2000)
  assert.is(late.received, 0, 'still waiting past holdMs');
  slow.abort();
  assert.is((await late.until((x) => x !== undefined, 5000)).status, 404);
  // HTTP/1.1 readers still follow the upload live.
  assert.is((await http(o.port, 'GET', '/r/old.m4s')).status, 200);
});

test.run();
