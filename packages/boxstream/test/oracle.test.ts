// Every fixture, read by boxstream, agrees with an independent parser, mp4box.js: top-level box
// offsets (unit boundaries), moofs, every sample (decode and presentation time, duration, size,
// sync flag, data offset) and codec strings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as MP4Box from 'mp4box';
import { samples, type ChunkEvent, type HeaderEvent, type Sample } from '../src/index.js';
import { fixture, folderFixtures, parseIn } from './helpers.js';

// mp4box.js types its boxes loosely; the fields read here are the ones it documents.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function mp4box(bytes: Uint8Array): Loose {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer & { fileStart: number };
  buffer.fileStart = 0;
  const file: Loose = MP4Box.createFile();
  file.appendBuffer(buffer);
  file.flush();
  return file;
}

/** mp4box.js names a few formats by their four-character code where RFC 6381 uses a name. */
const NAMED: Record<string, string> = { Opus: 'opus', fLaC: 'flac' };
/** mp4box.js gives `encv` / `enca` for encrypted entries; the original formats' strings, by file. */
const ENCRYPTED: Record<string, string[]> = { 'codecs/cenc.mp4': ['avc1.640009', 'mp4a.40.2'] };
/** mp4box.js reads 0 (the 16.16 field) for a rate above 65,535 Hz: the exact rate, by file. */
const RATES: Record<string, number> = { 'codecs/flac-96k.mp4': 96000 };

const names = [
  'lldash-stream.mp4',
  'lldash-segment.m4s',
  'fragmented.mp4',
  'multitrack.mp4',
  'init.mp4',
  ...folderFixtures(),
];

for (const name of names) {
  test(`${name}: boxes, moofs, samples and codec strings agree with mp4box.js`, () => {
    const bytes = fixture(name);
    const file = mp4box(bytes);
    // Pieces of 1000 bytes: the moofs straddle pieces, as on a network.
    const events = parseIn(bytes, Array.from({ length: Math.ceil(bytes.length / 1000) }, () => 1000));
    const ours = events.flatMap((e) => (e.kind === 'data' ? [] : e.boxes)).map((b) => [b.type, b.offset, b.size]);
    const theirs = file.boxes.map((b: Loose) => [b.type, b.start, b.size]);
    assert.equal(ours, theirs, 'top-level boxes');

    const chunks = events.filter((e): e is ChunkEvent => e.kind === 'chunk');
    assert.is(chunks.length, file.moofs.length, 'one chunk per moof');
    chunks.forEach((c, i) => {
      const m = file.moofs[i];
      assert.is(c.info.sequenceNumber, m.mfhd.sequence_number, `moof ${i} sequence`);
      assert.equal(
        c.info.tracks.map((t) => [t.trackId, Number(t.baseMediaDecodeTime), t.sampleCount]),
        m.trafs.map((t: Loose) => [t.tfhd.track_id, Number(t.tfdt.baseMediaDecodeTime), t.truns.reduce((n: number, r: Loose) => n + r.sample_count, 0)]),
        `moof ${i} trafs`,
      );
    });

    const header = events.find((e): e is HeaderEvent => e.kind === 'header');
    if (!file.moov) return;
    assert.ok(header, 'a header event when there is a moov');
    const tracks = header!.init.tracks;
    assert.equal(
      tracks.map((t) => [t.trackId, t.handler, t.timescale]),
      file.moov.traks.map((t: Loose) => [t.tkhd.track_id, t.mdia.hdlr.handler, t.mdia.mdhd.timescale]),
    );
    const info = file.getInfo();
    const codecs = ENCRYPTED[name] ?? info.tracks.map((t: Loose) => NAMED[t.codec] ?? t.codec);
    assert.equal(tracks.map((t) => t.codecString), codecs, 'codec strings');
    info.tracks.forEach((t: Loose, i: number) => {
      if (t.video) assert.equal([tracks[i].width, tracks[i].height], [t.video.width, t.video.height], 'picture size');
      if (t.audio) assert.is(tracks[i].sampleRate, RATES[name] ?? t.audio.sample_rate, 'sample rate');
    });
    assert.is(header!.init.majorBrand, file.ftyp.major_brand);

    // Every sample, track by track, against mp4box.js's sample table built from the moofs.
    if (!header!.init.fragmented) return;
    for (const track of tracks) {
      const theirSamples = file.getTrackSamplesInfo(track.trackId) as Loose[];
      const ourSamples: Sample[] = chunks.flatMap((c) => [...samples(c)].filter((s) => s.trackId === track.trackId));
      assert.equal(
        ourSamples.map((s) => [Number(s.decodeTime), Number(s.presentationTime), s.duration, s.keyframe, s.size, s.offset]),
        theirSamples.map((s) => [s.dts, s.cts, s.duration, s.is_sync, s.size, s.offset]),
        `track ${track.trackId} samples`,
      );
      // The per-chunk facts sum up the same samples.
      for (const c of chunks) {
        const trafs = c.info.tracks.filter((t) => t.trackId === track.trackId);
        const mine = [...samples(c)].filter((s) => s.trackId === track.trackId);
        if (trafs.length === 0) continue;
        assert.is(trafs.reduce((n, t) => n + (t.duration ?? NaN), 0), mine.reduce((n, s) => n + (s.duration ?? NaN), 0), 'duration');
        assert.is(trafs[0].keyframe, mine[0]?.keyframe, 'keyframe');
        const earliest = mine.reduce((m, s) => (s.presentationTime! < m ? s.presentationTime! : m), mine[0].presentationTime!);
        assert.is(trafs[0].earliestPresentationTime, earliest, 'earliest presentation time');
      }
    }
  });
}

test.run();
