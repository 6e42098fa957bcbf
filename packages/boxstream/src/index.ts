// boxstream: incremental ISO-BMFF parser that emits complete CMAF units as bytes stream in.
// Uses only Uint8Array, so it runs in browsers as well as Node; the Node Transform lives in
// 'boxstream/node'.
export { Parser, type ParserOptions } from './parser.js';
export type { ParseEvent, HeaderEvent, ChunkEvent, BoxEvent, DataEvent, ChunkInfo } from './events.js';
export { ntpToUnixMs, type ProducerReferenceTime } from './leading/prft.js';
export { parseEmsg, type EventMessage } from './leading/emsg.js';
export { parseSidx, type SegmentIndex, type SegmentReference } from './leading/sidx.js';
export { BoxStreamError, type BoxStreamErrorCode } from './errors.js';
export { readBoxHeader, MAX_HEADER_SIZE, type BoxHeader } from './header.js';
export { readChildren, walkBoxes, findChild, type ChildBox, type WalkedBox, type WalkOptions } from './boxes.js';
export { parseInit, type InitInfo } from './init/moov.js';
export type { TrackInfo, TrackExtends, EditEntry } from './init/trak.js';
export type { TrackEncryption, ProtectionSystem } from './init/protection.js';
export { mimeType } from './codecs/mime.js';
export { parseMoof, type MoofInfo, type TrackFragmentInfo } from './fragment/moof.js';
export { samples, type Sample } from './fragment/samples.js';
export { parserTransformStream } from './adapters/web.js';
export { parseStream, type ByteSource } from './adapters/iterate.js';
export { concat } from './bytes.js';
export { sniff, SNIFF_BYTES } from './sniff.js';
