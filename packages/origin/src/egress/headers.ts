// What an object response says about its body: validators (ETag, Last-Modified), the cache
// policy a CDN applies to it, and the headers every stored object carries. The store holds only
// bytes and numbers; this is where they become HTTP.
import type { ObjectKind, ObjectState } from '../store/object.js';
import { httpDate } from '../http/time.js';

/** What egress knows of an object it serves, from memory or from disk. */
export interface ObjectInfo {
  key: string;
  kind: ObjectKind;
  contentType: string;
  /** `writing` while its upload runs (served chunked); egress serves no `aborted` object. */
  state: ObjectState;
  /** Bytes so far (final once complete). */
  length: number;
  /** Epoch ms of completion (or of creation while writing). */
  modifiedAt: number;
  /** Identity of the bytes (see `CreateOptions.tag`). */
  tag: string;
}

/** The strong ETag of a complete object: its identity and its length. */
export function etagOf(info: ObjectInfo): string {
  return `"${info.tag}-${info.length.toString(36)}"`;
}

// Formatting a date costs more than the rest of a response's headers: one per modification time.
let lastDateMs = NaN;
let lastDate = '';

/** `Last-Modified` of a complete object. */
export function lastModifiedOf(info: ObjectInfo): string {
  const seconds = Math.floor(info.modifiedAt / 1000) * 1000;
  if (seconds !== lastDateMs) {
    lastDateMs = seconds;
    lastDate = httpDate(seconds);
  }
  return lastDate;
}

/**
 * Stored objects are whatever an encoder uploaded, served on the same origin as /player: a
 * browser must never sniff one into HTML or run it as a document with this origin's rights.
 */
export const STORED_OBJECT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': 'sandbox',
});

/** Cache-Control by class of object. */
export interface CacheControlClasses {
  /** Complete manifests (.mpd, .m3u8): rewritten in place all the time. */
  manifest: string;
  /** Init segments: uploaded once per encoder run under the same name, replaced on a restart. */
  init: string;
  /** Media segments and every other complete object. */
  segment: string;
  /** Objects still being written; `undefined` means the class they will have once complete. */
  live: string | undefined;
}

/** A Cache-Control for every object under `prefix` (longest prefix wins), in any state. */
export interface CacheRule {
  prefix: string;
  cacheControl: string;
}

/**
 * Defaults that stay correct when an encoder restarts and uploads the same names again: no
 * `immutable` and bounded lifetimes, so a CDN serves replaced bytes for at most that long. A
 * segment name comes back only after a whole run of the stream, so a minute is safe; an init
 * segment is replaced under the same name, so it is kept for 2 s and then revalidated (its ETag
 * answers 304 when it did not change). Keys that can never be reused (VOD) get long lifetimes
 * through a `CacheRule`.
 */
export const DEFAULT_CACHE_CONTROL: Readonly<CacheControlClasses> = Object.freeze({
  manifest: 'max-age=1',
  init: 'max-age=2',
  segment: 'max-age=60',
  live: undefined,
});

/** A hook that may change an object response's headers before they are sent. */
export type SetHeaders = (headers: Record<string, string>, object: ObjectInfo) => void;

/** Picks the Cache-Control of object responses: rules by prefix, then classes. */
export class CachePolicy {
  private readonly rules: readonly CacheRule[];

  constructor(
    private readonly classes: CacheControlClasses,
    rules: readonly CacheRule[] = [],
  ) {
    this.rules = [...rules].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The Cache-Control for `info` in its current state. */
  for(info: ObjectInfo): string {
    for (const rule of this.rules) if (info.key.startsWith(rule.prefix)) return rule.cacheControl;
    if (info.state === 'writing' && this.classes.live !== undefined) return this.classes.live;
    if (info.kind === 'manifest') return this.classes.manifest;
    if (info.kind === 'init') return this.classes.init;
    return this.classes.segment;
  }
}
