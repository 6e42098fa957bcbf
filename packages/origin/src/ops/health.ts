// Operational endpoints: GET /healthz for load balancers (503 once shutdown begins, so they
// stop sending players), GET /metrics in the Prometheus text format, and GET /streams (the
// stream model as JSON).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { sendBody, sendText } from '../http/respond.js';
import { renderMetrics } from './metrics.js';

const started = Date.now();

function readOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  sendText(res, 405, `method ${req.method} not allowed here`, { Allow: 'GET, HEAD, OPTIONS' });
  return false;
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
  sendBody(req, res, draining ? 503 : 200, 'application/json', body + '\n');
}

/** The Prometheus text exposition of every counter and gauge. */
export function answerMetrics(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  if (!readOnly(req, res)) return;
  const body = renderMetrics({ metrics: ctx.metrics, store: ctx.store, retention: ctx.retention, memory: ctx.memory, disk: ctx.disk, relays: ctx.relays?.stats() });
  sendBody(req, res, 200, 'text/plain; version=0.0.4; charset=utf-8', body);
}

/** The stream model as JSON: channels, renditions, live edge, last chunk time, ingest bitrate. */
export function answerStreams(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): void {
  if (!readOnly(req, res)) return;
  sendBody(req, res, 200, 'application/json', JSON.stringify({ channels: ctx.streams.status() }, null, 2) + '\n');
}
