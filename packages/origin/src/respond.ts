// Small answers that are not object bodies: errors, 404s, empty successes.
import type { ServerResponse } from 'node:http';

/**
 * Ends `res` with a short text body. Errors and misses are never cacheable: a CDN must not keep
 * a 404 for a segment that appears a moment later. `close` asks Node to drop the connection
 * after the answer (used when a request body is refused mid-way).
 */
export function sendText(res: ServerResponse, status: number, text: string, headers?: Record<string, string>, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text.endsWith('\n') ? text : text + '\n');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.byteLength),
    'Cache-Control': 'no-store',
    ...(close ? { Connection: 'close' } : undefined),
    ...headers,
  });
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
