// Redundancy behind a real cache: ffmpeg pushes to an origin beside the encoder, which relays
// every chunk to two origins, A and B; Debian's Varnish serves players from A with B as its
// fallback (varnish/redundant.vcl). Origin A is killed (SIGKILL) while dash.js plays through
// Varnish in Chromium: the player keeps playing, now from B.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import type { AccessLogEntry } from '../../src/index.js';
import { startVarnish, type Varnish } from '../helpers/varnish.js';
import { runCli, startOrigin, waitUntil, type TestOrigin } from '../helpers.js';
import { launchChromium, play, readStats, sleep, startEncoder, waitForObject, type Browser, type Encoder, type StreamSpec } from './helpers.js';

/** How long the player is watched after A is killed, and how much of it must be played. */
const AFTER_KILL_SEC = 20;
const MIN_ADVANCE_AFTER_KILL_SEC = 14;
const MAX_STALL_AFTER_KILL_MS = 2000;

test('origin A is killed mid-stream: dash.js through Varnish keeps playing from origin B', async () => {
  const bLog: AccessLogEntry[] = [];
  const quiet = (): void => {};
  let b: TestOrigin | undefined;
  let e: TestOrigin | undefined;
  let a: ReturnType<typeof runCli> | undefined;
  let varnish: Varnish | undefined;
  let encoder: Encoder | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  try {
    b = await startOrigin({ warn: quiet, holdMs: 3000, log: (entry) => bLog.push(entry) });
    // A as its own process, so that it can really die.
    a = runCli(['--port', '0', '--hold-ms', '3000']);
    await waitUntil(() => /listening on http:\/\/127\.0\.0\.1:\d+\n/.test(a!.out()), 15_000, 'origin A to listen');
    const aPort = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(a.out())![1]);
    // Beside the encoder: it takes the encoder's uploads and relays each chunk to A and B.
    e = await startOrigin({ warn: quiet, holdMs: 3000, relays: [{ url: `http://127.0.0.1:${aPort}` }, { url: `http://127.0.0.1:${b.port}` }] });
    varnish = await startVarnish({ vcl: 'redundant.vcl', ports: { '8081': aPort, '8082': b.port }, threadsPerPool: 50 });
    const spec: StreamSpec = {
      base: `http://127.0.0.1:${e.port}`,
      mpdPath: '/live/redundant/out.mpd',
      segmentSec: 2,
      chunkSec: 0.25,
      video: [{ width: 320, height: 180, kbps: 300 }],
      audio: [{ kbps: 64 }],
    };
    encoder = startEncoder(spec);
    await waitForObject(b.origin.store, spec.mpdPath, 20_000, encoder);
    browser = await launchChromium();
    const edge = `http://127.0.0.1:${varnish.port}`;
    const played = await play(browser.context, `${edge}/player?url=${encodeURIComponent(spec.mpdPath)}&player=dash`, 6);
    page = played.page;
    assert.equal(played.result.last.errors, [], 'no player error before the kill');
    // So far A served the players (through Varnish); B none of the media.
    const mediaGets = (entries: { method: string; path: string }[]): number => entries.filter((x) => x.method === 'GET' && x.path.endsWith('.m4s')).length;
    const aLines = (): { method: string; path: string }[] =>
      a!.out().split('\n').flatMap((line) => {
        const m = / (GET|HEAD) (\S+) \d{3} /.exec(line);
        return m === null ? [] : [{ method: m[1], path: m[2] }];
      });
    assert.ok(mediaGets(aLines()) > 0, 'A served media before the kill');
    assert.is(mediaGets(bLog), 0, 'B served no media while A was up');

    a.child.kill('SIGKILL');
    await a.exited;
    const atKill = await readStats(page);
    const killedAt = Date.now();
    await sleep(AFTER_KILL_SEC * 1000);
    const after = await readStats(page);
    const wallSec = (Date.now() - killedAt) / 1000;
    const advanced = after.currentTime - atKill.currentTime;
    const stalledMs = after.stallMs - atKill.stallMs;
    const report = `played ${advanced.toFixed(1)} s in the ${wallSec.toFixed(1)} s after the kill; stalled ${stalledMs} ms (${after.stalls - atKill.stalls} stalls); errors ${JSON.stringify(after.errors)}; warnings ${JSON.stringify(after.warnings.slice(-5))}`;
    console.log(`  redundancy: ${report}`);
    assert.ok(advanced >= MIN_ADVANCE_AFTER_KILL_SEC, report);
    // The failover itself must not show: at most a segment's worth of stalling (2 s) after the kill.
    assert.ok(stalledMs <= MAX_STALL_AFTER_KILL_MS, report);
    assert.is(after.stalling, false, report);
    assert.equal(after.errors, [], report);
    assert.ok(mediaGets(bLog) > 0, `B served the media after the kill (${report})`);
    assert.ok(e.origin.relays()[0].failures > 0, 'the relay to A saw it die');
    assert.is(e.origin.relays()[1].up, true, 'the relay to B went on');
  } finally {
    if (page !== undefined) await Promise.race([page.close().catch(() => {}), sleep(5000)]);
    await browser?.close();
    await encoder?.stop();
    a?.child.kill('SIGKILL');
    await varnish?.close();
    await e?.close();
    await b?.close();
  }
});

test.run();
