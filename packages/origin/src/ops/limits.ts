// Admission: limits that refuse a request up front with 503 and Retry-After, so a crowd of
// players or a runaway encoder costs a short answer instead of memory. (Memory itself is not
// checked here: uploads are paused by the memory cap as their bytes arrive, see MemoryGate.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginContext } from '../context.js';
import { refuse, sendText } from '../http/respond.js';

/** Seconds a refused client is asked to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

const RETRY = { 'Retry-After': String(RETRY_AFTER_SECONDS) };

/** Whether an upload may start: not while shutting down, and not beyond `maxUploads`. */
export function admitUpload(ctx: OriginContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (ctx.lifecycle.draining) {
    refuse(req, res, 503, 'shutting down', RETRY);
    return false;
  }
  if (ctx.metrics.uploadsInProgress >= ctx.maxUploads) {
    ctx.metrics.rejected.uploads++;
    refuse(req, res, 503, `too many uploads in progress (limit ${ctx.maxUploads})`, RETRY);
    return false;
  }
  return true;
}

/** Whether one more reader (a response following an object, or a held request) may start. */
export function admitRead(ctx: OriginContext, res: ServerResponse): boolean {
  const st = ctx.store.stats();
  if (st.readers + st.waiters >= ctx.maxReaders) {
    ctx.metrics.rejected.readers++;
    sendText(res, 503, `too many readers (limit ${ctx.maxReaders})`, RETRY);
    return false;
  }
  return true;
}
