// The web TransformStream, the Node Transform and the async iterator give the parser's events,
// and surface errors after the events completed before them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Readable } from 'node:stream';
import { BoxStreamError, concat, parseStream, parserTransformStream, type ParseEvent } from '../src/index.js';
import { ParserTransform } from '../src/node.js';
import { box, describe, fixture, parseAll } from './helpers.js';

const bytes = fixture('lldash-stream.mp4');
const expected = describe(parseAll(bytes));
const pieces = (b: Uint8Array, n: number) => Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, (i + 1) * n));
// A web ReadableStream of the bytes (Blob wants an ArrayBuffer-backed view).
const streamOf = (b: Uint8Array) => new Blob([new Uint8Array(b)]).stream();
// A header, then a box whose type has control bytes: JUNK.
const junk = new Uint8Array([0, 0, 0, 11, 0, 1, 2, 3, 4, 5, 6]);
const broken = concat([fixture('lldash-init.mp4'), junk]);

async function collect(source: AsyncIterable<ParseEvent>): Promise<{ events: ParseEvent[]; error: unknown }> {
  const events: ParseEvent[] = [];
  try {
    for await (const e of source) events.push(e);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

test('parseStream over an async iterable, a Node Readable and a web ReadableStream', async () => {
  async function* gen() {
    for (const p of pieces(bytes, 1000)) yield p;
  }
  for (const source of [gen(), Readable.from(pieces(bytes, 333)), streamOf(bytes), pieces(bytes, 77)]) {
    const { events, error } = await collect(parseStream(source));
    assert.is(error, undefined);
    assert.is(describe(events), expected);
  }
});

test('parseStream over a ReadableStream without async iteration (reader path)', async () => {
  const stream = streamOf(bytes);
  const readerOnly = { getReader: () => stream.getReader() } as unknown as ReadableStream<Uint8Array>;
  const { events } = await collect(parseStream(readerOnly));
  assert.is(describe(events), expected);
});

test('parseStream yields the events before an error, then throws it', async () => {
  const { events, error } = await collect(parseStream([broken]));
  assert.equal(events.map((e) => e.kind), ['header']);
  assert.instance(error, BoxStreamError);
  assert.is((error as BoxStreamError).code, 'JUNK');
});

test('web TransformStream', async () => {
  const out = streamOf(bytes).pipeThrough(parserTransformStream());
  const { events, error } = await collect(out as unknown as AsyncIterable<ParseEvent>);
  assert.is(error, undefined);
  assert.is(describe(events), expected);
  // Several events complete in the failing piece: none is lost, they come with the error.
  const twoChunks = concat([fixture('lldash-stream.mp4').subarray(0, 10678), junk]);
  const bad = streamOf(twoChunks).pipeThrough(parserTransformStream());
  const result = await collect(bad as unknown as AsyncIterable<ParseEvent>);
  assert.equal(result.events, [], 'nothing enqueued from the failing piece');
  assert.is((result.error as BoxStreamError).code, 'JUNK');
  assert.equal((result.error as BoxStreamError).events.map((e) => (e as ParseEvent).kind), ['header', 'chunk', 'chunk']);
  // A stream that stops inside a box errors at flush.
  const cut = streamOf(bytes.subarray(0, 5000)).pipeThrough(parserTransformStream());
  assert.is(((await collect(cut as unknown as AsyncIterable<ParseEvent>)).error as BoxStreamError).code, 'TRUNCATED');
});

test('Node Transform in object mode', async () => {
  const t = new ParserTransform();
  Readable.from(pieces(bytes, 500)).pipe(t);
  const { events, error } = await collect(t);
  assert.is(error, undefined);
  assert.is(describe(events), expected);
  assert.ok(t.parser.init, 'the parser is reachable for its init facts');
  const bad = new ParserTransform();
  Readable.from([broken]).pipe(bad);
  const result = await collect(bad);
  assert.equal(result.events, [], 'nothing pushed from the failing write');
  assert.is((result.error as BoxStreamError).code, 'JUNK');
  assert.equal((result.error as BoxStreamError).events.map((e) => (e as ParseEvent).kind), ['header'], 'handed over on the error');
  const cut = new ParserTransform();
  Readable.from([bytes.subarray(0, 5000)]).pipe(cut);
  assert.is(((await collect(cut)).error as BoxStreamError).code, 'TRUNCATED');
});

test.run();
