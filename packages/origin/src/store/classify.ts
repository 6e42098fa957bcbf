// What an object is, decided once when its upload begins: by its name, the Content-Type players
// expect, whether it is a manifest (buffered and swapped in whole); by its first bytes, through
// boxstream's own sniffer, whether it is ISO-BMFF and an init segment or media.
import { sniff } from 'boxstream';
import type { ObjectKind } from './object.js';

/** Content-Type by lowercase extension. Players and CDNs key behaviour on these. */
const TYPES: Readonly<Record<string, string>> = {
  mpd: 'application/dash+xml',
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  cmfv: 'video/mp4',
  cmfi: 'video/mp4',
  m4a: 'audio/mp4',
  cmfa: 'audio/mp4',
  cmft: 'application/mp4',
  ts: 'video/mp2t',
  aac: 'audio/aac',
  ac3: 'audio/ac3',
  ec3: 'audio/eac3',
  mp3: 'audio/mpeg',
  vtt: 'text/vtt',
  webvtt: 'text/vtt',
  ttml: 'application/ttml+xml',
  xml: 'application/xml',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  key: 'application/octet-stream',
  bin: 'application/octet-stream',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webm: 'video/webm',
};

/** Extensions whose bodies are ISO-BMFF: they go through the parser, and junk in them is a 415. */
const ISO_BMFF = new Set(['m4s', 'mp4', 'm4v', 'm4a', 'cmfv', 'cmfa', 'cmft', 'cmfi', 'mp4a', 'mp4v', 'cmfm', 'm4i', 'heic']);

/** Extensions known not to be ISO-BMFF: relayed as opaque bytes without sniffing. */
const OPAQUE = new Set(['ts', 'aac', 'ac3', 'ec3', 'mp3', 'vtt', 'webvtt', 'ttml', 'xml', 'json', 'txt', 'key', 'bin', 'jpg', 'jpeg', 'png', 'webm']);

/** Used when neither the name nor a manifest kind says anything. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** Lowercase extension of the last path segment, without the dot; '' when there is none. */
export function extensionOf(key: string): string {
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  if (dot <= slash + 1) return ''; // no dot, or a leading dot (".hidden")
  return key.slice(dot + 1).toLowerCase();
}

/** The Content-Type for a key, by extension; undefined when the extension is unknown. */
export function contentTypeFor(key: string): string | undefined {
  return TYPES[extensionOf(key)];
}

/** Which kind of manifest an upload is. */
export type ManifestKind = 'dash' | 'hls';

/** Media types encoders send with manifests (lowercase, without parameters). */
const MANIFEST_MEDIA_TYPES: Readonly<Record<string, ManifestKind>> = {
  'application/dash+xml': 'dash',
  'application/vnd.apple.mpegurl': 'hls',
  'application/x-mpegurl': 'hls',
  'audio/mpegurl': 'hls',
  'audio/x-mpegurl': 'hls',
};

/**
 * The manifest kind of an upload, from its extension (`.mpd`, `.m3u8`) or, failing that, from
 * the uploader's Content-Type; undefined for anything else.
 */
export function manifestKind(key: string, uploadContentType?: string): ManifestKind | undefined {
  const ext = extensionOf(key);
  if (ext === 'mpd') return 'dash';
  if (ext === 'm3u8') return 'hls';
  if (uploadContentType === undefined) return undefined;
  const semi = uploadContentType.indexOf(';');
  const mediaType = (semi < 0 ? uploadContentType : uploadContentType.slice(0, semi)).trim().toLowerCase();
  return MANIFEST_MEDIA_TYPES[mediaType];
}

/** The Content-Type served for a manifest of `kind` whose extension says nothing. */
export function manifestContentType(kind: ManifestKind): string {
  return kind === 'dash' ? TYPES.mpd : TYPES.m3u8;
}

/** How an upload's body is to be treated, judged by name alone. */
export type BodyFormat = 'iso-bmff' | 'opaque' | 'sniff';

/** `iso-bmff` for MP4/CMAF extensions, `opaque` for known other formats, `sniff` otherwise. */
export function bodyFormatFor(key: string): BodyFormat {
  const ext = extensionOf(key);
  if (ISO_BMFF.has(ext)) return 'iso-bmff';
  if (OPAQUE.has(ext)) return 'opaque';
  return 'sniff';
}

/** What `classify` decides for a body: its kind, Content-Type, and whether boxstream parses it. */
export interface Classification {
  kind: ObjectKind;
  contentType: string;
  /** True when the body goes through boxstream's parser. */
  isoBmff: boolean;
}

/**
 * Classifies a (non-manifest) body by its key and its first 8 bytes: ISO-BMFF when the name says
 * so, or when the name says nothing and boxstream's `sniff` recognises a first box. An ISO-BMFF
 * body whose first box is `ftyp` is an `init` (a CMAF header, or a whole MP4), any other is
 * `media`; everything else is `opaque`.
 */
export function classify(key: string, first8: Uint8Array): Classification {
  const format = bodyFormatFor(key);
  const firstBox = format === 'opaque' ? undefined : sniff(first8);
  const isoBmff = format === 'iso-bmff' || firstBox !== undefined;
  const kind: ObjectKind = !isoBmff ? 'opaque' : firstBox === 'ftyp' ? 'init' : 'media';
  const contentType = contentTypeFor(key) ?? (isoBmff ? 'video/mp4' : DEFAULT_CONTENT_TYPE);
  return { kind, contentType, isoBmff };
}
