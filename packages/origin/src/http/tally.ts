// Per-request counters for the access log and metrics: filled by ingest, egress and the small
// answers, read when the response closes.
import type { ServerResponse } from 'node:http';

/** What one request moved. */
export interface RequestTally {
  /** Body bytes received (uploads) or sent (reads and every other answer). */
  bytes: number;
  /** Units published (uploads) or written (reads). */
  chunks: number;
  /** The Basic user name of an authenticated ingest request. */
  user?: string;
}

// Kept on the response itself: a WeakMap entry per request cost more than the rest of the
// tally (profiled at 100 GETs per 20 ms).
const TALLY = Symbol('boxstream.tally');
type Tallied = ServerResponse & { [TALLY]?: RequestTally };

/** Starts counting for `res`. */
export function openTally(res: ServerResponse): RequestTally {
  const tally: RequestTally = { bytes: 0, chunks: 0 };
  (res as Tallied)[TALLY] = tally;
  return tally;
}

/** Counts `bytes` of a small answer (an error, /metrics, /time) sent on `res`. */
export function countSent(res: ServerResponse, bytes: number): void {
  const tally = (res as Tallied)[TALLY];
  if (tally !== undefined) tally.bytes += bytes;
}
