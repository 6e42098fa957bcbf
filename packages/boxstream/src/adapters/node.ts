import { Transform, type TransformCallback } from 'node:stream';
import { Parser, type ParserOptions } from '../parser.js';
import type { ParseEvent } from '../events.js';

/**
 * A Node `Transform`: bytes in, parse events out (object mode on the readable side).
 * A malformed stream emits `'error'` with a `BoxStreamError`; the events completed before the
 * error (in the failing write) are on `error.events`, not pushed: Node discards a stream's
 * buffered output when it errors, so they are handed over with the error instead.
 *
 * @example
 * import { ParserTransform } from 'boxstream/node';
 * req.pipe(new ParserTransform()).on('data', (event) => { ... });
 */
export class ParserTransform extends Transform {
  /** The parser, e.g. for `parser.init` once the header went by. */
  readonly parser: Parser;

  constructor(options?: ParserOptions) {
    super({ writableObjectMode: false, readableObjectMode: true });
    this.parser = new Parser(options);
  }

  override _transform(piece: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.run(() => this.parser.push(piece), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.run(() => this.parser.end(), callback);
  }

  private run(step: () => readonly ParseEvent[], callback: TransformCallback): void {
    let events: readonly ParseEvent[];
    try {
      events = step();
    } catch (err) {
      callback(err as Error);
      return;
    }
    for (const event of events) this.push(event);
    callback();
  }
}
