// HTTP/1.1 and HTTP/2 requests reach the same handler: node:http2's compatibility API gives an
// HTTP/2 stream the req/res shape of node:http. What differs is what "close" means. Over
// HTTP/1.1 a response that must end badly (a cut body, a refused upload) ends its connection;
// over HTTP/2 it resets its own stream (RST_STREAM) and the session goes on carrying every other
// player's requests. This file is the one place that knows which is which.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse, constants, type ServerHttp2Stream } from 'node:http2';

const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = constants;
const EMPTY = Buffer.alloc(0);

/** The HTTP/2 stream behind `res`, or undefined for an HTTP/1.x response. */
export function http2Stream(res: ServerResponse): ServerHttp2Stream | undefined {
  return (res as unknown) instanceof Http2ServerResponse ? (res as unknown as Http2ServerResponse).stream : undefined;
}

/**
 * True for a request that came over HTTP/2. By its class, not its version: Node's HTTP/1 parser
 * accepts a request line of `HTTP/2.0` and reports major version 2 (such a request is refused
 * with 505, see origin.ts).
 */
export function isHttp2(req: IncomingMessage): boolean {
  return (req as unknown) instanceof Http2ServerRequest;
}

/** True once the exchange behind `res` can carry nothing more (its stream or its socket is gone). */
export function isGone(req: IncomingMessage, res: ServerResponse): boolean {
  const stream = http2Stream(res);
  if (stream !== undefined) return stream.closed || stream.destroyed;
  const socket = req.socket as IncomingMessage['socket'] | null;
  return socket == null || socket.destroyed;
}

/**
 * Resets the HTTP/2 stream of a response whose body must not look complete (its object was cut):
 * what was written before reaches the client first, then RST_STREAM INTERNAL_ERROR, so the player
 * sees a failed request, never a short body ending cleanly. A client that takes none of what is
 * left for `stallMs` is reset at once (`0`: never).
 */
export function resetAfterFlush(stream: ServerHttp2Stream, stallMs: number): void {
  if (stream.closed || stream.destroyed) return;
  let watch: NodeJS.Timeout | undefined;
  const reset = (): void => {
    clearInterval(watch);
    if (!stream.closed) stream.close(NGHTTP2_INTERNAL_ERROR);
  };
  // The callback of an empty write runs once every earlier write left the stream's buffer.
  stream.write(EMPTY, reset);
  if (stallMs <= 0) return;
  // Our own clock: Node's stream timeout is restarted by any traffic of the session.
  let left = stream.writableLength;
  watch = setInterval(() => {
    if (stream.writableLength >= left) reset();
    else left = stream.writableLength;
  }, stallMs);
  stream.once('close', () => clearInterval(watch));
}

/**
 * Ends an HTTP/2 exchange whose request body is still coming (an upload refused or cut): once the
 * answer is out, RST_STREAM NO_ERROR tells the client to stop sending (RFC 9113, 8.1) and leaves
 * the session to the other streams. Over HTTP/1.1 the connection is closed instead (see respond.ts).
 */
export function stopRequestBody(stream: ServerHttp2Stream): void {
  // close() with NO_ERROR waits for the answer to finish before it resets.
  if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_NO_ERROR);
}

/**
 * Ends a response that broke under way, at once: its socket is destroyed (HTTP/1.1) or its stream
 * reset with INTERNAL_ERROR (HTTP/2; a plain destroy would reset with NO_ERROR, which a client
 * may take for a body that ended).
 */
export function abortResponse(res: ServerResponse): void {
  const stream = http2Stream(res);
  if (stream === undefined) return void res.destroy();
  if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
}

/**
 * Drops what is left of an exchange whose request body will not be read (a stalled upload, after
 * its answer): its connection (HTTP/1.1) or its stream (HTTP/2), once the answer is out, within 1 s.
 */
export function dropAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  const stream = http2Stream(res);
  if (stream !== undefined) return stopRequestBody(stream);
  const socket = req.socket;
  if (res.writableFinished) socket.destroy();
  else res.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * True when a request's body did not arrive whole: its connection closed mid-body (HTTP/1.1),
 * or its client reset the stream or lost its session (HTTP/2, where the request reads as
 * complete once its stream closed, whatever the reason). Call once the request closed.
 */
export function bodyCut(req: IncomingMessage): boolean {
  if (!isHttp2(req)) return !req.complete;
  const h2 = req as unknown as Http2ServerRequest;
  const code = h2.stream.rstCode;
  return h2.aborted || (code !== undefined && code !== NGHTTP2_NO_ERROR);
}

/**
 * True when a response went out whole: finished, and over HTTP/2 not reset with an error code
 * by either side (a client that cancels leaves the response looking finished).
 */
export function sentWhole(res: ServerResponse): boolean {
  if (!res.writableFinished) return false;
  const code = http2Stream(res)?.rstCode;
  return code === undefined || code === NGHTTP2_NO_ERROR;
}
