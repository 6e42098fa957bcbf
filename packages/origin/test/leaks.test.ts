// Resource bounds: aborted readers and held requests are released at once (10,000 cycles), and
// a reader that does not read makes the server buffer no more than a socket's worth.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ChunkedUpload, fixtureChunks, rawGet, sleep, startOrigin, waitUntil } from './helpers.js';

test('10,000 connect/abort cycles (live readers and held requests) leave no reader, waiter or socket behind', async () => {
  // The uploader goes quiet after its first chunk: no idle abort, or a loaded machine could cut
  // it mid-test and turn the live readers into held ones.
  const o = await startOrigin({ holdMs: 10_000, ingestIdleMs: 0 });
  try {
    const store = o.origin.store;
    const liveKey = '/live/leak.m4s';
    const up = await ChunkedUpload.start(o.port, liveKey);
    up.send(fixtureChunks()[0]);
    await waitUntil(() => store.get(liveKey)?.units.length === 1);
    // The handler runs synchronously inside 'request', before this listener: once it fires
    // for a client's port, that client is registered as a reader or a waiter.
    const registered = new Map<number, () => void>();
    o.running.server.on('request', (req: IncomingMessage) => {
      const port = req.socket.remotePort as number;
      registered.get(port)?.();
    });
    // Seen from inside each cycle: its own request was registered as a reader or a waiter.
    let sawReader = 0;
    let sawWaiter = 0;
    const cycle = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const s = connect(o.port, '127.0.0.1');
        s.on('error', () => {});
        s.once('connect', () => {
          const port = s.localPort as number;
          registered.set(port, () => {
            registered.delete(port);
            const st = store.stats();
            if (i % 2 === 0 && st.readers > 0) sawReader++;
            if (i % 2 === 1 && st.waiters > 0) sawWaiter++;
            s.destroy();
            resolve();
          });
          const path = i % 2 === 0 ? liveKey : `/live/missing-${i % 7}.m4s`;
          s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        });
        s.once('close', () => setTimeout(resolve, 0));
        setTimeout(() => reject(new Error(`cycle ${i} stuck`)), 5000).unref();
      });
    const total = 10_000;
    const concurrency = 100;
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) await cycle(next++);
      }),
    );
    assert.is(next, total);
    assert.is(sawReader, total / 2, 'every live cycle was a registered reader');
    assert.is(sawWaiter, total / 2, 'every missing-key cycle was a registered waiter');
    await waitUntil(() => {
      const st = store.stats();
      return st.readers === 0 && st.waiters === 0 && o.sockets.size === 1; // the uploader's only
    }, 5000, 'every reader, waiter and socket released');
    const object = store.get(liveKey);
    assert.is(object?.readers.size, 0);
    assert.is((store as unknown as { waiting: Map<string, unknown> }).waiting.size, 0, 'no empty waiter sets left');
    console.log(`  ${total} cycles in ${Date.now() - t0} ms`);
    up.abort();
  } finally {
    await o.close();
  }
});

test('a reader that does not read: the server respects backpressure and holds only the object', async () => {
  const o = await startOrigin();
  try {
    const key = '/live/slow.ts';
    const piece = (i: number) => Buffer.alloc(64 * 1024, i & 255);
    const pieces = 512; // 32 MiB
    const up = await ChunkedUpload.start(o.port, key);
    up.send(piece(0));
    await waitUntil(() => o.origin.store.get(key) !== undefined);
    const reader = await rawGet(o.port, key);
    await reader.until((r) => r !== undefined);
    reader.socket.pause();
    const server = [...o.sockets].find((s) => s.remotePort === reader.socket.localPort);
    assert.ok(server, 'server side of the reader');
    let maxBuffered = 0;
    for (let i = 1; i < pieces; i++) {
      up.send(piece(i));
      if (i % 32 === 0) {
        await sleep(5);
        maxBuffered = Math.max(maxBuffered, server!.writableLength);
      }
    }
    await waitUntil(() => o.origin.store.get(key)?.length === pieces * 64 * 1024, 10_000, 'upload stored');
    maxBuffered = Math.max(maxBuffered, server!.writableLength);
    assert.ok(maxBuffered < 1024 * 1024, `server buffered ${maxBuffered} bytes for a paused reader`);
    assert.is((await up.end()).status, 201);
    reader.socket.resume();
    const r = await reader.until((x) => x?.terminated === true, 10_000, 'slow reader done');
    assert.is(r.body.length, pieces * 64 * 1024);
    for (let i = 0; i < pieces; i++) assert.is(r.body[i * 64 * 1024 + 1000], i & 255);
    await waitUntil(() => o.origin.store.stats().readers === 0);
    reader.destroy();
  } finally {
    await o.close();
  }
});

test.run();
