// Protocol edges: CORS on the errors Node answers itself, `Expect: 100-continue` only after the
// checks, transfer codings, DELETE reaching uploads not visible yet, stored objects never run as
// documents, the /player lookup cached, the CLI surviving its stdout reader.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPlayerRoute } from '../src/player/route.js';
import { ChunkedUpload, RawClient, fixture, http, put, runCli, sleep, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');

/** Sends raw bytes, returns everything received until the server closes (or `ms`). */
async function exchange(port: number, bytes: string, ms = 3000): Promise<string> {
  const c = await new RawClient(port).ready();
  c.write(bytes);
  await waitUntil(() => c.closed, ms, 'server closed the connection');
  return c.data.toString('latin1');
}

test("Node's own error answers (400, 431, 408, 417) carry CORS and Connection: close", async () => {
  const o = await startOrigin({ headersTimeoutMs: 300, maxHeaderBytes: 2048 });
  try {
    const cases: [string, string][] = [
      ['PUT /a.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', '400'],
      ['PUT /b.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n', '400'],
      [`GET /c.ts HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`, '431'],
      ['GET /d.ts HTTP/1.1\r\nHost: x\r\n', '408'], // the head never completes
      ['GET /e.ts HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n', '417'],
    ];
    for (const [request, status] of cases) {
      const text = await exchange(o.port, request);
      assert.ok(text.startsWith(`HTTP/1.1 ${status} `), `${status}: ${JSON.stringify(text.slice(0, 60))}`);
      assert.match(text, /\r\nAccess-Control-Allow-Origin: \*\r\n/i, `${status} has CORS`);
      assert.match(text, /\r\nConnection: close\r\n/i, `${status} closes`);
    }
  } finally {
    await o.close();
  }
});

test('an HTTP/1 connection claiming another major version gets 505 and is closed; no route sees the request', async () => {
  // Node's parser accepts `HTTP/2.0` (and other majors) on a plain connection and reports them
  // as such: taken for HTTP/2, such a request was neither tied to its socket nor read as cut.
  const o = await startOrigin();
  try {
    for (const request of ['GET /live/a.m4s HTTP/2.0\r\nHost: x\r\n\r\n', 'PUT /live/b.m4s HTTP/2.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n']) {
      const text = await exchange(o.port, request);
      assert.ok(text.startsWith('HTTP/1.1 505 '), JSON.stringify(text.slice(0, 60)));
      assert.match(text, /\r\nConnection: close\r\n/i);
      assert.match(text, /\r\nAccess-Control-Allow-Origin: \*\r\n/i);
    }
    assert.is(o.origin.store.get('/live/b.m4s'), undefined, 'nothing stored');
  } finally {
    await o.close();
  }
});

test('Expect: 100-continue: 100 only after size, auth and limits passed', async () => {
  const o = await startOrigin({ maxObjectSize: 1000, ingestSecret: 's3cret' });
  try {
    const refused = async (head: string, status: number): Promise<void> => {
      const c = await new RawClient(o.port).ready();
      c.write(head);
      const r = await c.until((x) => x !== undefined, 3000, 'answer');
      assert.is(r.status, status);
      assert.not.ok(c.data.toString('latin1').includes('100 Continue'), `no 100 Continue before ${status}`);
      c.destroy();
    };
    await refused('PUT /big.ts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n', 413);
    await refused('PUT /a.ts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', 401);
    await refused('PUT /a.ts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n', 403);
    const c = await new RawClient(o.port).ready();
    c.write('PUT /ok.ts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await waitUntil(() => c.data.toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 3000, '100 Continue');
    c.write('hello');
    await waitUntil(() => c.data.toString('latin1').includes('201 Created'), 3000, '201');
    c.destroy();
    assert.is(o.origin.store.get('/ok.ts')?.length, 5);
  } finally {
    await o.close();
  }
});

test('a transfer coding other than chunked gets 501 and stores nothing', async () => {
  const o = await startOrigin();
  try {
    const text = await exchange(o.port, 'PUT /te.ts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
    assert.ok(text.startsWith('HTTP/1.1 501 '), text.slice(0, 40));
    assert.is(o.origin.store.get('/te.ts'), undefined);
    const ok = await ChunkedUpload.start(o.port, '/te2.ts', 'PUT');
    ok.send(Buffer.from('plain chunked'));
    assert.is((await ok.end()).status, 201);
  } finally {
    await o.close();
  }
});

test('DELETE reaches uploads not visible yet (a manifest being buffered, a body being sniffed): the key stays gone', async () => {
  const o = await startOrigin({ holdMs: 0 });
  try {
    for (const [key, first] of [['/live/out.mpd', '<MPD>'], ['/live/blob', 'abc']] as const) {
      const up = await ChunkedUpload.start(o.port, key);
      up.send(Buffer.from(first));
      await sleep(50);
      assert.is(o.origin.store.get(key), undefined, 'not visible yet');
      assert.is((await http(o.port, 'DELETE', key)).status, 200, 'DELETE applies to the upload in progress');
      up.send(Buffer.from(' and the rest of the body'));
      assert.is((await up.end()).status, 201);
      assert.is(o.origin.store.get(key), undefined, `${key}: the finished upload does not bring the key back`);
      assert.is((await http(o.port, 'GET', key)).status, 404);
      up.client.destroy();
    }
    assert.is((await http(o.port, 'DELETE', '/live/out.mpd')).status, 404, 'nothing left to delete');
    assert.is(o.origin.store.stats().writing, 0);
    // A new upload after the DELETE is a new version as usual.
    assert.is((await put(o.port, '/live/out.mpd', '<MPD/>')).status, 201);
    assert.is((await http(o.port, 'GET', '/live/out.mpd')).body.toString(), '<MPD/>');
  } finally {
    await o.close();
  }
});

test('stored objects are never sniffed or run as documents; /player is not sandboxed', async () => {
  const o = await startOrigin();
  try {
    assert.is((await put(o.port, '/x.html', '<script>alert(1)</script>')).status, 201);
    const complete = await http(o.port, 'GET', '/x.html');
    assert.is(complete.headers['x-content-type-options'], 'nosniff');
    assert.is(complete.headers['content-security-policy'], 'sandbox');
    const up = await ChunkedUpload.start(o.port, '/live/y.html');
    up.send(Buffer.from('<html>live</html>'));
    await waitUntil(() => o.origin.store.get('/live/y.html') !== undefined);
    const live = await new RawClient(o.port).ready();
    live.write('GET /live/y.html HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await live.until((x) => x !== undefined);
    assert.is(r.headers['x-content-type-options'], 'nosniff');
    assert.is(r.headers['content-security-policy'], 'sandbox');
    live.destroy();
    up.abort();
    const page = await http(o.port, 'GET', '/player');
    assert.is(page.headers['content-security-policy'], undefined);
  } finally {
    await o.close();
  }
});

test('/player: a missing library is looked up again at most every relookupMs, not on every request', async () => {
  let lookups = 0;
  const route = createPlayerRoute({ timePath: '/time', locate: () => (lookups++, { dash: undefined, hls: undefined, shaka: undefined }), relookupMs: 60_000 });
  const server = createServer((req, res) => {
    if (!route.handle(req, res, (req.url ?? '').split('?')[0])) res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    for (let i = 0; i < 5; i++) assert.is((await http(port, 'GET', i % 2 ? '/player' : '/player/hls.min.js')).status, i % 2 ? 200 : 404);
    assert.is(lookups, 1);
  } finally {
    server.close();
  }
});

test('CLI: a stdout reader that goes away does not stop the origin; --ingest-host needs --ingest-port', async () => {
  const p = runCli(['--port', '0', '--hold-ms', '0']);
  try {
    await waitUntil(() => p.out().includes('\n'), 10_000, 'first line');
    const port = Number(/:(\d+)\n/.exec(p.out())![1]);
    p.child.stdout!.destroy(); // like `| head -1`
    for (let i = 0; i < 20; i++) assert.is((await http(port, 'GET', '/time')).status, 200);
    await sleep(100);
    assert.is(p.child.exitCode, null, `still running; stderr: ${p.err()}`);
    assert.is((await http(port, 'GET', '/time')).status, 200);
  } finally {
    p.child.kill('SIGKILL');
  }
  const bad = runCli(['--port', '0', '--ingest-host', '10.0.0.5']);
  assert.is(await bad.exited, 2);
  assert.match(bad.err(), /--ingest-host needs --ingest-port/);
});

test.run();
