// How `boxstream inspect` prints events: a table line per unit, a box tree, or JSON.
import { walkBoxes } from '../boxes.js';
import { concat } from '../bytes.js';
import type { ParseEvent } from '../events.js';

export type Mode = 'table' | 'tree' | 'json';

export const TABLE_TITLE = 'kind       offset     size    seq track   decode-time    dur key boxes';

function cell(values: unknown[]): string {
  return values.length === 0 ? '-' : values.map((v) => (v === undefined ? '?' : String(v))).join(',');
}

function tableLine(e: ParseEvent): string {
  if (e.kind === 'data') return `${'data'.padEnd(6)} ${String(e.offset).padStart(10)} ${String(e.size).padStart(8)}${e.last ? '  (last)' : ''}`;
  const head = `${e.kind.padEnd(6)} ${String(e.offset).padStart(10)} ${String(e.size).padStart(8)}`;
  const boxes = e.boxes.map((b) => b.type).join(' ');
  if (e.kind === 'header') {
    const tracks = e.init.tracks.map((t) => `${t.trackId}:${t.handler}/${t.codecString ?? t.codec ?? '?'}@${t.timescale}`).join(' ');
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

/** The lines an event prints in `mode`. */
export function linesOf(e: ParseEvent, mode: Mode): string[] {
  if (mode === 'table') return [tableLine(e)];
  if (mode === 'tree') return treeLines(e);
  return [jsonLine(e)];
}
