// `boxstream inspect FILE|-`: prints a live upload chunk by chunk (or as a box tree) while reading,
// so `curl -N URL | boxstream inspect -` shows each chunk the moment it completes.
import { createReadStream } from 'node:fs';
import { parseStream } from './adapters/iterate.js';
import { walkBoxes } from './boxes.js';
import { concat } from './bytes.js';
import { BoxStreamError } from './errors.js';
import type { ParseEvent } from './events.js';

const USAGE = `usage: boxstream inspect [--tree | --json] FILE|-

  (default)  one line per unit: kind, offset, size, sequence number, track ids,
             decode times, durations (seconds), keyframe flags, boxes
  --tree     the box tree of each unit (media data is not descended into)
  --json     one JSON object per event (64-bit values as strings)
  -          read standard input, e.g. curl -N URL | boxstream inspect -
`;

type Mode = 'table' | 'tree' | 'json';

function cell(values: unknown[]): string {
  return values.length === 0 ? '-' : values.map((v) => (v === undefined ? '?' : String(v))).join(',');
}

function tableLine(e: ParseEvent): string {
  if (e.kind === 'data') return `${'data'.padEnd(6)} ${String(e.offset).padStart(10)} ${String(e.size).padStart(8)}${e.last ? '  (last)' : ''}`;
  const head = `${e.kind.padEnd(6)} ${String(e.offset).padStart(10)} ${String(e.size).padStart(8)}`;
  const boxes = e.boxes.map((b) => b.type).join(' ');
  if (e.kind === 'header') {
    const tracks = e.init.tracks.map((t) => `${t.trackId}:${t.handler}/${t.codec ?? '?'}@${t.timescale}`).join(' ');
    return `${head}  ${tracks}  [${boxes}]`;
  }
  if (e.kind === 'chunk') {
    const t = e.info.tracks;
    const seconds = t.map((x) => (x.duration === undefined || !x.timescale ? undefined : (x.duration / x.timescale).toFixed(3)));
    const key = t.map((x) => (x.keyframe === undefined ? undefined : x.keyframe ? 'K' : '-'));
    return [
      head,
      String(e.info.sequenceNumber ?? '?').padStart(6),
      cell(t.map((x) => x.trackId)).padStart(5),
      cell(t.map((x) => x.baseMediaDecodeTime)).padStart(12),
      cell(seconds).padStart(7),
      cell(key).padStart(3),
      ` [${boxes}]${e.complete ? '' : ' (progressive)'}`,
    ].join(' ');
  }
  return `${head}  [${boxes}]${e.complete ? '' : ' (progressive)'}`;
}

function treeLines(e: ParseEvent): string[] {
  if (e.kind === 'data') return [];
  const lines = [`${e.kind} @${e.offset} (${e.size} bytes)`];
  if (!e.complete) {
    for (const b of e.boxes) lines.push(`  ${b.type} @${b.offset} size ${b.size}`);
    return lines;
  }
  const bytes = e.parts.length === 1 ? e.parts[0] : concat(e.parts);
  for (const b of walkBoxes(bytes, { base: e.offset })) {
    lines.push(`${'  '.repeat(b.depth + 1)}${b.type} @${b.offset} size ${b.size}${b.usertype ? ` ${b.usertype}` : ''}`);
  }
  return lines;
}

function jsonLine(e: ParseEvent): string {
  const { parts, ...rest } = e as ParseEvent & { parts: Uint8Array[] };
  void parts;
  // A chunk's `info.init` repeats its header: left out. Byte views (pssh data, emsg payloads) as hex.
  const info = e.kind === 'chunk' ? { ...e.info, init: undefined } : undefined;
  return JSON.stringify(info ? { ...rest, info } : rest, (_k, v) =>
    typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  );
}

async function inspect(source: string, mode: Mode): Promise<number> {
  const input = source === '-' ? process.stdin : createReadStream(source);
  if (mode === 'table') console.log('kind       offset     size    seq track   decode-time    dur key boxes');
  try {
    for await (const event of parseStream(input)) {
      if (mode === 'table') console.log(tableLine(event));
      else if (mode === 'tree') for (const line of treeLines(event)) console.log(line);
      else console.log(jsonLine(event));
    }
  } catch (err) {
    if (err instanceof BoxStreamError) {
      console.error(`error: ${err.code}: ${err.message}`);
      return 1;
    }
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'inspect') {
    process.stderr.write(USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  let mode: Mode = 'table';
  const files: string[] = [];
  for (const arg of rest) {
    if (arg === '--tree') mode = 'tree';
    else if (arg === '--json') mode = 'json';
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else files.push(arg);
  }
  if (files.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  return inspect(files[0], mode);
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
