import { Parser, type ParserOptions } from '../parser.js';
import type { ParseEvent } from '../events.js';

/** Anything that yields byte pieces: a Node stream, a web ReadableStream, an async generator. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ReadableStream<Uint8Array>;

async function* piecesOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function' && !(Symbol.asyncIterator in source)) {
    // Older browsers: ReadableStream without async iteration.
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array>;
}

/**
 * Parses any byte source and yields its events in order. Throws `BoxStreamError` after yielding
 * the events completed before the error.
 *
 * @example
 * for await (const event of parseStream(fs.createReadStream('live.mp4'))) {
 *   if (event.kind === 'chunk') console.log(event.info.tracks[0]?.baseMediaDecodeTime);
 * }
 */
export async function* parseStream(source: ByteSource, options?: ParserOptions): AsyncGenerator<ParseEvent> {
  const parser = new Parser(options);
  const drain = function* (step: () => readonly ParseEvent[]): Generator<ParseEvent> {
    let events: readonly ParseEvent[];
    try {
      events = step();
    } catch (err) {
      yield* ((err as { events?: ParseEvent[] }).events ?? []);
      throw err;
    }
    yield* events;
  };
  for await (const piece of piecesOf(source)) yield* drain(() => parser.push(piece));
  yield* drain(() => parser.end());
}
