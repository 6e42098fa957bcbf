// Builders for hand-made boxes and a canonical description of parse events, shared by the tests.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, concat, type ParseEvent, type ParserOptions } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A committed fixture's bytes. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(here, 'fixtures', name)));
}

/** The four bytes of a Latin-1 type string. */
export function typeBytes(type: string): number[] {
  return [0, 1, 2, 3].map((i) => type.charCodeAt(i) & 0xff);
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function u64(n: bigint): number[] {
  return [...u32(Number(n >> 32n)), ...u32(Number(n & 0xffffffffn))];
}

/** A box with a 32-bit size. */
export function box(type: string, ...payload: (Uint8Array | number[])[]): Uint8Array {
  const body = concat(payload.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p))));
  return concat([new Uint8Array([...u32(8 + body.length), ...typeBytes(type)]), body]);
}

/** A box with size == 1 and a 64-bit largesize (defaults to the true size). */
export function largeBox(type: string, payload: Uint8Array | number[], largesize?: bigint): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const size = largesize ?? BigInt(16 + body.length);
  return concat([new Uint8Array([...u32(1), ...typeBytes(type), ...u64(size)]), body]);
}

/** A FullBox: version and flags, then the payload. */
export function fullBox(type: string, version: number, flags: number, ...payload: (Uint8Array | number[])[]): Uint8Array {
  return box(type, [version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255], ...payload);
}

export { u32 as u32Bytes, u64 as u64Bytes };

/** A minimal moof: mfhd + one traf (tfhd, optional tfdt, trun). */
export function moof(opts: {
  seq?: number;
  trackId?: number;
  tfdt?: bigint | null;
  tfdtVersion?: number;
  tfhdFlags?: number;
  tfhdFields?: number[];
  trunFlags?: number;
  samples?: number;
  trunFields?: number[];
}): Uint8Array {
  const trackId = opts.trackId ?? 1;
  const tfhd = fullBox('tfhd', 0, opts.tfhdFlags ?? 0x020000, u32(trackId), ...(opts.tfhdFields ?? []).map(u32));
  const tfdtVersion = opts.tfdtVersion ?? 1;
  const tfdt =
    opts.tfdt === null
      ? new Uint8Array(0)
      : fullBox('tfdt', tfdtVersion, 0, tfdtVersion === 1 ? u64(opts.tfdt ?? 0n) : u32(Number(opts.tfdt ?? 0n)));
  const trun = fullBox('trun', 0, opts.trunFlags ?? 0, u32(opts.samples ?? 1), ...(opts.trunFields ?? []).map(u32));
  return box('moof', fullBox('mfhd', 0, 0, u32(opts.seq ?? 1)), box('traf', tfhd, tfdt, trun));
}

/** A minimal init segment: ftyp + moov with one track and its trex. */
export function init(opts: { trackId?: number; timescale?: number; handler?: string; trexDuration?: number; trexFlags?: number } = {}): Uint8Array {
  const trackId = opts.trackId ?? 1;
  const ftyp = box('ftyp', typeBytes('iso6'), u32(0), typeBytes('iso6'), typeBytes('cmfc'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(0), new Uint8Array(80));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(trackId), u32(0), u32(0), new Uint8Array(60));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(opts.timescale ?? 90000), u32(0), [0x55, 0xc4, 0, 0]);
  const hdlr = fullBox('hdlr', 0, 0, u32(0), typeBytes(opts.handler ?? 'vide'), new Uint8Array(13));
  const entry = box('avc1', new Uint8Array(78));
  const stsd = fullBox('stsd', 0, 0, u32(1), entry);
  const stbl = box('stbl', stsd);
  const minf = box('minf', stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const trex = fullBox('trex', 0, 0, u32(trackId), u32(1), u32(opts.trexDuration ?? 0), u32(0), u32(opts.trexFlags ?? 0));
  return concat([ftyp, box('moov', mvhd, trak, box('mvex', trex))]);
}

/** Parses `bytes` split into `pieces` (lengths; the rest goes in a last piece). */
export function parseIn(bytes: Uint8Array, lengths: number[], options?: ParserOptions): ParseEvent[] {
  const parser = new Parser(options);
  const events: ParseEvent[] = [];
  let at = 0;
  for (const n of lengths) {
    events.push(...parser.push(bytes.subarray(at, at + n)));
    at += n;
  }
  if (at < bytes.length) events.push(...parser.push(bytes.subarray(at)));
  events.push(...parser.end());
  return events;
}

/** Parses `bytes` in one piece. */
export function parseAll(bytes: Uint8Array, options?: ParserOptions): ParseEvent[] {
  return parseIn(bytes, [], options);
}

/** Everything an event says except how its bytes were split into parts, as a string. */
export function describe(events: ParseEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({ ...e, parts: e.parts.reduce((n, p) => n + p.byteLength, 0) })),
    (_k, v) => (typeof v === 'bigint' ? `${v}n` : v),
  );
}

/**
 * Like `describe`, with each progressive unit and its data events folded into one entry: how
 * data events split a unit depends on the pieces, the units themselves must not.
 */
export function describeUnits(events: ParseEvent[]): string {
  const units: Record<string, unknown>[] = [];
  for (const e of events) {
    const bytes = e.parts.reduce((n, p) => n + p.byteLength, 0);
    if (e.kind === 'data') {
      const last = units[units.length - 1];
      last.bytes = (last.bytes as number) + bytes;
      if (e.last) last.ended = true;
    } else {
      const { parts, ...rest } = e;
      void parts;
      units.push({ ...rest, bytes, ended: e.complete });
    }
  }
  return JSON.stringify(units, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** All the bytes the events carry, back to back. */
export function bytesOf(events: ParseEvent[]): Uint8Array {
  return concat(events.flatMap((e) => e.parts));
}

/** A small deterministic PRNG (mulberry32) so random splits are reproducible. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True when two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
