// Reads an uploaded DASH MPD and says which object keys are which rendition's init and media
// segments. Only what the origin needs is read: one Period, SegmentTemplate addressing, the
// attributes a multivariant playlist declares. Anything else that would change which keys
// belong to whom (SegmentList, several Periods, a BaseURL on another host) is refused with a
// reason, rather than half-understood.
import { XMLParser, XMLValidator, type EntityDecoderOptions, type X2jOptions } from 'fast-xml-parser';
import { compileTemplate, expandTemplate, isTemplateError, type SegmentNamePattern, type SegmentValue } from './template.js';

/** {@link readMpd}'s answer: the declaration, or why the MPD cannot be mapped to keys. */
export type MpdResult = { ok: true; manifest: ManifestDecl } | { ok: false; reason: string };

/** What an MPD declares. */
export interface ManifestDecl {
  /** MPD@type */
  type: 'dynamic' | 'static';
  /** MPD@availabilityStartTime as epoch ms, when present */
  availabilityStartTime: number | undefined;
  /**
   * The stream has ended (or will once the segments it declares are in, see
   * `RenditionDecl.lastNumber`): a static MPD, or a dynamic one that says its duration and will not be
   * updated again (MPD@mediaPresentationDuration without MPD@minimumUpdatePeriod: DASH-IF IOP's
   * end of a live stream).
   */
  ended: boolean;
  renditions: RenditionDecl[];
}

/** One Representation, with the attributes it inherits from its AdaptationSet and Period. */
export interface RenditionDecl {
  /** Representation@id */
  id: string;
  /** 'video' | 'audio' | 'text' | 'other', from contentType, else mimeType, else codecs */
  type: 'video' | 'audio' | 'text' | 'other';
  adaptationSetId: string | undefined;
  mimeType: string | undefined;
  /** bits/s */
  bandwidth: number | undefined;
  codecs: string | undefined;
  width: number | undefined;
  height: number | undefined;
  /** frames per second, from frameRate like "30", "30000/1001" */
  frameRate: number | undefined;
  audioSamplingRate: number | undefined;
  /** AudioChannelConfiguration@value when present */
  channels: string | undefined;
  lang: string | undefined;
  /** SegmentTemplate@timescale, default 1 */
  timescale: number;
  /** SegmentTemplate@duration in timescale units; undefined with a SegmentTimeline */
  duration: number | undefined;
  /** default 1 */
  startNumber: number;
  /**
   * The number of the last segment a static MPD declares (from MPD@mediaPresentationDuration and
   * SegmentTemplate@duration, `$Number$` templates); undefined for a dynamic MPD, `$Time$` or a
   * SegmentTimeline. An event channel's static MPD (a VOD asset still being made) ends its
   * stream once this is in.
   */
  lastNumber: number | undefined;
  /** default 0 */
  presentationTimeOffset: number;
  /** Object key of the init segment (resolved), undefined when the template has no initialization */
  initKey: string | undefined;
  /** Directory key the media names are relative to, ending with '/' */
  mediaBase: string;
  /** The media template, compiled for this representation */
  media: SegmentNamePattern;
  /** Convenience: matches a full object key (mediaBase + name) and returns number or time */
  matchKey(key: string): SegmentValue | undefined;
}

/**
 * Largest MPD text read, in UTF-16 code units. A live ladder's MPD is a few KB; parsing runs on
 * the event loop that serves chunks, at roughly a second per MB, so a bigger one is refused.
 */
export const MAX_MPD_CHARS = 1 << 20;

// Elements read as lists even when there is one, so a second one is never silently a different shape.
const LIST_ELEMENTS = new Set([
  'Period',
  'AdaptationSet',
  'Representation',
  'BaseURL',
  'SegmentTemplate',
  'SegmentTimeline',
  'SegmentBase',
  'SegmentList',
  'AudioChannelConfiguration',
]);

const XML_BUILTIN = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

const isXmlChar = (c: number): boolean =>
  c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

/**
 * The parser's entity hook, so that only XML's own references are expanded: the five named
 * ones and character references. Entities a DOCTYPE declares are never expanded (no
 * billion-laughs, no size limits to tune); they are noted so the MPD can be refused.
 * (fast-xml-parser's own decoder leaves `&#38;` alone unless HTML entities are on.)
 */
class XmlBuiltinEntities implements EntityDecoderOptions {
  declaredEntities = 0;

  setExternalEntities(): void {}

  addInputEntities(entities: Record<string, string>): void {
    this.declaredEntities += Object.keys(entities).length;
  }

  reset(): void {}

  setXmlVersion(): void {}

  decode(text: string): string {
    if (typeof text !== 'string' || !text.includes('&')) return text;
    return text.replace(/&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|([a-z]{2,4}));/g, (ref, hex?: string, dec?: string, name?: string) => {
      if (name !== undefined) return XML_BUILTIN.get(name) ?? ref;
      const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      return isXmlChar(code) ? String.fromCodePoint(code) : ref;
    });
  }
}

function parserOptions(entities: XmlBuiltinEntities): X2jOptions {
  return {
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    // `<mpd:MPD xmlns:mpd="urn:mpeg:dash:schema:mpd:2011">` reads like the default-namespace form.
    removeNSPrefix: true,
    // Values stay strings: ids like "01" and codecs must not become numbers; numbers are parsed below, strictly.
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (name, _path, _isLeaf, isAttribute) => isAttribute !== true && LIST_ELEMENTS.has(name),
    // Must stay enabled for `&amp;` to be decoded at all; the limits bound the DOCTYPE reader,
    // whose declarations are refused anyway.
    processEntities: { enabled: true, maxEntityCount: 16, maxEntitySize: 1024 },
    entityDecoder: entities,
  };
}

type XmlNode = Record<string, unknown>;
const NO_NODE: XmlNode = Object.freeze({}) as XmlNode;

/** An element as an object (an element with neither attributes nor children parses as ''). */
const node = (x: unknown): XmlNode => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as XmlNode) : NO_NODE);

const own = (n: XmlNode, key: string): unknown => (Object.hasOwn(n, key) ? n[key] : undefined);

const children = (n: XmlNode, name: string): unknown[] => {
  const v = own(n, name);
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

const firstChild = (n: XmlNode, name: string): XmlNode | undefined => {
  const list = children(n, name);
  return list.length === 0 ? undefined : node(list[0]);
};

/** An attribute's value; absent and empty are the same thing to every caller. */
const attr = (n: XmlNode | undefined, name: string): string | undefined => {
  if (n === undefined) return undefined;
  const v = own(n, `@_${name}`);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

const textOf = (x: unknown): string => {
  if (typeof x === 'string') return x;
  const t = own(node(x), '#text');
  return typeof t === 'string' ? t : '';
};

/** Quotes a value for a reason, cut short: attribute values can be megabytes. */
const q = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** xs:unsignedInt-like: digits only, and exact as a JS number. */
function parseUint(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]{1,16}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parsePositive(s: string | undefined): number | undefined {
  const n = parseUint(s);
  return n !== undefined && n > 0 ? n : undefined;
}

/** DASH FrameRateType (`30`, `30000/1001`), and a decimal (`29.97`) as written by some tools. */
function parseFrameRate(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const ratio = /^([0-9]{1,9})(?:\/([0-9]{1,9}))?$/.exec(s);
  let fps: number;
  if (ratio !== null) fps = Number(ratio[1]) / (ratio[2] === undefined ? 1 : Number(ratio[2]));
  else if (/^[0-9]{1,9}\.[0-9]{1,9}$/.test(s)) fps = Number(s);
  else return undefined;
  return Number.isFinite(fps) && fps > 0 ? fps : undefined;
}

/** xs:duration as DASH writes it (`PT1M4.5S`, `P1DT2H`) to seconds; no years or months. */
function parseDuration(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^P(?:([0-9]+)D)?(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]+)?)S)?)?$/.exec(s);
  if (m === null || s === 'P' || s.endsWith('T')) return undefined;
  const [days, hours, minutes, seconds] = m.slice(1, 5).map((v) => (v === undefined ? 0 : Number(v)));
  const total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  return Number.isFinite(total) ? total : undefined;
}

/** xs:dateTime to epoch ms; no time zone is read as UTC, as DASH players do. */
function parseDateTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?$/.exec(s);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number(`${m[7] ?? ''}000`.slice(0, 3));
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter maps years 0-99 to 1900-1999.
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCDate() !== day) return undefined; // 2026-02-30
  d.setUTCHours(hour, minute, second, ms);
  let t = d.getTime();
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
    t -= zone[0] === '+' ? offset : -offset;
  }
  return Number.isFinite(t) ? t : undefined;
}

const VIDEO_CODECS = new Set(['avc1', 'avc3', 'hvc1', 'hev1', 'dvh1', 'dvhe', 'vp08', 'vp09', 'av01', 'vvc1', 'vvi1']);
const AUDIO_CODECS = new Set(['mp4a', 'ac-3', 'ec-3', 'ac-4', 'opus', 'flac', 'fLaC', 'dtsc', 'dtse', 'dtsh', 'dtsl', 'mha1', 'mhm1', 'alac']);
const TEXT_CODECS = new Set(['stpp', 'wvtt', 'tx3g', 'c608', 'ttml', 'vtt']);

function mediaType(contentType: string | undefined, mimeType: string | undefined, codecs: string | undefined): RenditionDecl['type'] {
  switch (contentType) {
    case 'video':
    case 'audio':
    case 'text':
      return contentType;
    case 'image':
    case 'application':
    case 'font':
      return 'other';
  }
  const mime = mimeType?.toLowerCase();
  if (mime !== undefined) {
    if (mime.startsWith('video/')) return 'video';
    if (mime.startsWith('audio/')) return 'audio';
    if (mime.startsWith('text/') || mime === 'application/ttml+xml') return 'text';
    // application/mp4 carries subtitles (stpp, wvtt) or anything else: the codecs tell.
  }
  if (codecs !== undefined) {
    const fourcc = codecs.split(',')[0].trim().split('.')[0];
    if (VIDEO_CODECS.has(fourcc)) return 'video';
    if (AUDIO_CODECS.has(fourcc)) return 'audio';
    if (TEXT_CODECS.has(fourcc)) return 'text';
  }
  return 'other';
}

type Resolved = { ok: true; path: string } | { ok: false; reason: string };

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Resolves a URI reference (a BaseURL, an init name, a template's directory) against a key, as
 * RFC 3986 does, into a key: percent-decoded per path segment. Query and fragment are dropped
 * (keys are paths). Written out rather than done with `new URL` because URL silently clamps
 * `..` at the root, and a name climbing above the root is a mistake to report.
 */
function resolveKey(ref: string, base: string, what: string): Resolved {
  if (SCHEME.test(ref) || ref.startsWith('//')) {
    return { ok: false, reason: `${what} ${q(ref)} is an absolute URL; only paths on this origin map to object keys` };
  }
  // URL parsers read '\' as '/' in http(s) URLs; a key would not. Neither reading is safe.
  if (ref.includes('\\')) return { ok: false, reason: `${what} ${q(ref)} contains a backslash` };
  const cut = ref.search(/[?#]/);
  const path = cut < 0 ? ref : ref.slice(0, cut);
  if (path === '') return { ok: true, path: base };
  const absolute = path.startsWith('/');
  const out = absolute ? [] : base.split('/').slice(1, -1);
  const segments = (absolute ? path.slice(1) : path).split('/');
  for (let i = 0; i < segments.length; i++) {
    let segment: string;
    try {
      segment = decodeURIComponent(segments[i]);
    } catch {
      return { ok: false, reason: `${what} ${q(ref)} has malformed percent-encoding` };
    }
    if (segment.includes('/')) return { ok: false, reason: `${what} ${q(ref)} encodes a "/" inside a path segment` };
    if (segment === '.' || segment === '..') {
      if (segment === '..') {
        if (out.length === 0) return { ok: false, reason: `${what} ${q(ref)} climbs above the root from ${q(base)}` };
        out.pop();
      }
      if (i === segments.length - 1) out.push(''); // "a/.." names a directory
    } else {
      out.push(segment);
    }
  }
  return { ok: true, path: `/${out.join('/')}` };
}

const directoryOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1);

/** The first BaseURL of an element, resolved against `base`; `base` itself without one. */
function applyBaseUrl(element: XmlNode, base: string, where: string): Resolved {
  const list = children(element, 'BaseURL');
  if (list.length === 0) return { ok: true, path: base };
  return resolveKey(textOf(list[0]).trim(), base, `BaseURL of ${where}`);
}

type Fail = { ok: false; reason: string };
const fail = (reason: string): Fail => ({ ok: false, reason });

/**
 * Reads an MPD and maps its renditions to object keys.
 *
 * @param text - The MPD as uploaded.
 * @param mpdKey - The MPD's object key (`/live/out.mpd`); relative names resolve against its directory.
 * @returns The declaration, or `{ ok: false, reason }` with a reason for the operator when the
 *   MPD is not well-formed XML or uses what the origin cannot map to keys. Never throws.
 */
export function readMpd(text: string, mpdKey: string): MpdResult {
  try {
    return read(text, mpdKey);
  } catch (e) {
    // Every known failure is answered above; this only keeps an unforeseen one from taking down the upload path.
    return fail(`the MPD could not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function read(text: string, mpdKey: string): MpdResult {
  if (typeof mpdKey !== 'string' || !mpdKey.startsWith('/')) return fail(`MPD key ${q(String(mpdKey))} is not an absolute path`);
  if (typeof text !== 'string') return fail('the MPD is not text');
  if (text.length > MAX_MPD_CHARS) return fail(`the MPD is larger than ${MAX_MPD_CHARS} characters`);

  // The parser alone accepts unclosed elements; the validator is the part of fast-xml-parser
  // that checks well-formedness, and says where.
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    return fail(`the MPD is not well-formed XML: ${String(msg).replace(/\.$/, '')} (line ${line}${col === undefined ? '' : `, column ${col}`})`);
  }
  const entities = new XmlBuiltinEntities();
  let doc: unknown;
  try {
    doc = new XMLParser(parserOptions(entities)).parse(text);
  } catch (e) {
    return fail(`the MPD could not be parsed as XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (entities.declaredEntities > 0) {
    return fail('the MPD declares entities in a DOCTYPE; an MPD needs none, and they are not expanded');
  }

  const roots = children(node(doc), 'MPD');
  if (roots.length === 0) return fail('no MPD root element: this is not a DASH MPD');
  if (roots.length > 1) return fail('more than one MPD root element');
  const mpd = node(roots[0]);

  const typeAttr = attr(mpd, 'type') ?? 'static';
  if (typeAttr !== 'dynamic' && typeAttr !== 'static') return fail(`MPD@type ${q(typeAttr)} is neither "dynamic" nor "static"`);
  const availabilityStartTime = parseDateTime(attr(mpd, 'availabilityStartTime'));

  const periods = children(mpd, 'Period');
  if (periods.length === 0) return fail('the MPD has no Period');
  if (periods.length > 1) return fail(`several periods are not supported (found ${periods.length})`);
  const period = node(periods[0]);

  const mpdBase = applyBaseUrl(mpd, mpdKey, 'the MPD');
  if (!mpdBase.ok) return mpdBase;
  const periodBase = applyBaseUrl(period, mpdBase.path, 'the Period');
  if (!periodBase.ok) return periodBase;

  // A static MPD's segments span its duration from the Period's start.
  const presentation = parseDuration(attr(mpd, 'mediaPresentationDuration'));
  const periodStart = parseDuration(attr(period, 'start')) ?? 0;
  const declaredSeconds = typeAttr === 'static' && presentation !== undefined ? presentation - periodStart : undefined;

  const renditions: RenditionDecl[] = [];
  const ids = new Set<string>();
  const adaptationSets = children(period, 'AdaptationSet').map(node);
  for (let a = 0; a < adaptationSets.length; a++) {
    const set = adaptationSets[a];
    const setId = attr(set, 'id');
    const setName = setId === undefined ? `AdaptationSet #${a + 1}` : `AdaptationSet ${q(setId)}`;
    const setBase = applyBaseUrl(set, periodBase.path, setName);
    if (!setBase.ok) return setBase;
    const representations = children(set, 'Representation').map(node);
    for (let r = 0; r < representations.length; r++) {
      const rep = representations[r];
      const id = attr(rep, 'id');
      if (id === undefined) return fail(`Representation #${r + 1} of ${setName} has no id`);
      if (ids.has(id)) return fail(`duplicate Representation id ${q(id)}: ids must be unique in a Period`);
      ids.add(id);
      const decl = readRepresentation(rep, id, set, setId, period, setBase.path, declaredSeconds);
      if (!decl.ok) return decl;
      renditions.push(decl.rendition);
    }
  }
  if (renditions.length === 0) return fail('the Period has no Representation');

  const clash = findClash(renditions);
  if (clash !== undefined) return fail(clash);

  const ended = typeAttr === 'static' || (attr(mpd, 'mediaPresentationDuration') !== undefined && attr(mpd, 'minimumUpdatePeriod') === undefined);
  return { ok: true, manifest: { type: typeAttr, availabilityStartTime, ended, renditions } };
}

function readRepresentation(
  rep: XmlNode,
  id: string,
  set: XmlNode,
  adaptationSetId: string | undefined,
  period: XmlNode,
  setBase: string,
  declaredSeconds: number | undefined,
): { ok: true; rendition: RenditionDecl } | Fail {
  const name = `Representation ${q(id)}`;
  // Representation values override their AdaptationSet's (DASH common attributes, 5.3.7).
  const inherited = (attribute: string): string | undefined => attr(rep, attribute) ?? attr(set, attribute);

  // Segment addressing is inherited too, so a SegmentList one level up is as fatal as one here.
  const levels = [
    { element: rep, where: 'Representation' },
    { element: set, where: 'AdaptationSet' },
    { element: period, where: 'Period' },
  ];
  for (const { element, where } of levels) {
    for (const other of ['SegmentBase', 'SegmentList']) {
      if (children(element, other).length > 0) {
        return fail(`${name} is addressed with ${other} (at ${where} level); only SegmentTemplate is supported`);
      }
    }
  }
  const templates = levels.map(({ element }) => firstChild(element, 'SegmentTemplate')).filter((t) => t !== undefined);
  if (templates.length === 0) return fail(`${name} has no SegmentTemplate at Representation, AdaptationSet or Period level`);
  // Attribute by attribute, the nearest level that has it wins.
  const templateAttr = (attribute: string): string | undefined => {
    for (const t of templates) {
      const v = attr(t, attribute);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const hasTimeline = templates.some((t) => children(t, 'SegmentTimeline').length > 0);

  // Numbers that place segments in time are refused when malformed rather than guessed.
  const timescaleAttr = templateAttr('timescale');
  const timescale = timescaleAttr === undefined ? 1 : parsePositive(timescaleAttr);
  if (timescale === undefined) return fail(`${name}: SegmentTemplate@timescale ${q(timescaleAttr ?? '')} is not a positive integer`);
  const durationAttr = templateAttr('duration');
  const duration = durationAttr === undefined ? undefined : parsePositive(durationAttr);
  if (durationAttr !== undefined && duration === undefined) {
    return fail(`${name}: SegmentTemplate@duration ${q(durationAttr)} is not a positive integer`);
  }
  const startNumberAttr = templateAttr('startNumber');
  const startNumber = startNumberAttr === undefined ? 1 : parseUint(startNumberAttr);
  if (startNumber === undefined) return fail(`${name}: SegmentTemplate@startNumber ${q(startNumberAttr ?? '')} is not an integer`);
  const ptoAttr = templateAttr('presentationTimeOffset');
  const presentationTimeOffset = ptoAttr === undefined ? 0 : parseUint(ptoAttr);
  if (presentationTimeOffset === undefined) {
    return fail(`${name}: SegmentTemplate@presentationTimeOffset ${q(ptoAttr ?? '')} is not an integer below 2^53`);
  }

  // Descriptive values: a malformed one is simply not declared.
  const bandwidth = parsePositive(attr(rep, 'bandwidth'));
  const mimeType = inherited('mimeType');
  const codecs = inherited('codecs');
  const channelsOf = (element: XmlNode): string | undefined => attr(firstChild(element, 'AudioChannelConfiguration'), 'value');

  const repBase = applyBaseUrl(rep, setBase, name);
  if (!repBase.ok) return repBase;

  let initKey: string | undefined;
  const initialization = templateAttr('initialization');
  if (initialization !== undefined) {
    if (/[?#]/.test(initialization)) return fail(`${name}: initialization template ${q(initialization)} has a query or fragment; keys are paths`);
    const initName = expandTemplate(initialization, id, bandwidth);
    if (isTemplateError(initName)) return fail(`${name}: initialization template ${q(initialization)} ${initName.error}`);
    const resolved = resolveKey(initName, repBase.path, `initialization of ${name}`);
    if (!resolved.ok) return resolved;
    initKey = resolved.path;
  }

  const mediaTemplate = templateAttr('media');
  if (mediaTemplate === undefined) return fail(`${name}: its SegmentTemplate has no media attribute`);
  if (/[?#]/.test(mediaTemplate)) return fail(`${name}: media template ${q(mediaTemplate)} has a query or fragment; keys are paths`);
  // A directory in the template (`$RepresentationID$/seg-$Number$.m4s`) is folded into mediaBase,
  // so that `..` in it is resolved once and names stay plain file names.
  const slash = mediaTemplate.lastIndexOf('/');
  let mediaBase = directoryOf(repBase.path);
  if (slash >= 0) {
    const dir = expandTemplate(mediaTemplate.slice(0, slash + 1), id, bandwidth);
    if (isTemplateError(dir)) return fail(`${name}: directory part of media template ${q(mediaTemplate)} ${dir.error}`);
    const resolved = resolveKey(dir, repBase.path, `media template of ${name}`);
    if (!resolved.ok) return resolved;
    mediaBase = directoryOf(resolved.path);
  }
  const media = compileTemplate(mediaTemplate.slice(slash + 1), id, bandwidth);
  if (isTemplateError(media)) return fail(`${name}: media template ${q(mediaTemplate)} ${media.error}`);

  const rendition: RenditionDecl = {
    id,
    type: mediaType(inherited('contentType'), mimeType, codecs),
    adaptationSetId,
    mimeType,
    bandwidth,
    codecs,
    width: parsePositive(inherited('width')),
    height: parsePositive(inherited('height')),
    frameRate: parseFrameRate(inherited('frameRate')),
    // "48000", or a range "44100 48000": the first is the rate.
    audioSamplingRate: parsePositive(inherited('audioSamplingRate')?.split(/\s+/)[0]),
    channels: channelsOf(rep) ?? channelsOf(set),
    lang: inherited('lang'),
    timescale,
    duration: hasTimeline ? undefined : duration,
    startNumber,
    // The count is rounded up (a last, shorter segment); a hair over a boundary is float noise.
    lastNumber:
      media.kind === 'number' && !hasTimeline && duration !== undefined && declaredSeconds !== undefined && declaredSeconds > 0
        ? startNumber + Math.ceil((declaredSeconds * timescale) / duration - 1e-6) - 1
        : undefined,
    presentationTimeOffset,
    initKey,
    mediaBase,
    media,
    matchKey: (key: string) => (typeof key === 'string' && key.startsWith(mediaBase) ? media.match(key.slice(mediaBase.length)) : undefined),
  };
  return { ok: true, rendition };
}

/**
 * Two renditions naming the same key would overwrite each other's segments (typically a
 * template without `$RepresentationID$`); the origin could not tell whose a key is.
 */
function findClash(renditions: RenditionDecl[]): string | undefined {
  const owners = new Map<string, string>();
  const claim = (key: string, id: string, what: string): string | undefined => {
    const owner = owners.get(key);
    if (owner !== undefined && owner !== id) return `Representations ${q(owner)} and ${q(id)} use the same ${what} key ${q(key)}`;
    owners.set(key, id);
    return undefined;
  };
  for (const r of renditions) {
    if (r.initKey === undefined) continue;
    const clash = claim(r.initKey, r.id, 'init segment');
    if (clash !== undefined) return clash;
  }
  // One sample per rendition, with the same digits for $Number$ and $Time$ and wider than any
  // usual padding, finds templates that differ in nothing that tells renditions apart.
  const digits = '1234567890123456';
  for (const r of renditions) {
    const key = r.mediaBase + r.media.format(r.media.kind === 'number' ? { number: Number(digits) } : { time: BigInt(digits) });
    const clash = claim(key, r.id, 'media segment');
    if (clash !== undefined) return clash;
  }
  return undefined;
}
