// HEVC (H.265): hvcC, ISO/IEC 14496-15 8.3.3. Codec string per its Annex E:
// `hvc1.[A|B|C]<profile>.<compatibility, bit-reversed hex>.<L|H><level>[.<constraint byte>]...`
import type { ChildBox } from '../boxes.js';
import { u32 } from '../bytes.js';
import { requirePayload } from '../fields.js';

/** `hvc1.1.6.L93.b0` from an `hvcC` box. */
export function hevcCodec(b: Uint8Array, hvcC: ChildBox, format: string): string {
  requirePayload(hvcC, 13);
  const at = hvcC.start;
  const space = b[at + 1] >> 6;
  const tier = (b[at + 1] >> 5) & 1;
  const profile = b[at + 1] & 31;
  // general_profile_compatibility_flags: flag j is bit 31 - j; the string lists flag 0 as the
  // lowest bit, so the 32 bits are reversed.
  let flags = u32(b, at + 2);
  let reversed = 0;
  for (let i = 0; i < 32; i++, flags >>>= 1) reversed = ((reversed << 1) | (flags & 1)) >>> 0;
  let s = `${format}.${['', 'A', 'B', 'C'][space]}${profile}.${reversed.toString(16)}.${tier ? 'H' : 'L'}${b[at + 12]}`;
  // The six constraint bytes, trailing zero bytes left out.
  let last = 5;
  while (last >= 0 && b[at + 6 + last] === 0) last--;
  for (let i = 0; i <= last; i++) s += `.${b[at + 6 + i].toString(16)}`;
  return s;
}
