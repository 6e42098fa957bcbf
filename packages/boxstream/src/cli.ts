// `boxstream inspect SOURCE`: prints a stream unit by unit while reading, so `boxstream inspect
// URL` or `curl -N URL | boxstream inspect -` shows each chunk the moment it completes.
import { readFileSync } from 'node:fs';
import { BoxStreamError } from './errors.js';
import { linesOf, TABLE_TITLE, type Mode } from './cli/print.js';
import { events, HttpError, readBytes } from './cli/sources.js';

const USAGE = `usage: boxstream inspect [--tree | --json] [--init FILE|URL] [--segments N] SOURCE
       boxstream --version

SOURCE is a file, - (standard input), or an http(s) URL. The URL of an HLS playlist
(.m3u8) is followed live: its init, then each segment while it is written, then the next.

  (default)      one line per unit: kind, offset, size, sequence number, track ids,
                 decode times, durations (seconds), keyframe flags, boxes
  --tree         the box tree of each unit (media data is not descended into)
  --json         one JSON object per event (64-bit values as strings)
  --init SRC     the header (init segment) of a SOURCE that starts without it, so its
                 chunks get timescales and durations
  --segments N   stop after N segments of a playlist

  boxstream inspect http://127.0.0.1:8080/live/out_0.m3u8
  curl -sfN http://127.0.0.1:8080/live/chunk-0-00001.m4s | boxstream inspect --init init-0.m4s -
`;

interface Args {
  mode: Mode;
  source: string;
  init?: string;
  segments?: number;
}

function parseArgs(rest: string[]): Args | number {
  let mode: Mode = 'table';
  let init: string | undefined;
  let segments: number | undefined;
  const sources: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--tree') mode = 'tree';
    else if (arg === '--json') mode = 'json';
    else if (arg === '--init' && i + 1 < rest.length) init = rest[++i];
    else if (arg === '--segments' && i + 1 < rest.length && /^[1-9]\d*$/.test(rest[i + 1])) segments = Number(rest[++i]);
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg.startsWith('--')) {
      process.stderr.write(`boxstream: unknown or incomplete option ${arg}\n${USAGE}`);
      return 2;
    } else sources.push(arg);
  }
  if (sources.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  return { mode, source: sources[0], init, segments };
}

async function inspect(args: Args): Promise<number> {
  try {
    const init = args.init === undefined ? undefined : await readBytes(args.init);
    if (args.mode === 'table') console.log(TABLE_TITLE);
    for await (const event of events(args.source, { init, segments: args.segments })) {
      if (event.kind === 'note') {
        if (args.mode !== 'json') console.log(`# ${event.text}`);
        continue;
      }
      for (const line of linesOf(event, args.mode)) console.log(line);
    }
  } catch (err) {
    if (err instanceof BoxStreamError) {
      console.error(`error: ${err.code}: ${err.message}`);
      return 1;
    }
    if (err instanceof HttpError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  return 0;
}

/** The package's version, from its package.json (beside dist/ and src/ alike). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`boxstream ${version()}\n`);
    return 0;
  }
  if (command !== 'inspect') {
    process.stderr.write(USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  const args = parseArgs(rest);
  return typeof args === 'number' ? args : inspect(args);
}

// `boxstream inspect - | head -1`: the reader left, so there is nobody to print for. End
// quietly, as the rest of a shell pipeline expects, instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
