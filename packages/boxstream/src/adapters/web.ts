import { Parser, type ParserOptions } from '../parser.js';
import type { ParseEvent } from '../events.js';

/**
 * A web `TransformStream` from bytes to parse events (works in browsers, Deno, Bun and Node).
 * A malformed stream errors the stream with a `BoxStreamError`. The events completed by the
 * failing piece are on `error.events`, not enqueued: erroring a stream discards what its reader
 * has not read yet, so they are handed over with the error instead (as the Node Transform does).
 *
 * @example
 * const response = await fetch(url);
 * for await (const event of response.body!.pipeThrough(parserTransformStream())) { ... }
 */
export function parserTransformStream(options?: ParserOptions): TransformStream<Uint8Array, ParseEvent> {
  const parser = new Parser(options);
  // A throw from step() errors the stream; the error carries the failing call's events.
  const run = (controller: TransformStreamDefaultController<ParseEvent>, step: () => readonly ParseEvent[]) => {
    for (const event of step()) controller.enqueue(event);
  };
  return new TransformStream<Uint8Array, ParseEvent>({
    transform(piece, controller) {
      run(controller, () => parser.push(piece));
    },
    flush(controller) {
      run(controller, () => parser.end());
    },
  });
}
