// A strict LL-HLS playlist validator for the tests: every playlist a test fetches goes through
// it. Written from draft-pantos-hls-rfc8216bis-22 (section numbers below are that draft's) and
// Apple's "HLS authoring specification for Apple devices" (rule 14.x: low latency; it makes the
// draft's Appendix B.1 Low-Latency Server Configuration Profile mandatory). It reports every
// violation it finds, each with its line, and cross-checks a few facts with an independent
// parser (hls-parser) so that a bug in this file does not silently pass a bad playlist.
// A namespace import, not `import HLS from 'hls-parser'`: hls-parser is CommonJS marked
// __esModule, so under `uvu -r tsx` (tsx compiles the tests to CommonJS) the default import is
// its missing `exports.default`. The namespace works there and in native ESM alike.
import * as HLS from 'hls-parser';

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** What `MediaPlaylistTracker.check` learned about one media playlist. */
export interface MediaPlaylistSummary {
  /** EXT-X-MEDIA-SEQUENCE (counts skipped segments too). */
  mediaSequence: number;
  /** Media sequence number of the newest segment or part listed (the in-progress segment's when it has parts). */
  lastMsn: number;
  /** Part index of the last part of `lastMsn`'s parent segment, -1 if none is listed. */
  lastPart: number;
  /** EXT-X-PART-INF PART-TARGET, in seconds. */
  partTarget: number | undefined;
  /** Complete segments listed (EXTINF + URI), not counting skipped ones. */
  segments: number;
  /** EXT-X-PART tags listed, in complete and in-progress segments. */
  parts: number;
  endList: boolean;
  /** EXT-X-SKIP SKIPPED-SEGMENTS, 0 without a skip. */
  skipped: number;
}

/** Options of `MediaPlaylistTracker.check`. */
export interface MediaCheckOptions {
  /** The request asked for a Playlist Delta Update (`_HLS_skip=YES`). */
  delta?: boolean;
  /**
   * URIs, as the playlist writes them (relative), of every other media playlist of the
   * presentation: each must have exactly one EXT-X-RENDITION-REPORT (Appendix B.1).
   */
  otherRenditionUris?: string[];
}

/** A variant stream of a multivariant playlist. */
export interface VariantSummary {
  uri: string;
  bandwidth: number;
  codecs: string | undefined;
  resolution?: string;
  audio?: string;
}

/** A rendition (EXT-X-MEDIA) of a multivariant playlist. */
export interface MediaSummary {
  type: string;
  groupId: string;
  uri: string | undefined;
}

/** What `checkMultivariant` learned about a multivariant playlist. */
export interface MultivariantSummary {
  variants: VariantSummary[];
  media: MediaSummary[];
}

/**
 * One rendition's playlist history across reloads: create one per media playlist URL, and
 * call `check` on every version of that playlist a test fetches.
 */
export class MediaPlaylistTracker {
  /**
   * hls-parser complaints about playlists the RFC allows (see `HLS_PARSER_STRICTER_THAN_RFC`):
   * not violations, but kept here, each once, so that a test can see and assert them.
   */
  readonly parserDeviations = new Set<string>();
  private previous: PlaylistState | undefined;
  /** What earlier versions said about each media sequence number still in the window. */
  private readonly history = new Map<number, SegmentRecord>();

  /** @param name the playlist's URI as other playlists' rendition reports name it (e.g. `out_0.m3u8`). */
  constructor(readonly name: string) {}

  /**
   * Validates one fetched media playlist text; throws an Error listing every violation found
   * (not just the first). `delta` says whether the request asked for `_HLS_skip`. The
   * tracker remembers this version even when it throws, to compare the next one with it.
   */
  check(text: string, opts: MediaCheckOptions = {}): MediaPlaylistSummary {
    const findings = new Findings();
    const model = parseMediaPlaylist(text, findings);
    checkMediaPlaylist(model, opts, this.name, findings);
    const summary = summarize(model);
    this.compareWithEarlierVersions(model, summary, findings);
    crossCheckMedia(text, model, summary, findings, this.parserDeviations);
    findings.throwIfAny(`media playlist ${this.name}`);
    return summary;
  }

  /** §6.2.1: a live playlist only grows at its end and loses segments at its start. */
  private compareWithEarlierVersions(m: MediaModel, summary: MediaPlaylistSummary, f: Findings): void {
    const now: PlaylistState = {
      targetDuration: m.targetDuration,
      partTarget: m.partTarget,
      partHoldBack: m.serverControl?.partHoldBack,
      mediaSequence: summary.mediaSequence,
      discontinuitySequence: m.discontinuitySequence,
      lastMsn: summary.lastMsn,
      lastPart: summary.lastPart,
      endList: m.endList,
    };
    const before = this.previous;
    if (before !== undefined) {
      // §6.2.1 / §4.4.3.1: the target duration is fixed for the life of the playlist.
      if (now.targetDuration !== before.targetDuration) {
        f.add(m.lines.targetDuration, '§6.2.1 EXT-X-TARGETDURATION', `changed from ${before.targetDuration} to ${now.targetDuration}`);
      }
      // Players size their part buffering from these; a change across reloads is not allowed.
      if (now.partTarget !== before.partTarget) {
        f.add(m.lines.partInf, '§4.4.3.7 PART-TARGET', `PART-TARGET changed from ${before.partTarget} to ${now.partTarget}`);
      }
      if (now.partHoldBack !== before.partHoldBack) {
        f.add(m.serverControl?.line, '§4.4.3.8 PART-HOLD-BACK', `PART-HOLD-BACK changed from ${before.partHoldBack} to ${now.partHoldBack}`);
      }
      if (now.mediaSequence < before.mediaSequence) {
        f.add(m.lines.mediaSequence, '§6.2.1 EXT-X-MEDIA-SEQUENCE', `MEDIA-SEQUENCE went back from ${before.mediaSequence} to ${now.mediaSequence}`);
      }
      if (now.discontinuitySequence < before.discontinuitySequence) {
        f.add(m.lines.discontinuitySequence, '§6.2.1 EXT-X-DISCONTINUITY-SEQUENCE', `went back from ${before.discontinuitySequence} to ${now.discontinuitySequence}`);
      }
      if (now.lastMsn < before.lastMsn || (now.lastMsn === before.lastMsn && now.lastPart < before.lastPart)) {
        f.add(undefined, '§6.2.1 live edge', `live edge went back from ${before.lastMsn}.${before.lastPart} to ${now.lastMsn}.${now.lastPart}`);
      }
      if (before.endList && !now.endList) {
        f.add(undefined, '§6.2.1 EXT-X-ENDLIST', 'EXT-X-ENDLIST disappeared after it was seen');
      }
    }
    this.previous = now;

    for (const segment of m.segments) this.compareSegment(segment.msn, segment.line, segment.uri, segment.duration, segment.parts, f);
    if (m.open.length > 0) this.compareSegment(summary.lastMsn, m.open[0].line, undefined, undefined, m.open, f);
    // Nothing older than the media sequence can come back (that is reported above), so the
    // history keeps only the window: long soak tests do not grow it without bound.
    for (const msn of this.history.keys()) if (msn < now.mediaSequence) this.history.delete(msn);
  }

  /** Segment identity (§6.2.1: the server must not change a listed segment): URI, EXTINF, parts. */
  private compareSegment(msn: number, line: number, uri: string | undefined, duration: number | undefined, parts: Part[], f: Findings): void {
    const complete = uri !== undefined;
    const record = this.history.get(msn);
    const listed = parts.map(partRecord);
    if (record === undefined) {
      this.history.set(msn, { uri, duration, parts: listed });
      return;
    }
    if (record.uri !== undefined) {
      if (!complete) {
        f.add(line, '§6.2.1 segment identity', `MSN ${msn} was a complete segment (${record.uri}) and is now listed as in progress`);
      } else if (uri !== record.uri) {
        f.add(line, '§6.2.1 segment identity', `URI changed for MSN ${msn}: ${record.uri} before, ${uri} now`);
      } else if (duration !== record.duration) {
        f.add(line, '§6.2.1 segment identity', `EXTINF changed for MSN ${msn}: ${record.duration} before, ${duration} now`);
      }
    }
    // Parts may all be removed from an older segment (§6.2.2), but a listed part list only
    // grows, and a part once published keeps its URI, byte range and duration.
    if (listed.length > 0) {
      if (listed.length < record.parts.length) {
        f.add(line, '§6.2.1 part identity', `MSN ${msn} listed ${record.parts.length} parts before and ${listed.length} now`);
      }
      const common = Math.min(listed.length, record.parts.length);
      for (let i = 0; i < common; i++) {
        const was = record.parts[i];
        const is = listed[i];
        if (was.uri !== is.uri || was.range !== is.range || was.duration !== is.duration) {
          f.add(parts[i].line, '§6.2.1 part identity', `part ${msn}.${i} changed: ${describePart(was)} before, ${describePart(is)} now`);
        }
      }
    }
    if (complete) {
      record.uri = uri;
      record.duration = duration;
    }
    if (listed.length > record.parts.length) record.parts = listed;
  }
}

/**
 * Validates a multivariant playlist (§4.4.6); throws an Error listing every violation found.
 * Returns its variants and renditions.
 */
export function checkMultivariant(text: string): MultivariantSummary {
  const f = new Findings();
  const all = splitLines(text);
  if (all[0]?.text !== '#EXTM3U') f.add(all[0]?.n ?? 1, '§4.4.1.1 EXTM3U', 'the first line must be #EXTM3U');
  const variants: (VariantSummary & { line: number; video?: string; subtitles?: string; closedCaptions?: string })[] = [];
  const media: (MediaSummary & { line: number; name?: string; isDefault: boolean })[] = [];
  let pending: { line: number; attrs: Attributes } | undefined;

  for (const line of all) {
    if (line.tag === 'EXTM3U') continue;
    if (line.tag !== undefined && pending !== undefined) {
      // §4.4.6.2: "The URI line that follows the EXT-X-STREAM-INF tag".
      f.add(pending.line, '§4.4.6.2 EXT-X-STREAM-INF', `must be followed by its URI line, found ${line.tag} on line ${line.n}`);
      pending = undefined;
    }
    if (line.tag === undefined) {
      if (pending === undefined) {
        f.add(line.n, '§4.4.6.2 EXT-X-STREAM-INF', `URI line "${line.text}" without an EXT-X-STREAM-INF`);
        continue;
      }
      variants.push(streamInf(pending.line, pending.attrs, line.text, f));
      pending = undefined;
    } else if (line.tag === 'EXT-X-STREAM-INF') {
      pending = { line: line.n, attrs: new Attributes(line, f) };
    } else if (line.tag === 'EXT-X-MEDIA') {
      media.push(mediaTag(line, f));
    } else if (line.tag === 'EXT-X-I-FRAME-STREAM-INF') {
      const a = new Attributes(line, f);
      a.integer('BANDWIDTH', true);
      a.quoted('URI', true);
    } else if (MEDIA_PLAYLIST_TAGS.has(line.tag)) {
      // §4.1: a playlist is either a media playlist or a multivariant playlist.
      f.add(line.n, '§4.1 playlist type', `media playlist tag ${line.tag} in a multivariant playlist`);
    }
  }
  if (pending !== undefined) f.add(pending.line, '§4.4.6.2 EXT-X-STREAM-INF', 'must be followed by its URI line');

  // §4.4.6.2: AUDIO, VIDEO, SUBTITLES, CLOSED-CAPTIONS must name a group of that TYPE.
  for (const v of variants) {
    const refs: [string, string | undefined][] = [['AUDIO', v.audio], ['VIDEO', v.video], ['SUBTITLES', v.subtitles], ['CLOSED-CAPTIONS', v.closedCaptions]];
    for (const [type, group] of refs) {
      if (group === undefined || (type === 'CLOSED-CAPTIONS' && group === 'NONE')) continue;
      if (!media.some((r) => r.type === type && r.groupId === group)) {
        f.add(v.line, '§4.4.6.2 EXT-X-STREAM-INF', `${type} group "${group}" has no EXT-X-MEDIA with TYPE=${type},GROUP-ID="${group}"`);
      }
    }
  }
  // §4.4.6.1.1: within a group, names are unique and at most one member is the default.
  const groups = new Map<string, typeof media>();
  for (const r of media) {
    const key = `${r.type} ${r.groupId}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, members] of groups) {
    const names = members.map((r) => r.name);
    members.forEach((r, i) => {
      if (names.indexOf(r.name) !== i) f.add(r.line, '§4.4.6.1.1 EXT-X-MEDIA', `NAME "${r.name}" used twice in group ${key}`);
    });
    if (members.filter((r) => r.isDefault).length > 1) f.add(members[0].line, '§4.4.6.1.1 EXT-X-MEDIA', `more than one DEFAULT=YES in group ${key}`);
  }

  crossCheckMultivariant(text, variants, f);
  f.throwIfAny('multivariant playlist');
  return {
    variants: variants.map(({ uri, bandwidth, codecs, resolution, audio }) => ({
      uri,
      bandwidth,
      codecs,
      ...(resolution === undefined ? {} : { resolution }),
      ...(audio === undefined ? {} : { audio }),
    })),
    media: media.map(({ type, groupId, uri }) => ({ type, groupId, uri })),
  };
}

// ---------------------------------------------------------------------------------------------
// Findings, lines and attribute lists
// ---------------------------------------------------------------------------------------------

/** Every violation found in one playlist, as `line N: <rule>: <detail>`. */
class Findings {
  readonly list: string[] = [];

  add(line: number | undefined, rule: string, detail: string): void {
    this.list.push(`${line === undefined ? 'playlist' : `line ${line}`}: ${rule}: ${detail}`);
  }

  throwIfAny(what: string): void {
    if (this.list.length === 0) return;
    throw new Error(`${what}: ${this.list.length} violation(s)\n  ${this.list.join('\n  ')}`);
  }
}

/** A non-blank playlist line: a tag (`#EXT...`) or a URI. Comments are dropped (§4.1). */
interface Line {
  /** 1-based line number in the text. */
  n: number;
  text: string;
  /** Tag name without `#`, e.g. `EXT-X-PART`; undefined for a URI line. */
  tag?: string;
  /** What follows the `:` of a tag. */
  value: string;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  // §4.1: lines end with LF or CR LF; blank lines are ignored.
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw === '') return;
    if (!raw.startsWith('#')) {
      out.push({ n: i + 1, text: raw, value: '' });
    } else if (raw.startsWith('#EXT')) {
      const colon = raw.indexOf(':');
      const tag = colon < 0 ? raw.slice(1) : raw.slice(1, colon);
      out.push({ n: i + 1, text: raw, tag, value: colon < 0 ? '' : raw.slice(colon + 1) });
    }
  });
  return out;
}

const DECIMAL_INTEGER = /^\d{1,20}$/;
const DECIMAL_FLOAT = /^\d+(\.\d+)?$/;

/** A parsed attribute-list (§4.2), reporting malformed or mistyped attributes as it is read. */
class Attributes {
  private readonly values = new Map<string, { raw: string; quoted: boolean }>();
  private readonly line: number;
  private readonly tag: string;

  constructor(line: Line, private readonly f: Findings) {
    this.line = line.n;
    this.tag = line.tag ?? '';
    const text = line.value;
    let i = 0;
    while (i < text.length) {
      const eq = text.indexOf('=', i);
      if (eq < 0) {
        f.add(this.line, '§4.2 attribute list', `${this.tag}: "${text.slice(i)}" is not NAME=value`);
        return;
      }
      const name = text.slice(i, eq);
      if (!/^[A-Z0-9-]+$/.test(name)) f.add(this.line, '§4.2 attribute list', `${this.tag}: bad attribute name "${name}"`);
      let raw: string;
      let quoted = false;
      let next: number;
      if (text[eq + 1] === '"') {
        const close = text.indexOf('"', eq + 2);
        if (close < 0) {
          f.add(this.line, '§4.2 attribute list', `${this.tag}: unterminated quoted-string for ${name}`);
          return;
        }
        raw = text.slice(eq + 2, close);
        quoted = true;
        next = close + 1;
      } else {
        const comma = text.indexOf(',', eq + 1);
        next = comma < 0 ? text.length : comma;
        raw = text.slice(eq + 1, next);
      }
      if (next < text.length && text[next] !== ',') {
        f.add(this.line, '§4.2 attribute list', `${this.tag}: expected "," after ${name}`);
        return;
      }
      // §4.2: "A given AttributeName MUST NOT appear more than once in a given attribute-list."
      if (this.values.has(name)) f.add(this.line, '§4.2 attribute list', `${this.tag}: ${name} appears twice`);
      this.values.set(name, { raw, quoted });
      i = next + 1;
    }
  }

  /** The attribute as written, for values that may be quoted or not (CLOSED-CAPTIONS). */
  raw(name: string): { raw: string; quoted: boolean } | undefined {
    return this.values.get(name);
  }

  /** A quoted-string attribute. */
  quoted(name: string, required = false): string | undefined {
    const v = this.get(name, required);
    if (v === undefined) return undefined;
    if (!v.quoted) this.f.add(this.line, '§4.2 attribute list', `${this.tag} ${name} must be a quoted-string`);
    return v.raw;
  }

  /** An enumerated-string (unquoted) attribute. */
  token(name: string, required = false): string | undefined {
    const v = this.get(name, required);
    if (v === undefined) return undefined;
    if (v.quoted) this.f.add(this.line, '§4.2 attribute list', `${this.tag} ${name} must not be quoted`);
    return v.raw;
  }

  /** A decimal-integer attribute. */
  integer(name: string, required = false): number | undefined {
    return this.number(name, required, DECIMAL_INTEGER, 'a decimal-integer');
  }

  /** A (non-negative) decimal-floating-point attribute. */
  decimal(name: string, required = false): number | undefined {
    return this.number(name, required, DECIMAL_FLOAT, 'a decimal-floating-point');
  }

  private number(name: string, required: boolean, syntax: RegExp, what: string): number | undefined {
    const v = this.get(name, required);
    if (v === undefined) return undefined;
    if (v.quoted || !syntax.test(v.raw)) {
      this.f.add(this.line, '§4.2 attribute list', `${this.tag} ${name}=${v.quoted ? `"${v.raw}"` : v.raw} is not ${what}`);
      return undefined;
    }
    return Number(v.raw);
  }

  private get(name: string, required: boolean): { raw: string; quoted: boolean } | undefined {
    const v = this.values.get(name);
    if (v === undefined && required) this.f.add(this.line, `${this.tag}`, `${name} attribute is required`);
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Media playlist model
// ---------------------------------------------------------------------------------------------

interface ByteRange {
  length: number;
  /** Resolved start: written `@o`, or the end of the previous sub-range of the same resource. */
  offset: number;
}

interface Part {
  line: number;
  uri: string;
  duration: number | undefined;
  independent: boolean;
  gap: boolean;
  range: ByteRange | undefined;
}

interface Segment {
  msn: number;
  /** Line of the URI. */
  line: number;
  extinfLine: number | undefined;
  uri: string;
  duration: number | undefined;
  parts: Part[];
  range: ByteRange | undefined;
}

interface Hint {
  line: number;
  type: string | undefined;
  uri: string | undefined;
  start: number | undefined;
}

interface Report {
  line: number;
  uri: string | undefined;
  lastMsn: number | undefined;
  lastPart: number | undefined;
}

interface ServerControl {
  line: number;
  canBlockReload: boolean;
  partHoldBack: number | undefined;
  holdBack: number | undefined;
  canSkipUntil: number | undefined;
  canSkipDateranges: boolean;
}

/** One media playlist as written, with the line of each fact a rule may point at. */
interface MediaModel {
  version: number | undefined;
  targetDuration: number | undefined;
  mediaSequence: number | undefined;
  discontinuitySequence: number;
  partTarget: number | undefined;
  serverControl: ServerControl | undefined;
  skip: { line: number; segments: number | undefined } | undefined;
  endList: boolean;
  /** Complete segments listed (after any skip), in order, with their MSN. */
  segments: Segment[];
  /** Parts after the last segment URI: the in-progress segment. */
  open: Part[];
  hints: Hint[];
  reports: Report[];
  /** The first EXT-X-PART or segment URI line. */
  firstMediaLine: number | undefined;
  pdtBeforeMedia: boolean;
  mapBeforeMedia: boolean;
  hasMap: boolean;
  hasByterangeTag: boolean;
  hasFractionalExtinf: boolean;
  lines: {
    first: number;
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    partInf?: number;
    endList?: number;
  };
}

/** Tags that may appear at most once in a media playlist (§4.4.1.2, §4.4.3, §4.4.5). */
const ONCE = new Set([
  'EXT-X-VERSION', 'EXT-X-TARGETDURATION', 'EXT-X-MEDIA-SEQUENCE', 'EXT-X-DISCONTINUITY-SEQUENCE', 'EXT-X-ENDLIST',
  'EXT-X-PLAYLIST-TYPE', 'EXT-X-I-FRAMES-ONLY', 'EXT-X-PART-INF', 'EXT-X-SERVER-CONTROL', 'EXT-X-SKIP',
]);
const MULTIVARIANT_TAGS = new Set(['EXT-X-STREAM-INF', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-MEDIA', 'EXT-X-SESSION-DATA', 'EXT-X-SESSION-KEY', 'EXT-X-CONTENT-STEERING']);
/** Tags only a media playlist may have (§4.4.3, §4.4.4, §4.4.5). */
const MEDIA_PLAYLIST_TAGS = new Set([
  'EXT-X-TARGETDURATION', 'EXT-X-MEDIA-SEQUENCE', 'EXT-X-DISCONTINUITY-SEQUENCE', 'EXT-X-ENDLIST', 'EXT-X-PLAYLIST-TYPE',
  'EXT-X-I-FRAMES-ONLY', 'EXT-X-PART-INF', 'EXT-X-SERVER-CONTROL', 'EXTINF', 'EXT-X-BYTERANGE', 'EXT-X-DISCONTINUITY',
  'EXT-X-KEY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME', 'EXT-X-GAP', 'EXT-X-PART', 'EXT-X-SKIP', 'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
]);
/** Media segment tags that apply to a parent segment and so to its first part (§4.4.4.9). */
const PARENT_TAGS = new Set(['EXT-X-DISCONTINUITY', 'EXT-X-MAP', 'EXT-X-PROGRAM-DATE-TIME', 'EXT-X-KEY']);

function parseMediaPlaylist(text: string, f: Findings): MediaModel {
  const all = splitLines(text);
  const m: MediaModel = {
    version: undefined, targetDuration: undefined, mediaSequence: undefined, discontinuitySequence: 0,
    partTarget: undefined, serverControl: undefined, skip: undefined, endList: false,
    segments: [], open: [], hints: [], reports: [], firstMediaLine: undefined,
    pdtBeforeMedia: false, mapBeforeMedia: false, hasMap: false, hasByterangeTag: false, hasFractionalExtinf: false,
    lines: { first: all[0]?.n ?? 1 },
  };
  // §4.4.1.1: "It MUST be the first line of every Media Playlist".
  if (all[0]?.text !== '#EXTM3U') f.add(all[0]?.n ?? 1, '§4.4.1.1 EXTM3U', 'the first line must be #EXTM3U');

  const seen = new Map<string, number>();
  let pending = { parts: [] as Part[], extinf: undefined as { line: number; duration: number | undefined } | undefined, range: undefined as ByteRange | undefined, rangeLine: 0 };
  let previousPart: Part | undefined;
  let previousSegment: Segment | undefined;
  /** Where the last sub-range of each resource ended, for contiguity (§4.4.4.9 BYTERANGE). */
  const rangeEnds = new Map<string, { end: number; line: number }>();
  const wholeParts = new Map<string, number>();

  for (const line of all) {
    if (line.tag === undefined) {
      // A segment URI line: it closes the parent segment of the parts before it.
      m.firstMediaLine ??= line.n;
      // §4.4.4.1: "This tag is REQUIRED for each Media Segment."
      if (pending.extinf === undefined) f.add(line.n, '§4.4.4.1 EXTINF', `URI line "${line.text}" has no EXTINF`);
      let range = pending.range;
      if (range !== undefined && range.offset < 0) {
        // §4.4.4.2: without @o the sub-range follows the previous segment's, of the same resource.
        if (previousSegment?.range !== undefined && previousSegment.uri === line.text) {
          range = { length: range.length, offset: previousSegment.range.offset + previousSegment.range.length };
        } else {
          f.add(pending.rangeLine, '§4.4.4.2 EXT-X-BYTERANGE', 'no offset, and the previous segment is not a sub-range of the same resource');
          range = undefined;
        }
      }
      const segment: Segment = { msn: -1, line: line.n, extinfLine: pending.extinf?.line, uri: line.text, duration: pending.extinf?.duration, parts: pending.parts, range };
      m.segments.push(segment);
      previousSegment = segment;
      pending = { parts: [], extinf: undefined, range: undefined, rangeLine: 0 };
      continue;
    }

    const tag = line.tag;
    if (tag === 'EXTM3U') continue;
    if (ONCE.has(tag)) {
      const first = seen.get(tag);
      if (first !== undefined) f.add(line.n, `§4.4.3 ${tag}`, `appears again (first on line ${first})`);
      else seen.set(tag, line.n);
    }
    if (PARENT_TAGS.has(tag) && pending.parts.length > 0) {
      // §4.4.4.9: tags applied to a parent segment also apply to its first part, "so they MUST
      // appear before the first EXT-X-PART tag of the Parent Segment".
      f.add(line.n, '§4.4.4.9 parent segment tags', `${tag} must come before the first EXT-X-PART of its parent segment (line ${pending.parts[0].line})`);
    }
    if (MULTIVARIANT_TAGS.has(tag)) f.add(line.n, '§4.1 playlist type', `multivariant playlist tag ${tag} in a media playlist`);

    switch (tag) {
      case 'EXT-X-VERSION':
        m.version = integerValue(line, f);
        m.lines.version = line.n;
        break;
      case 'EXT-X-TARGETDURATION':
        m.targetDuration = integerValue(line, f);
        m.lines.targetDuration = line.n;
        break;
      case 'EXT-X-MEDIA-SEQUENCE':
        m.mediaSequence = integerValue(line, f);
        m.lines.mediaSequence = line.n;
        // §4.4.3.2: "MUST appear before the first Media Segment in the Playlist".
        if (m.firstMediaLine !== undefined) f.add(line.n, '§4.4.3.2 EXT-X-MEDIA-SEQUENCE', 'must appear before the first segment');
        break;
      case 'EXT-X-DISCONTINUITY-SEQUENCE':
        m.discontinuitySequence = integerValue(line, f) ?? 0;
        m.lines.discontinuitySequence = line.n;
        if (m.firstMediaLine !== undefined) f.add(line.n, '§4.4.3.3 EXT-X-DISCONTINUITY-SEQUENCE', 'must appear before the first segment');
        break;
      case 'EXT-X-ENDLIST':
        m.endList = true;
        m.lines.endList = line.n;
        break;
      case 'EXT-X-PART-INF': {
        const a = new Attributes(line, f);
        m.partTarget = a.decimal('PART-TARGET', true);
        m.lines.partInf = line.n;
        if (m.partTarget === 0) f.add(line.n, '§4.4.3.7 EXT-X-PART-INF', 'PART-TARGET must be positive');
        break;
      }
      case 'EXT-X-SERVER-CONTROL': {
        const a = new Attributes(line, f);
        const block = a.token('CAN-BLOCK-RELOAD');
        const dateranges = a.token('CAN-SKIP-DATERANGES');
        for (const [name, value] of [['CAN-BLOCK-RELOAD', block], ['CAN-SKIP-DATERANGES', dateranges]]) {
          if (value !== undefined && value !== 'YES') f.add(line.n, '§4.4.3.8 EXT-X-SERVER-CONTROL', `${name} must be YES when present, not ${value}`);
        }
        m.serverControl = {
          line: line.n,
          canBlockReload: block === 'YES',
          partHoldBack: a.decimal('PART-HOLD-BACK'),
          holdBack: a.decimal('HOLD-BACK'),
          canSkipUntil: a.decimal('CAN-SKIP-UNTIL'),
          canSkipDateranges: dateranges === 'YES',
        };
        break;
      }
      case 'EXT-X-SKIP': {
        const a = new Attributes(line, f);
        m.skip = { line: line.n, segments: a.integer('SKIPPED-SEGMENTS', true) };
        // §4.4.5.2: it replaces the oldest segments, so nothing listed may come before it.
        if (m.firstMediaLine !== undefined) f.add(line.n, '§4.4.5.2 EXT-X-SKIP', `must come before the first segment or part (line ${m.firstMediaLine})`);
        break;
      }
      case 'EXTINF': {
        const match = /^(\d+(?:\.\d+)?),/.exec(line.value);
        // §4.4.4.1: #EXTINF:<duration>,[<title>]
        if (match === null) f.add(line.n, '§4.4.4.1 EXTINF', `"${line.value}" is not <duration>,[<title>]`);
        if (pending.extinf !== undefined) f.add(line.n, '§4.4.4.1 EXTINF', `second EXTINF before a URI line (first on line ${pending.extinf.line})`);
        if (match !== null && !Number.isInteger(Number(match[1]))) m.hasFractionalExtinf = true;
        pending.extinf = { line: line.n, duration: match === null ? undefined : Number(match[1]) };
        break;
      }
      case 'EXT-X-BYTERANGE': {
        m.hasByterangeTag = true;
        const range = parseByteRange(line.value);
        if (range === undefined) f.add(line.n, '§4.4.4.2 EXT-X-BYTERANGE', `"${line.value}" is not <n>[@<o>]`);
        else pending.range = { length: range.length, offset: range.offset ?? -1 };
        pending.rangeLine = line.n;
        break;
      }
      case 'EXT-X-MAP': {
        new Attributes(line, f).quoted('URI', true);
        m.hasMap = true;
        if (m.firstMediaLine === undefined) m.mapBeforeMedia = true;
        break;
      }
      case 'EXT-X-PROGRAM-DATE-TIME':
        // §4.4.4.6: an ISO/IEC 8601:2004 date-time with a time zone.
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(line.value) || Number.isNaN(Date.parse(line.value))) {
          f.add(line.n, '§4.4.4.6 EXT-X-PROGRAM-DATE-TIME', `"${line.value}" is not a date-time with time zone`);
        }
        if (m.firstMediaLine === undefined) m.pdtBeforeMedia = true;
        break;
      case 'EXT-X-PART': {
        m.firstMediaLine ??= line.n;
        const part = parsePart(line, f, previousPart, rangeEnds, wholeParts);
        // §3.2: parts come before their parent's EXTINF and URI, never between them.
        if (pending.extinf !== undefined) f.add(line.n, '§4.4.4.9 EXT-X-PART', `part between an EXTINF (line ${pending.extinf.line}) and its URI line`);
        pending.parts.push(part);
        previousPart = part;
        break;
      }
      case 'EXT-X-PRELOAD-HINT': {
        const a = new Attributes(line, f);
        const type = a.token('TYPE', true);
        if (type !== undefined && type !== 'PART' && type !== 'MAP') f.add(line.n, '§4.4.5.3 EXT-X-PRELOAD-HINT', `TYPE must be PART or MAP, not ${type}`);
        a.integer('BYTERANGE-LENGTH');
        m.hints.push({ line: line.n, type, uri: a.quoted('URI', true), start: a.integer('BYTERANGE-START') });
        break;
      }
      case 'EXT-X-RENDITION-REPORT': {
        const a = new Attributes(line, f);
        m.reports.push({ line: line.n, uri: a.quoted('URI', true), lastMsn: a.integer('LAST-MSN'), lastPart: a.integer('LAST-PART') });
        break;
      }
      default:
        // §6.3.1: unknown tags are ignored.
        break;
    }
  }
  if (pending.extinf !== undefined) f.add(pending.extinf.line, '§4.4.4.1 EXTINF', 'EXTINF without a URI line after it');
  m.open = pending.parts;

  // MSNs: the first listed segment is MEDIA-SEQUENCE + SKIPPED-SEGMENTS (§4.4.3.2, §4.4.5.2).
  const firstMsn = (m.mediaSequence ?? 0) + (m.skip?.segments ?? 0);
  m.segments.forEach((segment, i) => (segment.msn = firstMsn + i));
  return m;
}

function integerValue(line: Line, f: Findings): number | undefined {
  if (!DECIMAL_INTEGER.test(line.value)) {
    f.add(line.n, line.tag ?? '', `"${line.value}" is not a decimal-integer`);
    return undefined;
  }
  return Number(line.value);
}

/** `<n>[@<o>]` (§4.4.4.2). */
function parseByteRange(text: string): { length: number; offset: number | undefined } | undefined {
  const match = /^(\d+)(?:@(\d+))?$/.exec(text);
  if (match === null) return undefined;
  return { length: Number(match[1]), offset: match[2] === undefined ? undefined : Number(match[2]) };
}

/** One EXT-X-PART (§4.4.4.9), with its byte range resolved and checked for contiguity. */
function parsePart(line: Line, f: Findings, previous: Part | undefined, rangeEnds: Map<string, { end: number; line: number }>, wholeParts: Map<string, number>): Part {
  const a = new Attributes(line, f);
  const uri = a.quoted('URI', true) ?? '';
  const duration = a.decimal('DURATION', true);
  const independent = a.token('INDEPENDENT');
  const gap = a.token('GAP');
  for (const [name, value] of [['INDEPENDENT', independent], ['GAP', gap]]) {
    if (value !== undefined && value !== 'YES') f.add(line.n, '§4.4.4.9 EXT-X-PART', `${name} must be YES when present, not ${value}`);
  }
  const rangeText = a.quoted('BYTERANGE');
  let range: ByteRange | undefined;
  if (rangeText !== undefined) {
    const written = parseByteRange(rangeText);
    if (written === undefined) {
      f.add(line.n, '§4.4.4.9 EXT-X-PART', `BYTERANGE "${rangeText}" is not <n>[@<o>]`);
    } else if (written.offset !== undefined) {
      range = { length: written.length, offset: written.offset };
    } else if (previous?.range !== undefined && previous.uri === uri) {
      // §4.4.4.9: without @o the sub-range starts right after the previous part's.
      range = { length: written.length, offset: previous.range.offset + previous.range.length };
    } else {
      f.add(line.n, '§4.4.4.9 EXT-X-PART', 'BYTERANGE without offset must follow a part that is a sub-range of the same URI');
    }
  }
  if (range !== undefined) {
    // Parts of one resource are consecutive sub-ranges of it: each starts where the last ended.
    const before = rangeEnds.get(uri);
    if (before !== undefined && range.offset !== before.end) {
      const what = range.offset > before.end ? `leaves a gap of ${range.offset - before.end} bytes` : `overlaps by ${before.end - range.offset} bytes`;
      f.add(line.n, '§4.4.4.9 EXT-X-PART byte range', `${uri} @${range.offset} ${what} after the previous part, which ended at ${before.end} (line ${before.line})`);
    }
    rangeEnds.set(uri, { end: range.offset + range.length, line: line.n });
  } else if (rangeText === undefined && uri !== '') {
    // A part without BYTERANGE is the whole resource: two such parts cannot share a URI.
    const other = wholeParts.get(uri);
    if (other !== undefined) f.add(line.n, '§4.4.4.9 EXT-X-PART', `${uri} is already the whole resource of the part on line ${other}`);
    wholeParts.set(uri, line.n);
  }
  return { line: line.n, uri, duration, independent: independent === 'YES', gap: gap === 'YES', range };
}

// ---------------------------------------------------------------------------------------------
// Media playlist rules (one playlist)
// ---------------------------------------------------------------------------------------------

/** Float noise allowed where values written as decimals are multiplied or summed. */
const EPSILON = 1e-9;
/** Part durations may exceed PART-TARGET by this much (float rounding of the writer). */
const PART_DURATION_TOLERANCE = 0.001;

function checkMediaPlaylist(m: MediaModel, opts: MediaCheckOptions, selfUri: string, f: Findings): void {
  const allParts = [...m.segments.flatMap((s) => s.parts), ...m.open];
  const hasParts = allParts.length > 0;

  // §4.4.1.2 EXT-X-VERSION, and §8 for which features need which version.
  if (m.version === undefined) {
    f.add(undefined, '§4.4.1.2 EXT-X-VERSION', 'EXT-X-VERSION is missing');
  } else {
    const needs: [boolean, number, string][] = [
      [m.skip !== undefined, 9, 'EXT-X-SKIP'],
      [m.hasMap, 6, 'EXT-X-MAP'],
      [m.hasByterangeTag, 4, 'EXT-X-BYTERANGE'],
      [m.hasFractionalExtinf, 3, 'non-integer EXTINF durations'],
    ];
    for (const [used, version, what] of needs) {
      if (used && m.version < version) f.add(m.lines.version, '§8 EXT-X-VERSION', `${what} needs EXT-X-VERSION ${version} or higher, playlist says ${m.version}`);
    }
  }

  // §4.4.3.1: TARGETDURATION is required, and bounds every (rounded) EXTINF.
  const td = m.targetDuration;
  if (td === undefined) {
    f.add(undefined, '§4.4.3.1 EXT-X-TARGETDURATION', 'EXT-X-TARGETDURATION is missing');
  } else {
    for (const s of m.segments) {
      if (s.duration !== undefined && Math.round(s.duration) > td) {
        f.add(s.extinfLine, '§4.4.3.1 EXT-X-TARGETDURATION', `EXTINF ${s.duration} rounds to more than the target duration ${td}`);
      }
    }
    // The in-progress segment will break the same rule once complete.
    const openSum = sum(m.open.map((p) => p.duration ?? 0));
    if (Math.round(openSum) > td) f.add(m.open[0]?.line, '§4.4.3.1 EXT-X-TARGETDURATION', `in-progress segment already lasts ${fmt(openSum)} s, more than the target duration ${td}`);
  }
  if (m.mediaSequence === undefined) f.add(undefined, '§4.4.3.2 EXT-X-MEDIA-SEQUENCE', 'EXT-X-MEDIA-SEQUENCE is missing');

  checkServerControl(m, hasParts, f);
  if (m.partTarget !== undefined) checkPartDurations(m, m.partTarget, f);
  checkParentSegments(m, f);

  // Appendix B.1 (made mandatory by Apple's authoring spec 14.1): PDT on every LL playlist, and
  // it applies from the first segment on, so it must precede the first segment or part.
  if (m.firstMediaLine !== undefined && !m.pdtBeforeMedia) {
    f.add(m.firstMediaLine, 'Appendix B.1 EXT-X-PROGRAM-DATE-TIME', 'no EXT-X-PROGRAM-DATE-TIME before the first segment or part');
  }
  // §3.1.2 / §4.4.4.5: fMP4 segments need a Media Initialization Section from EXT-X-MAP.
  if (m.firstMediaLine !== undefined && !m.mapBeforeMedia) {
    f.add(m.firstMediaLine, '§4.4.4.5 EXT-X-MAP', 'no EXT-X-MAP before the first segment or part');
  }

  checkPreloadHints(m, f);
  checkRenditionReports(m, opts, selfUri, hasParts, f);
  checkSkip(m, opts, f);
}

function checkServerControl(m: MediaModel, hasParts: boolean, f: Findings): void {
  const sc = m.serverControl;
  const td = m.targetDuration;
  if (hasParts && m.partTarget === undefined && m.lines.partInf === undefined) {
    // §4.4.3.7: "It is REQUIRED if a Playlist contains one or more EXT-X-PART tags."
    f.add(undefined, '§4.4.3.7 EXT-X-PART-INF', 'the playlist has EXT-X-PART tags but no EXT-X-PART-INF');
  }
  if (sc === undefined) {
    // Appendix B.1: an LL server supports blocking reload, announced here.
    if (hasParts) f.add(undefined, 'Appendix B.1 EXT-X-SERVER-CONTROL', 'the playlist has EXT-X-PART tags but no EXT-X-SERVER-CONTROL');
    return;
  }
  // §4.4.3.8: the hold-back and skip boundary floors.
  if (sc.holdBack !== undefined && td !== undefined && sc.holdBack < 3 * td - EPSILON) {
    f.add(sc.line, '§4.4.3.8 HOLD-BACK', `HOLD-BACK ${sc.holdBack} is less than 3 x target duration (${3 * td})`);
  }
  if (sc.canSkipUntil !== undefined && td !== undefined && sc.canSkipUntil < 6 * td - EPSILON) {
    f.add(sc.line, '§4.4.3.8 CAN-SKIP-UNTIL', `CAN-SKIP-UNTIL ${sc.canSkipUntil} is less than 6 x target duration (${6 * td})`);
  }
  if (sc.canSkipDateranges && sc.canSkipUntil === undefined) {
    f.add(sc.line, '§4.4.3.8 CAN-SKIP-DATERANGES', 'requires CAN-SKIP-UNTIL');
  }
  // §4.4.3.8: "PART-HOLD-BACK ... is REQUIRED if the Playlist contains the EXT-X-PART-INF tag".
  if (m.lines.partInf !== undefined && sc.partHoldBack === undefined) {
    f.add(sc.line, '§4.4.3.8 PART-HOLD-BACK', 'PART-HOLD-BACK is required with EXT-X-PART-INF');
  }
  // The draft says at least 2x (SHOULD 3x); Apple's authoring spec 14.3 makes 3x a MUST.
  if (sc.partHoldBack !== undefined && m.partTarget !== undefined && sc.partHoldBack < 3 * m.partTarget - EPSILON) {
    f.add(sc.line, 'Apple 14.3 PART-HOLD-BACK', `PART-HOLD-BACK ${sc.partHoldBack} is less than 3 x PART-TARGET (${fmt(3 * m.partTarget)})`);
  }
  // Appendix B.1: "The server MUST support Blocking Playlist Reload".
  if (hasParts && !sc.canBlockReload) f.add(sc.line, 'Appendix B.1 CAN-BLOCK-RELOAD', 'CAN-BLOCK-RELOAD=YES is required with parts');
}

/** §4.4.4.9: every part is at most PART-TARGET; most are at least 85% of it. */
function checkPartDurations(m: MediaModel, partTarget: number, f: Findings): void {
  const groups: { parts: Part[]; complete: boolean }[] = [...m.segments.map((s) => ({ parts: s.parts, complete: true })), { parts: m.open, complete: false }];
  const all = groups.flatMap((g) => g.parts);
  let index = 0;
  for (const { parts, complete } of groups) {
    parts.forEach((part, i) => {
      const next = all[index + 1];
      index++;
      if (part.duration === undefined) return;
      if (part.duration > partTarget + PART_DURATION_TOLERANCE) {
        f.add(part.line, '§4.4.4.9 part duration', `part DURATION ${part.duration} is longer than PART-TARGET ${partTarget}`);
      }
      // Exempt: INDEPENDENT=YES or GAP=YES parts, the part just before a GAP part, and the final
      // part of a parent segment. The last part of the in-progress segment is not known to be
      // final, so it is not exempt.
      const exempt = part.independent || part.gap || next?.gap === true || (complete && i === parts.length - 1);
      if (!exempt && part.duration < 0.85 * partTarget - EPSILON) {
        f.add(part.line, '§4.4.4.9 part duration', `part DURATION ${part.duration} is below 85% of PART-TARGET ${partTarget} and the part is neither INDEPENDENT, GAP, before a GAP, nor the last of its segment`);
      }
    });
  }
}

/** §3.2: a parent segment and its parts hold the same samples with the same timing. */
function checkParentSegments(m: MediaModel, f: Findings): void {
  for (const s of m.segments) {
    const parts = s.parts;
    // Parts of a segment are listed all or none, so a segment with parts has all of them.
    if (parts.length === 0) continue;
    if (s.duration !== undefined && parts.every((p) => p.duration !== undefined)) {
      const total = sum(parts.map((p) => p.duration ?? 0));
      if (Math.abs(total - s.duration) > PART_DURATION_TOLERANCE * parts.length) {
        f.add(s.extinfLine, '§3.2 parts sum', `the ${parts.length} parts of MSN ${s.msn} last ${fmt(total)} s but EXTINF says ${s.duration}`);
      }
    }
    // Parts addressed as byte ranges of the segment's own resource must cover it from its start.
    if (parts.every((p) => p.uri === s.uri && p.range !== undefined)) {
      const first = parts[0].range as ByteRange;
      const last = parts[parts.length - 1].range as ByteRange;
      const start = s.range?.offset ?? 0;
      if (first.offset !== start) {
        f.add(parts[0].line, '§3.2 parts cover segment', `the first part of MSN ${s.msn} starts at byte ${first.offset}, the segment at ${start}`);
      }
      if (s.range !== undefined && last.offset + last.length !== s.range.offset + s.range.length) {
        f.add(parts[parts.length - 1].line, '§3.2 parts cover segment', `the parts of MSN ${s.msn} end at byte ${last.offset + last.length}, the segment at ${s.range.offset + s.range.length}`);
      }
    }
  }
}

function checkPreloadHints(m: MediaModel, f: Findings): void {
  const byType = new Map<string, number>();
  const lastPart = m.open[m.open.length - 1] ?? m.segments[m.segments.length - 1]?.parts.at(-1);
  for (const hint of m.hints) {
    // §4.4.5.3: "A Playlist containing an EXT-X-ENDLIST tag MUST NOT contain an EXT-X-PRELOAD-HINT tag."
    if (m.endList) f.add(hint.line, '§4.4.5.3 EXT-X-PRELOAD-HINT', 'EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST');
    if (hint.type === undefined) continue;
    // §6.2.6: "SHOULD NOT add more than one EXT-X-PRELOAD-HINT tag with the same TYPE"; clients
    // ignore all but the first, so a second one is always a server bug here.
    const earlier = byType.get(hint.type);
    if (earlier !== undefined) f.add(hint.line, '§6.2.6 EXT-X-PRELOAD-HINT', `a second TYPE=${hint.type} hint (first on line ${earlier}): at most one EXT-X-PRELOAD-HINT per TYPE`);
    else byType.set(hint.type, hint.line);
    if (hint.type !== 'PART' || hint.uri === undefined) continue;
    // §4.4.5.3: BYTERANGE-START defaults to 0. The next part continues the last one's resource
    // where it ended, or starts a new resource at 0.
    const start = hint.start ?? 0;
    if (lastPart !== undefined && hint.uri === lastPart.uri) {
      if (lastPart.range === undefined) {
        f.add(hint.line, '§4.4.5.3 EXT-X-PRELOAD-HINT', `hints ${hint.uri} again, which the last part (line ${lastPart.line}) already is in full`);
      } else if (start !== lastPart.range.offset + lastPart.range.length) {
        f.add(hint.line, '§4.4.5.3 BYTERANGE-START', `BYTERANGE-START ${start} but the last part of ${hint.uri} ends at ${lastPart.range.offset + lastPart.range.length}`);
      }
    } else if (start !== 0) {
      f.add(hint.line, '§4.4.5.3 BYTERANGE-START', `BYTERANGE-START ${start} for a new resource ${hint.uri} (expected 0)`);
    }
  }
}

function checkRenditionReports(m: MediaModel, opts: MediaCheckOptions, selfUri: string, hasParts: boolean, f: Findings): void {
  const selfNames = new Set([selfUri, selfUri.slice(selfUri.lastIndexOf('/') + 1)]);
  const counts = new Map<string, number>();
  for (const r of m.reports) {
    if (r.uri === undefined) continue;
    // §4.4.5.4: "It MUST be relative to the URI of the Media Playlist containing" the tag.
    if (/^[a-z][a-z0-9+.-]*:/i.test(r.uri)) f.add(r.line, '§4.4.5.4 EXT-X-RENDITION-REPORT', `URI ${r.uri} must be relative`);
    // The draft lets a server omit LAST-MSN/LAST-PART when equal to this playlist's own; the
    // origin always writes both, and this validator requires them so a dropped one is caught.
    if (r.lastMsn === undefined) f.add(r.line, '§4.4.5.4 EXT-X-RENDITION-REPORT', `report for ${r.uri} has no LAST-MSN`);
    if (hasParts && r.lastPart === undefined) f.add(r.line, '§4.4.5.4 EXT-X-RENDITION-REPORT', `report for ${r.uri} has no LAST-PART`);
    counts.set(r.uri, (counts.get(r.uri) ?? 0) + 1);
    // Appendix B.1: one report per rendition "except for the Media Playlist to which the
    // EXT-X-RENDITION-REPORT tag is being added".
    if (selfNames.has(r.uri)) f.add(r.line, 'Appendix B.1 EXT-X-RENDITION-REPORT', `report for the playlist itself (${r.uri})`);
    else if (opts.otherRenditionUris !== undefined && !opts.otherRenditionUris.includes(r.uri)) {
      f.add(r.line, 'Appendix B.1 EXT-X-RENDITION-REPORT', `report for ${r.uri}, which is not another rendition of the presentation`);
    }
  }
  if (opts.otherRenditionUris === undefined) return;
  // Appendix B.1: "Each Media Playlist MUST contain one EXT-X-RENDITION-REPORT tag for each Media
  // Playlist (Rendition) in the Multivariant Playlist" except itself.
  for (const uri of opts.otherRenditionUris) {
    const n = counts.get(uri) ?? 0;
    if (n !== 1) f.add(undefined, 'Appendix B.1 EXT-X-RENDITION-REPORT', n === 0 ? `no EXT-X-RENDITION-REPORT for ${uri}` : `${n} EXT-X-RENDITION-REPORT tags for ${uri}, expected one`);
  }
}

function checkSkip(m: MediaModel, opts: MediaCheckOptions, f: Findings): void {
  const skip = m.skip;
  if (skip === undefined) return;
  // §6.2.5.1: a Playlist Delta Update answers a request with _HLS_skip, nothing else.
  if (opts.delta !== true) f.add(skip.line, '§6.2.5.1 EXT-X-SKIP', 'EXT-X-SKIP in a playlist requested without _HLS_skip (delta)');
  if (skip.segments !== undefined && skip.segments < 1) f.add(skip.line, '§4.4.5.2 EXT-X-SKIP', 'SKIPPED-SEGMENTS must be at least 1');
  const canSkipUntil = m.serverControl?.canSkipUntil;
  // §6.2.5.1: only a playlist with CAN-SKIP-UNTIL and without EXT-X-ENDLIST is answered as a delta.
  if (canSkipUntil === undefined) {
    f.add(skip.line, '§6.2.5.1 EXT-X-SKIP', 'EXT-X-SKIP in a playlist without CAN-SKIP-UNTIL');
    return;
  }
  if (m.endList) f.add(skip.line, '§6.2.5.1 EXT-X-SKIP', 'EXT-X-SKIP in a playlist with EXT-X-ENDLIST');
  // §6.2.5.1: only segments further from the end than the Skip Boundary are skipped, so what
  // is still listed lasts at least CAN-SKIP-UNTIL.
  const listed = sum(m.segments.map((s) => s.duration ?? 0)) + sum(m.open.map((p) => p.duration ?? 0));
  if (listed < canSkipUntil - PART_DURATION_TOLERANCE) {
    f.add(skip.line, '§6.2.5.1 EXT-X-SKIP', `skipped segments within the skip boundary: ${fmt(listed)} s listed after the skip, CAN-SKIP-UNTIL is ${canSkipUntil}`);
  }
}

function summarize(m: MediaModel): MediaPlaylistSummary {
  const skipped = m.skip?.segments ?? 0;
  const mediaSequence = m.mediaSequence ?? 0;
  const firstMsn = mediaSequence + skipped;
  const last = m.segments[m.segments.length - 1];
  let lastMsn = firstMsn - 1;
  let lastPart = -1;
  if (m.open.length > 0) {
    lastMsn = firstMsn + m.segments.length;
    lastPart = m.open.length - 1;
  } else if (last !== undefined) {
    lastMsn = last.msn;
    lastPart = last.parts.length - 1;
  }
  return {
    mediaSequence,
    lastMsn,
    lastPart,
    partTarget: m.partTarget,
    segments: m.segments.length,
    parts: m.segments.reduce((n, s) => n + s.parts.length, 0) + m.open.length,
    endList: m.endList,
    skipped,
  };
}

// ---------------------------------------------------------------------------------------------
// Reload history
// ---------------------------------------------------------------------------------------------

interface PlaylistState {
  targetDuration: number | undefined;
  partTarget: number | undefined;
  partHoldBack: number | undefined;
  mediaSequence: number;
  discontinuitySequence: number;
  lastMsn: number;
  lastPart: number;
  endList: boolean;
}

interface PartRecord {
  uri: string;
  range: string | undefined;
  duration: number | undefined;
}

interface SegmentRecord {
  /** Undefined while only seen in progress. */
  uri: string | undefined;
  duration: number | undefined;
  /** The longest part list seen. */
  parts: PartRecord[];
}

function partRecord(p: Part): PartRecord {
  return { uri: p.uri, range: p.range === undefined ? undefined : `${p.range.length}@${p.range.offset}`, duration: p.duration };
}

function describePart(p: PartRecord): string {
  return `${p.uri}${p.range === undefined ? '' : ` [${p.range}]`} ${p.duration} s`;
}

// ---------------------------------------------------------------------------------------------
// Independent parse: hls-parser
// ---------------------------------------------------------------------------------------------

/**
 * hls-parser complaints about playlists that draft-pantos-hls-rfc8216bis-22 allows. They are
 * not violations; `MediaPlaylistTracker.parserDeviations` keeps them so they stay visible.
 * Every other hls-parser complaint is a violation.
 */
const HLS_PARSER_STRICTER_THAN_RFC: { says: string; why: string }[] = [
  {
    says: 'Remove EXT-X-PART tags from the Playlist after they are greater than three target durations',
    why: '§6.2.2 only says parts SHOULD be removed once more than three Target Durations from the end; hls-parser makes it an error, and counts the last three segments (the in-progress one included) instead of measuring time, so it rejects parts of a segment that ends within three Target Durations of the end',
  },
  {
    says: 'All Partial Segments except the last part of a segment must have a duration of at least 85%',
    why: '§4.4.4.9 also exempts INDEPENDENT=YES and GAP=YES parts and the part just before a GAP part; hls-parser does not. This validator applies the 85% rule itself, with the exemptions',
  },
];

type ParsedPlaylist = ReturnType<typeof HLS.parse>;

/**
 * Parses with hls-parser and collects every complaint. In its default (lenient) mode it reports
 * each problem through console.error and carries on, so all complaints are collected in one
 * pass; strict mode would throw at the first one only.
 */
function parseWithHlsParser(text: string): { playlist?: ParsedPlaylist; complaints: string[]; crash?: string } {
  const complaints: string[] = [];
  const savedOptions = HLS.getOptions();
  const savedConsoleError = console.error;
  HLS.setOptions({ strictMode: false, silent: false });
  console.error = (...args: unknown[]) => {
    complaints.push(args.map(String).join(' '));
  };
  try {
    return { playlist: HLS.parse(text), complaints };
  } catch (error) {
    return { complaints, crash: error instanceof Error ? error.message : String(error) };
  } finally {
    console.error = savedConsoleError;
    HLS.setOptions({ strictMode: false, silent: false, ...savedOptions });
  }
}

/** Routes hls-parser's complaints: tolerated deviations to `deviations`, the rest to `f`. */
function reportParserComplaints(result: { complaints: string[]; crash?: string }, f: Findings, deviations?: Set<string>): void {
  if (result.crash !== undefined) f.add(undefined, 'hls-parser', `threw: ${result.crash}`);
  for (const complaint of result.complaints) {
    const known = HLS_PARSER_STRICTER_THAN_RFC.find((d) => complaint.includes(d.says));
    if (known !== undefined && deviations !== undefined) deviations.add(`hls-parser: "${complaint}" (allowed by the draft: ${known.why})`);
    else f.add(undefined, 'hls-parser', complaint);
  }
}

function crossCheckMedia(text: string, m: MediaModel, summary: MediaPlaylistSummary, f: Findings, deviations: Set<string>): void {
  const result = parseWithHlsParser(text);
  reportParserComplaints(result, f, deviations);
  const p = result.playlist;
  if (p === undefined) return;
  if (p.isMasterPlaylist) {
    f.add(undefined, 'hls-parser', 'parsed the media playlist as a multivariant playlist');
    return;
  }
  // hls-parser lists the in-progress segment (parts and hints, no URI) as a segment with uri ''.
  const complete = p.segments.filter((s) => s.uri !== '');
  const parts = p.segments.reduce((n, s) => n + s.parts.filter((part) => !part.hint).length, 0);
  const facts: [string, unknown, unknown][] = [
    ['media sequence', p.mediaSequenceBase ?? 0, summary.mediaSequence],
    ['target duration', p.targetDuration, m.targetDuration],
    ['part target', p.partTargetDuration, m.partTarget],
    ['skipped segments', p.skip ?? 0, summary.skipped],
    ['segment count', complete.length, summary.segments],
    ['part count', parts, summary.parts],
    ['first segment MSN', complete[0]?.mediaSequenceNumber, m.segments[0]?.msn],
    ['rendition report count', p.renditionReports.length, m.reports.length],
    ['EXT-X-ENDLIST', p.endlist, m.endList],
  ];
  for (const [what, theirs, ours] of facts) {
    if (theirs !== ours) f.add(undefined, 'hls-parser disagrees', `${what}: hls-parser says ${String(theirs)}, this validator ${String(ours)}`);
  }
}

function crossCheckMultivariant(text: string, variants: VariantSummary[], f: Findings): void {
  const result = parseWithHlsParser(text);
  reportParserComplaints(result, f);
  const p = result.playlist;
  if (p === undefined) return;
  if (!p.isMasterPlaylist) {
    f.add(undefined, 'hls-parser', 'parsed the multivariant playlist as a media playlist');
    return;
  }
  const theirs = p.variants.filter((v) => v.isIFrameOnly !== true);
  if (theirs.length !== variants.length) {
    f.add(undefined, 'hls-parser disagrees', `variant count: hls-parser says ${theirs.length}, this validator ${variants.length}`);
    return;
  }
  theirs.forEach((v, i) => {
    if (v.uri !== variants[i].uri || v.bandwidth !== variants[i].bandwidth) {
      f.add(undefined, 'hls-parser disagrees', `variant ${i}: hls-parser says ${v.uri} at ${v.bandwidth}, this validator ${variants[i].uri} at ${variants[i].bandwidth}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Multivariant tags
// ---------------------------------------------------------------------------------------------

function streamInf(line: number, a: Attributes, uri: string, f: Findings): VariantSummary & { line: number; video?: string; subtitles?: string; closedCaptions?: string } {
  const rule = '§4.4.6.2 EXT-X-STREAM-INF';
  const bandwidth = a.integer('BANDWIDTH', true);
  a.integer('AVERAGE-BANDWIDTH');
  // §4.4.6.2 says every EXT-X-STREAM-INF SHOULD have CODECS; Apple's authoring spec makes it a MUST.
  const codecs = a.quoted('CODECS');
  if (codecs === undefined) f.add(line, rule, 'CODECS is required');
  const resolution = a.token('RESOLUTION');
  if (resolution !== undefined && !/^\d+x\d+$/.test(resolution)) f.add(line, rule, `RESOLUTION ${resolution} is not <width>x<height>`);
  const frameRate = a.token('FRAME-RATE');
  // "decimal-floating-point describing the maximum frame rate ... rounded to three decimal places".
  if (frameRate !== undefined && !/^\d+(\.\d{1,3})?$/.test(frameRate)) f.add(line, rule, `FRAME-RATE ${frameRate} is not a number with at most 3 decimals`);
  // CLOSED-CAPTIONS is a quoted GROUP-ID or the enumerated-string NONE.
  const cc = a.raw('CLOSED-CAPTIONS');
  if (cc !== undefined && !cc.quoted && cc.raw !== 'NONE') f.add(line, rule, `CLOSED-CAPTIONS=${cc.raw} is neither a quoted-string nor NONE`);
  return {
    line,
    uri,
    bandwidth: bandwidth ?? 0,
    codecs,
    resolution,
    audio: a.quoted('AUDIO'),
    video: a.quoted('VIDEO'),
    subtitles: a.quoted('SUBTITLES'),
    closedCaptions: cc?.raw,
  };
}

function mediaTag(line: Line, f: Findings): MediaSummary & { line: number; name?: string; isDefault: boolean } {
  const rule = '§4.4.6.1 EXT-X-MEDIA';
  const a = new Attributes(line, f);
  const type = a.token('TYPE', true);
  if (type !== undefined && !['AUDIO', 'VIDEO', 'SUBTITLES', 'CLOSED-CAPTIONS'].includes(type)) f.add(line.n, rule, `TYPE ${type} is not AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS`);
  const groupId = a.quoted('GROUP-ID', true);
  const name = a.quoted('NAME', true);
  const uri = a.quoted('URI');
  if (type === 'SUBTITLES' && uri === undefined) f.add(line.n, rule, 'TYPE=SUBTITLES requires URI');
  if (type === 'CLOSED-CAPTIONS' && uri !== undefined) f.add(line.n, rule, 'TYPE=CLOSED-CAPTIONS must not have a URI');
  return { line: line.n, type: type ?? '', groupId: groupId ?? '', uri, name, isDefault: a.token('DEFAULT') === 'YES' };
}

// ---------------------------------------------------------------------------------------------

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Seconds for messages, without float noise. */
function fmt(seconds: number): string {
  return String(Math.round(seconds * 1e6) / 1e6);
}
