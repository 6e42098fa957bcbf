// Soak: a simulated 2-rendition live stream of 20+ minutes of media time, uploaded as fast as the
// origin takes it, with readers following the live edge. Video leaves by window DELETEs (like
// ffmpeg's window_size), audio by a per-prefix TTL. Memory must stay flat within the retention
// settings and every reader's bytes must match. With BOXSTREAM_RECORD=1 the memory curve goes to
// packages/bench/results/soak-latest.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fixture, fixtureChunks, sleep, startOrigin, waitUntil } from './helpers.js';

const SEGMENT_SECONDS = 0.8; // the fixture segment: 5 chunks of 0.16 s
const SEGMENTS = 1500; // per rendition: 1500 x 0.8 s = 20 min of media time
const WINDOW = 6; // video segments kept before DELETE
const AUDIO_TTL_MS = 500;
const READERS = 3; // per rendition
const MiB = 1024 * 1024;

const init = fixture('lldash-init.mp4');
const chunks = fixtureChunks();

/** The mdat payload offset of a `[styp] prft moof mdat` chunk (the last top-level box). */
function mdatPayload(chunk: Buffer): number {
  let pos = 0;
  for (;;) {
    const size = chunk.readUInt32BE(pos);
    if (chunk.toString('latin1', pos + 4, pos + 8) === 'mdat') return pos + 8;
    pos += size;
  }
}

/** Segment `n` of a rendition: real CMAF chunks, stamped with (rendition, n) inside each mdat. */
function synthesize(rendition: number, n: number): Buffer[] {
  const base = rendition === 0 ? [chunks[0], ...chunks.slice(1), ...chunks.slice(1), ...chunks.slice(1)] : chunks;
  return base.map((c, i) => {
    const copy = Buffer.from(c);
    copy.writeUInt32BE(((rendition << 24) | n) >>> 0, mdatPayload(copy));
    copy.writeUInt32BE(i, copy.length - 4);
    return copy;
  });
}

const hash = (parts: readonly Uint8Array[]): string => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

interface Sample {
  elapsedMs: number;
  mediaSeconds: number;
  storeBytes: number;
  detachedBytes: number;
  objects: number;
  readers: number;
  heapUsedMiB: number;
  rssMiB: number;
  arrayBuffersMiB: number;
}

/** Memory in use after a full garbage collection (gc exposed at run time: no flag needed). */
function retained(): NodeJS.MemoryUsage {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage();
}

test('soak: 2 renditions, 20 min of media, window DELETEs and TTL: memory flat, every reader byte-exact', async () => {
  const o = await startOrigin({
    holdMs: 15_000,
    ttlMs: 0,
    ttlRules: [{ prefix: '/live/soak/a/', ttlMs: AUDIO_TTL_MS }],
    maxMemoryBytes: 64 * MiB,
  });
  const store = o.origin.store;
  const agents: Agent[] = [];
  const agent = (): Agent => {
    const a = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(a);
    return a;
  };
  const call = (a: Agent, method: string, path: string, body?: readonly Uint8Array[]): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: o.port, method, path, agent: a }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      if (body !== undefined) for (const piece of body) req.write(piece); // chunked, one HTTP chunk per CMAF chunk
      req.end();
    });
  const expected = [new Map<number, string>(), new Map<number, string>()];
  const samples: Sample[] = [];
  const t0 = Date.now();
  const sample = (n: number): void => {
    const st = store.stats();
    const mem = process.memoryUsage();
    samples.push({
      elapsedMs: Date.now() - t0,
      mediaSeconds: Math.round(n * SEGMENT_SECONDS),
      storeBytes: st.bytes,
      detachedBytes: st.detachedBytes,
      objects: st.objects,
      readers: st.readers,
      heapUsedMiB: +(mem.heapUsed / MiB).toFixed(1),
      rssMiB: +(mem.rss / MiB).toFixed(1),
      arrayBuffersMiB: +(mem.arrayBuffers / MiB).toFixed(1),
    });
  };
  // What is still referenced, after a full collection: flat or not, whatever the collector's timing.
  let retainedAtHalf: NodeJS.MemoryUsage | undefined;
  let maxStoreBytes = 0;
  let evictions = 0;
  let expired = 0;
  store.on('delete', (_k, _o, reason) => {
    if (reason === 'evict') evictions++;
    if (reason === 'expire') expired++;
  });
  store.on('publish', () => {
    if (store.stats().bytes > maxStoreBytes) maxStoreBytes = store.stats().bytes;
  });
  try {
    const dirs = ['/live/soak/v', '/live/soak/a'];
    const manifestAgent = agent();
    for (let r = 0; r < 2; r++) assert.is(await call(manifestAgent, 'PUT', `${dirs[r]}/init.mp4`, [init]), 201);

    // Readers: each follows its rendition from segment 1, asking for the next one as soon as the
    // previous ended (held until it starts: the live edge).
    let misses = 0;
    let verified = 0;
    let mismatches = 0;
    const reader = async (r: number): Promise<void> => {
      const a = agent();
      for (let n = 1; n <= SEGMENTS; n++) {
        const parts: Buffer[] = [];
        const status = await new Promise<number>((resolve, reject) => {
          request({ host: '127.0.0.1', port: o.port, path: `${dirs[r]}/seg-${n}.m4s`, agent: a }, (res) => {
            res.on('data', (b: Buffer) => parts.push(b));
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          })
            .on('error', reject)
            .end();
        });
        if (status !== 200) {
          misses++;
          continue;
        }
        if (hash(parts) === expected[r].get(n)) verified++;
        else mismatches++;
      }
    };
    const readers = Array.from({ length: 2 * READERS }, (_, i) => reader(i % 2));

    // Uploaders: one persistent connection per rendition, segments back to back and the two
    // renditions in step (as an encoder produces them), with no pause: as fast as the origin
    // takes them. The video window is DELETEd like ffmpeg's window_size; the manifest is PUT
    // after every segment.
    const upload = async (r: number, n: number, a: Agent): Promise<void> => {
      const seg = synthesize(r, n);
      expected[r].set(n, hash(seg));
      const status = await call(a, 'PUT', `${dirs[r]}/seg-${n}.m4s`, seg);
      if (status !== 201) throw new Error(`PUT ${dirs[r]}/seg-${n}.m4s: ${status}`);
    };
    const up = [agent(), agent()];
    const del = agent();
    for (let n = 1; n <= SEGMENTS; n++) {
      await Promise.all([upload(0, n, up[0]), upload(1, n, up[1])]);
      if (n > WINDOW) {
        const d = await call(del, 'DELETE', `${dirs[0]}/seg-${n - WINDOW}.m4s`);
        if (d !== 200) throw new Error(`DELETE seg-${n - WINDOW}: ${d}`);
      }
      await call(manifestAgent, 'PUT', '/live/soak/out.mpd', [Buffer.from(`<MPD><!-- ${n} --></MPD>`)]);
      if (n % 100 === 0 || n === 1) sample(n);
      if (n === SEGMENTS / 2) retainedAtHalf = retained();
    }
    await Promise.all(readers);
    sample(SEGMENTS);
    // Once the audio TTL has run out, only the init segments, the video window and the manifest remain.
    await waitUntil(() => store.stats().objects === 2 + WINDOW + 1, AUDIO_TTL_MS + 3000, 'audio TTL expiry');
    await waitUntil(() => store.stats().readers === 0 && store.stats().detachedBytes === 0, 3000, 'readers released');
    const elapsed = Date.now() - t0;

    const first = samples.slice(1, Math.ceil(samples.length / 2));
    const last = samples.slice(Math.ceil(samples.length / 2));
    const max = (xs: Sample[], f: (s: Sample) => number): number => Math.max(...xs.map(f));
    const videoBytes = synthesize(0, 1).reduce((n, c) => n + c.length, 0);
    const audioBytes = synthesize(1, 1).reduce((n, c) => n + c.length, 0);
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      mediaMinutesPerRendition: (SEGMENTS * SEGMENT_SECONDS) / 60,
      renditions: 2,
      segmentsPerRendition: SEGMENTS,
      segmentBytes: { video: videoBytes, audio: audioBytes },
      uploadedMiB: +(((videoBytes + audioBytes) * SEGMENTS) / MiB).toFixed(1),
      readers: 2 * READERS,
      retention: { videoWindowSegments: WINDOW, audioTtlMs: AUDIO_TTL_MS, maxMemoryBytes: 64 * MiB },
      wallSeconds: +(elapsed / 1000).toFixed(1),
      maxStoreBytes,
      evictions,
      expired,
      verifiedReads: verified,
      misses,
      mismatches,
      samples,
    };
    // Tests never write tracked files: the curve is recorded only when asked for.
    if (process.env.BOXSTREAM_RECORD === '1') {
      const out = fileURLToPath(new URL('../../bench/results/', import.meta.url));
      mkdirSync(out, { recursive: true });
      writeFileSync(out + 'soak-latest.json', JSON.stringify(result, null, 2) + '\n');
    }
    console.log(`  soak: ${result.mediaMinutesPerRendition} min x 2 renditions, ${result.uploadedMiB} MiB in ${result.wallSeconds} s; store max ${(maxStoreBytes / MiB).toFixed(2)} MiB`);
    for (const s of samples) console.log(`    t=${s.mediaSeconds}s store=${(s.storeBytes / MiB).toFixed(2)}MiB objects=${s.objects} heap=${s.heapUsedMiB}MiB rss=${s.rssMiB}MiB ab=${s.arrayBuffersMiB}MiB`);

    assert.is(mismatches, 0, 'every read byte-exact');
    assert.is(misses, 0, 'readers kept up with the live edge');
    assert.is(verified, 2 * READERS * SEGMENTS);
    assert.is(evictions, 0, 'retention alone kept memory under the cap');
    assert.ok(expired >= SEGMENTS, 'audio left by TTL');
    // Retention bound: the video window plus what the audio TTL can hold, far below the cap.
    assert.ok(maxStoreBytes < 16 * MiB, `store held at most ${maxStoreBytes} bytes`);
    assert.is(store.stats().bytes, 2 * init.length + WINDOW * videoBytes + store.get('/live/soak/out.mpd')!.length);
    // Flat: after a full collection, the end of the run retains no more than its middle plus
    // noise, while some 55 MiB went through in between. Retained array buffers moved by up to
    // 14 MiB between runs with no leak (socket and pool buffers): a leak of half of what went
    // through would still show. The curve above is sampled without forcing collections, so it
    // also shows garbage waiting. (This file runs in its own process: see package.json.)
    const atEnd = retained();
    const half = retainedAtHalf as NodeJS.MemoryUsage;
    const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
    console.log(`    retained after GC: array buffers ${mib(half.arrayBuffers)} -> ${mib(atEnd.arrayBuffers)}, heap ${mib(half.heapUsed)} -> ${mib(atEnd.heapUsed)}`);
    assert.ok(atEnd.arrayBuffers <= half.arrayBuffers + 24 * MiB, `array buffers flat: ${mib(half.arrayBuffers)} -> ${mib(atEnd.arrayBuffers)}`);
    assert.ok(atEnd.heapUsed <= half.heapUsed + 16 * MiB, `heap flat: ${mib(half.heapUsed)} -> ${mib(atEnd.heapUsed)}`);
    assert.ok(max(last, (s) => s.rssMiB) <= max(first, (s) => s.rssMiB) + 64, 'rss flat');
  } finally {
    for (const a of agents) a.destroy();
    await sleep(10);
    await o.close();
  }
});

test.run();
