// When a request is over for good, whichever way: its response closed, or its connection did.
// Node 20 emits 'close' only on the response that owns the socket. A response queued behind
// another one on a pipelined connection never gets one if the client goes away, and the
// request's own 'close' fires as soon as its body was read, so neither event alone will do.
// Every per-request cleanup (readers, held requests, upload counts, the access log) hangs off
// this one mechanism: the response's 'close', plus ONE 'close' listener per socket that settles
// every request still open on it. An HTTP/2 response is its own stream, whose 'close' always
// comes (the session's end closes every stream): no socket to watch there.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { http2Stream, isGone, isHttp2 } from './protocol.js';

// Kept on the response and the socket themselves, with listeners shared by every request: a
// WeakMap entry and a `once` wrapper per request cost more than the cleanups (profiled at 100
// GETs per 20 ms).
const LIFE = Symbol('boxstream.life');
const OPEN = Symbol('boxstream.open');
type WithLife = ServerResponse & { [LIFE]?: Life };
type WithOpen = Socket & { [OPEN]?: Set<Life> };

/** One request's cleanups, run once. */
class Life {
  private readonly fns: (() => void)[] = [];
  done = false;

  constructor(private readonly open: Set<Life> | undefined) {}

  add(fn: () => void): void {
    if (this.done) fn();
    else this.fns.push(fn);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.open?.delete(this);
    for (const fn of this.fns) fn();
    this.fns.length = 0;
  }
}

/** A response's 'close' listener, the same function for every response. */
function endOfResponse(this: WithLife): void {
  this[LIFE]?.end();
}

/** A socket's 'close' listener: settles every request still open on it. */
function settleAll(this: WithOpen): void {
  const open = this[OPEN];
  if (open === undefined) return;
  this[OPEN] = undefined;
  for (const life of [...open]) life.end();
}

/**
 * Runs `fn` once when the request is over: when `res` closes, or when the connection it came on
 * closes, even if `res` was still queued behind another response. Called at once when that
 * already happened. Callbacks run in the order they were added.
 */
export function whenDone(req: IncomingMessage, res: ServerResponse, fn: () => void): void {
  let life = (res as WithLife)[LIFE];
  if (life === undefined) {
    const h2 = isHttp2(req);
    const socket = h2 ? null : (req.socket as WithOpen | null);
    let open: Set<Life> | undefined;
    if (socket != null) {
      open = socket[OPEN];
      if (open === undefined) {
        open = socket[OPEN] = new Set();
        socket.once('close', settleAll);
      }
    }
    const made = new Life(open);
    life = made;
    (res as WithLife)[LIFE] = made;
    open?.add(made);
    res.on('close', endOfResponse);
    // HTTP/2: a HEAD cancelled before its answer ended never sees its response's 'close'.
    if (h2) http2Stream(res)?.once('close', () => made.end());
    // Already gone: its 'close' may have been emitted before we listened.
    if (isGone(req, res)) setImmediate(() => made.end());
  }
  life.add(fn);
}
