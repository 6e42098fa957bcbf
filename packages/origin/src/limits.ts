// Admission: limits that refuse a request up front with 503 and Retry-After, so a crowd of
// players or a runaway encoder costs a short answer instead of memory.
import type { ServerResponse } from 'node:http';
import type { LimitName } from './metrics.js';
import type { OriginContext } from './options.js';
import { sendText } from './respond.js';

/** Seconds a refused client is asked to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

function refuse(ctx: OriginContext, res: ServerResponse, limit: LimitName, text: string, close: boolean): false {
  ctx.metrics.rejected[limit]++;
  sendText(res, 503, text, { 'Retry-After': String(RETRY_AFTER_SECONDS) }, close);
  return false;
}

/**
 * Whether an upload may start: not while shutting down, not beyond `maxUploads`, and not when
 * memory is full of objects still being written (complete ones are evicted to make room first).
 */
export function admitUpload(ctx: OriginContext, res: ServerResponse): boolean {
  if (ctx.lifecycle.draining) {
    sendText(res, 503, 'shutting down', { 'Retry-After': String(RETRY_AFTER_SECONDS) }, true);
    return false;
  }
  if (ctx.metrics.uploadsInProgress >= ctx.maxUploads) {
    return refuse(ctx, res, 'uploads', `too many uploads in progress (limit ${ctx.maxUploads})`, true);
  }
  if (!ctx.retention.makeRoom()) {
    return refuse(ctx, res, 'memory', `memory cap of ${ctx.retention.options.maxMemoryBytes} bytes is held by uploads in progress`, true);
  }
  return true;
}

/** Whether one more reader (a response following an object, or a held request) may start. */
export function admitRead(ctx: OriginContext, res: ServerResponse): boolean {
  const st = ctx.store.stats();
  if (st.readers + st.waiters >= ctx.maxReaders) {
    return refuse(ctx, res, 'readers', `too many readers (limit ${ctx.maxReaders})`, false);
  }
  return true;
}
