// An uploaded video file, streamed to disk as it arrives (never held whole in memory): a raw
// body (curl -T) or the file part of a multipart/form-data form (a browser), parsed by busboy.
// The file is written with backpressure: a slow disk pauses the request.
import busboy from 'busboy';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { bodyCut } from '../http/protocol.js';

/** What arrived: the bytes on disk, or why not (the status to answer). */
export type Received = { ok: true; bytes: number; filename: string | undefined; fields: Record<string, string> } | { ok: false; status: number; reason: string; cut: boolean };

const CUT_SHORT = { ok: false, status: 400, reason: 'the upload was cut short', cut: true } as const;

/** Limits of one upload. */
export interface ReceiveLimits {
  maxBytes: number;
  /** No body bytes for this long ends the upload (408); 0 never. */
  idleMs: number;
}

/** Whether a request carries a form rather than the file itself. */
export function isForm(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

/** Writes the request body to `file`. On any failure the file is removed. */
export function receiveRaw(req: IncomingMessage, file: string, limits: ReceiveLimits): Promise<Received> {
  return new Promise((resolve) => {
    const sink = new FileSink(file, limits.maxBytes, resolve);
    watchIdle(req, limits.idleMs, () => sink.fail(408, `no bytes for ${limits.idleMs} ms`, true));
    // Over HTTP/2 a reset stream still ends its request's body: 'end' alone proves nothing.
    sink.follow(req, () => (bodyCut(req) ? CUT_SHORT : { ok: true, bytes: sink.bytes, filename: undefined, fields: {} }));
    // 'close' also follows a complete body: only an incomplete one was cut.
    req.once('close', () => {
      if (bodyCut(req)) sink.fail(400, CUT_SHORT.reason, true);
    });
  });
}

/** Writes the first file part of a multipart/form-data body to `file`; text fields come along. */
export function receiveForm(req: IncomingMessage, file: string, limits: ReceiveLimits): Promise<Received> {
  return new Promise((resolve) => {
    const fields: Record<string, string> = {};
    let filename: string | undefined;
    let sink: FileSink | undefined;
    let settled = false;
    const done = (r: Received): void => {
      if (settled) return;
      settled = true;
      req.unpipe(form);
      resolve(r);
    };
    const stop = (status: number, reason: string): void => {
      if (sink !== undefined) sink.fail(status, reason, true);
      else done({ ok: false, status, reason, cut: true });
    };
    let form: busboy.Busboy;
    try {
      form = busboy({ headers: req.headers, limits: { files: 1, fields: 16, fieldSize: 4096, parts: 32, fileSize: limits.maxBytes } });
    } catch (err) {
      return done({ ok: false, status: 400, reason: `bad form: ${err instanceof Error ? err.message : String(err)}`, cut: false });
    }
    form.on('field', (name, value) => {
      fields[name] = value;
    });
    form.on('file', (_name, stream, info) => {
      if (sink !== undefined) return void stream.resume();
      filename = info.filename;
      sink = new FileSink(file, limits.maxBytes, done);
      // busboy ends a cut part with an error on the part's stream: unheard, it would be thrown.
      stream.on('error', (err: Error) => stop(400, `bad form: ${err.message}`));
      stream.once('limit', () => sink!.fail(413, `the file is larger than the limit of ${limits.maxBytes} bytes`, true));
      // The form's end (not the part's) completes the upload: fields after the file count too.
      sink.follow(stream, undefined);
    });
    // 'on', not 'once': busboy may report more than one error for one body.
    form.on('error', (err: Error) => stop(400, `bad form: ${err.message}`));
    form.once('close', () => {
      if (sink === undefined) return done({ ok: false, status: 400, reason: "the form has no file part (send the video as a field of type 'file')", cut: false });
      sink.whenWritten(() => done({ ok: true, bytes: sink!.bytes, filename, fields }));
    });
    watchIdle(req, limits.idleMs, () => stop(408, `no bytes for ${limits.idleMs} ms`));
    req.once('close', () => {
      if (bodyCut(req)) stop(400, CUT_SHORT.reason);
    });
    req.pipe(form);
  });
}

/** Ends an upload that sends nothing for `ms`. */
function watchIdle(req: IncomingMessage, ms: number, onIdle: () => void): void {
  if (ms > 0) req.setTimeout(ms, onIdle);
}

/** One file being written from a readable, with a byte limit and one outcome. */
class FileSink {
  bytes = 0;
  private readonly out: WriteStream;
  private settled = false;
  private source: Readable | undefined;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly settle: (r: Received) => void,
  ) {
    this.out = createWriteStream(file, { flags: 'wx' });
    this.out.on('error', (err) => this.fail(507, `cannot store the upload: ${err.message}`, true));
  }

  /** Copies `source` into the file; `end` (if given) says what the upload is once all of it is written. */
  follow(source: Readable, end: (() => Received) | undefined): void {
    this.source = source;
    source.on('data', (piece: Buffer) => {
      if (this.settled) return;
      this.bytes += piece.byteLength;
      if (this.bytes > this.maxBytes) return this.fail(413, `the file is larger than the limit of ${this.maxBytes} bytes`, true);
      if (!this.out.write(piece)) {
        source.pause();
        this.out.once('drain', () => source.resume());
      }
    });
    source.once('end', () => {
      if (end !== undefined) this.whenWritten(() => this.finish(end()));
    });
  }

  /** Calls `then` once every byte taken is on disk. */
  whenWritten(then: () => void): void {
    if (this.settled) return;
    this.out.end(() => then());
  }

  fail(status: number, reason: string, cut: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.source?.removeAllListeners('data');
    // The file may still be opening: remove it now and again once the stream has closed.
    this.out.once('close', () => rmSync(this.file, { force: true }));
    this.out.destroy();
    rmSync(this.file, { force: true });
    this.settle({ ok: false, status, reason, cut });
  }

  private finish(r: Received): void {
    if (!r.ok) return this.fail(r.status, r.reason, r.cut);
    if (this.settled) return;
    this.settled = true;
    this.settle(r);
  }
}
