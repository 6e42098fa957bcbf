// The one sniffer: does a body start like an ISO-BMFF stream? Servers use it to decide, from the
// first 8 bytes, whether to parse an upload whose name says nothing, and what kind of object it is.
import { fourcc, u32 } from './bytes.js';
import { FIRST_TYPES } from './units.js';

/** Bytes `sniff()` needs: one box header's size and type. */
export const SNIFF_BYTES = 8;

/**
 * The type of the first box when `bytes` start like an ISO-BMFF stream the parser accepts (a
 * plausible size and one of the types a stream may start with: `ftyp`, `styp`, `moof`, `moov`,
 * `mdat`, `sidx`, `emsg`, `prft`, `free`, ...); undefined otherwise, or when fewer than 8 bytes
 * are given. `ftyp` means a CMAF header (init segment) or a whole MP4 file follows.
 *
 * @example
 * sniff(firstBytes) === 'ftyp' // an init segment
 */
export function sniff(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < SNIFF_BYTES) return undefined;
  const size = u32(bytes, 0);
  if (size !== 0 && size !== 1 && size < 8) return undefined;
  const type = fourcc(bytes, 4);
  return FIRST_TYPES.has(type) ? type : undefined;
}
