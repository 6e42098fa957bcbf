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

/** One request's cleanups, run once. */
class Life {
  private readonly fns: (() => void)[] = [];
  done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly open: Set<Life> | undefined,
  ) {
    res.once('close', this.end);
  }

  add(fn: () => void): void {
    if (this.done) fn();
    else this.fns.push(fn);
  }

  readonly end = (): void => {
    if (this.done) return;
    this.done = true;
    this.res.removeListener('close', this.end);
    this.open?.delete(this);
    for (const fn of this.fns) fn();
    this.fns.length = 0;
  };
}

const lives = new WeakMap<ServerResponse, Life>();
const openBySocket = new WeakMap<Socket, Set<Life>>();

function settleAll(this: Socket): void {
  const open = openBySocket.get(this);
  if (open === undefined) return;
  openBySocket.delete(this);
  for (const life of [...open]) life.end();
}

/**
 * Runs `fn` once when the request is over: when `res` closes, or when the connection it came on
 * closes, even if `res` was still queued behind another response. Called at once when that
 * already happened. Callbacks run in the order they were added.
 */
export function whenDone(req: IncomingMessage, res: ServerResponse, fn: () => void): void {
  let life = lives.get(res);
  if (life === undefined) {
    const socket = isHttp2(req) ? null : (req.socket as Socket | null);
    let open: Set<Life> | undefined;
    if (socket != null) {
      open = openBySocket.get(socket);
      if (open === undefined) {
        open = new Set();
        openBySocket.set(socket, open);
        socket.once('close', settleAll);
      }
    }
    life = new Life(res, open);
    open?.add(life);
    // HTTP/2: a HEAD cancelled before its answer ended never sees its response's 'close'.
    http2Stream(res)?.once('close', life.end);
    lives.set(res, life);
    // Already gone: its 'close' may have been emitted before we listened.
    if (isGone(req, res)) setImmediate(life.end);
  }
  life.add(fn);
}
