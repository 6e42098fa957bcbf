// VP8 / VP9: vpcC, VP Codec ISO Media File Format Binding. Codec string: `vp09.PP.LL.DD`, the
// short form (the colour fields are optional, all-or-none).
import type { ChildBox } from '../boxes.js';
import { requirePayload } from '../fields.js';
import { dec2 } from './format.js';

/** `vp09.00.10.08` from a `vpcC` box: profile, level and bit depth. */
export function vpCodec(b: Uint8Array, vpcC: ChildBox, format: string): string {
  // A FullBox; profile, level and bitDepth (high nibble) lead both version 0 and version 1.
  requirePayload(vpcC, 7);
  const at = vpcC.start + 4;
  return `${format}.${dec2(b[at])}.${dec2(b[at + 1])}.${dec2(b[at + 2] >> 4)}`;
}
