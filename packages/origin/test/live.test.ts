// Live delivery: readers of an object being written get every unit as one write, the moment
// it completes, from byte 0, whether they came early (held), on time or late.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { get } from 'node:http';
import { ChunkedUpload, fixture, fixtureChunks, http, rawGet, sleep, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

let o: TestOrigin;
test.before.each(async () => {
  o = await startOrigin({ holdMs: 2000 });
});
test.after.each(async () => {
  await o.close();
});

test('fixture sanity: 5 CMAF chunks that add up to the segment', () => {
  assert.is(chunks.length, 5);
  assert.equal(Buffer.concat(chunks), segment);
});

test('each CMAF chunk reaches a live reader as one HTTP chunk, before the next is uploaded', async () => {
  const key = '/live/channel-1/chunk-0-00001.m4s';
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0].subarray(0, 100));
  await waitUntil(() => o.origin.store.get(key) !== undefined, 2000, 'object creation');
  const reader = await rawGet(o.port, key);
  const head = await reader.until((r) => r !== undefined, 2000, 'live response head');
  assert.is(head.status, 200);
  assert.is(head.headers['transfer-encoding'], 'chunked');
  assert.is(head.headers['content-length'], undefined);
  assert.is(head.headers['content-type'], 'video/iso.segment');
  // While written, the Cache-Control it will have once complete, so a CDN can coalesce readers.
  assert.is(head.headers['cache-control'], 'max-age=60');
  assert.is(head.chunks.length, 0, 'nothing before the first chunk is complete');
  up.send(chunks[0].subarray(100));
  for (let k = 0; k < chunks.length; k++) {
    if (k > 0) {
      // Half a chunk must not reach the reader: units are whole chunks.
      const half = chunks[k].length >> 1;
      up.send(chunks[k].subarray(0, half));
      await sleep(40);
      assert.is(reader.response()?.chunks.length, k, `chunk ${k} delivered before it was complete`);
      up.send(chunks[k].subarray(half));
    }
    const r = await reader.until((x) => (x?.chunks.length ?? 0) > k, 1000, `chunk ${k}`);
    assert.is(r.chunks.length, k + 1, `exactly one HTTP chunk for CMAF chunk ${k}`);
    assert.ok(r.chunks[k].equals(chunks[k]), `chunk ${k} bytes`);
    assert.not.ok(r.terminated);
    await sleep(20);
  }
  const done = await up.end();
  assert.is(done.status, 201);
  const final = await reader.until((r) => r?.terminated === true, 1000, 'terminating chunk');
  assert.ok(final.body.equals(segment));
  reader.destroy();
});

test('fan-out happens inside publish: every reader socket gets the unit, framed once, in the same tick', async () => {
  const key = '/live/tick.m4s';
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0]);
  await waitUntil(() => o.origin.store.get(key)?.units.length === 1);
  const readers = await Promise.all([1, 2, 3].map(() => rawGet(o.port, key)));
  for (const r of readers) await r.until((x) => (x?.chunks.length ?? 0) === 1);
  const serverSide = readers.map((r) => [...o.sockets].find((s) => s.remotePort === r.socket.localPort)!);
  const before = serverSide.map((s) => s.bytesWritten);
  const deltas: number[][] = [];
  // 'publish' listeners run right after the fan-out, still inside the publishing call.
  o.origin.store.on('publish', (k, _object, unit) => {
    if (k !== key) return;
    // Bytes each socket took during this publish, minus the chunk framing ("<hex>\r\n" ... "\r\n").
    deltas.push(serverSide.map((s, i) => s.bytesWritten - before[i] - (unit.byteLength.toString(16).length + 4) - unit.byteLength));
    serverSide.forEach((s, i) => (before[i] = s.bytesWritten));
  });
  for (const c of chunks.slice(1)) {
    up.send(c);
    await waitUntil(() => deltas.length === chunks.indexOf(c), 1000, 'publish');
  }
  assert.equal(deltas, [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], 'each reader got exactly the unit, once, within publish');
  await up.end();
  for (const r of readers) {
    assert.ok((await r.until((x) => x?.terminated === true)).body.equals(segment));
    r.destroy();
  }
});

test('an early reader is held, gets its headers on the upload first byte, then streams', async () => {
  const key = '/live/early.m4s';
  const reader = await rawGet(o.port, key);
  await sleep(100);
  assert.is(reader.data.length, 0, 'held without an answer');
  assert.is(o.origin.store.stats().waiters, 1);
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0].subarray(0, 16)); // no unit is complete yet
  const head = await reader.until((r) => r !== undefined, 1000, 'headers on first byte');
  assert.is(head.status, 200);
  assert.is(head.chunks.length, 0);
  assert.is(o.origin.store.stats().waiters, 0);
  up.send(chunks[0].subarray(16));
  for (const c of chunks.slice(1)) up.send(c);
  assert.is((await up.end()).status, 201);
  const r = await reader.until((x) => x?.terminated === true, 1000, 'complete body');
  assert.ok(r.body.equals(segment));
  assert.is(r.chunks.length, 5);
  reader.destroy();
});

test('a late reader gets everything from byte 0, then the rest live', async () => {
  const key = '/live/late.m4s';
  const up = await ChunkedUpload.start(o.port, key);
  for (const c of chunks.slice(0, 3)) up.send(c);
  await waitUntil(() => o.origin.store.get(key)?.units.length === 3, 2000, 'three units');
  const reader = await rawGet(o.port, key);
  const r3 = await reader.until((r) => (r?.chunks.length ?? 0) === 3, 1000, 'catch-up');
  assert.ok(Buffer.concat(r3.chunks).equals(Buffer.concat(chunks.slice(0, 3))));
  up.send(chunks[3]);
  up.send(chunks[4]);
  await up.end();
  const r = await reader.until((x) => x?.terminated === true, 1000, 'end');
  assert.ok(r.body.equals(segment));
  reader.destroy();
});

test('a missing object: held, then 404 with Cache-Control: no-store', async () => {
  const short = await startOrigin({ holdMs: 300 });
  try {
    const r = await http(short.port, 'GET', '/live/never.m4s');
    assert.is(r.status, 404);
    assert.is(r.headers['cache-control'], 'no-store');
    assert.is(short.origin.metrics.holds, 1, 'held first');
    assert.is(short.origin.store.stats().waiters, 0);
  } finally {
    await short.close();
  }
  const none = await startOrigin({ holdMs: 0 });
  try {
    const r = await http(none.port, 'GET', '/live/never.m4s');
    assert.is(r.status, 404);
    assert.is(none.origin.metrics.holds, 0, 'holdMs 0 answers at once, never holds');
  } finally {
    await none.close();
  }
});

test('500 concurrent readers (early and late) all receive bytes identical to the upload', async () => {
  const key = '/live/fanout.m4s';
  const bodies: Promise<Buffer>[] = [];
  const open = () =>
    bodies.push(
      new Promise<Buffer>((resolve, reject) => {
        get({ host: '127.0.0.1', port: o.port, path: key, agent: false }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (b: Buffer) => parts.push(b));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        }).on('error', reject);
      }),
    );
  for (let i = 0; i < 250; i++) open();
  await waitUntil(() => o.origin.store.stats().waiters === 250, 5000, '250 waiters');
  const up = await ChunkedUpload.start(o.port, key);
  up.send(chunks[0]);
  up.send(chunks[1]);
  await waitUntil(() => o.origin.store.stats().readers === 250, 5000, '250 readers');
  for (let i = 0; i < 250; i++) open();
  await waitUntil(() => o.origin.store.stats().readers === 500, 5000, '500 readers');
  for (const c of chunks.slice(2)) {
    up.send(c);
    await sleep(10);
  }
  assert.is((await up.end()).status, 201);
  const all = await Promise.all(bodies);
  assert.is(all.length, 500);
  all.forEach((b, i) => assert.ok(b.equals(segment), `reader ${i} got ${b.length} bytes`));
  await waitUntil(() => o.origin.store.stats().readers === 0, 2000, 'readers released');
});

test('non-ISO-BMFF bodies are relayed piece by piece', async () => {
  const key = '/live/seg-1.ts';
  const piece = (n: number) => Buffer.alloc(188 * (n + 1), 0x47 + n);
  const up = await ChunkedUpload.start(o.port, key);
  up.send(piece(0));
  await waitUntil(() => o.origin.store.get(key) !== undefined, 2000, 'object');
  const reader = await rawGet(o.port, key);
  const first = await reader.until((r) => (r?.chunks.length ?? 0) === 1, 1000, 'first piece');
  assert.is(first.headers['content-type'], 'video/mp2t');
  for (let k = 1; k < 4; k++) {
    up.send(piece(k));
    const r = await reader.until((x) => (x?.chunks.length ?? 0) === k + 1, 1000, `piece ${k}`);
    assert.ok(r.chunks[k].equals(piece(k)));
  }
  await up.end();
  await reader.until((r) => r?.terminated === true, 1000, 'end');
  reader.destroy();
  const text = await http(o.port, 'PUT', '/notes', 'plain words, not boxes');
  assert.is(text.status, 201);
  const back = await http(o.port, 'GET', '/notes');
  assert.is(back.body.toString(), 'plain words, not boxes');
  assert.is(back.headers['content-type'], 'application/octet-stream');
});

test('ISO-BMFF without a known extension is sniffed and published per chunk', async () => {
  const key = '/live/video/segment';
  const up = await ChunkedUpload.start(o.port, key);
  up.send(segment.subarray(0, 5)); // fewer than 8 bytes: nothing decided yet
  up.send(segment.subarray(5));
  assert.is((await up.end()).status, 201);
  const stored = o.origin.store.get(key);
  assert.is(stored?.units.length, 5);
  assert.is(stored?.contentType, 'video/mp4');
  stored?.units.forEach((u, i) => assert.ok(Buffer.from(u).equals(chunks[i])));
});

test.run();
