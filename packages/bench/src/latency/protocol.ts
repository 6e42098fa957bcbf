// Messages between the bench's main thread (uploader, orchestration) and its reader workers.

export interface WorkerSetup {
  clockBase: bigint;
  /** Expected bytes and chunk end offsets of every fixture segment, by index. */
  segments: { bytes: Uint8Array; chunkEnds: number[] }[];
}

export type ToWorker =
  | { type: 'connect'; host: string; port: number; count: number; timeoutMs: number }
  /** Every reader sends `GET path` for fixture segment `segment` on its connection. */
  | { type: 'get'; path: string; segment: number }
  /** Wait until every reader's response ended, or until now() reaches `deadline`. */
  | { type: 'collect'; deadline: number }
  | { type: 'disconnect' };

/** One reader's account of one segment. Times are now() values of the shared clock. */
export interface ReaderReport {
  /** When the GET was written (NaN when the reader could not send it). */
  getAt: number;
  /** When the first body byte arrived. */
  firstByteAt: number;
  /** When the body first held all of chunk i; NaN when it never did. */
  receipts: Float64Array;
  bodyBytes: number;
  /** Body bytes that differ from the uploaded ones (or come beyond the upload's end). */
  mismatchedBytes: number;
  status: number;
  /** Why this reader's segment failed; null when it was received whole. */
  error: string | null;
}

export type FromWorker =
  | { type: 'connected'; errors: string[] }
  | { type: 'requested'; errors: string[]; reconnects: number }
  | { type: 'collected'; readers: ReaderReport[] }
  | { type: 'disconnected' }
  | { type: 'fatal'; message: string };
