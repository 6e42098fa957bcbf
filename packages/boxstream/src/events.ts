import type { BoxHeader } from './header.js';
import type { InitInfo } from './init/moov.js';
import type { TrackFragmentInfo } from './fragment/moof.js';
import type { EventMessage } from './leading/emsg.js';
import type { ProducerReferenceTime } from './leading/prft.js';
import type { SegmentIndex } from './leading/sidx.js';

export type { EventMessage, ProducerReferenceTime, SegmentIndex };

/** What a chunk's boxes say: what a live server needs to announce and serve it. */
export interface ChunkInfo {
  /** `mfhd` sequence_number. */
  sequenceNumber: number | undefined;
  /** True when an `styp` precedes this chunk's moof: the chunk opens a segment. */
  segmentStart: boolean;
  /** The `styp` brands (major first, then compatible); a shared empty array when there is no styp. */
  brands: readonly string[];
  /** True when the styp carries `lmsg`: the last segment of the stream. */
  lastSegment: boolean;
  /**
   * Byte offset of this chunk within its segment: from the most recent styp, or from the first
   * chunk after the most recent header when the stream has no styp. An LL-HLS part's BYTERANGE.
   */
  segmentOffset: number;
  /** One entry per traf, in moof order. */
  tracks: TrackFragmentInfo[];
  /** Seconds, the longest track's duration, when durations and timescales are known. */
  duration: number | undefined;
  /**
   * True when every track starts with a keyframe (an LL-HLS part's INDEPENDENT=YES), false when
   * one does not, undefined when a track's flags say nothing.
   */
  independent: boolean | undefined;
  /** The `prft` among the chunk's leading boxes (the last one when several). */
  prft: ProducerReferenceTime | undefined;
  /** The `emsg` boxes among the chunk's leading boxes, in order (a shared empty array when none). */
  emsg: readonly EventMessage[];
  /** The `sidx` among the chunk's leading boxes (the last one when several). */
  sidx: SegmentIndex | undefined;
  /** The header the chunk's facts were read with (timescales, trex defaults), if any. */
  init: InitInfo | undefined;
}

interface UnitBase {
  /** Absolute byte offset of the unit's first byte in the stream. */
  offset: number;
  /**
   * Total size in bytes. 0 for an open-ended unit (its last box has size 0): its size is known
   * only at the end, as this event's bytes plus those of its `data` events.
   */
  size: number;
  /** The unit's top-level box headers, in order. */
  boxes: BoxHeader[];
  /**
   * The unit's bytes as views into the pushed pieces, in order, without copies (one view per
   * piece touched). With the `copy` option, one fresh array instead. When `complete` is false,
   * only the first bytes: the rest follows as `data` events.
   */
  parts: Uint8Array[];
  /**
   * False when the unit is delivered progressively (it is larger than `maxChunkSize`, or open-ended):
   * `parts` holds its boxes up to the mdat payload and `data` events bring the rest.
   */
  complete: boolean;
}

/** The CMAF header: ftyp + moov and anything between (and leading boxes before) them. */
export interface HeaderEvent extends UnitBase {
  kind: 'header';
  init: InitInfo;
}

/** One CMAF chunk: leading styp / prft / emsg / sidx / free / skip / uuid boxes, moof, mdat. */
export interface ChunkEvent extends UnitBase {
  kind: 'chunk';
  info: ChunkInfo;
}

/**
 * Any other top-level box that is not part of a header or chunk: the mdat of a non-fragmented
 * file, mfra, a trailing emsg, ...
 */
export interface BoxEvent extends UnitBase {
  kind: 'box';
  /** The event of an `emsg` box delivered on its own (one that leads no chunk). */
  emsg?: EventMessage;
  /** The index of a `sidx` box delivered on its own. */
  sidx?: SegmentIndex;
}

/** More bytes of a unit delivered progressively (`complete: false`). */
export interface DataEvent {
  kind: 'data';
  /** The kind of unit these bytes continue. */
  unit: 'chunk' | 'box';
  /** Absolute offset of the first byte of `parts`. */
  offset: number;
  /** Bytes in `parts`. */
  size: number;
  parts: Uint8Array[];
  /** True on the unit's last data event. */
  last: boolean;
}

/** Everything `Parser.push()` and `Parser.end()` return. */
export type ParseEvent = HeaderEvent | ChunkEvent | BoxEvent | DataEvent;
