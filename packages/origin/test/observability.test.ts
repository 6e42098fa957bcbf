// Observability: /metrics in the Prometheus text format (counters move, the fan-out histogram
// fills), /healthz, the JSON access log, and graceful shutdown of the CLI (uploads in flight
// finish, disk writes land, exit 0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatAccessLog } from '../src/ops/access-log.js';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, runCli, sleep, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const chunks = fixtureChunks();

/** Parses the exposition into `name{labels}` -> value, checking every line's shape. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ')) continue;
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (t) {
      assert.not.ok(typed.has(t[1]), `one TYPE per metric: ${t[1]}`);
      typed.add(t[1]);
      if (t[2] === 'counter') assert.ok(t[1].endsWith('_total'), `counter ${t[1]} ends in _total`);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    assert.ok(m, `sample line: ${line}`);
    values.set(m![1] + (m![2] ?? ''), Number(m![3]));
  }
  return values;
}

test('/metrics: Prometheus text; uploads, bytes, chunks, readers, holds, 404s, memory and the fan-out histogram move', async () => {
  const o = await startOrigin({ holdMs: 2000 });
  try {
    const early = await rawGet(o.port, '/live/m.m4s');
    await waitUntil(() => o.origin.store.stats().waiters === 1);
    const up = await ChunkedUpload.start(o.port, '/live/m.m4s');
    const readers = [early];
    for (const c of chunks) {
      up.send(c);
      await waitUntil(() => early.response()?.body.length === chunks.slice(0, chunks.indexOf(c) + 1).reduce((n, x) => n + x.length, 0));
      if (readers.length < 3) readers.push(await rawGet(o.port, '/live/m.m4s'));
    }
    const during = parseMetrics((await http(o.port, 'GET', '/metrics')).body.toString());
    assert.is(during.get('boxstream_origin_uploads_in_progress'), 1);
    assert.is(during.get('boxstream_origin_readers'), 3);
    assert.is((await up.end()).status, 201);
    for (const r of readers) await r.until((x) => x?.terminated === true);
    assert.is((await http(o.port, 'GET', '/live/none.m4s')).status, 404);
    const res = await http(o.port, 'GET', '/metrics');
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.body.toString());
    assert.is(m.get('boxstream_origin_uploads_total'), 1);
    assert.is(m.get('boxstream_origin_uploads_in_progress'), 0);
    assert.is(m.get('boxstream_origin_received_bytes_total'), segment.length);
    assert.is(m.get('boxstream_origin_sent_bytes_total'), 3 * segment.length);
    assert.is(m.get('boxstream_origin_chunks_published_total'), chunks.length);
    assert.is(m.get('boxstream_origin_holds_total'), 2, 'the early reader and the 404');
    assert.is(m.get('boxstream_origin_early_joins_total'), 1);
    assert.is(m.get('boxstream_origin_not_found_total'), 1);
    assert.is(m.get('boxstream_origin_memory_bytes'), segment.length);
    assert.is(m.get('boxstream_origin_objects'), 1);
    assert.is(m.get('boxstream_origin_http_responses_total{method="PUT",status="201"}'), 1);
    assert.is(m.get('boxstream_origin_http_responses_total{method="GET",status="404"}'), 1);
    // Each chunk published with readers waiting is one observation; buckets are cumulative.
    const count = m.get('boxstream_origin_fanout_delay_seconds_count')!;
    assert.ok(count >= chunks.length, `fan-out observations: ${count}`);
    assert.is(m.get('boxstream_origin_fanout_delay_seconds_bucket{le="+Inf"}'), count);
    assert.ok(m.get('boxstream_origin_fanout_delay_seconds_bucket{le="0.1"}')! <= count);
    assert.ok(m.get('boxstream_origin_fanout_delay_seconds_sum')! < 1);
    assert.ok(m.get('process_resident_memory_bytes')! > 0);
    for (const r of readers) r.destroy();
  } finally {
    await o.close();
  }
});

test('fan-out delay of a reader that waited for drain is measured when it catches up', async () => {
  const o = await startOrigin();
  try {
    const key = '/live/slow.ts';
    const up = await ChunkedUpload.start(o.port, key);
    up.send(Buffer.alloc(1024, 1));
    await waitUntil(() => o.origin.store.get(key) !== undefined);
    const reader = await rawGet(o.port, key);
    await reader.until((r) => r !== undefined);
    reader.socket.pause();
    for (let i = 0; i < 128; i++) up.send(Buffer.alloc(64 * 1024, i));
    await waitUntil(() => o.origin.store.get(key)?.length === 1024 + 128 * 64 * 1024, 5000);
    await sleep(200);
    const before = o.origin.metrics.fanout.count;
    reader.socket.resume();
    await up.end();
    await reader.until((r) => r?.terminated === true, 5000);
    const h = o.origin.metrics.fanout;
    assert.ok(h.count > before, 'late writes observed');
    assert.ok(h.sum / h.count > 0.001, 'and they show the wait');
    reader.destroy();
  } finally {
    await o.close();
  }
});

test('/healthz answers 200 with figures, 503 once draining', async () => {
  const o = await startOrigin();
  const r = await http(o.port, 'GET', '/healthz');
  assert.is(r.status, 200);
  const body = JSON.parse(r.body.toString());
  assert.is(body.status, 'ok');
  assert.is(typeof body.objects, 'number');
  assert.is((await http(o.port, 'PUT', '/healthz', 'x')).status, 405);
  const up = await ChunkedUpload.start(o.port, '/live/keep.ts');
  up.send(Buffer.from('x'));
  await waitUntil(() => o.origin.metrics.uploadsInProgress === 1);
  const closing = o.running.close(3000);
  // The listener is closed to new connections; the open upload connection still sees the state.
  await sleep(20);
  up.client.write('1\r\ny\r\n0\r\n\r\n');
  const done = await up.client.until((x) => x !== undefined);
  assert.is(done.status, 201, 'the upload in flight finished');
  await closing;
  up.abort();
});

test('access log: text by default, one JSON object per line with --log-format json', () => {
  const entry = { method: 'GET', path: '/live/a b\n.m4s', status: 200, bytes: 10, chunks: 2, durationMs: 1.234, aborted: false, remote: '127.0.0.1' };
  const when = new Date('2024-01-01T00:00:00.000Z');
  assert.is(formatAccessLog(entry, 'text', when), '2024-01-01T00:00:00.000Z GET /live/a%20b%0A.m4s 200 bytes=10 chunks=2 ms=1.2\n');
  const json = formatAccessLog({ ...entry, user: 'enc' }, 'json', when);
  assert.ok(json.endsWith('\n') && !json.slice(0, -1).includes('\n'), 'one line');
  assert.equal(JSON.parse(json), { time: '2024-01-01T00:00:00.000Z', method: 'GET', path: '/live/a b\n.m4s', status: 200, bytes: 10, chunks: 2, ms: 1.2, aborted: false, remote: '127.0.0.1', user: 'enc' });
});

test('CLI: SIGTERM lets an upload in flight finish, flushes --dir, exits 0; JSON log; split ingest port; secret from the environment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-cli-'));
  const p = runCli(['--port', '0', '--ingest-port', '0', '--dir', dir, '--log-format', 'json', '--grace-ms', '5000'], { BOXSTREAM_INGEST_SECRET: 'pw' });
  try {
    await waitUntil(() => p.out().split('\n').length >= 3, 10_000, 'first lines');
    const [first, second] = p.out().split('\n');
    const port = Number(/^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(first)![1]);
    const ingestPort = Number(/^ingest on http:\/\/127\.0\.0\.1:(\d+)$/.exec(second)![1]);
    assert.is((await put(port, '/live/a.m4s', segment, { Authorization: 'Bearer pw' })).status, 405, 'public port refuses ingest');
    assert.is((await put(ingestPort, '/live/a.m4s', segment)).status, 401);
    const auth = 'Authorization: Basic ' + Buffer.from('enc:pw').toString('base64') + '\r\n';
    const up = await ChunkedUpload.start(ingestPort, '/live/inflight.m4s', 'PUT', auth);
    up.send(chunks[0]);
    await waitUntil(() => p.out().includes('"status":401'), 3000, 'log line');
    p.child.kill('SIGTERM');
    await sleep(300);
    for (const c of chunks.slice(1)) up.send(c);
    const r = await up.end();
    assert.is(r.status, 201, 'upload in flight finished after SIGTERM');
    assert.is(r.headers.connection, 'close');
    assert.is(await p.exited, 0);
    assert.ok(readFileSync(join(dir, 'live/inflight.m4s')).equals(segment), 'and reached the disk before exit');
    assert.not.ok(existsSync(join(dir, 'live/a.m4s')));
    const lines = p.out().trim().split('\n').slice(2).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.method === 'PUT' && l.path === '/live/inflight.m4s' && l.status === 201 && l.user === 'enc'), JSON.stringify(lines));
    assert.not.match(p.err(), /WARNING/, 'loopback: no warning');
  } finally {
    p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
