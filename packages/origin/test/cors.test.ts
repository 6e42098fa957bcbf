import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CorsPolicy } from '../src/http/cors.js';
import { http, startOrigin } from './helpers.js';

test('policy: any origin, a fixed origin, a list, none', () => {
  const any = new CorsPolicy();
  assert.is(any.headers(undefined)['Access-Control-Allow-Origin'], '*');
  assert.is(any.headers('https://a.example'), any.headers(undefined), 'same object, no allocation');
  assert.match(any.headers(undefined)['Access-Control-Expose-Headers'], /ETag/);
  const one = new CorsPolicy('https://player.example');
  assert.is(one.headers('https://other.example')['Access-Control-Allow-Origin'], 'https://player.example');
  const list = new CorsPolicy(['https://a.example', 'https://b.example']);
  assert.is(list.headers('https://b.example')['Access-Control-Allow-Origin'], 'https://b.example');
  assert.is(list.headers('https://c.example')['Access-Control-Allow-Origin'], undefined);
  assert.is(list.headers('https://c.example').Vary, 'Origin');
  assert.equal(new CorsPolicy(false).headers('https://a.example'), {});
});

test('preflight echoes well-formed request headers only', () => {
  const p = new CorsPolicy();
  assert.is(p.preflight('range, x-custom')['Access-Control-Allow-Headers'], 'range, x-custom');
  assert.match(p.preflight('bad header\r\nx: y')['Access-Control-Allow-Headers'], /^Range/);
  assert.match(p.preflight(undefined)['Access-Control-Allow-Methods'], /PUT/);
  assert.is(p.preflight(undefined)['Access-Control-Max-Age'], '86400');
});

test('OPTIONS preflight is answered 204 with the CORS headers', async () => {
  const o = await startOrigin();
  try {
    const r = await http(o.port, 'OPTIONS', '/live/a.m4s', undefined, {
      Origin: 'https://player.example',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'range',
    });
    assert.is(r.status, 204);
    assert.is(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-methods']), /GET/);
    assert.is(r.headers['access-control-allow-headers'], 'range');
    assert.is(r.headers['access-control-max-age'], '86400');
    assert.match(String(r.headers.allow), /DELETE/);
  } finally {
    await o.close();
  }
});

test('every response carries Allow-Origin and Expose-Headers, errors included', async () => {
  const o = await startOrigin({ holdMs: 0 });
  try {
    await http(o.port, 'PUT', '/x.m4s', Buffer.from('junk junk junk'));
    const results = [
      await http(o.port, 'GET', '/missing.m4s'), // 404
      await http(o.port, 'GET', '/%2e%2e/x'), // 400
      await http(o.port, 'PATCH', '/x.m4s'), // 405
      await http(o.port, 'PUT', '/bad.m4s', 'not an mp4 at all'), // 415
      await http(o.port, 'PUT', '/ok.txt', 'hello'), // 201
      await http(o.port, 'GET', '/ok.txt'), // 200
      await http(o.port, 'GET', '/ok.txt', undefined, { Range: 'bytes=100-' }), // 416
    ];
    assert.equal(results.map((r) => r.status), [404, 400, 405, 415, 201, 200, 416]);
    for (const r of results) {
      assert.is(r.headers['access-control-allow-origin'], '*');
      assert.match(String(r.headers['access-control-expose-headers']), /Content-Range/);
    }
  } finally {
    await o.close();
  }
});

test('a configured origin is sent instead of *', async () => {
  const o = await startOrigin({ corsOrigin: 'https://player.example', holdMs: 0 });
  try {
    const r = await http(o.port, 'GET', '/nothing');
    assert.is(r.headers['access-control-allow-origin'], 'https://player.example');
  } finally {
    await o.close();
  }
});

test.run();
