// boxstream-origin: run the origin from a shell. The first line printed is
// "listening on http://HOST:PORT" so scripts can wait for it; then one access log line per request.
import { parseArgs } from 'node:util';
import { createOrigin } from './origin.js';
import type { AccessLogEntry } from './options.js';

const USAGE = `Usage: boxstream-origin [options]

Live chunked-CMAF origin: encoders PUT/POST segments, players GET them while they are written.

Options:
  --port <n>              port to listen on, 0 picks a free one (default 8080)
  --host <addr>           address to bind (default 127.0.0.1)
  --hold-ms <ms>          how long a GET for a missing object waits for its upload (default 3000)
  --cors-origin <origin>  Access-Control-Allow-Origin; repeat for a list, 'none' to disable (default *)
  --time-path <path>      UTC time endpoint for utc_timing_url, 'none' to disable (default /time)
  --manifest-cache <cc>   Cache-Control of manifests (default "max-age=1")
  --max-object-mib <n>    largest upload in MiB (default 512)
  --quiet                 no access log
  --help                  show this help
`;

function fail(message: string): never {
  process.stderr.write(`boxstream-origin: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

/** Keeps a log line one line of printable tokens whatever the path holds. */
const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));

function formatLog(e: AccessLogEntry): string {
  return `${new Date().toISOString()} ${e.method} ${printable(e.path)} ${e.status} bytes=${e.bytes} chunks=${e.chunks} ms=${e.durationMs.toFixed(1)}${e.aborted ? ' aborted' : ''}\n`;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'hold-ms': { type: 'string' },
        'cors-origin': { type: 'string', multiple: true },
        'time-path': { type: 'string' },
        'manifest-cache': { type: 'string' },
        'max-object-mib': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = integer('port', values.port, 8080);
  if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
  const cors = values['cors-origin'];
  const timePath = values['time-path'];
  const origin = createOrigin({
    holdMs: integer('hold-ms', values['hold-ms'], 3000),
    corsOrigin: cors === undefined ? '*' : cors.length === 1 && cors[0] === 'none' ? false : cors.length === 1 ? cors[0] : cors,
    timePath: timePath === 'none' ? false : timePath,
    manifestCacheControl: values['manifest-cache'],
    maxObjectSize: values['max-object-mib'] === undefined ? undefined : integer('max-object-mib', values['max-object-mib'], 512) * 1024 * 1024,
    log: values.quiet ? undefined : (entry) => process.stdout.write(formatLog(entry)),
  });
  let running;
  try {
    running = await origin.listen(port, values.host ?? '127.0.0.1');
  } catch (err) {
    process.stderr.write(`boxstream-origin: cannot listen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(`listening on ${running.url}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130); // a second signal: do not wait any longer
    stopping = true;
    process.stderr.write(`boxstream-origin: ${signal}, closing\n`);
    running.close(1000).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

void main();
