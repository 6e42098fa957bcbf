// Messages between the LL-HLS bench's main thread and its reader workers.

export interface LlhlsWorkerSetup {
  clockBase: bigint;
}

export type ToLlhlsWorker =
  /** Start `count` readers of `playlist` (a media playlist path); each stops once it has part `stopPart` of segment `stopMsn`. */
  | { type: 'start'; host: string; port: number; playlist: string; count: number; stopMsn: number; stopPart: number }
  /** Close every reader and report what they saw. */
  | { type: 'collect' };

/** One part as one reader saw it: when the blocked playlist that first listed it arrived, and when its bytes did. */
export interface PartSeen {
  msn: number;
  part: number;
  playlistAt: number;
  /** NaN when the part's GET failed or did not end before the deadline. */
  partAt: number;
}

export type FromLlhlsWorker =
  | { type: 'started' }
  | { type: 'collected'; seen: PartSeen[]; errors: string[]; playlists: number; parts: number };
