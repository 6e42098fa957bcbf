// MPEG-4 audio: esds, ISO/IEC 14496-1 descriptors (ES_Descriptor > DecoderConfigDescriptor >
// DecoderSpecificInfo = AudioSpecificConfig, 14496-3 1.6.2.1). RFC 6381 3.3: `mp4a.40.2`.
import type { ChildBox } from '../boxes.js';
import { u32 } from '../bytes.js';
import { requirePayload } from '../fields.js';
import { hex2 } from './format.js';

/** What an `esds` says about the stream. */
export interface EsdsInfo {
  /** objectTypeIndication: 0x40 = MPEG-4 audio (AAC and friends), 0x6b = MP3, ... */
  objectType: number;
  /** AudioSpecificConfig audioObjectType (2 = AAC-LC, 5 = SBR, 29 = PS), for object type 0x40. */
  audioObjectType: number | undefined;
  /** Sampling frequency from the AudioSpecificConfig, exact. */
  sampleRate: number | undefined;
  /** channelConfiguration from the AudioSpecificConfig (0 = defined elsewhere). */
  channelConfiguration: number | undefined;
  /** DecoderConfigDescriptor maxBitrate and avgBitrate, bits per second (0 = unknown). */
  maxBitrate: number;
  avgBitrate: number;
}

const RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Reads bits big-endian first from a byte range; reads past the end give zeros. */
class Bits {
  private bit = 0;
  constructor(private readonly b: Uint8Array, private readonly at: number, private readonly end: number) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++, this.bit++) {
      const byte = this.at + (this.bit >> 3);
      v = v * 2 + (byte < this.end ? (this.b[byte] >> (7 - (this.bit & 7))) & 1 : 0);
    }
    return v;
  }
}

/** A descriptor's tag, its payload's start and end (sizes are 1-4 bytes of 7 bits). */
function descriptor(b: Uint8Array, at: number, end: number): [tag: number, start: number, stop: number] | undefined {
  if (at + 2 > end) return undefined;
  const tag = b[at++];
  let size = 0;
  for (let i = 0; i < 4 && at < end; i++) {
    const byte = b[at++];
    size = size * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return [tag, at, Math.min(end, at + size)];
}

/** Reads an `esds` box (a FullBox holding an ES_Descriptor). Undefined fields were not present. */
export function readEsds(b: Uint8Array, esds: ChildBox): EsdsInfo | undefined {
  requirePayload(esds, 4);
  const es = descriptor(b, esds.start + 4, esds.end);
  if (!es || es[0] !== 0x03) return undefined;
  let at = es[1] + 2; // ES_ID
  const flags = b[at++];
  if (flags & 0x80) at += 2; // dependsOn_ES_ID
  if (flags & 0x40) at += 1 + (b[at] ?? 0); // URL
  if (flags & 0x20) at += 2; // OCR_ES_Id
  const config = descriptor(b, at, es[2]);
  if (!config || config[0] !== 0x04 || config[2] - config[1] < 13) return undefined;
  const c = config[1];
  const info: EsdsInfo = {
    objectType: b[c],
    audioObjectType: undefined,
    sampleRate: undefined,
    channelConfiguration: undefined,
    maxBitrate: u32(b, c + 5),
    avgBitrate: u32(b, c + 9),
  };
  const dsi = descriptor(b, c + 13, config[2]);
  // The DecoderSpecificInfo is an AudioSpecificConfig only for MPEG-4 audio (0x40) and MPEG-2
  // AAC (0x66-0x68); for video (mp4v: a VOS header) or MP3 it is something else.
  const aac = info.objectType === 0x40 || (info.objectType >= 0x66 && info.objectType <= 0x68);
  if (aac && dsi && dsi[0] === 0x05 && dsi[2] > dsi[1]) {
    const bits = new Bits(b, dsi[1], dsi[2]);
    let aot = bits.read(5);
    if (aot === 31) aot = 32 + bits.read(6);
    const index = bits.read(4);
    info.audioObjectType = aot;
    info.sampleRate = index === 15 ? bits.read(24) : RATES[index];
    info.channelConfiguration = bits.read(4);
  }
  return info;
}

/** `mp4a.40.2`: the object type in hex, then the audio object type for MPEG-4 audio. */
export function mp4aCodec(format: string, esds: EsdsInfo | undefined): string {
  if (!esds) return format;
  const aot = esds.objectType === 0x40 && esds.audioObjectType !== undefined ? `.${esds.audioObjectType}` : '';
  return `${format}.${hex2(esds.objectType)}${aot}`;
}
