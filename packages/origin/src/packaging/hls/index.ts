/**
 * LL-HLS playlists from a stream model: pure functions, a channel in, playlist text out. The
 * origin wires them to HTTP; other tools can import them as they import the parser.
 *
 * @packageDocumentation
 */
export { renderMediaPlaylist, liveEdge, listedSegments, hasEnded, type LiveEdge, type MediaPlaylistOptions } from './media-playlist.js';
export { renderMultivariant } from './multivariant.js';
export type { ChannelView, ChannelTiming, RenditionView, RenditionInfo, SegmentFact, ChunkFact } from '../../stream/types.js';
