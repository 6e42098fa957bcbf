import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { httpDate, utcNow } from '../src/http/time.js';
import { http, startOrigin } from './helpers.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

test('utcNow is ISO 8601 UTC with milliseconds', () => {
  assert.is(utcNow(Date.UTC(2024, 0, 1, 0, 0, 0, 7)), '2024-01-01T00:00:00.007Z');
  assert.match(utcNow(), ISO_MS);
  assert.is(httpDate(Date.UTC(2024, 0, 1)), 'Mon, 01 Jan 2024 00:00:00 GMT');
});

test('GET /time answers the current time, uncacheable, as text', async () => {
  const o = await startOrigin();
  try {
    const before = Date.now();
    const r = await http(o.port, 'GET', '/time');
    const after = Date.now();
    assert.is(r.status, 200);
    const body = r.body.toString();
    assert.match(body, ISO_MS);
    const t = Date.parse(body);
    assert.ok(t >= before - 1 && t <= after + 1, `${body} within [${before}, ${after}]`);
    assert.is(r.headers['cache-control'], 'no-store');
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.is(r.headers['access-control-allow-origin'], '*');
    const head = await http(o.port, 'HEAD', '/time?cachebust=1');
    assert.is(head.status, 200);
    assert.is(head.body.length, 0);
    assert.is((await http(o.port, 'PUT', '/time', 'x')).status, 405);
  } finally {
    await o.close();
  }
});

test('the time path is configurable', async () => {
  const o = await startOrigin({ timePath: '/clock/now', holdMs: 0 });
  try {
    assert.match((await http(o.port, 'GET', '/clock/now')).body.toString(), ISO_MS);
    assert.is((await http(o.port, 'GET', '/time')).status, 404);
  } finally {
    await o.close();
  }
});

test.run();
