// Pushes objects to another origin: one chunked PUT per object over persistent connections,
// fed by a cursor as the object is written here, so the receiving origin publishes each chunk
// as it would from the encoder. Complete objects (manifests, anything relayed late) go with a
// Content-Length. DELETEs are mirrored.
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ObjectCursor } from '../store/cursor.js';
import type { StoredObject } from '../store/object.js';
import { loopHeader } from './loop.js';
import type { RelayTargetSettings } from './options.js';
import type { Outcome, Sender } from './target.js';

/**
 * Statuses worth another attempt: the target is busy, restarting, out of room or timed out. Not
 * a refusal (4xx), a loop (508) or what it does not implement (501, 505).
 */
export function retryable(status: number): boolean {
  return status === 408 || status === 429 || status === 500 || status === 502 || status === 503 || status === 504 || status === 507;
}

/** `base` path + `key`, each segment percent-encoded (keys are decoded paths). */
export function targetPath(base: string, key: string): string {
  const prefix = base.replace(/\/+$/, '');
  return prefix + key.split('/').map(encodeURIComponent).join('/');
}

/** Writes a request's body; `fail` ends the attempt early. */
export type BodyWriter = (req: ClientRequest, fail: (reason: string, retry: boolean, skipped?: boolean) => void) => { bytes(): number; cancel(): void };

/** Ends a request without a body. */
export const noBody: BodyWriter = (req) => (req.end(), { bytes: () => 0, cancel: () => undefined });

/**
 * One HTTP request whose outcome is reported once: on a response (2xx ok, once the whole body
 * was sent), an error, a timeout with no progress, or a cancel.
 */
export function exchange(
  send: (options: RequestOptions) => ClientRequest,
  options: RequestOptions,
  timeoutMs: number,
  body: BodyWriter,
  done: (outcome: Outcome) => void,
  accept: (status: number) => boolean = (s) => s >= 200 && s < 300,
): () => void {
  let finished = false;
  let writer: { bytes(): number; cancel(): void } | undefined;
  const finish = (outcome: Outcome): void => {
    if (finished) return;
    finished = true;
    writer?.cancel();
    // Reported after the current call stack, never from inside `put()` or a cursor's write.
    queueMicrotask(() => done(outcome));
  };
  const fail = (reason: string, retry: boolean, skipped = false, answered = false): void => {
    if (finished) return;
    req.destroy();
    finish({ ok: false, retry, reason, skipped, answered });
  };
  const req = send(options);
  // Each chunk goes out as it is written, never held back to be coalesced with the next (Nagle).
  req.on('socket', (socket) => socket.setNoDelay(true));
  req.setTimeout(timeoutMs, () => fail(`no progress for ${timeoutMs} ms`, true));
  req.on('error', (err) => fail(err.message, true));
  req.on('response', (res: IncomingMessage) => {
    const status = res.statusCode ?? 0;
    // Read the (small) answer to its end so the connection goes back to the pool.
    res.resume();
    if (!accept(status)) return fail(`HTTP ${status} ${res.statusMessage ?? ''}`.trim(), retryable(status), false, true);
    res.on('end', () => {
      // Accepted before it had the whole body: it did not get the object (and the request must not linger).
      if (!req.writableEnded) return fail(`HTTP ${status} before the whole body was sent`, false, false, true);
      finish({ ok: true, bytes: writer?.bytes() ?? 0 });
    });
    res.on('error', (err) => fail(err.message, true));
  });
  writer = body(req, fail);
  // The body may have failed while being set up (a source that was already aborted).
  if (finished) writer.cancel();
  return () => fail('cancelled', false, true);
}

/** A `Sender` for targets that speak the origin's own ingest: chunked PUT and DELETE. */
export class OriginSender implements Sender {
  readonly when = 'create';
  private readonly agent: HttpAgent;
  private readonly send: (options: RequestOptions) => ClientRequest;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly target: RelayTargetSettings,
    private readonly loopToken: string,
  ) {
    const https = target.url.protocol === 'https:';
    // Persistent connections: a live stream PUTs a few objects per second per rendition.
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.send = https ? httpsRequest : httpRequest;
    this.headers = {};
    if (target.secret !== undefined) this.headers.authorization = `Bearer ${target.secret}`;
    else if (target.url.username !== '') {
      const user = decodeURIComponent(target.url.username);
      const password = decodeURIComponent(target.url.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
  }

  private options(method: string, key: string, headers: Record<string, string | number>): RequestOptions {
    const url = this.target.url;
    return {
      method,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: targetPath(url.pathname, key),
      agent: this.agent,
      headers: { ...this.headers, ...headers },
    };
  }

  put(key: string, object: StoredObject, done: (outcome: Outcome) => void): () => void {
    // Whole already: say how long (the target can refuse by size before the body); else chunked.
    const headers: Record<string, string | number> = { 'content-type': object.contentType, 'cdn-loop': loopHeader(object.via, this.loopToken) };
    if (object.state === 'complete') headers['content-length'] = object.length;
    return exchange(this.send, this.options('PUT', key, headers), this.target.timeoutMs, (req, fail) => streamBody(req, object, fail), done);
  }

  delete(key: string, via: string | undefined, done: (outcome: Outcome) => void): () => void {
    // Already gone there (never arrived, or removed by its own TTL) is as good as removed.
    const headers = { 'cdn-loop': loopHeader(via, this.loopToken) };
    return exchange(this.send, this.options('DELETE', key, headers), this.target.timeoutMs, noBody, done, (s) => (s >= 200 && s < 300) || s === 404);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Writes `object` to `req` through a cursor: each unit as it is published, with backpressure. */
export function streamBody(req: ClientRequest, object: StoredObject, fail: (reason: string, retry: boolean, skipped?: boolean) => void): { bytes(): number; cancel(): void } {
  let bytes = 0;
  const cursor = new ObjectCursor(object, {
    write: (unit) => {
      bytes += unit.byteLength;
      return req.write(unit);
    },
    end: () => void req.end(),
    // The upload here failed: cut the request so the target aborts its copy too. Nothing to retry.
    abort: (reason) => fail(`source upload ended early: ${reason}`, false, true),
  });
  req.on('drain', () => cursor.resume());
  cursor.start();
  return { bytes: () => bytes, cancel: () => cursor.close() };
}
