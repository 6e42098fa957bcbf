// The RFC 6381 `codecs` parameter of a sample entry, from its decoder configuration box.
import type { ChildBox } from '../boxes.js';
import { av1Codec } from './av1.js';
import { avcCodec } from './avc.js';
import { dolbyVisionCodec } from './dolby.js';
import { hevcCodec } from './hevc.js';
import { mp4aCodec, type EsdsInfo } from './mp4a.js';
import { vpCodec } from './vp9.js';

/** The configuration box each sample entry format takes its codec string from. */
const CONFIG_BOX: Record<string, string> = {
  avc1: 'avcC', avc2: 'avcC', avc3: 'avcC', avc4: 'avcC',
  hvc1: 'hvcC', hev1: 'hvcC', hvc2: 'hvcC', hev2: 'hvcC',
  dvh1: 'dvcC', dvhe: 'dvcC', dva1: 'dvcC', dvav: 'dvcC',
  av01: 'av1C',
  vp08: 'vpcC', vp09: 'vpcC',
};

/** Formats whose codec string is a fixed name (RFC 6381 and the codecs' ISOBMFF bindings). */
const NAMED: Record<string, string> = { Opus: 'opus', fLaC: 'flac', 'ac-3': 'ac-3', 'ec-3': 'ec-3', 'ac-4': 'ac-4' };

/** Which child box of a sample entry of `format` holds what its codec string needs. */
export function configBoxOf(format: string): string | undefined {
  return CONFIG_BOX[format];
}

/**
 * The codec string of a sample entry whose format (before encryption) is `format`, given its
 * configuration box (see `configBoxOf`) or, for `mp4a`, its esds. Formats without a known
 * configuration give their four-character code (`wvtt`, `stpp`, `tx3g`, ...).
 */
export function codecString(format: string, b: Uint8Array, config: ChildBox | undefined, esds: EsdsInfo | undefined): string {
  const named = NAMED[format];
  if (named !== undefined) return named;
  if (format === 'mp4a' || format === 'mp4v') return mp4aCodec(format, esds);
  if (config === undefined) return format;
  switch (CONFIG_BOX[format]) {
    case 'avcC':
      return avcCodec(b, config, format);
    case 'hvcC':
      return hevcCodec(b, config, format);
    case 'dvcC':
      return dolbyVisionCodec(b, config, format);
    case 'av1C':
      return av1Codec(b, config, format);
    case 'vpcC':
      return vpCodec(b, config, format);
  }
  return format;
}
