// Small answers that are not object bodies: errors, 404s, empty successes, and refusals of a
// request whose body is still coming (closed lingeringly, so the client reads the status).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { abortResponse, http2Stream, stopRequestBody } from './protocol.js';
import { countSent } from './tally.js';

/**
 * Ends `res` with a short text body. Errors and misses are never cacheable: a CDN must not keep
 * a 404 for a segment that appears a moment later.
 */
export function sendText(res: ServerResponse, status: number, text: string, headers?: Record<string, string>): void {
  if (res.headersSent) {
    abortResponse(res);
    return;
  }
  const body = Buffer.from(text.endsWith('\n') ? text : text + '\n');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.byteLength),
    'Cache-Control': 'no-store',
    ...headers,
  });
  countSent(res, body.byteLength);
  res.end(body);
}

/** 404 with `Cache-Control: no-store`. */
export function sendNotFound(res: ServerResponse, why = 'not found'): void {
  sendText(res, 404, why);
}

/** A success without a body (204, or 200/201 with an empty one). */
export function sendEmpty(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  res.writeHead(status, status === 204 ? { 'Cache-Control': 'no-store', ...headers } : { 'Cache-Control': 'no-store', 'Content-Length': '0', ...headers });
  res.end();
}

/** A small body of any type (JSON, Prometheus text, the time), counted for the access log. */
export function sendBody(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string, headers?: Record<string, string>): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.byteLength), 'Cache-Control': 'no-store', ...headers });
  if (req.method === 'HEAD') return void res.end();
  countSent(res, bytes.byteLength);
  res.end(bytes);
}

/** How long a refused request's body is still read (and dropped) after the answer. */
export const LINGER_MS = 5000;
/** How many bytes of a refused request's body are read (and dropped) at most after the answer. */
export const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Refuses a request whose body may still be coming (an upload refused for its auth, size,
 * type or a limit) and closes the connection afterwards, lingeringly.
 *
 * Closing at once while the client still sends makes the kernel answer its next bytes with a
 * reset, and a client that had not read the answer yet loses it: curl and ffmpeg then report
 * "connection reset" instead of 401 or 413. So the connection is half-closed after the answer
 * and the rest of the body is read and dropped until the client closes its side, the body ends,
 * or LINGER_MS / LINGER_BYTES run out; only then is the socket destroyed. Over HTTP/2 the same
 * is done to the stream alone (see dropBodyThenStop), and the session carries on.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers?: Record<string, string>, close = false): void {
  // HTTP/2: only this stream ends; the session goes on (and has no Connection header).
  const stream = http2Stream(res);
  if (stream !== undefined) {
    sendText(res, status, text, headers);
    // (A request without a body ended with its headers; `complete` waits for a read that never comes.)
    if (!stream.endAfterHeaders && !req.complete) dropBodyThenStop(req, stream);
    return;
  }
  // No body to come (a GET with a bad path, a PATCH): an ordinary answer, the connection stays
  // (unless `close`).
  if (!hasBody(req)) return sendText(res, status, text, close ? { ...headers, Connection: 'close' } : headers);
  sendText(res, status, text, { ...headers, Connection: 'close' });
  if (!req.complete) lingerAfterAnswer(req, req.socket);
}

/** Whether a request announces a body (chunked, or a non-zero Content-Length). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Connections closing lingeringly: what a client pipelined after the refused body is not run. */
const lingering = new WeakSet<Socket>();

/** True when `socket` is closing after a refusal: requests parsed from it are dropped, unanswered. */
export function isLingering(socket: Socket | null): boolean {
  return socket != null && lingering.has(socket);
}

function lingerAfterAnswer(req: IncomingMessage, socket: Socket | null): void {
  if (socket == null || socket.destroyed) return;
  lingering.add(socket);
  const own = socket.destroySoon;
  // Node calls destroySoon() once a `Connection: close` answer is out (it would destroy the
  // socket as soon as our FIN is written). Take that moment over for this socket.
  socket.destroySoon = () => {
    socket.destroySoon = own;
    if (socket.writable) socket.end();
    let dropped = 0;
    const stop = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(stop, LINGER_MS);
    socket.once('end', stop);
    socket.once('close', () => clearTimeout(timer));
    req.on('data', (piece: Buffer) => {
      dropped += piece.byteLength;
      if (dropped > LINGER_BYTES) stop();
    });
    // The whole body was read: nothing is left for the kernel to reset on.
    if (req.complete) return stop();
    req.once('end', stop);
    req.resume();
  };
}

/**
 * HTTP/2's linger: the rest of a refused body is read and dropped (flow control lets the client
 * send it quickly) until it ends, or LINGER_MS / LINGER_BYTES run out; then RST_STREAM NO_ERROR
 * asks the client to stop (RFC 9113, 8.1). Resetting at once is allowed too, but some clients
 * (Node's own) then never finish their request, and a peer that keeps sending on a reset stream
 * counts against its session's invalid frames.
 */
function dropBodyThenStop(req: IncomingMessage, stream: ServerHttp2Stream): void {
  let dropped = 0;
  const stop = (): void => {
    clearTimeout(timer);
    stopRequestBody(stream);
  };
  const timer = setTimeout(stop, LINGER_MS);
  req.once('end', () => clearTimeout(timer));
  stream.once('close', () => clearTimeout(timer));
  req.on('data', (piece: Buffer) => {
    dropped += piece.byteLength;
    if (dropped > LINGER_BYTES) stop();
  });
  req.resume();
}

/**
 * Responses whose request sent `Expect: 100-continue` and was handed over by the server's
 * 'checkContinue' event (see `server.ts`): Node has not sent `100 Continue` for them.
 */
const awaitingContinue = new WeakSet<ServerResponse>();

/** Marks `res` as owed a `100 Continue` should its request be accepted. */
export function expectContinue(res: ServerResponse): void {
  awaitingContinue.add(res);
}

/** Sends the `100 Continue` owed to `res`, if any: call once the request was accepted. */
export function sendContinue(res: ServerResponse): void {
  if (!awaitingContinue.delete(res) || res.headersSent || res.destroyed) return;
  res.writeContinue();
}
