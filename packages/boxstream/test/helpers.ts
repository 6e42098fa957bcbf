// Builders for hand-made boxes and a canonical description of parse events, shared by the tests.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, concat, type ParseEvent, type ParserOptions } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A committed fixture's bytes. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(here, 'fixtures', name)));
}

/** Every fixture in the fixture folders (codecs/, plain/, muxers/, ...), as `folder/name`. */
export function folderFixtures(): string[] {
  return readdirSync(join(here, 'fixtures'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(here, 'fixtures', d.name)).filter((f) => /\.(mp4|m4s)$/.test(f)).map((f) => `${d.name}/${f}`));
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

const cstr = (text: string) => [...new TextEncoder().encode(text), 0];

/** An emsg box: version 0 (presentation time delta) or 1 (presentation time). */
export function emsg(opts: { version?: 0 | 1; scheme?: string; value?: string; timescale?: number; time?: number; duration?: number; id?: number; data?: number[] } = {}): Uint8Array {
  const scheme = cstr(opts.scheme ?? 'urn:scte:scte35:2013:bin');
  const value = cstr(opts.value ?? '');
  const times = [u32(opts.timescale ?? 90000), opts.version === 1 ? u64(BigInt(opts.time ?? 0)) : u32(opts.time ?? 0)].flat();
  const tail = [...u32(opts.duration ?? 0), ...u32(opts.id ?? 1)];
  const data = opts.data ?? [0xfc, 0x30];
  return opts.version === 1
    ? fullBox('emsg', 1, 0, times, tail, scheme, value, data)
    : fullBox('emsg', 0, 0, scheme, value, times, tail, data);
}

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

/** A visual sample entry of `width` x `height` with the given child boxes. */
export function visualEntry(type: string, width: number, height: number, ...children: Uint8Array[]): Uint8Array {
  const fields = new Uint8Array(78);
  fields.set([width >> 8, width & 255, height >> 8, height & 255], 24);
  return box(type, fields, ...children);
}

/** An audio sample entry (version 0) with the given child boxes; `rate` goes in the 16.16 field. */
export function audioEntry(type: string, channels: number, rate: number, ...children: Uint8Array[]): Uint8Array {
  const fields = new Uint8Array(28);
  fields.set([0, channels, 0, 16], 16);
  fields.set(u32((rate & 0xffff) * 65536), 24);
  return box(type, fields, ...children);
}

/** A minimal init segment: ftyp + moov with one track and its trex. */
export function init(
  opts: {
    trackId?: number;
    timescale?: number;
    handler?: string;
    trexDuration?: number;
    trexFlags?: number;
    trexSize?: number;
    /** The sample entry (default: an avc1 without children). */
    entry?: Uint8Array;
    /** Boxes to add to the trak (edts) and to the moov (pssh), and to the mvex (mehd). */
    trakExtra?: Uint8Array[];
    moovExtra?: Uint8Array[];
    mvexExtra?: Uint8Array[];
    /** mvhd and mdhd durations. */
    movieDuration?: number;
    mediaDuration?: number;
  } = {},
): Uint8Array {
  const trackId = opts.trackId ?? 1;
  const ftyp = box('ftyp', typeBytes('iso6'), u32(0), typeBytes('iso6'), typeBytes('cmfc'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(opts.movieDuration ?? 0), new Uint8Array(80));
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(trackId), u32(0), u32(0), new Uint8Array(60));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(opts.timescale ?? 90000), u32(opts.mediaDuration ?? 0), [0x55, 0xc4, 0, 0]);
  const hdlr = fullBox('hdlr', 0, 0, u32(0), typeBytes(opts.handler ?? 'vide'), new Uint8Array(13));
  const entry = opts.entry ?? box('avc1', new Uint8Array(78));
  const stsd = fullBox('stsd', 0, 0, u32(1), entry);
  const stbl = box('stbl', stsd);
  const minf = box('minf', stbl);
  const trak = box('trak', tkhd, ...(opts.trakExtra ?? []), box('mdia', mdhd, hdlr, minf));
  const trex = fullBox('trex', 0, 0, u32(trackId), u32(1), u32(opts.trexDuration ?? 0), u32(opts.trexSize ?? 0), u32(opts.trexFlags ?? 0));
  return concat([ftyp, box('moov', mvhd, trak, ...(opts.moovExtra ?? []), box('mvex', ...(opts.mvexExtra ?? []), trex))]);
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
