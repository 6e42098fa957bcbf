// `prft`, ISO/IEC 14496-12 8.16.5: the wallclock time a sample was produced at.
import type { ChildBox } from '../boxes.js';
import { u32, u64 } from '../bytes.js';
import { fullBoxFlags, requirePayload } from '../fields.js';

/** `prft`: the wallclock time at which the sample with `mediaTime` was produced. */
export interface ProducerReferenceTime {
  /** reference_track_ID. */
  trackId: number;
  /** ntp_timestamp, exact (64-bit NTP: seconds since 1900 in the high 32 bits). */
  ntpTimestamp: bigint;
  /** The same instant in milliseconds since the Unix epoch (what `Date` uses). */
  wallclock: number;
  /** media_time, in the track's timescale, exact. */
  mediaTime: bigint;
  /**
   * prft flags (ISO/IEC 14496-12 8.16.5): 0 = time the media entered the encoder, 1 = encoder
   * output, 2 = moof finalised, 4 = moof written, 8 = arbitrary but consistent, 24 = capture.
   */
  flags: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX = 2208988800;
const ERA = 2 ** 32;

/**
 * A 64-bit NTP timestamp in milliseconds since the Unix epoch. NTP seconds wrap on 2036-02-07;
 * as RFC 4330 3 says, a value with the top bit clear is taken to be after the wrap (era 1), so
 * times from 1968 to 2104 come out right.
 */
export function ntpToUnixMs(ntp: bigint): number {
  const hi = Number(ntp >> 32n);
  const seconds = (hi < 0x80000000 ? hi + ERA : hi) - NTP_UNIX;
  return (seconds + Number(ntp & 0xffffffffn) / ERA) * 1000;
}

/** Reads a `prft` box (held whole in `b`). */
export function readPrft(b: Uint8Array, box: ChildBox): ProducerReferenceTime {
  const v1 = b[box.start] === 1;
  requirePayload(box, v1 ? 24 : 20);
  const ntpTimestamp = u64(b, box.start + 8);
  return {
    trackId: u32(b, box.start + 4),
    ntpTimestamp,
    wallclock: ntpToUnixMs(ntpTimestamp),
    mediaTime: v1 ? u64(b, box.start + 16) : BigInt(u32(b, box.start + 16)),
    flags: fullBoxFlags(b, box.start),
  };
}
