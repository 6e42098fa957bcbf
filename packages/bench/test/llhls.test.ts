// The LL-HLS bench: its playlist reader against playlists the origin's own writer renders, and a
// smoke run (5 readers, 3 segments) end to end as a child process against the real origin. Proves
// the bench works and every part arrives; asserts nothing about timing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderMediaPlaylist, type ChannelView, type RenditionView, type SegmentFact } from '@boxstream/origin/hls';
import { playlistEdge } from '../src/llhls/playlist-edge.js';

function segment(msn: number, parts: number, complete: boolean): SegmentFact {
  const chunks = Array.from({ length: parts }, (_, i) => ({ offset: i * 100, size: 100, duration: 0.2, independent: i === 0 }));
  const uri = `seg-${msn}.m4s`;
  return { msn, key: `/live/${uri}`, uri, chunks, size: parts * 100, duration: parts * 0.2, complete, discontinuity: false, programDateTime: 0, decodeTime: 0 };
}

function playlist(segments: SegmentFact[], ended = false, skip = false): Buffer {
  const r: RenditionView = {
    info: { id: 'v', type: 'video', bandwidth: 1, codecs: 'avc1', width: 1, height: 1, frameRate: 30, audioSamplingRate: undefined, channels: undefined, lang: undefined, initUri: 'init.m4s', segmentDuration: 2 },
    playlistUri: 'out_v.m3u8',
    segments,
    nextMsn: (segments.at(-1)?.msn ?? 0) + 1,
    discontinuitySequence: 0,
    nextUri: undefined,
    averageBandwidth: undefined,
    peakBandwidth: undefined,
  };
  const channel: ChannelView = { mpdKey: '/live/out.mpd', playlistKey: '/live/out.m3u8', renditions: [r], timing: { targetDuration: 2, partTarget: 0.2, partHoldBack: 0.6, skipUntil: 2 }, ended, event: false };
  return Buffer.from(renderMediaPlaylist(channel, r, { skip }));
}

test('the newest part: in a segment being written, at the end of a complete one, after a skip, with ENDLIST', () => {
  assert.equal(playlistEdge(playlist([segment(7, 10, true), segment(8, 3, false)])), { msn: 8, part: 2, uri: 'seg-8.m4s', offset: 200, length: 100, ended: false });
  assert.equal(playlistEdge(playlist([segment(7, 10, true), segment(8, 10, true)])), { msn: 8, part: 9, uri: 'seg-8.m4s', offset: 900, length: 100, ended: false });
  assert.equal(playlistEdge(playlist([segment(6, 10, true), segment(7, 10, true), segment(8, 1, false)])), { msn: 8, part: 0, uri: 'seg-8.m4s', offset: 0, length: 100, ended: false });
  const skipped = playlist([segment(5, 10, true), segment(6, 10, true), segment(7, 10, true), segment(8, 4, false)], false, true);
  assert.ok(skipped.includes('#EXT-X-SKIP:SKIPPED-SEGMENTS=2'), skipped.toString());
  assert.equal(playlistEdge(skipped)?.msn, 8);
  assert.equal(playlistEdge(playlist([segment(7, 10, true)], true))?.ended, true);
  assert.is(playlistEdge(Buffer.from('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n')), undefined);
});

test('pnpm bench:llhls end to end: every listed part delivered, no errors, the median of 3 runs reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'boxstream-llhls-bench-'));
  try {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'llhls', 'run.ts');
    // A 50 ms cadence keeps three runs short; nothing here is about timing.
    const args = ['--readers', '5', '--segments', '3', '--warmup', '2', '--cadence', '50', '--repeats', '3', '--results-dir', dir];
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b));
    child.stderr!.on('data', (b: Buffer) => (out += b));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.is(code, 0, out);
    interface Cpu {
      originCores: number;
      readerCores: number;
    }
    interface Step {
      readers: number;
      ratioByRun: number[];
      runs: { ratio: number; errors: number; samples: { chunk: number; playlist: number; part: number }; cpu: { dash: Cpu; llhls: Cpu } }[];
      playlistP99OverChunkP99: number;
      dash: { samples: number; errors: string[]; latencyMs: { p99: number } };
      llhls: { playlist: { samples: number; errors: string[]; latencyMs: { p99: number } }; part: { samples: number } };
    }
    const result = JSON.parse(readFileSync(join(dir, 'llhls-latest.json'), 'utf8')) as { steps: Step[] };
    const [step] = result.steps;
    assert.is(step.readers, 5);
    // The reported run is the median of the three, and its figures are that run's own.
    assert.is(step.ratioByRun.length, 3);
    assert.is(step.playlistP99OverChunkP99, [...step.ratioByRun].sort((a, b) => a - b)[1]);
    assert.is(step.playlistP99OverChunkP99, step.llhls.playlist.latencyMs.p99 / step.dash.latencyMs.p99);
    assert.equal(step.runs.map((r) => r.ratio), step.ratioByRun);
    assert.equal(step.dash.errors, []);
    assert.equal(step.llhls.playlist.errors, []);
    for (const r of step.runs) {
      assert.is(r.errors, 0);
      // Segment 3 only in both phases (10 chunks; the first two are warm-up).
      assert.is(r.samples.chunk, 5 * 1 * 10);
      assert.ok(r.samples.playlist >= 5 * 9, `${r.samples.playlist} playlist samples`);
      assert.is(r.samples.part, r.samples.playlist);
      // /proc is there on the machines this runs on (the origin's figure counts 10 ms ticks: a
      // half-second phase of 5 readers may use less than one).
      for (const c of [r.cpu.dash, r.cpu.llhls]) assert.ok(Number.isFinite(c.originCores) && c.originCores >= 0 && c.readerCores > 0, JSON.stringify(c));
    }
    assert.is(step.dash.samples, 5 * 1 * 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
