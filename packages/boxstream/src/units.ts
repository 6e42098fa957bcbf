// How top-level boxes group into CMAF units (ISO/IEC 23000-19): which boxes lead a chunk, which
// start a header, and which box types a stream may plausibly start with.

/**
 * Boxes that belong to the unit they precede: a chunk's `styp` (segment start), `prft`, `emsg`,
 * `sidx`/`ssix`, and the padding and private boxes `free`, `skip`, `uuid`. Before a header they
 * join the header; with nothing after them (end of stream, or a box that is no unit) they are
 * delivered as `box` events.
 */
export const LEADING_TYPES: ReadonlySet<string> = new Set(['styp', 'prft', 'emsg', 'sidx', 'ssix', 'free', 'skip', 'uuid']);

/** Leading boxes boxstream parses for chunk facts: they must be held, within the limits. */
export const PARSED_LEADING_TYPES: ReadonlySet<string> = new Set(['styp', 'prft']);

/** Padding and private boxes: before an ftyp they join the header (emsg, prft, styp, sidx do not). */
export const PADDING_TYPES: ReadonlySet<string> = new Set(['free', 'skip', 'uuid']);

/**
 * Top-level types a stream may start with. The first box of a stream must be one of these, so
 * that text, an HTML error page or MPEG-TS sent as MP4 is rejected at once as `JUNK` instead of
 * being taken for a huge opaque box. Later boxes may have any type.
 */
export const FIRST_TYPES: ReadonlySet<string> = new Set([
  'ftyp', 'styp', 'moov', 'moof', 'mdat', 'mfra', 'sidx', 'ssix', 'prft', 'emsg', 'free', 'skip', 'uuid', 'meta', 'pdin', 'wide',
]);

/**
 * True when a top-level type cannot be a box type in any real file: it has a control byte.
 * (Nested boxes may have any 32-bit type, e.g. the integer keys of `ilst` entries.)
 */
export function isJunkType(type: string): boolean {
  for (let i = 0; i < 4; i++) {
    const c = type.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
