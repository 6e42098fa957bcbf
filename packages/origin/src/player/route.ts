// GET /player and its scripts. The page is rendered once per set of libraries found; the
// libraries are looked up on the first request (and again, at most every RELOOKUP_MS, while one
// is missing, so installing them does not need a restart) and served from memory with long caching.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from '../http/respond.js';
import type { RequestTally } from '../http/tally.js';
import { PLAYER_LIB_NAMES, assetTable, locatePlayerLibs, type PlayerAsset, type PlayerLibs } from './assets.js';
import { renderPlayerPage } from './page.js';

/** The page's path. `/player/` normalises to it. */
export const PLAYER_PATH = '/player';

/** Every asset path the route owns, installed or not (a missing one is a 404 here, not a held GET). */
export const PLAYER_ASSET_PATHS: readonly string[] = [
  '/player/dash.all.min.js',
  '/player/dash.all.min.js.map',
  '/player/hls.min.js',
  '/player/hls.min.js.map',
  '/player/shaka-player.compiled.js',
];

const OWNED = new Set([PLAYER_PATH, ...PLAYER_ASSET_PATHS]);

/** Cache-Control of the library files: the page asks for them with ?v=<version>. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface PlayerRouteOptions {
  timePath: string | false;
  /** Where VOD uploads go (`/vod`), or false: the page shows its VOD panel only with one. */
  vodPath?: string | false;
  /** Finds the libraries (tests replace it). Default: `locatePlayerLibs()`. */
  locate?: () => PlayerLibs;
  /** While a library is missing, look again at most this often, ms (the lookup is synchronous). Default 5000. */
  relookupMs?: number;
}

/** How long a failed lookup is trusted: a missing library is looked for again after this. */
export const RELOOKUP_MS = 5000;

/** The /player route: `handle()` answers and returns true for the paths it owns. */
export interface PlayerRoute {
  handle(req: IncomingMessage, res: ServerResponse, key: string, tally?: RequestTally): boolean;
}

export function createPlayerRoute(options: PlayerRouteOptions): PlayerRoute {
  const locate = options.locate ?? (() => locatePlayerLibs());
  const relookupMs = options.relookupMs ?? RELOOKUP_MS;
  let found: { libs: PlayerLibs; page: Buffer; assets: Map<string, () => PlayerAsset | undefined> } | undefined;
  let lookedAt = -Infinity;
  const current = (): NonNullable<typeof found> => {
    const incomplete = found === undefined || PLAYER_LIB_NAMES.some((name) => found?.libs[name] === undefined);
    // The lookup stats files synchronously: not on every request while a library is missing.
    if (found === undefined || (incomplete && performance.now() - lookedAt >= relookupMs)) {
      lookedAt = performance.now();
      const libs = locate();
      if (found === undefined || PLAYER_LIB_NAMES.some((name) => found?.libs[name]?.file !== libs[name]?.file)) {
        found = { libs, page: Buffer.from(renderPlayerPage(libs, { timePath: options.timePath, vodPath: options.vodPath })), assets: assetTable(libs) };
      }
    }
    return found;
  };

  return {
    handle(req, res, key, tally) {
      if (!OWNED.has(key)) return false;
      const method = req.method;
      if (method === 'OPTIONS') return false; // the origin's own OPTIONS answer
      if (method !== 'GET' && method !== 'HEAD') {
        sendText(res, 405, `method ${method} not allowed on the player`, { Allow: 'GET, HEAD, OPTIONS' });
        return true;
      }
      const head = method === 'HEAD';
      const state = current();
      if (key === PLAYER_PATH) {
        send(res, head, 200, state.page, {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-cache',
          'X-Content-Type-Options': 'nosniff',
        }, tally);
        return true;
      }
      const asset = state.assets.get(key)?.();
      if (asset === undefined) {
        sendText(res, 404, `${key} is not installed: run \`pnpm install\` in the workspace, or \`npm i dashjs hls.js\` in your project`);
        return true;
      }
      if (req.headers['if-none-match'] === asset.etag) {
        res.writeHead(304, { ETag: asset.etag, 'Cache-Control': ASSET_CACHE_CONTROL });
        res.end();
        return true;
      }
      send(res, head, 200, asset.body, {
        'Content-Type': asset.contentType,
        'Cache-Control': ASSET_CACHE_CONTROL,
        ETag: asset.etag,
        'X-Content-Type-Options': 'nosniff',
      }, tally);
      return true;
    },
  };
}

function send(res: ServerResponse, head: boolean, status: number, body: Buffer, headers: Record<string, string>, tally: RequestTally | undefined): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(body.byteLength) });
  if (head) {
    res.end();
    return;
  }
  if (tally !== undefined) {
    tally.bytes += body.byteLength;
    tally.chunks++;
  }
  res.end(body);
}
