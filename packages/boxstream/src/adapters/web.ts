import { Parser, type ParserOptions } from '../parser.js';
import type { ParseEvent } from '../events.js';

/**
 * A web `TransformStream` from bytes to parse events (works in browsers, Deno, Bun and Node).
 * A malformed stream errors the readable side after the events completed before the error.
 *
 * @example
 * const response = await fetch(url);
 * for await (const event of response.body!.pipeThrough(parserTransformStream())) { ... }
 */
export function parserTransformStream(options?: ParserOptions): TransformStream<Uint8Array, ParseEvent> {
  const parser = new Parser(options);
  const run = (controller: TransformStreamDefaultController<ParseEvent>, step: () => ParseEvent[]) => {
    try {
      for (const event of step()) controller.enqueue(event);
    } catch (err) {
      for (const event of (err as { events?: ParseEvent[] }).events ?? []) controller.enqueue(event);
      throw err;
    }
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
