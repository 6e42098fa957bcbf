// The player libraries the /player page loads: dash.js, hls.js and Shaka Player from the project's own
// node_modules, served by the origin from local files (nothing is fetched from the internet).
// They are optional devDependencies, resolved lazily on the first request: the origin's runtime
// dependencies stay `boxstream` only, and a missing library turns into install instructions.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The libraries the page knows about. */
export type PlayerLibName = 'dash' | 'hls' | 'shaka';

/** Every library the page knows, in the order it offers them. */
export const PLAYER_LIB_NAMES: readonly PlayerLibName[] = ['dash', 'hls', 'shaka'];

/** One library found on disk. */
export interface PlayerLib {
  name: PlayerLibName;
  /** npm package name. */
  pkg: string;
  version: string;
  /** Absolute path of the browser bundle. */
  file: string;
  /** The URL the origin serves it at (`/player/<file name>`). */
  path: string;
  /** The source map next to it, when the package ships one. */
  mapFile: string | undefined;
}

/** What was found: a library, or why not. */
export type PlayerLibs = Record<PlayerLibName, PlayerLib | undefined>;

interface LibSpec {
  pkg: string;
  /** Module id handed to require.resolve. */
  id: string;
  /** The bundle, relative to the package root. */
  bundle: string;
}

const SPECS: Record<PlayerLibName, LibSpec> = {
  // dashjs' exports map hides dist/ and package.json; require.resolve('dashjs') returns the UMD
  // bundle (require condition). We walk up from there to the package root.
  dash: { pkg: 'dashjs', id: 'dashjs', bundle: 'dist/modern/umd/dash.all.min.js' },
  hls: { pkg: 'hls.js', id: 'hls.js/dist/hls.min.js', bundle: 'dist/hls.min.js' },
  shaka: { pkg: 'shaka-player', id: 'shaka-player', bundle: 'dist/shaka-player.compiled.js' },
};

/** Where this module is, in ESM (import.meta.url) and in the tsup CJS bundle (__filename). */
function moduleLocation(): string | undefined {
  try {
    // In the CJS bundle esbuild replaces import.meta with {}: url is then undefined.
    const url = (import.meta as { url?: string }).url;
    if (typeof url === 'string' && url !== '') return url;
  } catch {
    // not reachable in practice; keep going with the CJS fallbacks
  }
  if (typeof __filename === 'string' && __filename !== '') return __filename;
  return undefined;
}

/**
 * The places libraries are looked up from, in order: next to the origin's own code (its
 * node_modules: the workspace's devDependencies), then the current working directory (a user
 * who mounted the origin in their own app and ran `npm i dashjs hls.js` there).
 */
export function defaultSearchBases(): string[] {
  const bases: string[] = [];
  const here = moduleLocation();
  if (here !== undefined) bases.push(here);
  bases.push(join(process.cwd(), 'package.json'));
  return bases;
}

/** Finds the package root of `pkg` from a file inside it. */
function packageRoot(file: string, pkg: string): string | undefined {
  let dir = dirname(file);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === pkg) return dir;
      } catch {
        // an unreadable package.json on the way up: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function locate(name: PlayerLibName, bases: readonly string[]): PlayerLib | undefined {
  const spec = SPECS[name];
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(spec.id);
    } catch {
      continue;
    }
    const root = packageRoot(resolved, spec.pkg);
    if (root === undefined) continue;
    const file = join(root, spec.bundle);
    if (!existsSync(file)) continue;
    let version = '0';
    try {
      version = String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0');
    } catch {
      // keep '0'
    }
    const fileName = spec.bundle.slice(spec.bundle.lastIndexOf('/') + 1);
    const mapFile = existsSync(file + '.map') ? file + '.map' : undefined;
    return { name, pkg: spec.pkg, version, file, path: `/player/${fileName}`, mapFile };
  }
  return undefined;
}

/** Looks dash.js, hls.js and Shaka Player up from `bases` (default: the origin's code, then the cwd). */
export function locatePlayerLibs(bases: readonly string[] = defaultSearchBases()): PlayerLibs {
  return { dash: locate('dash', bases), hls: locate('hls', bases), shaka: locate('shaka', bases) };
}

/** A file the player route serves, read once and kept. */
export interface PlayerAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The served assets by path: each library's bundle and its source map. */
export function assetTable(libs: PlayerLibs): Map<string, () => PlayerAsset | undefined> {
  const table = new Map<string, () => PlayerAsset | undefined>();
  for (const lib of [libs.dash, libs.hls, libs.shaka]) {
    if (lib === undefined) continue;
    table.set(lib.path, lazyFile(lib.file, 'text/javascript; charset=utf-8', lib.version));
    if (lib.mapFile !== undefined) table.set(lib.path + '.map', lazyFile(lib.mapFile, 'application/json', lib.version));
  }
  return table;
}

function lazyFile(file: string, contentType: string, version: string): () => PlayerAsset | undefined {
  let asset: PlayerAsset | undefined;
  return () => {
    if (asset === undefined) {
      try {
        const body = readFileSync(file);
        asset = { body, contentType, etag: `"${version}-${body.byteLength.toString(16)}"` };
      } catch {
        return undefined; // removed since it was found: answered as missing
      }
    }
    return asset;
  };
}
