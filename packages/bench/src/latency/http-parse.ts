// A minimal incremental HTTP/1.1 response parser for the bench's raw sockets: status line,
// headers, then a body framed by Transfer-Encoding: chunked, Content-Length, or the connection's
// close. It hands out body bytes as views of the received pieces (no copies), so a reader can
// compare and count them at socket speed. It is not a general HTTP client: it trusts the server
// enough to not guard against hostile framing beyond bounded header and size-line lengths.

/**
 * What the parser tells its owner. Body views are views of the pieces pushed: valid as long as
 * the caller does not reuse a piece's memory (a socket's 'data' pieces are never reused; a
 * reader with its own read buffer must copy what it keeps).
 */
export interface ResponseHandlers {
  head(status: number): void;
  body(data: Buffer): void;
  /** The response ended (last chunk, Content-Length reached, or close for close-delimited bodies). */
  complete(): void;
}

export class HttpParseError extends Error {}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 1024;

type State = 'head' | 'size' | 'data' | 'data-crlf' | 'trailer' | 'length' | 'until-close' | 'idle';

const CR = 13;
const LF = 10;

export class ResponseParser {
  private state: State = 'head';
  /** Bytes of an unfinished head or line, across pieces. */
  private pending: Buffer | null = null;
  /** Bytes left in the current chunk or Content-Length body. */
  private remaining = 0;
  /** Bytes of the chunk-data CRLF still to skip. */
  private crlfLeft = 0;
  /** True for a HEAD request: a response with headers only. */
  expectNoBody = false;

  constructor(private readonly on: ResponseHandlers) {}

  /** True between responses: nothing of a new one has arrived yet. */
  get idle(): boolean {
    return (this.state === 'head' && this.pending === null) || this.state === 'idle';
  }

  /** True when the current body runs until the connection closes. */
  get closeDelimited(): boolean {
    return this.state === 'until-close';
  }

  /** Prepares for the next response on the same connection. */
  reset(): void {
    this.state = 'head';
    this.pending = null;
    this.remaining = 0;
    this.crlfLeft = 0;
  }

  /** Call when the connection closed: completes a close-delimited body; true if that was fine. */
  close(): boolean {
    if (this.state === 'until-close') {
      this.state = 'idle';
      this.on.complete();
      return true;
    }
    return this.idle;
  }

  push(piece: Buffer): void {
    let at = 0;
    const end = piece.length;
    while (at < end) {
      switch (this.state) {
        case 'idle':
          // Bytes after a complete response that nobody asked for yet: keep them for the next one.
          this.state = 'head';
          break;
        case 'head': {
          const buf = this.pending === null ? piece.subarray(at) : Buffer.concat([this.pending, piece.subarray(at)]);
          const stop = buf.indexOf('\r\n\r\n');
          if (stop < 0) {
            if (buf.length > MAX_HEAD_BYTES) throw new HttpParseError('response head too large');
            this.pending = Buffer.from(buf); // own copy: the piece may be reused by the caller
            return;
          }
          const consumedFromPiece = stop + 4 - (this.pending?.length ?? 0);
          this.pending = null;
          at += consumedFromPiece;
          this.parseHead(buf.toString('latin1', 0, stop));
          break;
        }
        case 'size': {
          const lf = piece.indexOf(LF, at);
          if (lf < 0) {
            this.keepLine(piece.subarray(at));
            return;
          }
          const lineBuf = this.pending === null ? piece.subarray(at, lf) : Buffer.concat([this.pending, piece.subarray(at, lf)]);
          this.pending = null;
          at = lf + 1;
          let line = lineBuf.toString('latin1');
          if (line.endsWith('\r')) line = line.slice(0, -1);
          const semi = line.indexOf(';'); // chunk extensions are ignored
          const size = Number.parseInt(semi >= 0 ? line.slice(0, semi) : line, 16);
          if (!Number.isFinite(size) || size < 0) throw new HttpParseError(`bad chunk size line '${line}'`);
          if (size === 0) {
            this.state = 'trailer';
          } else {
            this.remaining = size;
            this.state = 'data';
          }
          break;
        }
        case 'data':
        case 'length': {
          const take = Math.min(this.remaining, end - at);
          const view = piece.subarray(at, at + take);
          at += take;
          this.remaining -= take;
          this.on.body(view);
          if (this.remaining === 0) {
            if (this.state === 'data') {
              this.state = 'data-crlf';
              this.crlfLeft = 2;
            } else {
              this.finish();
            }
          }
          break;
        }
        case 'data-crlf': {
          const byte = piece[at++];
          if ((this.crlfLeft === 2 && byte !== CR && byte !== LF) || (this.crlfLeft === 1 && byte !== LF)) {
            throw new HttpParseError('chunk data not followed by CRLF');
          }
          this.crlfLeft = byte === LF ? 0 : 1;
          if (this.crlfLeft === 0) this.state = 'size';
          break;
        }
        case 'trailer': {
          // Trailer fields, then an empty line. Only the empty line matters here.
          const lf = piece.indexOf(LF, at);
          if (lf < 0) {
            this.keepLine(piece.subarray(at));
            return;
          }
          const lineLength = (this.pending?.length ?? 0) + (lf - at);
          const lastByte = lf > at ? piece[lf - 1] : this.pending?.[this.pending.length - 1];
          this.pending = null;
          at = lf + 1;
          if (lineLength === 0 || (lineLength === 1 && lastByte === CR)) this.finish();
          break;
        }
        case 'until-close':
          this.on.body(piece.subarray(at));
          return;
      }
    }
  }

  private keepLine(part: Buffer): void {
    const joined = this.pending === null ? Buffer.from(part) : Buffer.concat([this.pending, part]);
    if (joined.length > MAX_LINE_BYTES) throw new HttpParseError('chunk size or trailer line too long');
    this.pending = joined;
  }

  private finish(): void {
    this.state = 'idle';
    this.on.complete();
  }

  private parseHead(text: string): void {
    const firstEnd = text.indexOf('\r\n');
    const statusLine = firstEnd < 0 ? text : text.slice(0, firstEnd);
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (match === null) throw new HttpParseError(`bad status line '${statusLine.slice(0, 80)}'`);
    const status = Number(match[1]);
    // Only the two fields that frame the body matter; a reader parses thousands of heads a
    // second, so no map of every field.
    let transferEncoding = '';
    let length: string | undefined;
    let at = firstEnd < 0 ? text.length : firstEnd + 2;
    while (at < text.length) {
      let end = text.indexOf('\r\n', at);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', at);
      if (colon > at && colon < end) {
        const nameLength = colon - at;
        if (nameLength >= 14) {
          const name = text.slice(at, colon).trim().toLowerCase();
          const value = text.slice(colon + 1, end).trim();
          if (name === 'transfer-encoding') transferEncoding = transferEncoding === '' ? value : `${transferEncoding}, ${value}`;
          else if (name === 'content-length') {
            if (length !== undefined && length !== value) throw new HttpParseError(`conflicting Content-Length '${length}' and '${value}'`);
            length = value;
          }
        }
      }
      at = end + 2;
    }
    if (status >= 100 && status < 200) {
      // 100 Continue and friends: a head with no body, then the real response.
      this.state = 'head';
      return;
    }
    this.on.head(status);
    const chunked = /(^|,)\s*chunked\s*$/i.test(transferEncoding);
    if (this.expectNoBody || status === 204 || status === 304) {
      this.finish();
    } else if (chunked) {
      this.state = 'size';
    } else if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0) throw new HttpParseError(`bad Content-Length '${length}'`);
      this.remaining = n;
      this.state = 'length';
      if (n === 0) this.finish();
    } else {
      this.state = 'until-close';
    }
  }
}
