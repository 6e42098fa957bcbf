// Operational endpoints: GET /healthz for load balancers (503 once shutdown begins, so they
// stop sending players) and GET /metrics in the Prometheus text format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderMetrics } from './metrics.js';
import type { OriginContext } from './options.js';
import { sendText } from './respond.js';

const started = Date.now();

function readOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  sendText(res, 405, `method ${req.method} not allowed here`, { Allow: 'GET, HEAD, OPTIONS' });
  return false;
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.byteLength), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** `200 {"status":"ok",...}`, or `503 {"status":"draining"}` during shutdown. */
export function answerHealth(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  if (!readOnly(req, res)) return;
  const st = ctx.store.stats();
  const draining = ctx.lifecycle.draining;
  const body = JSON.stringify({
    status: draining ? 'draining' : 'ok',
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    objects: st.objects,
    bytes: st.bytes,
    uploads: ctx.metrics.uploadsInProgress,
    readers: st.readers,
  });
  answer(req, res, draining ? 503 : 200, 'application/json', body + '\n');
}

/** The Prometheus text exposition of every counter and gauge. */
export function answerMetrics(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  if (!readOnly(req, res)) return;
  const body = renderMetrics({ metrics: ctx.metrics, store: ctx.store, retention: ctx.retention, disk: ctx.disk });
  answer(req, res, 200, 'text/plain; version=0.0.4; charset=utf-8', body);
}
