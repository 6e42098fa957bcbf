// The node:http servers behind Origin.listen(): settings for long live uploads plus slowloris
// hardening, an optional separate ingest listener (private interface) beside the public egress
// one, TLS with HTTP/2 for players (HTTP/1.1 by ALPN on the same port), and graceful shutdown
// (stop accepting, let uploads finish, flush the disk, close).
import { createServer, type RequestListener, type Server, type ServerOptions } from 'node:http';
import { constants, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { OriginContext } from '../context.js';
import { insecureIngestWarning } from '../ingest/auth.js';
import type { ListenerRole } from '../options.js';
import { expectContinue, refuse } from './respond.js';

/** Where `listen()` binds the ingest listener, when ingest is split from egress. */
export interface ListenOptions {
  /**
   * Port of a separate ingest listener. When set, PUT/POST/DELETE are accepted only there and
   * the main listener refuses them with 405. Default: none (one listener takes everything).
   */
  ingestPort?: number;
  /** Address of the ingest listener. Default `'127.0.0.1'`. */
  ingestHost?: string;
  /**
   * Serve the main listener over TLS (https) with this certificate and key (PEM). The ingest
   * listener, when split, stays plain HTTP for encoders on a private network. Default: none.
   */
  tls?: TlsFiles;
  /**
   * With `tls`: offer HTTP/2 by ALPN (HTTP/1.1 stays for clients that do not ask for it, such
   * as ffmpeg). `false` serves HTTP/1.1 only. Default `true`.
   */
  http2?: boolean;
}

/** A certificate chain and its private key, PEM. */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

/** A listener's server: node:http, node:https, or node:http2's secure server (HTTP/2 + HTTP/1.1). */
export type AnyServer = Server | TlsServer | Http2SecureServer;

/** One bound listener. */
export interface BoundListener {
  server: AnyServer;
  host: string;
  /** The bound port (the chosen one when listening on port 0). */
  port: number;
  /** `http://host:port` (`https://` with TLS) */
  url: string;
}

/** A running origin server (see `Origin.listen`). */
export interface OriginServer extends BoundListener {
  /** The separate ingest listener, when `ingestPort` was given. */
  ingest: BoundListener | undefined;
  /**
   * Graceful shutdown: stops accepting connections (`/healthz` answers 503, new uploads 503),
   * lets uploads in flight finish for up to `graceMs` (default 1000), waits for queued disk
   * writes (bounded by `graceMs` again), then closes every remaining connection.
   */
  close(graceMs?: number): Promise<void>;
  /**
   * Swaps the TLS certificate and key for new connections (connections already open keep
   * theirs: no reader is dropped). Throws when the pair is unusable, keeping the old one.
   */
  reloadTls(tls: TlsFiles): void;
}

/** Each server's raw sockets, and its HTTP/2 sessions (see makeServer). */
const allSockets = new WeakMap<AnyServer, Set<Socket>>();
const allSessions = new WeakMap<AnyServer, Set<ServerHttp2Session>>();

/** Builds a handler for one listener role. */
export type HandlerFactory = (role: ListenerRole) => RequestListener;

/** How long an idle connection is kept: HTTP/1.1 keep-alive, and an HTTP/2 session without frames. */
const IDLE_CONNECTION_MS = 65_000;
/**
 * Streams one HTTP/2 session may have open at once (nginx's default too). A player needs a few
 * (a blocking playlist reload and a part per rendition); a tab of several players a few dozen.
 */
export const HTTP2_MAX_STREAMS = 128;

interface MakeOptions {
  tls?: TlsFiles;
  http2?: boolean;
}

function makeServer(ctx: OriginContext, handler: RequestListener, { tls, http2 = true }: MakeOptions = {}): AnyServer {
  const options: ServerOptions = {
    // A live upload or read lasts as long as the stream: no whole-request deadline. Stalled
    // upload bodies are cut by ingestIdleMs instead.
    requestTimeout: 0,
    // Slowloris: a request head must arrive whole within this time, and within this size.
    headersTimeout: ctx.headersTimeoutMs,
    maxHeaderSize: ctx.maxHeaderBytes,
    // headersTimeout is enforced by a sweep over connections; 1 s keeps it close to its value.
    connectionsCheckingInterval: Math.floor(Math.min(1000, Math.max(100, ctx.headersTimeoutMs / 2))),
    // Encoders with long segments keep their persistent connection idle between uploads.
    keepAliveTimeout: IDLE_CONNECTION_MS,
    noDelay: true,
  };
  // The TLS handshake gets the time a request head gets (Node's default would be 120 s).
  const handshakeTimeout = ctx.headersTimeoutMs > 0 ? ctx.headersTimeoutMs : undefined;
  let server: AnyServer;
  if (tls === undefined) server = createServer(options, handler);
  else if (!http2) server = createTlsServer({ ...options, cert: tls.cert, key: tls.key, handshakeTimeout }, handler);
  else server = makeHttp2Server(ctx, handler, options, tls, handshakeTimeout);
  // Every accepted socket, handshake done or not: shutdown cuts what the HTTP layer does not
  // know of yet (a TLS handshake in progress, or one finished after the last sweep).
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  allSockets.set(server, sockets);
  // An accept error (out of file descriptors) must not end the process.
  server.on('error', (err: Error) => ctx.warn(`listener error: ${err.message}`));
  // `Expect: 100-continue`: the handler sends `100 Continue` only once size, auth and limits
  // passed (ingest), so a refused client never starts sending its body.
  server.on('checkContinue', (req, res) => {
    expectContinue(res);
    handler(req, res);
  });
  // Any other expectation: 417, with CORS like every other answer.
  server.on('checkExpectation', (req, res) => {
    const cors = ctx.cors.headers(req.headers.origin);
    for (const name in cors) res.setHeader(name, cors[name]);
    // Node closes after its own 417; so do we (a body may follow the unexpected expectation).
    refuse(req, res, 417, `expectation '${req.headers.expect}' is not supported`, undefined, true);
  });
  // Requests Node refuses before any handler runs (bad framing, CL+TE, head too large or too
  // slow): the same answers Node would write, plus CORS so a browser player can read them.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(ctx, err, socket));
  return server;
}

/**
 * HTTP/2 by ALPN with HTTP/1.1 beside it on the same port, running the same handler: node:http2's
 * compatibility API hands each HTTP/2 stream over as a request and a response shaped like
 * node:http's, so every route, cursor and limit applies unchanged (see protocol.ts for the few
 * places where a stream is not a connection).
 */
function makeHttp2Server(ctx: OriginContext, handler: RequestListener, options: ServerOptions, tls: TlsFiles, handshakeTimeout: number | undefined): Http2SecureServer {
  const listener = handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  const server = createSecureServer(
    {
      allowHTTP1: true,
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout,
      noDelay: true,
      settings: { maxConcurrentStreams: HTTP2_MAX_STREAMS, maxHeaderListSize: ctx.maxHeaderBytes },
    },
    listener,
  );
  // HTTP/1.1 connections on this server are served by node:http's connection handling, which
  // reads its settings from these properties (Node's own defaults here would cut any request
  // after 5 minutes: a live upload or read lasts as long as the stream).
  const http1 = server as unknown as Record<string, unknown>;
  for (const name of ['requestTimeout', 'headersTimeout', 'maxHeaderSize', 'connectionsCheckingInterval', 'keepAliveTimeout'] as const) http1[name] = options[name];
  const sessions = new Set<ServerHttp2Session>();
  allSessions.set(server, sessions);
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // An idle session is closed gracefully (GOAWAY): a stream still open finishes first.
    session.setTimeout(IDLE_CONNECTION_MS, () => session.close());
    // A session broken by its peer just ends; its streams are settled by their own 'close'.
    session.on('error', () => {});
  });
  return server;
}

/** Status lines for the parser errors Node answers itself; anything else is a 400. */
const CLIENT_ERROR_STATUS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

function answerClientError(ctx: OriginContext, err: NodeJS.ErrnoException, socket: Socket): void {
  // Write only on a connection nothing was sent on yet (Node's own rule): a response already
  // under way on it would be corrupted by a second status line.
  const handshaking = (socket as Socket & { encrypted?: boolean; secureConnecting?: boolean }).secureConnecting === true;
  if (err.code !== 'ECONNRESET' && !handshaking && socket.writable && socket.bytesWritten === 0) {
    let head = `HTTP/1.1 ${CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Length: 0\r\n`;
    // The request's Origin is unknown here (its head did not parse), so a listed-origins policy adds nothing.
    const cors = ctx.cors.headers(undefined);
    for (const name in cors) head += `${name}: ${cors[name]}\r\n`;
    try {
      socket.write(head + '\r\n');
    } catch {
      // The socket broke under us: destroying it below is all that is left to do.
    }
  }
  socket.destroy(err);
}

function bind(server: AnyServer, port: number, host: string, scheme = 'http'): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({ server, host: address.address, port: address.port, url: `${scheme}://${shownHost}:${address.port}` });
    });
  });
}

/** Starts the egress (or combined) listener and, when asked, the ingest one. */
export async function listenOrigin(ctx: OriginContext, handlerFor: HandlerFactory, port: number, host: string, options: ListenOptions = {}): Promise<OriginServer> {
  const split = options.ingestPort !== undefined;
  const tls = options.tls;
  const main = await bind(makeServer(ctx, handlerFor(split ? 'egress' : 'all'), { tls, http2: options.http2 }), port, host, tls === undefined ? 'http' : 'https');
  let ingest: BoundListener | undefined;
  if (split) {
    try {
      ingest = await bind(makeServer(ctx, handlerFor('ingest')), options.ingestPort as number, options.ingestHost ?? '127.0.0.1');
    } catch (err) {
      main.server.close();
      throw err;
    }
  }
  const warning = insecureIngestWarning((ingest ?? main).host, ctx.auth !== undefined);
  if (warning !== undefined) ctx.warn(warning);
  const servers = ingest === undefined ? [main.server] : [main.server, ingest.server];
  const reloadTls = (files: TlsFiles): void => {
    if (tls === undefined) throw new Error('this origin listens without TLS: start it with a certificate to reload one');
    (main.server as TlsServer).setSecureContext({ cert: files.cert, key: files.key });
  };
  return { ...main, ingest, close: (graceMs = 1000) => shutdown(ctx, servers, graceMs), reloadTls };
}

const delay = (ms: number): { promise: Promise<void>; cancel: () => void } => {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
};

async function shutdown(ctx: OriginContext, servers: AnyServer[], graceMs: number): Promise<void> {
  ctx.lifecycle.draining = true;
  // Work of our own that feeds the listeners (VOD transcodes) stops first.
  for (const stop of ctx.lifecycle.onDrain) stop();
  const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
  for (const s of servers) {
    // HTTP/1.1: idle keep-alive connections close now. HTTP/2: GOAWAY, so clients open no new
    // streams here, while the ones under way go on until the cut below.
    if ('closeIdleConnections' in s) s.closeIdleConnections();
    for (const session of allSessions.get(s) ?? []) session.close();
  }
  const uploads = delay(graceMs);
  await Promise.race([ctx.metrics.uploadsDone(), uploads.promise]);
  uploads.cancel();
  // Queued disk writes and relays get their own grace, side by side.
  const flushes = [ctx.disk?.flush(), ctx.relays?.flushed()].filter((p) => p !== undefined);
  if (flushes.length > 0) {
    const flush = delay(Math.max(graceMs, 1000));
    await Promise.race([Promise.all(flushes), flush.promise]);
    flush.cancel();
  }
  // Nothing new will arrive: relays stop retrying what is left (counted as it is).
  ctx.relays?.close();
  // Whatever is still connected now (readers, held requests, uploads past the grace) is cut,
  // and sockets the HTTP layer does not track (a TLS handshake under way) with them.
  for (const s of servers) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    // With an error code: a reader still open sees a failed stream, never a body that ended.
    for (const session of allSessions.get(s) ?? []) session.destroy(new Error('the origin shut down'), constants.NGHTTP2_INTERNAL_ERROR);
    for (const socket of allSockets.get(s) ?? []) socket.destroy();
  }
  await Promise.all(closed);
}
