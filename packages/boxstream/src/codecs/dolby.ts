// Dolby: AC-3 (dac3) and E-AC-3 (dec3), ETSI TS 102 366 Annex F, for the channel count the
// sample entry does not tell (it says 2 for 5.1); Dolby Vision (dvcC / dvvC) for its codec string.
import type { ChildBox } from '../boxes.js';
import { requirePayload } from '../fields.js';
import { dec2 } from './format.js';

/** Full-bandwidth channels per acmod (audio coding mode). */
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
/**
 * Channels per chan_loc bit of a dependent substream (Table F.6.1), bit 0 first: Lc/Rc, Lrs/Rrs,
 * Cs, Ts, Lsd/Rsd, Lw/Rw, Lvh/Rvh, Cvh, LFE2.
 */
const CHAN_LOC_CHANNELS = [2, 2, 1, 1, 2, 2, 2, 1, 1];

/** Channels (LFE included) of an AC-3 stream from its `dac3` box. */
export function ac3Channels(b: Uint8Array, dac3: ChildBox): number {
  requirePayload(dac3, 3);
  // fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1) bit_rate_code(5) reserved(5)
  const v = (b[dac3.start] << 16) | (b[dac3.start + 1] << 8) | b[dac3.start + 2];
  return ACMOD_CHANNELS[(v >> 11) & 7] + ((v >> 10) & 1);
}

/** Channels (LFE included) of an E-AC-3 stream's first independent substream, from `dec3`. */
export function ec3Channels(b: Uint8Array, dec3: ChildBox): number {
  requirePayload(dec3, 5);
  // data_rate(13) num_ind_sub(3), then per substream: fscod(2) bsid(5) reserved(1) asvc(1)
  // bsmod(3) acmod(3) lfeon(1) reserved(3) num_dep_sub(4) then chan_loc(9) or reserved(1).
  const at = dec3.start + 2;
  const acmod = (b[at + 1] >> 1) & 7;
  const lfe = b[at + 1] & 1;
  const dependents = (b[at + 2] >> 1) & 15;
  let channels = ACMOD_CHANNELS[acmod] + lfe;
  if (dependents > 0 && dec3.end - dec3.start >= 6) {
    const chanLoc = ((b[at + 2] & 1) << 8) | b[at + 3];
    for (let bit = 0; bit < 9; bit++) if (chanLoc & (1 << bit)) channels += CHAN_LOC_CHANNELS[bit];
  }
  return channels;
}

/** `dvh1.05.06` from a Dolby Vision configuration box: profile and level, two digits each. */
export function dolbyVisionCodec(b: Uint8Array, dvcC: ChildBox, format: string): string {
  requirePayload(dvcC, 4);
  // dv_version_major(8) dv_version_minor(8) dv_profile(7) dv_level(6) flags(3)
  const v = (b[dvcC.start + 2] << 8) | b[dvcC.start + 3];
  return `${format}.${dec2(v >> 9)}.${dec2((v >> 3) & 63)}`;
}
