// AV1: av1C, AV1 Codec ISOBMFF Binding 2.3. Codec string per its section 5: `av01.P.LLT.DD`
// (the optional colour fields are left out; they are all-or-none and players do not need them).
import type { ChildBox } from '../boxes.js';
import { requirePayload } from '../fields.js';
import { dec2 } from './format.js';

/** `av01.0.04M.08` from an `av1C` box: profile, level, tier and bit depth. */
export function av1Codec(b: Uint8Array, av1C: ChildBox, format: string): string {
  requirePayload(av1C, 3);
  const at = av1C.start;
  const profile = b[at + 1] >> 5;
  const level = b[at + 1] & 31;
  const tier = b[at + 2] >> 7;
  const high = (b[at + 2] >> 6) & 1;
  const twelve = (b[at + 2] >> 5) & 1;
  const depth = profile === 2 && high ? (twelve ? 12 : 10) : high ? 10 : 8;
  return `${format}.${profile}.${dec2(level)}${tier ? 'H' : 'M'}.${dec2(depth)}`;
}
