// A track's first sample entry (stsd): its format, picture or sound fields, codec string, and
// encryption. ISO/IEC 14496-12 12.1.3 (visual) and 12.2.3 (audio).
import { readChildren, type ChildBox } from '../boxes.js';
import { u16, u32 } from '../bytes.js';
import { codecString, configBoxOf } from '../codecs/index.js';
import { ac3Channels, ec3Channels } from '../codecs/dolby.js';
import { readEsds, type EsdsInfo } from '../codecs/mp4a.js';
import { BoxStreamError } from '../errors.js';
import { readSinf } from './protection.js';
import type { TrackInfo } from './trak.js';

/** What the sample entry tells: the TrackInfo fields it fills (merged into the track's facts). */
export type SampleEntryFacts = Pick<
  TrackInfo,
  'codecString' | 'width' | 'height' | 'pixelAspectRatio' | 'channelCount' | 'sampleRate' | 'maxBitrate' | 'avgBitrate' | 'encryption'
> & { codec: string };

/** Channels per AudioSpecificConfig channelConfiguration (ISO/IEC 14496-3 1.6.3.5); 0 = elsewhere. */
const ASC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8];

const VISUAL_FIELDS = 78; // SampleEntry (8) + VisualSampleEntry fields (70)
const AUDIO_FIELDS = 28; // SampleEntry (8) + AudioSampleEntry fields (20)

/** Where the child boxes of a sample entry start, by handler; undefined when unknown. */
function childrenAt(b: Uint8Array, entry: ChildBox, handler: string): number | undefined {
  if (handler === 'vide') return entry.start + VISUAL_FIELDS;
  if (handler !== 'soun') return undefined;
  // QuickTime sound sample entries of version 1 and 2 carry 16 and 36 more bytes.
  const version = u16(b, entry.start + 8);
  return entry.start + AUDIO_FIELDS + (version === 1 ? 16 : version === 2 ? 36 : 0);
}

/**
 * Reads a sample entry. The fixed fields are always read; the child boxes (configuration, pasp,
 * sinf, ...) are best effort: a malformed child leaves the facts it would give undefined rather
 * than failing a stream whose units are still sound.
 */
export function readSampleEntry(b: Uint8Array, entry: ChildBox, handler: string, base: number): SampleEntryFacts {
  const facts: SampleEntryFacts = { codec: entry.type, codecString: undefined };
  const len = entry.end - entry.start;
  if (handler === 'vide' && len >= VISUAL_FIELDS) {
    facts.width = u16(b, entry.start + 24);
    facts.height = u16(b, entry.start + 26);
  } else if (handler === 'soun' && len >= AUDIO_FIELDS) {
    if (u16(b, entry.start + 8) === 2 && len >= 44) {
      // QuickTime sound description version 2: a float64 rate at 32 and a u32 channel count at
      // 40 (the version 0 fields then hold the constants 3 and 65536).
      facts.sampleRate = new DataView(b.buffer, b.byteOffset + entry.start + 32, 8).getFloat64(0);
      facts.channelCount = u32(b, entry.start + 40);
    } else {
      facts.channelCount = u16(b, entry.start + 16);
      facts.sampleRate = u32(b, entry.start + 24) >>> 16;
    }
  }
  let children: ChildBox[] = [];
  const at = childrenAt(b, entry, handler);
  if (at !== undefined && at <= entry.end) {
    try {
      children = readChildren(b, at, entry.end, base);
    } catch (err) {
      if (!(err instanceof BoxStreamError)) throw err;
      return facts;
    }
  }
  const child = (type: string) => children.find((c) => c.type === type);
  try {
    const sinf = child('sinf');
    if (sinf) facts.encryption = readSinf(b, sinf, base);
    const format = facts.encryption?.originalFormat ?? entry.type;
    const esdsBox = child('esds') ?? waveEsds(b, child('wave'), base);
    let esds: EsdsInfo | undefined;
    if (esdsBox) {
      esds = readEsds(b, esdsBox);
      if (esds?.maxBitrate) facts.maxBitrate = esds.maxBitrate;
      if (esds?.avgBitrate) facts.avgBitrate = esds.avgBitrate;
    }
    if (esds && handler === 'soun') {
      // A rate the 16.16 field cannot hold (above 65,535 Hz) is exact only here.
      if (esds.sampleRate && esds.sampleRate > 0xffff) facts.sampleRate = esds.sampleRate;
      // Muxers often write 2 in the entry's channelcount whatever the stream holds.
      const channels = ASC_CHANNELS[esds.channelConfiguration ?? 0];
      if (channels) facts.channelCount = channels;
    }
    const config = configBoxOf(format);
    // Dolby Vision profiles above 7 keep their configuration in a dvvC instead of a dvcC.
    const configBox = config === undefined ? undefined : (child(config) ?? (config === 'dvcC' ? child('dvvC') : undefined));
    facts.codecString = codecString(format, b, configBox, esds);
    readExtras(b, children, facts);
  } catch (err) {
    if (!(err instanceof BoxStreamError)) throw err;
  }
  return facts;
}

/** QuickTime puts an mp4a's esds inside a `wave` box. */
function waveEsds(b: Uint8Array, wave: ChildBox | undefined, base: number): ChildBox | undefined {
  return wave && readChildren(b, wave.start, wave.end, base).find((c) => c.type === 'esds');
}

/** pasp, btrt, srat, dOps, dfLa, dac3, dec3: facts the fixed fields get wrong or lack. */
function readExtras(b: Uint8Array, children: ChildBox[], facts: SampleEntryFacts): void {
  for (const c of children) {
    const len = c.end - c.start;
    switch (c.type) {
      case 'pasp':
        if (len >= 8) facts.pixelAspectRatio = [u32(b, c.start), u32(b, c.start + 4)];
        break;
      case 'btrt':
        if (len >= 12) {
          facts.maxBitrate = u32(b, c.start + 4);
          facts.avgBitrate = u32(b, c.start + 8);
        }
        break;
      case 'srat': // AudioSampleEntryV1's exact sampling rate (a FullBox)
        if (len >= 8) facts.sampleRate = u32(b, c.start + 4);
        break;
      case 'dOps': // Opus: Version OutputChannelCount PreSkip InputSampleRate ...
        if (len >= 2) facts.channelCount = b[c.start + 1];
        break;
      case 'dfLa': // FLAC: a FullBox, then metadata blocks, STREAMINFO first
        if (len >= 4 + 4 + 18 && (b[c.start + 4] & 0x7f) === 0) {
          const info = c.start + 8;
          facts.sampleRate = (b[info + 10] << 12) | (b[info + 11] << 4) | (b[info + 12] >> 4);
          facts.channelCount = ((b[info + 12] >> 1) & 7) + 1;
        }
        break;
      case 'dac3':
        facts.channelCount = ac3Channels(b, c);
        break;
      case 'dec3':
        facts.channelCount = ec3Channels(b, c);
        break;
    }
  }
}
