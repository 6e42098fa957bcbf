// VOD with the real tools: a file uploaded (raw PUT or a browser-style form) is probed by ffprobe
// and transcoded by ffmpeg into an HLS and DASH ladder that arrives through the origin's own
// ingest path; playable while it is made (EVENT), VOD at the end. Bad uploads leave nothing;
// jobs queue, fail, cancel and survive a restart without leaving half an asset.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderMediaPlaylist } from '../src/packaging/hls/index.js';
import type { VodJob } from '../src/index.js';
import { http, put, startOrigin, waitUntil, type TestOrigin } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'boxstream-vod-'));
/** Two small rungs keep each transcode to a second or two on a shared 2-core machine. */
const VOD = { profiles: [{ name: '180p', height: 180, videoKbps: 300 }, { name: '90p', height: 90, videoKbps: 100 }], segmentSeconds: 2 };
const FPS = 25;

/** A test source made by ffmpeg: 320x180 at 25 fps with a tone, `seconds` long. */
function source(name: string, seconds: number, audio = true): string {
  const file = join(work, name);
  if (existsSync(file)) return file;
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`];
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  args.push('-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', 'aac');
  execFileSync('ffmpeg', [...args, '-y', file]);
  return file;
}

let dir: string;
let o: TestOrigin;
const open = async (options = {}) => (o = await startOrigin({ dir, vod: VOD, warn: () => {}, ...options }));

test.before.each(() => {
  dir = mkdtempSync(join(work, 'dir-'));
});
test.after.each(async () => {
  await o?.close();
  o?.origin.close();
});
test.after(() => rmSync(work, { recursive: true, force: true }));

const job = (name: string): VodJob | undefined => o.origin.vod!.job(name);
const whenSettled = (name: string, ms = 60_000) => waitUntil(() => ['done', 'failed'].includes(job(name)?.state ?? ''), ms, `job ${name} to end`);
const assetKeys = (name: string) => [...o.origin.store.keys()].filter((k) => k.startsWith(`/vod/${name}/`));
const leftovers = () => ['incoming', 'sources'].flatMap((d) => readdirSync(join(dir, '.boxstream-vod', d)));

/** The bytes of a rendition as a player gets them: its init, then every segment its playlist lists. */
async function rendition(name: string, playlist: string): Promise<{ bytes: Buffer; extinf: number }> {
  const text = (await http(o.port, 'GET', `/vod/${name}/${playlist}`)).body.toString();
  const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(text)![1];
  const parts = [(await http(o.port, 'GET', `/vod/${name}/${init}`)).body];
  let extinf = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXTINF:')) continue;
    extinf += Number(lines[i].slice(8, -1));
    const got = await http(o.port, 'GET', `/vod/${name}/${lines[i + 1]}`);
    assert.is(got.status, 200, lines[i + 1]);
    parts.push(got.body);
  }
  return { bytes: Buffer.concat(parts), extinf };
}

/**
 * Decodes every frame with ffmpeg (errors fail), and where the stream ends per ffprobe: its start
 * plus its duration (AAC's priming frame starts before 0, as the encoder's delay says it must).
 */
function decode(bytes: Buffer): { errors: string; end: number; duration: number } {
  const file = join(work, `r-${process.pid}-${Math.random().toString(36).slice(2)}.mp4`);
  writeFileSync(file, bytes);
  try {
    const run = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    const [start, duration] = probe.stdout.trim().split(',').map(Number);
    return { errors: run.stderr.trim() + (run.status === 0 ? '' : ` (exit ${run.status})`), end: start + duration, duration };
  } finally {
    rmSync(file, { force: true });
  }
}

test('a PUT file becomes an HLS and DASH ladder: EVENT while it is made, then VOD; every rendition decodes and lasts as long as the source', async () => {
  // A short hold for missing keys: a segment asked for ahead of the transcode is held longer.
  await open({ holdMs: 50 });
  const src = source('six.mp4', 6);
  const sourceDuration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', src], { encoding: 'utf8' }));
  // The first segment completed once every rendition has one (the playlists' timing is fixed
  // then): the top rung's playlist, rendered as egress renders it, already lists its first
  // segment, as an EVENT playlist without an end, while the job is still transcoding.
  let whileMade: string | undefined;
  o.origin.store.on('complete', (key) => {
    if (!key.startsWith('/vod/six/chunk-') || whileMade !== undefined) return;
    const channel = o.origin.streams.channel('/vod/six/manifest.mpd');
    const r = channel?.renditions.find((x) => x.info.id === '0');
    if (channel?.timing !== undefined && r !== undefined && r.segments.some((s) => s.complete)) {
      whileMade = `${job('six')!.state}\n${renderMediaPlaylist(channel, r)}`;
    }
  });
  // While it is made, DASH players get a static MPD of the whole asset (ffmpeg's is dynamic).
  let mpdWhileMade: string | undefined;
  o.origin.store.on('complete', (key) => {
    if (key === '/vod/six/manifest.mpd' && mpdWhileMade === undefined && job('six')?.state === 'transcoding') {
      mpdWhileMade = Buffer.concat(o.origin.store.get(key)!.units).toString();
    }
  });
  const res = await put(o.port, '/vod/six', readFileSync(src));
  assert.is(res.status, 202, res.body.toString());
  assert.is(res.headers.location, '/vod/jobs/six');
  // Its last segment, asked for before it exists (as a player of that MPD may): held until made.
  const lastKey = '/vod/six/chunk-0-00003.m4s';
  const absentWhenAsked = o.origin.store.get(lastKey) === undefined;
  const ahead = http(o.port, 'GET', lastKey);
  const accepted = JSON.parse(res.body.toString()) as VodJob;
  assert.equal(accepted.renditions.map((r) => `${r.name} ${r.width ?? ''}x${r.height ?? ''}`), ['180p 320x180', '90p 160x90', 'audio x']);
  assert.is(accepted.source.width, 320);
  await whenSettled('six');
  assert.is(job('six')!.state, 'done', job('six')!.error);
  assert.is(job('six')!.percent, 100);

  const early = await ahead;
  assert.ok(absentWhenAsked, 'asked before the segment existed');
  assert.is(early.status, 200, 'held past holdMs until the transcode made it');
  assert.equal(early.body, Buffer.concat(o.origin.store.get(lastKey)!.units));
  assert.ok(mpdWhileMade !== undefined, 'an MPD while the transcode ran');
  assert.match(mpdWhileMade!, /type="static"/);
  assert.match(mpdWhileMade!, /mediaPresentationDuration="PT6S"/);
  assert.not.match(mpdWhileMade!, /SegmentTimeline|availabilityStartTime/);

  assert.ok(whileMade !== undefined, 'a playlist while the transcode ran');
  assert.match(whileMade!, /^transcoding\n/);
  assert.match(whileMade!, /#EXT-X-PLAYLIST-TYPE:EVENT/);
  assert.match(whileMade!, /chunk-0-00001\.m4s/);
  assert.not.match(whileMade!, /#EXT-X-ENDLIST/);

  const master = (await http(o.port, 'GET', '/vod/six/manifest.m3u8')).body.toString();
  assert.is((master.match(/#EXT-X-STREAM-INF/g) ?? []).length, 2, master);
  assert.match(master, /RESOLUTION=320x180/);
  assert.match(master, /TYPE=AUDIO/);
  // Once done, ffmpeg's own final MPD: every segment in its timeline.
  const mpd = (await http(o.port, 'GET', '/vod/six/manifest.mpd')).body.toString();
  assert.match(mpd, /type="static"/);
  assert.match(mpd, /<SegmentTimeline>/);
  for (const [playlist, frame] of [['manifest_0.m3u8', 1 / FPS], ['manifest_1.m3u8', 1 / FPS], ['manifest_2.m3u8', 1024 / 48000]] as const) {
    const text = (await http(o.port, 'GET', `/vod/six/${playlist}`)).body.toString();
    assert.match(text, /#EXT-X-PLAYLIST-TYPE:VOD/, playlist);
    assert.match(text, /#EXT-X-ENDLIST/, playlist);
    const { bytes, extinf } = await rendition('six', playlist);
    const { errors, end, duration } = decode(bytes);
    assert.is(errors, '', `${playlist} decodes without errors`);
    assert.ok(Math.abs(end - sourceDuration) <= frame + 1e-6, `${playlist}: ends at ${end} s, the source at ${sourceDuration} s`);
    // The playlist says what the segments hold (audio's priming frame included).
    assert.ok(Math.abs(extinf - duration) <= 1e-3, `${playlist}: EXTINF sum ${extinf} s, the media ${duration} s`);
  }
  assert.equal(leftovers(), [], 'the source is removed once the asset is done');
});

test('a browser form (multipart/form-data): named by its field, or by the file name (made unique)', async () => {
  await open();
  const bytes = readFileSync(source('two.mp4', 2));
  const form = (fields: Record<string, string>) => {
    const f = new FormData();
    for (const [k, v] of Object.entries(fields)) f.set(k, v);
    f.set('file', new Blob([bytes], { type: 'video/mp4' }), 'My Holiday (2).MP4');
    return f;
  };
  const post = (f: FormData) => fetch(`http://127.0.0.1:${o.port}/vod`, { method: 'POST', body: f });
  const named = await post(form({ name: 'trip' }));
  assert.is(named.status, 202, await named.clone().text());
  assert.is(((await named.json()) as VodJob).name, 'trip');
  const byFile = (await (await post(form({}))).json()) as VodJob;
  assert.is(byFile.name, 'My-Holiday-2');
  assert.is(byFile.source.filename, 'My Holiday (2).MP4');
  const again = (await (await post(form({}))).json()) as VodJob;
  assert.is(again.name, 'My-Holiday-2-2');
  const taken = await post(form({ name: 'trip' }));
  assert.is(taken.status, 409);
  const noFile = new FormData();
  noFile.set('name', 'x');
  const empty = await fetch(`http://127.0.0.1:${o.port}/vod`, { method: 'POST', body: noFile });
  assert.is(empty.status, 400);
  assert.match(await empty.text(), /no file part/);
  for (const name of ['trip', 'My-Holiday-2', 'My-Holiday-2-2']) await whenSettled(name);
  assert.equal(o.origin.vod!.jobs().map((j) => `${j.name} ${j.state}`), ['trip done', 'My-Holiday-2 done', 'My-Holiday-2-2 done']);
  const list = JSON.parse((await http(o.port, 'GET', '/vod/jobs')).body.toString()) as { jobs: VodJob[] };
  assert.equal(list.jobs.map((j) => j.name), ['trip', 'My-Holiday-2', 'My-Holiday-2-2']);
});

test('bad uploads get a clear error and leave nothing: text, truncated MP4, empty, over the limit, bad names', async () => {
  await open({ vod: { ...VOD, maxUploadBytes: 100_000 } });
  const mp4 = readFileSync(source('two.mp4', 2));
  const expect = async (path: string, body: Buffer | string, status: number, reason: RegExp, headers: Record<string, string> = {}) => {
    const res = await http(o.port, 'PUT', path, body, headers);
    assert.is(res.status, status, `${path}: ${res.body}`);
    assert.match(res.body.toString(), reason);
  };
  await expect('/vod/text', 'just some text, not a video\n', 422, /not a video we can transcode: .*Invalid data/);
  // moov first (faststart), then the data cut: every frame is promised, few are there.
  const faststart = join(work, 'faststart.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-i', source('two.mp4', 2), '-c', 'copy', '-movflags', '+faststart', '-y', faststart]);
  await expect('/vod/cut', readFileSync(faststart).subarray(0, 30_000), 422, /truncated/);
  await expect('/vod/cut2', mp4.subarray(0, 20_000), 422, /not a video/);
  await expect('/vod/empty', '', 400, /empty/);
  await expect('/vod/big', Buffer.alloc(150_000), 413, /larger than the limit/);
  // Without a declared length, the limit stops the body as it arrives.
  const chunked = await new Promise<number>((resolve, reject) => {
    const req = chunkedPut(o.port, '/vod/big2', (status) => resolve(status));
    req.on('error', reject);
    for (let i = 0; i < 20; i++) req.write(Buffer.alloc(10_000));
    req.end();
  });
  assert.is(chunked, 413);
  const f = new FormData();
  f.set('file', new Blob([Buffer.alloc(150_000)]), 'big.mp4');
  assert.is((await fetch(`http://127.0.0.1:${o.port}/vod`, { method: 'POST', body: f })).status, 413);
  await expect('/vod/.hidden', 'x', 400, /bad asset name/);
  await expect('/vod/jobs', 'x', 405, /not allowed/);
  await expect('/vod', 'x', 400, /PUT the file to/);
  assert.equal(o.origin.vod!.jobs(), []);
  await waitUntil(() => leftovers().length === 0, 3000, 'no upload left on disk');
  assert.equal(readdirSync(join(dir, '.boxstream-vod', 'jobs')), []);
  assert.equal([...o.origin.store.keys()].filter((k) => k.startsWith('/vod/')), []);
});

/** A chunked PUT (no Content-Length) whose status is reported as soon as it arrives. */
function chunkedPut(port: number, path: string, onStatus: (status: number) => void) {
  const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false }, (res) => {
    onStatus(res.statusCode ?? 0);
    res.resume();
  });
  return req;
}

test('with maxJobs 1, three uploads transcode one after the other, in order', async () => {
  await open({ vod: { ...VOD, maxJobs: 1 } });
  const bytes = readFileSync(source('two.mp4', 2));
  let most = 0;
  o.origin.store.on('create', () => {
    most = Math.max(most, o.origin.vod!.jobs().filter((j) => j.state === 'transcoding').length);
  });
  for (const name of ['a', 'b', 'c']) assert.is((await put(o.port, `/vod/${name}`, bytes)).status, 202);
  // (No snapshot of the states here: a 2 s file may be done before the third upload is in. The
  // start and end times below show the order, and `most` that no two ran at once.)
  for (const name of ['a', 'b', 'c']) await whenSettled(name);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => job(n)!);
  assert.equal([a.state, b.state, c.state], ['done', 'done', 'done']);
  assert.ok(b.startedAt! >= a.endedAt! && c.startedAt! >= b.endedAt!, 'each starts once the one before ended');
  assert.is(most, 1, 'never two transcodes at once');
});

/** The ffmpeg children of this process (the in-process origin's transcodes). */
function ffmpegChildren(): number[] {
  const out = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

test('ffmpeg killed mid-job: the job fails with the reason and its partial asset is removed', async () => {
  await open();
  const bytes = readFileSync(source('sixty.mp4', 60, false));
  let killed = 0;
  o.origin.store.on('complete', (key) => {
    if (killed > 0 || !key.startsWith('/vod/long/chunk-')) return;
    for (const pid of ffmpegChildren()) process.kill(pid, 'SIGKILL'), killed++;
  });
  assert.is((await put(o.port, '/vod/long', bytes)).status, 202);
  await whenSettled('long');
  assert.is(killed, 1);
  assert.is(job('long')!.state, 'failed');
  assert.match(job('long')!.error!, /killed \(SIGKILL\)/);
  assert.equal(assetKeys('long'), []);
  await waitUntil(() => !existsSync(join(dir, 'vod', 'long')) || readdirSync(join(dir, 'vod', 'long')).length === 0, 5000, 'no file of the asset left');
  assert.equal(leftovers(), []);
  // The record stays with its reason until it is deleted.
  const record = JSON.parse(readFileSync(join(dir, '.boxstream-vod', 'jobs', 'long.json'), 'utf8')) as VodJob;
  assert.is(record.state, 'failed');
  assert.is((await http(o.port, 'DELETE', '/vod/long')).status, 204);
  assert.is((await http(o.port, 'GET', '/vod/jobs/long')).status, 404);
});

test('DELETE mid-transcode stops ffmpeg and removes the asset; outsiders cannot write into a job', async () => {
  await open();
  const bytes = readFileSync(source('sixty.mp4', 60, false));
  assert.is((await put(o.port, '/vod/gone', bytes)).status, 202);
  await waitUntil(() => assetKeys('gone').some((k) => k.includes('chunk-')), 30_000, 'a first segment');
  const intrusion = await put(o.port, '/vod/gone/chunk-0-00001.m4s', 'x');
  assert.is(intrusion.status, 409);
  assert.is((await http(o.port, 'DELETE', '/vod/gone')).status, 204);
  await waitUntil(() => ffmpegChildren().length === 0, 5000, 'ffmpeg to exit');
  assert.equal(assetKeys('gone'), []);
  assert.is(job('gone'), undefined);
  assert.is((await http(o.port, 'DELETE', '/vod/gone')).status, 404);
  assert.equal(leftovers(), []);
});

test('a restart mid-transcode starts the job again from its source: no half asset, then done; a done asset plays after a restart', async () => {
  await open();
  const bytes = readFileSync(source('sixty.mp4', 60, false));
  assert.is((await put(o.port, '/vod/again', bytes)).status, 202);
  await waitUntil(() => assetKeys('again').some((k) => k.includes('chunk-')), 30_000, 'a first segment');
  const firstStart = job('again')!.startedAt;
  await o.close();
  o.origin.close();
  await waitUntil(() => ffmpegChildren().length === 0, 5000, 'shutdown to stop the transcode');
  await open();
  // Nothing of the cut attempt is served: the job starts over from an empty asset.
  assert.is(job('again')!.state, 'transcoding');
  assert.ok(job('again')!.startedAt! > firstStart!);
  await whenSettled('again', 120_000);
  assert.is(job('again')!.state, 'done', job('again')!.error);
  const before = (await http(o.port, 'GET', '/vod/again/manifest_0.m3u8')).body.toString();
  assert.is((before.match(/#EXTINF/g) ?? []).length, 30, before);
  await o.close();
  o.origin.close();
  await open();
  assert.is(job('again')!.state, 'done');
  const after = await http(o.port, 'GET', '/vod/again/manifest_0.m3u8');
  assert.is(after.status, 200);
  assert.match(after.body.toString(), /#EXT-X-PLAYLIST-TYPE:VOD[\s\S]*#EXT-X-ENDLIST/);
  assert.is((after.body.toString().match(/#EXTINF/g) ?? []).length, 30);
});

test('hostile uploads: a playlist naming local files, a cut multipart form; the origin stays up', async () => {
  await open();
  const secret = join(work, 'secret.mp4');
  execFileSync('cp', [source('two.mp4', 2), secret]);
  const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2,\n${secret}\n#EXT-X-ENDLIST\n`;
  const res = await put(o.port, '/vod/steal', playlist);
  assert.is(res.status, 422, 'an HLS playlist is not a source: it would read files of the origin');
  assert.match(res.body.toString(), /not a video/);
  // A form whose body ends inside its file part, and one with broken part headers.
  for (const body of ['--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nxxxx', '--B\r\nbroken\r\n\r\n--B\r\nbroken\r\n\r\n--B--']) {
    const cut = await http(o.port, 'POST', '/vod', body, { 'Content-Type': 'multipart/form-data; boundary=B' });
    assert.is(cut.status, 400, cut.body.toString());
  }
  assert.is((await http(o.port, 'GET', '/healthz')).status, 200);
  assert.equal(o.origin.vod!.jobs(), []);
  await waitUntil(() => leftovers().length === 0, 3000, 'no upload left on disk');
});

test('an upload the origin refuses fails the job (ffmpeg itself goes on): no asset with holes', async () => {
  await open({ maxObjectSize: 3000 });
  assert.is((await put(o.port, '/vod/holes', readFileSync(source('two.mp4', 2)))).status, 202);
  await whenSettled('holes');
  assert.is(job('holes')!.state, 'failed');
  assert.match(job('holes')!.error!, /the origin refused an upload \(413 \/vod\/holes\/chunk-/);
  assert.equal(assetKeys('holes'), []);
});

test("a job's asset is written by its transcode only: no upload or CMAF ingest over it", async () => {
  await open();
  assert.is((await put(o.port, '/vod/mine', readFileSync(source('two.mp4', 2)))).status, 202);
  await whenSettled('mine');
  for (const path of ['/vod/mine/manifest.mpd', '/vod/mine/Streams(video.cmfv)', '/vod/mine/new.m4s']) {
    const res = await http(o.port, 'POST', path, 'x');
    assert.is(res.status, 409, path);
  }
  assert.is((await http(o.port, 'DELETE', '/vod/mine/manifest.mpd')).status, 409);
  assert.match((await http(o.port, 'GET', '/vod/mine/manifest.mpd')).body.toString(), /type="static"/);
});

/** An ffprobe that takes `ms` before it answers (a large file). */
function slowProbe(ms: number): string {
  const file = join(work, `slow-ffprobe-${ms}`);
  writeFileSync(file, `#!/bin/sh\nsleep ${ms / 1000}\nexec ffprobe "$@"\n`, { mode: 0o755 });
  return file;
}

test('a probe longer than the idle timeout keeps the connection; a DELETE during the probe refuses the upload', async () => {
  await open({ ingestIdleMs: 300, vod: { ...VOD, ffprobe: slowProbe(800) } });
  const bytes = readFileSync(source('two.mp4', 2));
  const slow = await put(o.port, '/vod/patient', bytes);
  assert.is(slow.status, 202, 'answered after the probe, not cut by the upload idle timer');
  const racing = put(o.port, '/vod/doomed', bytes);
  await waitUntil(() => leftovers().some((f) => f.startsWith('doomed-')), 5000, 'the upload on disk');
  assert.is((await http(o.port, 'DELETE', '/vod/doomed')).status, 204);
  const refused = await racing;
  assert.is(refused.status, 409);
  assert.match(refused.body.toString(), /deleted while it was uploading/);
  assert.is(job('doomed'), undefined);
  await whenSettled('patient');
  await waitUntil(() => leftovers().length === 0, 3000, 'no upload left on disk');
});

test('the /player page has the VOD panel (upload form, jobs) only when VOD is on', async () => {
  await open();
  const on = (await http(o.port, 'GET', '/player')).body.toString();
  assert.match(on, /<form id="vod-form">/);
  assert.is(JSON.parse(/<script id="boxstream-config" type="application\/json">(.*?)<\/script>/s.exec(on)![1]).vod, '/vod');
  await o.close();
  o.origin.close();
  o = await startOrigin({ warn: () => {} });
  const off = (await http(o.port, 'GET', '/player')).body.toString();
  assert.not.match(off, /vod-form/);
  assert.is(JSON.parse(/<script id="boxstream-config" type="application\/json">(.*?)<\/script>/s.exec(off)![1]).vod, false);
  assert.is((await put(o.port, '/vod/x', 'plain object')).status, 201, 'without VOD, /vod/ is an ordinary prefix');
});

test('an unusable directory costs VOD (503 with the reason), never the origin', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const warnings: string[] = [];
  await open({ dir: file, warn: (m: string) => warnings.push(m) });
  const res = await put(o.port, '/vod/x', 'bytes');
  assert.is(res.status, 503);
  assert.match(res.body.toString(), /VOD is unavailable: cannot use .*a-file/);
  assert.ok(warnings.some((w) => w.startsWith('vod: cannot use')));
  assert.is((await put(o.port, '/live/ok.m3u8', '#EXTM3U\n')).status, 201);
});

test('with an ingest secret, uploads need it, and the transcode still reaches the origin', async () => {
  await open({ ingestSecret: 's3cret' });
  const bytes = readFileSync(source('two.mp4', 2));
  assert.is((await put(o.port, '/vod/locked', bytes)).status, 401);
  assert.is((await put(o.port, '/vod/locked', bytes, { Authorization: 'Bearer wrong' })).status, 403);
  assert.is((await put(o.port, '/vod/locked', bytes, { Authorization: 'Bearer s3cret' })).status, 202);
  await whenSettled('locked');
  assert.is(job('locked')!.state, 'done', job('locked')!.error);
  assert.is((await http(o.port, 'DELETE', '/vod/locked')).status, 401);
});

test.run();
