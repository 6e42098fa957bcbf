// Media sequence numbers of segments named by `$Time$`: renditions share one number per segment
// start, however their segments arrive. The channel alone, fed as the stream model feeds it
// (numberSegment, then the segment pushed and completed), so each case is exact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Channel } from '../src/stream/channel.js';
import { readMpd } from '../src/stream/mpd.js';
import { Segment, type Rendition } from '../src/stream/rendition.js';

/** A live MPD of renditions named by `$Time$` in milliseconds, each with its presentationTimeOffset. */
function timedChannel(pto: Record<string, number>): Channel {
  const reps = Object.entries(pto)
    .map(
      ([id, offset]) =>
        `<Representation id="${id}" bandwidth="100000" codecs="avc1.64001f" width="160" height="90">` +
        `<SegmentTemplate timescale="1000" presentationTimeOffset="${offset}" initialization="init-$RepresentationID$.m4s" media="$RepresentationID$-$Time$.m4s">` +
        `<SegmentTimeline><S t="${offset}" d="1000" r="-1"/></SegmentTimeline></SegmentTemplate></Representation>`,
    )
    .join('');
  const text = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"><Period id="0"><AdaptationSet contentType="video" mimeType="video/mp4">${reps}</AdaptationSet></Period></MPD>`;
  const read = readMpd(text, '/live/t/out.mpd');
  if (!read.ok) throw new Error(read.reason);
  const channel = new Channel('/live/t/out.mpd', '/live/t/out.m3u8', '/live/t/');
  channel.declare(read.manifest);
  return channel;
}

const rendition = (channel: Channel, id: string): Rendition => channel.renditions.find((r) => r.decl.id === id)!;

/** Names a segment of `id` starting at `ms` (media time), as an upload of it would; `lengthMs` completes it. */
function add(channel: Channel, id: string, ms: number, lengthMs?: number): number {
  const r = rendition(channel, id);
  const key = `/live/t/${id}-${ms}.m4s`;
  const { msn, discontinuity } = channel.numberSegment(r, { time: BigInt(ms) }, false);
  const segment = new Segment(msn, key, channel.relative(key), discontinuity, 1);
  r.push(segment);
  if (lengthMs !== undefined) {
    segment.addChunk({ offset: 0, size: 1000, duration: lengthMs / 1000, independent: true });
    segment.complete = true;
  }
  return msn;
}

const msns = (channel: Channel, id: string): number[] => rendition(channel, id).segments.map((s) => s.msn);

test('segments of varying length: each step is measured by the segment at the nearest slot', () => {
  const c = timedChannel({ a: 0, b: 0 });
  add(c, 'a', 0, 1000);
  add(c, 'b', 0, 1000);
  add(c, 'a', 1000); // a's 2 s segment still being written
  add(c, 'b', 1000, 2000);
  // The newest complete segment of the first rendition is a 1 s one; the step from 1 s is 2 s.
  assert.is(add(c, 'b', 3000, 1000), 2);
  assert.equal(msns(c, 'b'), [0, 1, 2]);
});

test('renditions with different presentation time offsets share the numbers of the same presentation time', () => {
  const c = timedChannel({ a: 0, b: 90_000 });
  for (let i = 0; i < 3; i++) add(c, 'a', i * 1000, 1000);
  assert.is(add(c, 'b', 90_000 + 2000, 1000), 2);
});

test('a retry of the first segment before any segment completed keeps its number', () => {
  const c = timedChannel({ a: 0, b: 0 });
  add(c, 'a', 0);
  rendition(c, 'a').segments.pop(); // the model drops the newest segment when it is sent again
  assert.is(add(c, 'a', 0, 1000), 0);
  assert.is(add(c, 'b', 0, 1000), 0);
  assert.is(add(c, 'a', 1000, 1000), 1);
  assert.is(add(c, 'b', 1000, 1000), 1);
  assert.equal(msns(c, 'b'), [0, 1]);
});

test('a rendition that restarts first does not renumber one still in the earlier run', () => {
  const c = timedChannel({ a: 0, b: 0 });
  for (let i = 0; i < 4; i++) {
    add(c, 'a', i * 1000, 1000);
    add(c, 'b', i * 1000, 1000);
  }
  assert.is(add(c, 'a', 0, 1000), 4, "a's restart starts a new run after the numbers given");
  assert.is(add(c, 'b', 4000, 1000), 4, 'b goes on in its own run');
  assert.is(add(c, 'b', 5000, 1000), 5);
  assert.equal(msns(c, 'b'), [0, 1, 2, 3, 4, 5]);
  // b restarts too and joins a's run, but its playlist's numbers never go back: after its 5.
  assert.is(add(c, 'b', 0, 1000), 6);
  assert.is(add(c, 'b', 1000, 1000), 7);
});

test('a long segment after a short one, before the long one completes anywhere: the next number, not a skip', () => {
  const c = timedChannel({ a: 0 });
  add(c, 'a', 0, 1000);
  add(c, 'a', 1000); // 3 s long, still open when the next one is named (the step known is 1 s)
  assert.is(add(c, 'a', 4000, 1000), 2);
  assert.equal(msns(c, 'a'), [0, 1, 2]);
});

test.run();
