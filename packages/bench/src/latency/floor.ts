// The FLOOR: the least a relay can do and still serve the bench's load, so every figure of a
// real origin can be read as a ratio to it. node:http, no parsing, one write() per received
// upload piece to every open response for the same path. It keeps an upload's pieces only so a
// reader joining late (catch-up) can be sent what it missed, and a finished object so a late GET
// still gets it; held GETs (those that arrive before their upload) are registered and started
// when the upload's request head arrives. Same server settings as the origin (no request
// timeout, long keep-alive, no Nagle), so the comparison is of the relaying alone.
//
// Run as a child process: node floor.mjs --port 0 --host 127.0.0.1   (prints "listening on URL").
// It only imports node built-ins, so the bench can run it from a plain transpiled .mjs without
// a TypeScript loader in the process (tsx alone would add ~45 MB of RSS and an esbuild child).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface Entry {
  pieces: Buffer[];
  readers: Set<ServerResponse>;
  complete: boolean;
}

const HOLD_MS = 10_000;

export function createFloorServer(): Server {
  const entries = new Map<string, Entry>();
  const held = new Map<string, Set<ServerResponse>>();

  const startBody = (res: ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': 'video/iso.segment', 'Cache-Control': 'no-store' });
  };

  const upload = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const entry: Entry = { pieces: [], readers: held.get(path) ?? new Set(), complete: false };
    held.delete(path);
    const replaced = entries.has(path);
    entries.set(path, entry);
    for (const r of entry.readers) startBody(r);
    req.on('data', (piece: Buffer) => {
      entry.pieces.push(piece);
      for (const r of entry.readers) r.write(piece);
    });
    req.on('end', () => {
      entry.complete = true;
      for (const r of entry.readers) r.end();
      entry.readers.clear();
      res.writeHead(replaced ? 204 : 201, { 'Content-Length': '0' });
      res.end();
    });
    req.on('close', () => {
      if (entry.complete) return;
      for (const r of entry.readers) r.destroy(); // an aborted upload: cut the readers off
      entries.delete(path);
    });
  };

  const read = (res: ServerResponse, path: string): void => {
    const entry = entries.get(path);
    if (entry === undefined) {
      let set = held.get(path);
      if (set === undefined) held.set(path, (set = new Set()));
      const waiting = set;
      waiting.add(res);
      const timer = setTimeout(() => {
        if (!waiting.delete(res)) return;
        res.writeHead(404, { 'Content-Length': '0', 'Cache-Control': 'no-store' });
        res.end();
      }, HOLD_MS);
      res.on('close', () => {
        clearTimeout(timer);
        waiting.delete(res);
      });
      return;
    }
    if (entry.complete) {
      const body = Buffer.concat(entry.pieces);
      res.writeHead(200, { 'Content-Type': 'video/iso.segment', 'Content-Length': String(body.length) });
      res.end(body);
      return;
    }
    startBody(res);
    for (const piece of entry.pieces) res.write(piece);
    entry.readers.add(res);
    res.on('close', () => entry.readers.delete(res));
  };

  return createServer({ requestTimeout: 0, keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    switch (req.method) {
      case 'PUT':
      case 'POST':
        return upload(req, res, path);
      case 'GET':
        return read(res, path);
      case 'DELETE': {
        const found = entries.delete(path);
        res.writeHead(found ? 200 : 404, { 'Content-Length': '0' });
        return res.end();
      }
      default:
        res.writeHead(405, { 'Content-Length': '0' });
        res.end();
    }
  });
}

function main(): void {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
  const server = createFloorServer();
  server.listen(Number(values.port ?? 0), values.host ?? '127.0.0.1', () => {
    const a = server.address() as AddressInfo;
    process.stdout.write(`listening on http://${a.address}:${a.port}\n`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
