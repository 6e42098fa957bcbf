// The stream model's read-only shapes: what packaging (playlists) and operators see of a channel.
// Named after CMAF: a channel has renditions (switching set members); a rendition has an init
// (CMAF header) and segments; a segment is a run of chunks, each an LL-HLS part.

/** One CMAF chunk (moof + mdat with its leading boxes) of a segment: one LL-HLS part. */
export interface ChunkFact {
  /** Byte offset of the chunk's first byte within its segment object. */
  readonly offset: number;
  /** Bytes. */
  readonly size: number;
  /** Seconds (the longest track's duration). */
  readonly duration: number;
  /** The chunk starts with a sync sample in every track (INDEPENDENT=YES). */
  readonly independent: boolean;
}

/** One media segment of a rendition, complete or still being written. */
export interface SegmentFact {
  /** Media sequence number (the same number in every rendition for the same time span). */
  readonly msn: number;
  /** The segment's object key (`/live/chunk-0-00042.m4s`). */
  readonly key: string;
  /** Its name relative to the playlist's directory, percent-encoded as a URI reference. */
  readonly uri: string;
  /** Chunks published so far, in order. */
  readonly chunks: readonly ChunkFact[];
  /** Bytes published so far. */
  readonly size: number;
  /** Sum of the chunks' durations, seconds. */
  readonly duration: number;
  /** True once its upload ended well: its EXTINF is final. */
  readonly complete: boolean;
  /** The first segment after an encoder restart or a gap (EXT-X-DISCONTINUITY before it). */
  readonly discontinuity: boolean;
  /** Wallclock of its first sample, epoch ms (EXT-X-PROGRAM-DATE-TIME). */
  readonly programDateTime: number;
  /** Decode time of its first sample, seconds. */
  readonly decodeTime: number;
}

/** What the encoder's MPD says about one rendition, plus what its init segment says. */
export interface RenditionInfo {
  readonly id: string;
  readonly type: 'video' | 'audio' | 'text' | 'other';
  /** Peak bits per second declared by the encoder. */
  readonly bandwidth: number | undefined;
  /** RFC 6381 codecs string. */
  readonly codecs: string | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly frameRate: number | undefined;
  readonly audioSamplingRate: number | undefined;
  readonly channels: string | undefined;
  readonly lang: string | undefined;
  /** URI of the init segment relative to the playlist's directory. */
  readonly initUri: string | undefined;
  /** Seconds per segment the template declares (`duration` / `timescale`); undefined with a SegmentTimeline. */
  readonly segmentDuration: number | undefined;
}

/** One rendition's state: its declaration and its window of segments. */
export interface RenditionView {
  readonly info: RenditionInfo;
  /** URI of this rendition's media playlist relative to the channel's directory. */
  readonly playlistUri: string;
  /** Segments in the window, oldest first; consecutive media sequence numbers. */
  readonly segments: readonly SegmentFact[];
  /** The media sequence number after the newest segment (what an empty window starts at). */
  readonly nextMsn: number;
  /** Discontinuities before the first segment of the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  readonly discontinuitySequence: number;
  /** URI of the segment after the last one, when the template can name it (preload hint). */
  readonly nextUri: string | undefined;
  /** Measured bits per second over the complete segments in the window. */
  readonly averageBandwidth: number | undefined;
  /** Highest bits per second of one complete segment in the window. */
  readonly peakBandwidth: number | undefined;
}

/** Numbers fixed for the life of a channel (players fail on a change). */
export interface ChannelTiming {
  /** EXT-X-TARGETDURATION, whole seconds. */
  readonly targetDuration: number;
  /** EXT-X-PART-INF PART-TARGET, seconds. */
  readonly partTarget: number;
  /** PART-HOLD-BACK, seconds: 3 part targets. */
  readonly partHoldBack: number;
  /** CAN-SKIP-UNTIL, seconds: 6 target durations. */
  readonly skipUntil: number;
}

/** A channel: the renditions an MPD declares, and their segments as they arrive. */
export interface ChannelView {
  /** Key of the encoder's MPD (`/live/out.mpd`). */
  readonly mpdKey: string;
  /** Key of the generated multivariant playlist (`/live/out.m3u8`). */
  readonly playlistKey: string;
  readonly renditions: readonly RenditionView[];
  /** Set once every rendition has an init and chunks: playlists can be generated. */
  readonly timing: ChannelTiming | undefined;
  /** The encoder ended the stream (MPD `type="static"` or an `lmsg` segment): EXT-X-ENDLIST. */
  readonly ended: boolean;
  /**
   * Every segment stays listed from the first (a VOD asset being made): the playlists say
   * `EXT-X-PLAYLIST-TYPE:EVENT`, then `VOD` once ended. False for a live window.
   */
  readonly event: boolean;
}
