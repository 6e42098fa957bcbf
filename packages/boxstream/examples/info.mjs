// Prints what a player or packager needs from a CMAF stream: MIME type and codecs, track facts,
// then per chunk its presentation time, events and samples.
import { readFileSync } from 'node:fs';
import { Parser, mimeType, samples } from 'boxstream';

const parser = new Parser();
for (const event of [...parser.push(readFileSync(process.argv[2])), ...parser.end()]) {
  if (event.kind === 'header') {
    console.log(mimeType(event.init));
    for (const t of event.init.tracks) {
      const what = t.handler === 'vide' ? `${t.width}x${t.height}` : `${t.sampleRate} Hz, ${t.channelCount} ch`;
      console.log(`  track ${t.trackId}: ${t.codecString}, ${what}, timescale ${t.timescale}, edit offset ${t.editOffset}`);
    }
  } else if (event.kind === 'chunk') {
    const [t] = event.info.tracks;
    const own = [...samples(event)].filter((s) => s.trackId === t.trackId);
    console.log(`chunk #${event.info.sequenceNumber}: track ${t.trackId} from ${t.earliestPresentationTime},`,
      `${own.length} samples, ${own.filter((s) => s.keyframe).length} keyframe, ${event.info.emsg.length} events`);
  }
}
