// The fixtures' box offsets and facts agree with an independent parser, mp4box.js.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as MP4Box from 'mp4box';
import type { ChunkEvent, HeaderEvent } from '../src/index.js';
import { fixture, parseAll } from './helpers.js';

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

for (const name of ['lldash-stream.mp4', 'lldash-segment.m4s', 'fragmented.mp4', 'multitrack.mp4', 'init.mp4']) {
  test(`${name}: top-level boxes and facts agree with mp4box.js`, () => {
    const bytes = fixture(name);
    const file = mp4box(bytes);
    const events = parseAll(bytes);
    const ours = events.flatMap((e) => (e.kind === 'data' ? [] : e.boxes)).map((b) => [b.type, b.offset, b.size]);
    const theirs = file.boxes.map((b: Loose) => [b.type, b.start, b.size]);
    assert.equal(ours, theirs);

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
    if (file.moov) {
      assert.ok(header, 'a header event when there is a moov');
      assert.equal(
        header!.init.tracks.map((t) => [t.trackId, t.handler, t.timescale, t.codec]),
        file.moov.traks.map((t: Loose) => [t.tkhd.track_id, t.mdia.hdlr.handler, t.mdia.mdhd.timescale, t.mdia.minf.stbl.stsd.entries[0].type]),
      );
      assert.is(header!.init.majorBrand, file.ftyp.major_brand);
    }
  });
}

test.run();
