// Players over HTTP/2: the origin on https (a certificate made by openssl here), the README's
// ffmpeg command pushing to it over HTTPS (HTTP/1.1: ffmpeg asks for no ALPN), and hls.js
// (the origin's LL-HLS) and dash.js (ffmpeg's MPD) playing at once in two tabs of Debian's
// Chromium. Every request either page made must have gone over HTTP/2: both pages, every
// playlist and every LL-HLS part over one connection; dash.js's media segments (fetched
// without credentials, which Chromium keeps apart) over one more at most.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerHttp2Session } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Page, Request } from 'playwright-core';
import { createOrigin, type Origin, type OriginServer } from '../../src/index.js';
import { makeCertificate } from '../helpers/certificate.js';
import { launchChromium, play, readmeFfmpegArgs, startFfmpeg, summarize, waitFor, type Browser } from './helpers.js';

const SECONDS = 20;
const dir = mkdtempSync(join(tmpdir(), 'boxstream-h2-players-'));
let origin: Origin;
let running: OriginServer;
let browser: Browser;
/** ALPN of every TLS connection the server accepted (`false`: the client asked for none). */
const alpn: (string | false)[] = [];
let sessions = 0;
/** Every HTTP/2 request the server got, and the session (connection) it came on. */
const streams: { session: number; path: string; ranged: boolean }[] = [];

test.before(async () => {
  const { cert, key } = makeCertificate(dir, 'players');
  origin = createOrigin();
  running = await origin.listen(0, '127.0.0.1', { tls: { cert, key } });
  running.server.on('secureConnection', (socket: TLSSocket) => alpn.push(socket.alpnProtocol ?? false));
  running.server.on('session', (session: ServerHttp2Session) => {
    const id = sessions++;
    session.on('stream', (_stream, headers) => streams.push({ session: id, path: String(headers[':path']), ranged: headers.range !== undefined }));
  });
  browser = await launchChromium(['--ignore-certificate-errors']);
});

test.after(async () => {
  await browser?.close();
  await running?.close(0);
  origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The protocol of every resource the page loaded (its own document included). */
const protocols = (page: Page): Promise<string[]> =>
  page.evaluate(() => [
    ...performance.getEntriesByType('navigation').map((e) => (e as PerformanceNavigationTiming).nextHopProtocol),
    ...performance.getEntriesByType('resource').map((e) => (e as PerformanceResourceTiming).nextHopProtocol),
  ]);

test('hls.js (LL-HLS) and dash.js play at once over HTTP/2, hls.js entirely on one connection; ffmpeg pushes over HTTPS (HTTP/1.1) to the same port', async () => {
  const encoder = startFfmpeg(readmeFfmpegArgs(running.url));
  try {
    await waitFor(
      () => {
        if (encoder.exited()) throw new Error(`ffmpeg exited:\n${encoder.stderr()}`);
        return origin.streams.channel('/live/out.mpd')?.timing !== undefined;
      },
      20_000,
      'the stream over https',
    );
    assert.ok(alpn.length > 0 && alpn.every((p) => p !== 'h2'), `ffmpeg's connections: ${alpn.join(', ')}`);
    let parts = 0;
    const countParts = (page: Page): void =>
      void page.on('request', (r: Request) => {
        if (/\.m4s$/.test(new URL(r.url()).pathname) && r.headers().range !== undefined) parts++;
      });
    const [hls, dash] = await Promise.all([
      play(browser.context, `${running.url}/player?url=${encodeURIComponent('/live/out.m3u8')}&player=hls`, SECONDS, 30_000, countParts),
      play(browser.context, `${running.url}/player?url=${encodeURIComponent('/live/out.mpd')}&player=dash`, SECONDS, 30_000),
    ]);
    try {
      for (const [name, { page, result }] of [['hls.js', hls], ['dash.js', dash]] as const) {
        const { first, last } = result;
        assert.is(last.errors.length, 0, `${name}: ${last.errors.join('; ')}`);
        assert.equal(result.pageErrors, [], `${name}: ${result.pageErrors.join('; ')}`);
        const advance = last.currentTime - first.currentTime;
        assert.ok(advance >= SECONDS * 0.9, `${name} advanced ${advance.toFixed(2)} s in ${SECONDS} s`);
        const seen = await protocols(page);
        assert.ok(seen.length > SECONDS, `${name}: ${seen.length} requests`);
        assert.equal([...new Set(seen)], ['h2'], `${name}: every request over HTTP/2`);
        const latency = summarize(result.samples.map((s) => s.latency).filter((l): l is number => typeof l === 'number'));
        process.stderr.write(`${name} over HTTP/2: ${seen.length} requests, median live latency ${latency.median.toFixed(3)} s (worst ${latency.worst.toFixed(3)} s)\n`);
      }
      assert.is(hls.result.last.lowLatency, true, 'hls.js in low-latency mode');
      assert.ok(parts >= SECONDS * 2, `hls.js loaded ${parts} parts in ${SECONDS} s`);
      // Chromium always offers h2, ffmpeg never does: the h2 connections are the browser's.
      const on = (pick: (r: (typeof streams)[number]) => boolean): number[] => [...new Set(streams.filter(pick).map((r) => r.session))];
      const hlsRequests = (r: (typeof streams)[number]): boolean => r.path.startsWith('/player') || r.path.includes('.m3u8') || (r.ranged && r.path.endsWith('.m4s'));
      assert.is(on(hlsRequests).length, 1, 'both pages, their scripts, every playlist and every part: one connection');
      // dash.js fetches media segments with credentials omitted, and Chromium keeps such
      // requests on a connection of their own: one more at most.
      const used = on(() => true);
      assert.ok(used.length <= 2, `${used.length} connections carried requests (${alpn.join(', ')})`);
      process.stderr.write(`HTTP/2 connections: ${alpn.filter((p) => p === 'h2').length} opened, ${used.length} carried the ${streams.length} requests\n`);
      assert.not.ok(encoder.exited(), `ffmpeg exited:\n${encoder.stderr()}`);
    } finally {
      await Promise.all([hls.page.close().catch(() => {}), dash.page.close().catch(() => {})]);
    }
  } finally {
    await encoder.stop();
  }
});

test.run();
