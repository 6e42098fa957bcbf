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

const tallies = new WeakMap<ServerResponse, RequestTally>();

/** Starts counting for `res`. */
export function openTally(res: ServerResponse): RequestTally {
  const tally: RequestTally = { bytes: 0, chunks: 0 };
  tallies.set(res, tally);
  return tally;
}

/** Counts `bytes` of a small answer (an error, /metrics, /time) sent on `res`. */
export function countSent(res: ServerResponse, bytes: number): void {
  const tally = tallies.get(res);
  if (tally !== undefined) tally.bytes += bytes;
}
