// DASH SegmentTemplate names (ISO/IEC 23009-1, 5.3.9.4.4): `$RepresentationID$`, `$Number$`,
// `$Time$`, `$Bandwidth$`, `$$`, with an optional `%0<width>d` format tag on the numeric ones.
// The origin never fetches anything by template: it only recognises the object keys an encoder
// uploads and, for preload hints, names the next one. So a template becomes a pair of exact,
// inverse functions: `match` (name → value) and `format` (value → name).

/** The variable part of one media segment's name: its number or its start time. */
export type SegmentValue = { number: number } | { time: bigint };

/** A media template compiled for one Representation. */
export interface SegmentNamePattern {
  /** Whether names carry `$Number$` or `$Time$`. */
  readonly kind: 'number' | 'time';
  /** The template as given to {@link compileTemplate} (for an MPD, the file-name part of `@media`). */
  readonly template: string;
  /**
   * The segment a name (relative to the media directory) stands for, or `undefined` when the
   * template cannot produce that name: matching is anchored and canonical, i.e.
   * `match(n)` is defined only when `format(match(n)) === n`.
   */
  match(name: string): SegmentValue | undefined;
  /**
   * The name of the segment with this number or time.
   * @throws RangeError when the value's kind is not this template's, or it is negative or not an integer.
   */
  format(value: SegmentValue): string;
}

/** Why a template was refused. */
export interface TemplateError {
  readonly error: string;
}

/** Narrows a {@link compileTemplate} or {@link expandTemplate} result to the refusal. */
export function isTemplateError(x: unknown): x is TemplateError {
  return typeof x === 'object' && x !== null && typeof (x as { error?: unknown }).error === 'string';
}

// A format tag wider than this is not something an encoder writes; refusing it keeps `format`
// from being asked to build absurd strings out of an attribute value.
const MAX_WIDTH = 32;
// DASH times are xs:unsignedLong.
const TIME_LIMIT = 1n << 64n;
// Keys are short; a bound keeps a pathological name from costing regex backtracking.
const MAX_NAME = 4096;

type Token =
  | { kind: 'literal'; text: string }
  | { kind: 'RepresentationID' }
  | { kind: 'Number' | 'Time' | 'Bandwidth'; width: number };

const IDENTIFIER = /^(RepresentationID|Number|Time|Bandwidth|SubNumber)(?:(%.*))?$/s;
const FORMAT_TAG = /^%0([0-9]+)d$/;

const shorten = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Splits a template into literals and identifiers, refusing what 5.3.9.4.4 does not allow. */
function tokenize(template: string): Token[] | TemplateError {
  const tokens: Token[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('$', i);
    if (open < 0) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, open);
    const close = template.indexOf('$', open + 1);
    if (close < 0) return { error: `unterminated "$" at offset ${open} in "${shorten(template)}"` };
    const body = template.slice(open + 1, close);
    i = close + 1;
    if (body === '') {
      literal += '$';
      continue;
    }
    const m = IDENTIFIER.exec(body);
    if (m === null) return { error: `unknown identifier "$${shorten(body)}$"` };
    const name = m[1] as 'RepresentationID' | 'Number' | 'Time' | 'Bandwidth' | 'SubNumber';
    if (name === 'SubNumber') return { error: '$SubNumber$ is not supported' };
    const tag = m[2];
    if (name === 'RepresentationID') {
      if (tag !== undefined) return { error: `$RepresentationID$ takes no format tag ("$${shorten(body)}$")` };
      if (literal !== '') tokens.push({ kind: 'literal', text: literal });
      literal = '';
      tokens.push({ kind: 'RepresentationID' });
      continue;
    }
    let width = 1;
    if (tag !== undefined) {
      const f = FORMAT_TAG.exec(tag);
      if (f === null) return { error: `format tag "${shorten(tag)}" of $${name}$ is not of the form %0<width>d` };
      width = Number(f[1]);
      if (width < 1 || width > MAX_WIDTH) return { error: `width ${shorten(f[1])} of $${name}$ is not between 1 and ${MAX_WIDTH}` };
    }
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    literal = '';
    tokens.push({ kind: name, width });
  }
  if (literal !== '') tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

const pad = (digits: string, width: number): string => digits.padStart(width, '0');

/**
 * Replaces the identifiers that are the same for every segment of a Representation
 * (`$RepresentationID$`, `$Bandwidth$`, `$$`) and leaves `$Number$` / `$Time$` as tokens.
 */
function bindConstants(tokens: Token[], representationId: string, bandwidth: number | undefined): Token[] | TemplateError {
  const out: Token[] = [];
  const append = (text: string): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.kind === 'literal') out[out.length - 1] = { kind: 'literal', text: last.text + text };
    else out.push({ kind: 'literal', text });
  };
  for (const t of tokens) {
    if (t.kind === 'literal') append(t.text);
    else if (t.kind === 'RepresentationID') append(representationId);
    else if (t.kind === 'Bandwidth') {
      if (bandwidth === undefined || !Number.isSafeInteger(bandwidth) || bandwidth < 0) {
        return { error: 'uses $Bandwidth$ but the Representation has no valid bandwidth' };
      }
      append(pad(String(bandwidth), t.width));
    } else out.push(t);
  }
  return out;
}

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/**
 * Compiles a media template for one Representation.
 *
 * @param template - `SegmentTemplate@media` as written, e.g. `chunk-$RepresentationID$-$Number%05d$.m4s`.
 * @param representationId - `Representation@id`, substituted for `$RepresentationID$`.
 * @param bandwidth - `Representation@bandwidth`, substituted for `$Bandwidth$` (required only if used).
 * @returns The pattern, or why the template cannot be used: both or neither of `$Number$` and
 *   `$Time$`, `$SubNumber$`, an unknown identifier, an unterminated `$`, a bad format tag.
 */
export function compileTemplate(template: string, representationId: string, bandwidth: number | undefined): SegmentNamePattern | TemplateError {
  if (typeof template !== 'string') return { error: 'template is not a string' };
  const parsed = tokenize(template);
  if (isTemplateError(parsed)) return parsed;
  const bound = bindConstants(parsed, representationId, bandwidth);
  if (isTemplateError(bound)) return bound;
  const hasNumber = bound.some((t) => t.kind === 'Number');
  const hasTime = bound.some((t) => t.kind === 'Time');
  if (hasNumber && hasTime) return { error: 'uses both $Number$ and $Time$' };
  if (!hasNumber && !hasTime) return { error: 'has neither $Number$ nor $Time$, so it cannot name successive segments' };
  const kind = hasNumber ? 'number' : 'time';
  // Two numbers side by side cannot be told apart (and would make the match backtrack).
  for (let i = 1; i < bound.length; i++) {
    if (bound[i].kind !== 'literal' && bound[i - 1].kind !== 'literal') return { error: 'has two identifiers side by side, so names cannot be split between them' };
  }

  // Every identifier gets its own group; `match` then checks the name round-trips through
  // `format`, which rejects padding the encoder would not write and repeats that disagree.
  const source = bound.map((t) => (t.kind === 'literal' ? escapeRegExp(t.text) : '([0-9]+)')).join('');
  const regex = new RegExp(`^${source}$`);

  const render = (digits: string): string =>
    bound.map((t) => (t.kind === 'literal' ? t.text : pad(digits, (t as { width: number }).width))).join('');

  const format = (value: SegmentValue): string => {
    if (kind === 'number') {
      const n = (value as { number?: unknown }).number;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a segment number: ${String(n)}`);
      return render(String(n));
    }
    const t = (value as { time?: unknown }).time;
    if (typeof t !== 'bigint' || t < 0n) throw new RangeError(`not a segment time: ${String(t)}`);
    return render(t.toString());
  };

  const match = (name: string): SegmentValue | undefined => {
    if (typeof name !== 'string' || name.length > MAX_NAME) return undefined;
    const m = regex.exec(name);
    if (m === null) return undefined;
    const digits = m[1];
    let value: SegmentValue;
    if (kind === 'number') {
      const n = Number(digits);
      if (!Number.isSafeInteger(n)) return undefined;
      value = { number: n };
    } else {
      const t = BigInt(digits);
      if (t >= TIME_LIMIT) return undefined;
      value = { time: t };
    }
    return format(value) === name ? value : undefined;
  };

  return { kind, template, match, format };
}

/**
 * Expands a template whose value is the same for every segment: `SegmentTemplate@initialization`,
 * or the directory part of a media template.
 *
 * @returns The name, or why not: the template uses `$Number$` or `$Time$` (which name one
 *   segment, not the Representation) or is malformed as for {@link compileTemplate}.
 */
export function expandTemplate(template: string, representationId: string, bandwidth: number | undefined): string | TemplateError {
  if (typeof template !== 'string') return { error: 'template is not a string' };
  const parsed = tokenize(template);
  if (isTemplateError(parsed)) return parsed;
  const bound = bindConstants(parsed, representationId, bandwidth);
  if (isTemplateError(bound)) return bound;
  const varying = bound.find((t) => t.kind !== 'literal');
  if (varying !== undefined) return { error: `uses $${varying.kind}$, which varies per segment` };
  return bound.map((t) => (t as { text: string }).text).join('');
}
