// LL-HLS generated from a real encoder's upload: ffmpeg's low-latency dash muxer pushes to the
// origin, and a client reloads the generated playlists as hls.js does (blocking requests for the
// next part). Every playlist fetched goes through the validator (RFC 8216bis rules and hls-parser);
// every part's byte range must be the very bytes of the segment.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { http, startOrigin, waitUntil, type TestOrigin } from './helpers.js';
import { MediaPlaylistTracker, checkMultivariant } from './helpers/llhls-validator.js';

const MPD = '/live/ll/out.mpd';
const MULTIVARIANT = '/live/ll/out.m3u8';

/** ffmpeg's low-latency dash upload (the README's command, shorter segments and run). */
function encoder(base: string, seconds: number, mpdPath = MPD): ChildProcess {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-re', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-keyint_min', '30',
    '-sc_threshold', '0', '-b:v', '300k', '-bf', '0', '-c:a', 'aac', '-b:a', '64k',
    '-f', 'dash', '-strict', 'experimental', '-seg_duration', '1', '-frag_type', 'duration', '-frag_duration', '0.2',
    '-streaming', '1', '-ldash', '1', '-lhls', '1', '-hls_playlist', '1', '-window_size', '4', '-extra_window_size', '2',
    '-use_timeline', '0', '-use_template', '1', '-utc_timing_url', `${base}/time`,
    '-method', 'PUT', '-http_persistent', '1', '-write_prft', '1', '-index_correction', '1',
    '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
    '-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    `${base}${mpdPath}`,
  ];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (b: Buffer) => (stderr += b));
  proc.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`ffmpeg exited ${code}: ${stderr}`);
  });
  return proc;
}

const exited = (proc: ChildProcess): Promise<void> => new Promise((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));

/** `out_0.m3u8` from the multivariant's variants and media. */
function mediaPlaylists(text: string): string[] {
  const { variants, media } = checkMultivariant(text);
  return [...variants.map((v) => v.uri), ...media.map((m) => m.uri).filter((u): u is string => u !== undefined)];
}

interface Part {
  uri: string;
  length: number;
  offset: number;
}

/** The byte-range parts of a playlist, in order. */
function partsOf(text: string): Part[] {
  return [...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)",BYTERANGE="(\d+)@(\d+)"/g)].map((m) => ({ uri: m[1], length: Number(m[2]), offset: Number(m[3]) }));
}

let o: TestOrigin;
let ffmpeg: ChildProcess;
const encoders: ChildProcess[] = [];
const warnings: string[] = [];

test.before(async () => {
  o = await startOrigin({ holdMs: 8000, warn: (m) => warnings.push(m) });
  ffmpeg = encoder(`http://127.0.0.1:${o.port}`, 7);
  encoders.push(ffmpeg);
});

test.after(async () => {
  for (const e of encoders) e.kill('SIGKILL');
  await o?.close();
  o?.origin.close();
});

/** The live edge of a media playlist text: last part's msn and index, and the preload hint. */
function edgeOf(text: string): { msn: number; part: number; hint: { uri: string; start: number } | undefined } {
  const tracker = new MediaPlaylistTracker('edge');
  const summary = tracker.check(text);
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"(?:,BYTERANGE-START=(\d+))?/.exec(text);
  return { msn: summary.lastMsn, part: summary.lastPart, hint: hint ? { uri: hint[1], start: Number(hint[2] ?? 0) } : undefined };
}

test('blocking reloads get every part in order, each playlist valid, and every part is the segment\'s bytes', async () => {
  // Held until the channel has its timing: the first answer is already a playlist.
  const multivariant = await http(o.port, 'GET', MULTIVARIANT);
  assert.is(multivariant.status, 200, multivariant.body.toString());
  assert.is(multivariant.headers['content-type'], 'application/vnd.apple.mpegurl');
  const uris = mediaPlaylists(multivariant.body.toString());
  assert.equal(uris.sort(), ['out_0.m3u8', 'out_1.m3u8']);

  const followed = await Promise.all(
    uris.map(async (uri) => {
      const others = uris.filter((u) => u !== uri);
      const tracker = new MediaPlaylistTracker(uri);
      const path = `/live/ll/${uri}`;
      const first = await http(o.port, 'GET', path);
      assert.is(first.status, 200);
      let summary = tracker.check(first.body.toString(), { otherRenditionUris: others });
      let reloads = 0;
      let blockedAnswers = 0;
      const parts = new Map<string, Part>();
      while (!summary.endList && reloads < 200) {
        // What hls.js asks next: the part after the last one it has (past a segment's last part
        // means part 0 of the next segment).
        const msn = summary.lastMsn;
        const part = summary.lastPart + 1;
        const res = await http(o.port, 'GET', `${path}?_HLS_msn=${msn}&_HLS_part=${part}`);
        assert.is(res.status, 200, `${path} msn ${msn} part ${part}: ${res.body}`);
        assert.is(res.headers['cache-control'], 'max-age=60');
        const text = res.body.toString();
        const next = tracker.check(text, { otherRenditionUris: others });
        // The answer holds the part asked for (or the stream ended).
        if (!next.endList) {
          assert.ok(next.lastMsn > msn || next.lastPart >= part, `${uri}: asked for ${msn}.${part}, got ${next.lastMsn}.${next.lastPart}`);
          blockedAnswers++;
        }
        for (const p of partsOf(text)) parts.set(`${p.uri}@${p.offset}`, p);
        summary = next;
        reloads++;
      }
      assert.ok(summary.endList, `${uri}: no EXT-X-ENDLIST after ${reloads} reloads`);
      return { uri, parts: [...parts.values()], blockedAnswers };
    }),
  );
  await exited(ffmpeg);
  for (const { uri, parts, blockedAnswers } of followed) {
    // About 5 parts a second for 7 s: most reloads were answered as their part appeared.
    assert.ok(blockedAnswers >= 20, `${uri}: only ${blockedAnswers} blocking reloads answered`);
    assert.ok(parts.length >= 25, `${uri}: ${parts.length} parts seen`);
    for (const p of parts) {
      const key = `/live/ll/${p.uri}`;
      const object = o.origin.store.get(key);
      if (object === undefined) continue; // deleted by ffmpeg's window since
      const whole = Buffer.concat(object.units);
      const res = await http(o.port, 'GET', key, undefined, { Range: `bytes=${p.offset}-${p.offset + p.length - 1}` });
      assert.is(res.status, 206);
      assert.ok(res.body.equals(whole.subarray(p.offset, p.offset + p.length)), `${key} ${p.offset}+${p.length}`);
      // Each part is exactly one CMAF chunk: it starts with a box a chunk starts with.
      assert.ok(['styp', 'prft', 'moof'].includes(res.body.subarray(4, 8).toString('latin1')), `${key}@${p.offset} starts with ${res.body.subarray(4, 8)}`);
    }
  }
});

test('directives: 400 for malformed or too-far requests, one render shared by every held request, delta updates, cache headers', async () => {
  const dir = '/live/ll2';
  const e = encoder(`http://127.0.0.1:${o.port}`, 6, `${dir}/out.mpd`);
  encoders.push(e);
  const path = `${dir}/out_0.m3u8`;
  const mv = await http(o.port, 'GET', `${dir}/out.m3u8`);
  assert.is(mv.status, 200);
  assert.is(mv.headers['cache-control'], 'max-age=1');
  const plain = await http(o.port, 'GET', path);
  assert.is(plain.status, 200);
  // Without directives the playlist changes every part: not cached longer than about one.
  assert.is(plain.headers['cache-control'], 'no-cache');
  const edge = edgeOf(plain.body.toString());

  for (const [query, why] of [
    ['_HLS_part=1', /_HLS_part requires _HLS_msn/],
    [`_HLS_msn=${edge.msn + 3}`, /more than 2 past/],
    [`_HLS_msn=${edge.msn}&_HLS_part=${edge.part + 40}`, /parts past the last part/],
    ['_HLS_msn=x1', /non-negative integer/],
    ['_HLS_msn=1&_HLS_skip=maybe', /_HLS_skip must be/],
  ] as const) {
    const res = await http(o.port, 'GET', `${path}?${query}`);
    assert.is(res.status, 400, query);
    assert.match(res.body.toString(), why);
    assert.is(res.headers['cache-control'], 'no-store');
  }

  // 40 players wait for the same part, well ahead: one render answers all of them, at once.
  const target = `${path}?_HLS_msn=${edge.msn + 1}&_HLS_part=1`;
  const holdsBefore = o.origin.metrics.holds;
  const answers = Array.from({ length: 40 }, () => http(o.port, 'GET', target));
  await waitUntil(() => o.origin.metrics.holds - holdsBefore >= 40, 5000, 'all 40 requests held');
  const rendersBefore = o.origin.metrics.playlistRenders;
  const bodies = (await Promise.all(answers)).map((r) => {
    assert.is(r.status, 200);
    return r.body.toString();
  });
  assert.is(o.origin.metrics.playlistRenders - rendersBefore, 1, 'one render for 40 held requests');
  assert.ok(bodies.every((b) => b === bodies[0]));
  const got = edgeOf(bodies[0]);
  assert.ok(got.msn > edge.msn + 1 || (got.msn === edge.msn + 1 && got.part >= 1), `asked ${edge.msn + 1}.1, got ${got.msn}.${got.part}`);

  // A delta update is a valid playlist for a client that asked for one.
  const delta = await http(o.port, 'GET', `${path}?_HLS_msn=${got.msn}&_HLS_part=${got.part}&_HLS_skip=YES`);
  assert.is(delta.status, 200);
  new MediaPlaylistTracker('delta').check(delta.body.toString(), { delta: true, otherRenditionUris: ['out_1.m3u8'] });

  // The preload hint's open range streams the rest of the segment being written.
  const hinted = edgeOf(delta.body.toString()).hint;
  assert.ok(hinted !== undefined, 'a preload hint');
  const rest = await http(o.port, 'GET', `${dir}/${hinted.uri}`, undefined, { Range: `bytes=${hinted.start}-` });
  assert.is(rest.status, 206);
  const object = o.origin.store.get(`${dir}/${hinted.uri}`);
  assert.ok(object !== undefined && object.state === 'complete');
  assert.ok(rest.body.equals(Buffer.concat(object.units).subarray(hinted.start)), 'the open range is the rest of the segment');
  assert.ok(rest.body.byteLength > 0);
  await exited(e);
});

test('an MPD the origin cannot map: no playlist, the reason in /streams, the relay untouched', async () => {
  const mpd = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"><Period><AdaptationSet><Representation id="v" bandwidth="1000"><SegmentBase indexRange="0-100"/><BaseURL>v.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`;
  assert.is((await http(o.port, 'PUT', '/live/bad/out.mpd', mpd)).status, 201);
  const res = await http(o.port, 'GET', '/live/bad/out.m3u8');
  assert.is(res.status, 404);
  assert.match(res.body.toString(), /SegmentBase/);
  const status = JSON.parse((await http(o.port, 'GET', '/streams')).body.toString()) as { channels: { mpd: string; problem?: string }[] };
  assert.match(status.channels.find((c) => c.mpd === '/live/bad/out.mpd')?.problem ?? '', /SegmentBase/);
  assert.ok(warnings.some((w) => w.startsWith('/live/bad/out.mpd: no LL-HLS playlists') && w.includes('SegmentBase')), warnings.join('\n'));
  const relayed = await http(o.port, 'GET', '/live/bad/out.mpd');
  assert.is(relayed.status, 200);
  assert.is(relayed.body.toString(), mpd);
});

test('an encoder restart under the same names: EXT-X-DISCONTINUITY, media sequence numbers go on', async () => {
  const dir = '/live/restart';
  const first = encoder(`http://127.0.0.1:${o.port}`, 3, `${dir}/out.mpd`);
  encoders.push(first);
  await exited(first);
  const before = edgeOf((await http(o.port, 'GET', `${dir}/out_0.m3u8`)).body.toString());
  const second = encoder(`http://127.0.0.1:${o.port}`, 4, `${dir}/out.mpd`);
  encoders.push(second);
  // Until the second run's MPD arrives the channel is the first run's, ended.
  await waitUntil(() => o.origin.streams.channel(`${dir}/out.mpd`)?.ended === false, 10_000, 'the second run to go live');
  const tracker = new MediaPlaylistTracker('out_0.m3u8 after the restart');
  // The first segment of the second run has the next number after the first run's last.
  const after = await http(o.port, 'GET', `${dir}/out_0.m3u8?_HLS_msn=${before.msn + 1}&_HLS_part=0`);
  assert.is(after.status, 200);
  const text = after.body.toString();
  tracker.check(text, { otherRenditionUris: ['out_1.m3u8'] });
  assert.not.ok(text.includes('#EXT-X-ENDLIST'));
  // Run 2 starts again at chunk-0-00001.m4s, listed under a media sequence number after the first
  // run's, behind a discontinuity: a tag, or (when the first run's segments have left the window,
  // as they do when its renditions ended on different numbers) the discontinuity sequence.
  const lines = text.split('\n');
  const restartAt = lines.findIndex((l) => l.includes('chunk-0-00001.m4s'));
  assert.ok(restartAt > 0, text);
  const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  const msn = sequence + lines.slice(0, restartAt).filter((l) => l.startsWith('#EXTINF')).length;
  assert.ok(msn > before.msn, `run 2 starts at msn ${msn}, run 1 ended at ${before.msn}`);
  const tagged = lines.slice(0, restartAt).includes('#EXT-X-DISCONTINUITY');
  const counted = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0) >= 1;
  assert.ok(tagged || counted, text);
  await exited(second);
  const ended = await http(o.port, 'GET', `${dir}/out_0.m3u8?_HLS_msn=${before.msn + 50}`);
  // Once the stream ended, directives are ignored: the whole playlist at once, with ENDLIST.
  assert.is(ended.status, 200);
  assert.ok(ended.body.toString().includes('#EXT-X-ENDLIST'));
});

test.run();
