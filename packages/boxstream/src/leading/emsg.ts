// `emsg`, ISO/IEC 23009-1 5.10.3.3: an event (SCTE-35 splice, ID3 timed metadata, a DASH
// manifest refresh) carried in-band before a chunk.
import { findChild, type ChildBox } from '../boxes.js';
import { BoxStreamError } from '../errors.js';
import { u32 } from '../bytes.js';
import { cString, requirePayload } from '../fields.js';

/** One `emsg` box, version 0 or 1. */
export interface EventMessage {
  /** Box version: 0 (time relative to the segment) or 1 (absolute time). */
  version: number;
  /** scheme_id_uri, e.g. `urn:scte:scte35:2013:bin`, `https://aomedia.org/emsg/ID3`. */
  schemeIdUri: string;
  /** value: a sub-scheme, scheme-defined. */
  value: string;
  /** Units per second of the times below. */
  timescale: number;
  /**
   * Version 1: presentation_time, in the track's media timeline (exact). Version 0: undefined;
   * the time is `presentationTimeDelta` after the segment's earliest presentation time.
   */
  presentationTime: bigint | undefined;
  /** Version 0: presentation_time_delta; version 1: undefined. */
  presentationTimeDelta: number | undefined;
  /** event_duration in timescale units; 0xffffffff = unknown. */
  eventDuration: number;
  /** id: events with the same scheme, value and id are the same event. */
  id: number;
  /** message_data, a view of the box's bytes (not copied): a SCTE-35 section, an ID3 tag, ... */
  messageData: Uint8Array;
}

/** Reads an `emsg` box (held whole in `b`). */
export function readEmsg(b: Uint8Array, box: ChildBox): EventMessage {
  requirePayload(box, 4);
  const version = b[box.start];
  let at = box.start + 4;
  let schemeIdUri = '';
  let value = '';
  let presentationTime: bigint | undefined;
  let presentationTimeDelta: number | undefined;
  if (version === 0) {
    [schemeIdUri, at] = cString(b, at, box.end, box);
    [value, at] = cString(b, at, box.end, box);
    requirePayload(box, at - box.start + 16);
    presentationTimeDelta = u32(b, at + 4);
  } else {
    requirePayload(box, 4 + 20);
    presentationTime = (BigInt(u32(b, at + 4)) << 32n) | BigInt(u32(b, at + 8));
  }
  const timescale = u32(b, at);
  const timesEnd = at + (version === 0 ? 8 : 12);
  const eventDuration = u32(b, timesEnd);
  const id = u32(b, timesEnd + 4);
  at = timesEnd + 8;
  if (version !== 0) {
    [schemeIdUri, at] = cString(b, at, box.end, box);
    [value, at] = cString(b, at, box.end, box);
  }
  return { version, schemeIdUri, value, timescale, presentationTime, presentationTimeDelta, eventDuration, id, messageData: b.subarray(at, box.end) };
}

/**
 * Parses the first `emsg` box in `bytes` (a box on its own, or a segment that holds one).
 * Throws `BoxStreamError` when there is none or it is malformed.
 *
 * @example
 * const { schemeIdUri, presentationTime, messageData } = parseEmsg(emsgBytes);
 */
export function parseEmsg(bytes: Uint8Array, base = 0): EventMessage {
  const box = findChild(bytes, 0, bytes.length, 'emsg', base);
  if (box === undefined) throw new BoxStreamError('BAD_BOX', 'no emsg box in the given bytes', base);
  return readEmsg(bytes, box);
}
