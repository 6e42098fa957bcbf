// End to end with the real encoder: ffmpeg's low-latency dash muxer (REFERENCE.md) pushes a live
// stream to the origin while readers stream segments in progress; what they receive must be the
// completed objects byte for byte, parse with boxstream and decode with ffprobe.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { Parser, type ParseEvent } from 'boxstream';
import type { StoredObject } from '../src/index.js';
import { http, startOrigin } from './helpers.js';

interface Read {
  key: string;
  status: number;
  chunked: boolean;
  body: Buffer;
  firstByteAt: number;
}

function read(port: number, key: string): Promise<Read> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: key, agent: false }, (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      let firstByteAt = 0;
      res.on('data', (b: Buffer) => {
        if (firstByteAt === 0) firstByteAt = Date.now();
        parts.push(b);
      });
      res.on('end', () =>
        resolve({ key, status: res.statusCode ?? 0, chunked: res.headers['transfer-encoding'] === 'chunked', body: Buffer.concat(parts), firstByteAt }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

const parseAll = (bytes: Uint8Array): ParseEvent[] => {
  const p = new Parser();
  return [...p.push(bytes), ...p.end()];
};

test('ffmpeg -f dash (ldash, lhls, streaming, PUT, persistent) against the origin', async () => {
  const o = await startOrigin({ holdMs: 5000 });
  const base = `http://127.0.0.1:${o.port}`;
  const dir = '/live/channel-1';
  const segmentName = /\/chunk-(\d)-(\d{5})\.m4s$/;
  const completed = new Map<string, { bytes: Buffer; at: number }>();
  const liveReads: Promise<Read>[] = [];
  const deleted: string[] = [];
  const store = o.origin.store;
  // Join every media segment the moment its upload starts: these reads run while it is written.
  store.on('create', (key) => {
    if (segmentName.test(key)) liveReads.push(read(o.port, key));
  });
  store.on('complete', (key, object: StoredObject) => completed.set(key, { bytes: Buffer.concat(object.units), at: Date.now() }));
  store.on('delete', (key) => deleted.push(key));
  // An early reader: asks for segment 3 before ffmpeg even starts.
  const early = read(o.port, `${dir}/chunk-0-00003.m4s`);

  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-t', '6',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '30', '-keyint_min', '30',
    '-sc_threshold', '0', '-b:v', '300k', '-bf', '0', '-c:a', 'aac', '-b:a', '64k',
    '-f', 'dash', '-strict', 'experimental', '-seg_duration', '1', '-frag_type', 'duration', '-frag_duration', '0.25',
    '-streaming', '1', '-ldash', '1', '-lhls', '1', '-hls_playlist', '1', '-window_size', '2', '-extra_window_size', '1',
    '-use_timeline', '0', '-use_template', '1', '-utc_timing_url', `${base}/time`,
    '-method', 'PUT', '-http_persistent', '1', '-write_prft', '1', '-index_correction', '1', '-http_user_agent', 'boxstream-test/1',
    '-adaptation_sets', 'id=0,streams=v id=1,streams=a',
    '-init_seg_name', 'init-$RepresentationID$.m4s', '-media_seg_name', 'chunk-$RepresentationID$-$Number%05d$.m4s',
    `${base}${dir}/out.mpd`,
  ];
  const ffmpeg = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  ffmpeg.stderr.on('data', (b: Buffer) => (stderr += b));
  const killer = setTimeout(() => ffmpeg.kill('SIGKILL'), 20_000);
  try {
    const code = await new Promise<number | null>((resolve) => ffmpeg.on('exit', resolve));
    clearTimeout(killer);
    assert.is(code, 0, `ffmpeg failed: ${stderr}`);

    // Manifests: the MPD points at our clock; the HLS playlists arrived too.
    const mpd = await http(o.port, 'GET', `${dir}/out.mpd`);
    assert.is(mpd.status, 200);
    assert.is(mpd.headers['content-type'], 'application/dash+xml');
    assert.match(mpd.body.toString(), /<MPD[\s\S]*<\/MPD>\s*$/);
    assert.ok(mpd.body.toString().includes(`${base}/time`), 'UTCTiming points at the origin');
    for (const name of ['master.m3u8', 'media_0.m3u8', 'media_1.m3u8']) {
      const pl = await http(o.port, 'GET', `${dir}/${name}`);
      assert.is(pl.status, 200, name);
      assert.match(pl.body.toString(), /^#EXTM3U/, name);
    }
    // Init segments parse as CMAF headers.
    for (const rep of ['0', '1']) {
      const init = await http(o.port, 'GET', `${dir}/init-${rep}.m4s`);
      assert.is(init.status, 200);
      const events = parseAll(init.body);
      assert.is(events[0].kind, 'header', `init-${rep}`);
    }

    // Media segments: several per representation, each a run of CMAF chunks.
    const segments = [...completed.keys()].filter((k) => segmentName.test(k));
    assert.ok(segments.filter((k) => k.includes('chunk-0-')).length >= 5, `video segments: ${segments}`);
    assert.ok(segments.filter((k) => k.includes('chunk-1-')).length >= 5, `audio segments: ${segments}`);
    for (const key of segments) {
      const events = parseAll(completed.get(key)!.bytes);
      const chunkEvents = events.filter((e) => e.kind === 'chunk');
      assert.ok(chunkEvents.length >= 1, `${key} has chunks`);
      assert.is(chunkEvents.length, events.length, `${key} is only chunks`);
      assert.ok(chunkEvents[0].kind === 'chunk' && chunkEvents[0].info.segmentStart, `${key} starts with styp`);
    }

    // Readers that joined while segments were written got exactly the completed bytes, and got
    // their first bytes before the upload ended.
    const reads = await Promise.all(liveReads);
    assert.is(reads.length, segments.length);
    let live = 0;
    for (const r of reads) {
      assert.is(r.status, 200, r.key);
      assert.ok(r.body.equals(completed.get(r.key)!.bytes), `${r.key}: live read differs from the completed object`);
      // Live: served chunked (in progress when it was asked for) and first bytes before the end.
      if (r.chunked && r.firstByteAt < completed.get(r.key)!.at) live++;
    }
    // The very last segments of a stream can be tiny and arrive in one piece: allow two of those.
    assert.ok(live >= segments.length - 2, `${live} of ${segments.length} reads were live`);
    const e = await early;
    assert.is(e.status, 200);
    assert.ok(e.chunked, 'the early reader streamed the segment as it was written');
    assert.ok(e.body.equals(completed.get(`${dir}/chunk-0-00003.m4s`)!.bytes));

    // window_size: old segments were DELETEd and are gone.
    assert.ok(deleted.length > 0, 'ffmpeg deleted old segments');
    for (const key of deleted) assert.is(store.get(key), undefined, `${key} deleted`);
    assert.ok(deleted.every((k) => segmentName.test(k)), 'only segments were deleted');

    // What a reader received decodes: init + live-read segment through ffprobe.
    const video = reads.find((r) => r.key.endsWith('chunk-0-00002.m4s'))!;
    const initBytes = (await http(o.port, 'GET', `${dir}/init-0.m4s`)).body;
    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', '-i', 'pipe:0'],
      { input: Buffer.concat([initBytes, video.body]), encoding: 'utf8' },
    );
    assert.is(probe.status, 0, probe.stderr);
    const [codec, frames] = probe.stdout.trim().split(',');
    assert.is(codec, 'h264');
    assert.is(Number(frames), 30, 'one second of 30 fps video');
  } finally {
    clearTimeout(killer);
    ffmpeg.kill('SIGKILL');
    await o.close();
  }
});

test.run();
