// mp4frag ships no types; the bench uses it as a Node Transform with a 'segment' event.
declare module 'mp4frag' {
  import { Transform } from 'node:stream';
  export default class Mp4Frag extends Transform {}
}
