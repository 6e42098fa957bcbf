// Prints every CMAF chunk of an MP4 file as it is parsed, 64 KiB at a time.
import { createReadStream } from 'node:fs';
import { Parser } from 'boxstream';

const parser = new Parser();
for await (const piece of createReadStream(process.argv[2], { highWaterMark: 65536 })) {
  for (const event of parser.push(piece)) {
    if (event.kind === 'header') {
      console.log('header', event.init.tracks.map((t) => `${t.trackId}:${t.codec}`).join(' '));
    } else if (event.kind === 'chunk') {
      const { sequenceNumber, duration, independent, tracks } = event.info;
      console.log(`chunk #${sequenceNumber} at ${event.offset}, ${event.size} bytes,`,
        `${duration?.toFixed(3)} s, decode time ${tracks[0]?.baseMediaDecodeTime},`,
        independent ? 'starts with a keyframe' : 'no keyframe first');
    }
  }
}
parser.end(); // throws BoxStreamError if the file stopped inside a box
