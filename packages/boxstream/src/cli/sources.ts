// What `boxstream inspect` reads: a file, standard input, a URL, or a live HLS stream it follows
// by itself (the init, then each segment while it is written, then the next one).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseStream } from '../adapters/iterate.js';
import type { ParseEvent } from '../events.js';
import { mediaPlaylist, variants } from './playlist.js';

/** An HTTP answer that is not a success, said plainly instead of being parsed as MP4. */
export class HttpError extends Error {}

/** A line that is not an event: which resource follows (when following a playlist). */
export interface Note {
  kind: 'note';
  text: string;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

async function get(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new HttpError(`cannot fetch ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new HttpError(`HTTP ${res.status} ${res.statusText} for ${url}`);
  }
  return res;
}

/** The bytes of a file or URL (an init given with --init). */
export async function readBytes(source: string): Promise<Uint8Array> {
  if (!isUrl(source)) return new Uint8Array(await readFile(source));
  return new Uint8Array(await (await get(source)).arrayBuffer());
}

/** The body of a response, parsed as it arrives. */
function parseBody(res: Response, init: Uint8Array | undefined): AsyncGenerator<ParseEvent> {
  return parseStream(res.body ?? [], init ? { init } : {});
}

const looksLikePlaylist = (url: string, res: Response): boolean =>
  /\.m3u8?($|\?)/i.test(new URL(url).pathname) || /mpegurl/i.test(res.headers.get('content-type') ?? '');

/** Options of `events()`. */
export interface SourceOptions {
  /** The header's bytes, for a source that starts after it. */
  init?: Uint8Array;
  /** Stop after this many segments of a playlist (default: follow until the stream ends). */
  segments?: number;
}

/** Every event of `source` (a path, `-`, or an http(s) URL), with notes between resources. */
export async function* events(source: string, options: SourceOptions = {}): AsyncGenerator<ParseEvent | Note> {
  if (!isUrl(source)) {
    const input = source === '-' ? process.stdin : createReadStream(source);
    return yield* parseStream(input, options.init ? { init: options.init } : {});
  }
  const res = await get(source);
  if (!looksLikePlaylist(source, res)) return yield* parseBody(res, options.init);
  yield* follow(source, await res.text(), options);
}

/**
 * Follows an HLS playlist: its first variant when it is multivariant, then the init, then from
 * the live edge (the segment being written, or the last one listed) each segment as it comes,
 * with blocking reloads when the server offers them, until the stream ends or `segments` is reached.
 */
async function* follow(url: string, text: string, options: SourceOptions): AsyncGenerator<ParseEvent | Note> {
  const list = variants(text);
  if (list.length > 0) {
    url = new URL(list[0], url).href;
    yield { kind: 'note', text: `following ${url} (first of ${list.length} variants)` };
    text = await (await get(url)).text();
  }
  let playlist = mediaPlaylist(text);
  let init = options.init;
  if (playlist.map !== undefined) {
    const initUrl = new URL(playlist.map, url).href;
    yield { kind: 'note', text: `init ${initUrl}` };
    init = await readBytes(initUrl);
    yield* parseStream([init]);
  }
  // Live: start at the edge. A finished stream: from its first segment.
  const last = playlist.segments.at(-1);
  let msn = playlist.endList ? playlist.mediaSequence : playlist.nextUri !== undefined ? playlist.mediaSequence + playlist.segments.length : (last?.msn ?? playlist.mediaSequence);
  let done = 0;
  const limit = options.segments ?? Infinity;
  // The media sequence number to hold a blocking reload for: first `msn` itself (its first part
  // names it when parts are byte ranges of it), then the one after it (held until `msn` is
  // complete and listed, when parts are files of their own).
  let ask = msn;
  while (done < limit) {
    if (msn < playlist.mediaSequence) {
      // The window moved on while a segment was read: go on at its start.
      yield { kind: 'note', text: `segments ${msn}-${playlist.mediaSequence - 1} left the playlist before they were read` };
      msn = ask = playlist.mediaSequence;
    }
    const uri = playlist.segments.find((s) => s.msn === msn)?.uri ?? (msn === playlist.mediaSequence + playlist.segments.length ? playlist.nextUri : undefined);
    if (uri !== undefined) {
      const segmentUrl = new URL(uri, url).href;
      yield { kind: 'note', text: `segment ${msn} ${segmentUrl}` };
      yield* parseBody(await get(segmentUrl), init);
      done++;
      msn = ask = msn + 1;
      continue;
    }
    if (playlist.endList) return;
    // Not listed yet: ask for it (held by a blocking server until it exists), or poll.
    if (playlist.canBlock) {
      const reload = new URL(url);
      reload.searchParams.set('_HLS_msn', String(ask));
      reload.searchParams.set('_HLS_part', '0');
      playlist = mediaPlaylist(await (await get(reload.href)).text());
      ask = msn + 1;
    } else {
      await new Promise((r) => setTimeout(r, (playlist.targetDuration * 1000) / 2));
      playlist = mediaPlaylist(await (await get(url)).text());
    }
  }
}
