// AVC (H.264): avcC, ISO/IEC 14496-15 5.3.3. RFC 6381 3.3: `avc1.PPCCLL`.
import type { ChildBox } from '../boxes.js';
import { requirePayload } from '../fields.js';
import { hex2 } from './format.js';

/** `avc1.64001f` from an `avcC` box: profile, constraint flags and level, two hex digits each. */
export function avcCodec(b: Uint8Array, avcC: ChildBox, format: string): string {
  requirePayload(avcC, 4);
  const at = avcC.start;
  return `${format}.${hex2(b[at + 1])}${hex2(b[at + 2])}${hex2(b[at + 3])}`;
}
