// --dir: completed objects land on disk whole (temporary name, then rename), a restart serves
// them again, DELETE and TTL remove the files, keys never map outside the directory, and a
// failing disk costs counted errors, never a chunk or the process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TMP_DIR, keyToFile } from '../src/store/disk.js';
import { ChunkedUpload, fixture, fixtureChunks, http, put, rawGet, startOrigin, waitUntil } from './helpers.js';

const segment = fixture('lldash-segment.m4s');
const init = fixture('lldash-init.mp4');
const chunks = fixtureChunks();
const quiet = (): void => {};

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'boxstream-origin-'));
}

test('keyToFile: every key maps strictly inside the root, or to nothing', () => {
  const root = '/srv/media';
  assert.is(keyToFile(root, '/live/a.m4s'), '/srv/media/live/a.m4s');
  assert.is(keyToFile(root, '/live/chan 1/ü.m4s'), '/srv/media/live/chan 1/ü.m4s');
  for (const key of [
    '/', '', 'live/a', '/../etc/passwd', '/live/../../etc/passwd', '/live/..', '/./a', '/a//b', '/a\\..\\b', '/a\\b',
    '/a\0b', '/a\nb', `/${TMP_DIR}/x`, '/..', '/.../../x',
  ]) {
    const file = keyToFile(root, key);
    if (file !== undefined) assert.ok(file.startsWith('/srv/media/'), `${JSON.stringify(key)} -> ${file}`);
    if (key.includes('..') && !key.startsWith('/...')) assert.is(file, undefined, JSON.stringify(key));
  }
  assert.is(keyToFile(root, '/...'), '/srv/media/...', 'three dots is just a name');
  assert.is(keyToFile(root, '/a/../b'), undefined);
});

test('completed objects are written whole; a restart serves them; DELETE and TTL remove the files', async () => {
  const dir = tempDir();
  try {
    let o = await startOrigin({ dir, warn: quiet, ttlMs: 0, ttlRules: [{ prefix: '/short/', ttlMs: 100 }] });
    const up = await ChunkedUpload.start(o.port, '/live/ch/seg-1.m4s');
    up.send(chunks[0]);
    up.send(chunks[1]);
    await waitUntil(() => o.origin.store.get('/live/ch/seg-1.m4s')?.units.length === 2);
    assert.not.ok(existsSync(join(dir, 'live/ch/seg-1.m4s')), 'nothing on disk while the upload runs');
    for (const c of chunks.slice(2)) up.send(c);
    assert.is((await up.end()).status, 201);
    assert.is((await put(o.port, '/live/ch/init.mp4', init)).status, 201);
    assert.is((await put(o.port, '/live/ch/out.mpd', '<MPD/>')).status, 201);
    assert.is((await put(o.port, '/live/ch/out.mpd', '<MPD>v2</MPD>')).status, 204);
    assert.is((await put(o.port, '/short/x.ts', 'x')).status, 201);
    assert.is((await put(o.port, '/live/ch/gone.m4s', segment)).status, 201);
    await waitUntil(() => existsSync(join(dir, 'live/ch/gone.m4s')));
    assert.is((await http(o.port, 'DELETE', '/live/ch/gone.m4s')).status, 200);
    await waitUntil(() => o.origin.store.get('/short/x.ts') === undefined, 2000, 'ttl');
    const disk = (await http(o.port, 'GET', '/metrics')).body.toString();
    await o.close();
    assert.match(disk, /boxstream_origin_disk_errors_total 0\n/);
    assert.ok(readFileSync(join(dir, 'live/ch/seg-1.m4s')).equals(segment));
    assert.ok(readFileSync(join(dir, 'live/ch/init.mp4')).equals(init));
    assert.is(readFileSync(join(dir, 'live/ch/out.mpd'), 'utf8'), '<MPD>v2</MPD>');
    assert.not.ok(existsSync(join(dir, 'live/ch/gone.m4s')), 'DELETE removed the file');
    assert.not.ok(existsSync(join(dir, 'short/x.ts')), 'TTL removed the file');
    assert.not.ok(existsSync(join(dir, 'short')), 'and its empty directory');
    assert.equal(readdirSync(join(dir, TMP_DIR)), [], 'no temporary file left');

    // Restart: the files are complete objects again, with validators and types.
    writeFileSync(join(dir, TMP_DIR, 'partial-from-a-crash'), 'junk');
    symlinkSync('/etc/passwd', join(dir, 'live/ch/link.m4s'));
    o = await startOrigin({ dir, warn: quiet, ttlMs: 0 });
    try {
      const seg = await http(o.port, 'GET', '/live/ch/seg-1.m4s');
      assert.is(seg.status, 200);
      assert.ok(seg.body.equals(segment));
      assert.is(seg.headers['content-length'], String(segment.length));
      assert.is(seg.headers['content-type'], 'video/iso.segment');
      assert.ok(seg.headers.etag);
      const mpd = await http(o.port, 'GET', '/live/ch/out.mpd');
      assert.is(mpd.body.toString(), '<MPD>v2</MPD>');
      assert.is(mpd.headers['cache-control'], 'max-age=1', 'still a manifest');
      assert.is((await http(o.port, 'GET', '/live/ch/link.m4s')).status, 404, 'symlinks are not served');
      assert.not.ok(existsSync(join(dir, TMP_DIR, 'partial-from-a-crash')), 'stale temporary files removed');
      assert.is((await http(o.port, 'DELETE', '/live/ch/seg-1.m4s')).status, 200);
      await waitUntil(() => !existsSync(join(dir, 'live/ch/seg-1.m4s')), 2000, 'file removed');
    } finally {
      await o.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a disk that fails while streaming: errors are counted and logged, chunks keep flowing, nothing crashes', async () => {
  const dir = tempDir();
  const warnings: string[] = [];
  try {
    const o = await startOrigin({ dir, warn: (m) => warnings.push(m), ttlMs: 0 });
    try {
      assert.is((await put(o.port, '/live/s/seg-1.m4s', segment)).status, 201);
      await waitUntil(() => existsSync(join(dir, 'live/s/seg-1.m4s')));
      // The write is counted once its directory is synced too, a moment after the file appears:
      // breaking the directory before that would fail the first write as well.
      for (let i = 0; i < 200 && !/boxstream_origin_disk_writes_total 1\n/.test((await http(o.port, 'GET', '/metrics')).body.toString()); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      // The disk "fails": the stream's directory becomes a regular file (tests run as root, so
      // permissions would not stop a write; ENOTDIR does).
      rmSync(join(dir, 'live'), { recursive: true });
      writeFileSync(join(dir, 'live'), 'not a directory');
      for (let n = 2; n <= 6; n++) {
        const key = `/live/s/seg-${n}.m4s`;
        const up = await ChunkedUpload.start(o.port, key);
        up.send(chunks[0]);
        await waitUntil(() => o.origin.store.get(key) !== undefined);
        const reader = await rawGet(o.port, key);
        await reader.until((r) => (r?.chunks.length ?? 0) === 1, 2000, 'first chunk live');
        for (const c of chunks.slice(1)) up.send(c);
        assert.is((await up.end()).status, 201);
        const r = await reader.until((x) => x?.terminated === true, 2000, 'reader done');
        assert.ok(r.body.equals(segment), `${key} intact for the reader`);
        reader.destroy();
      }
      await waitUntil(() => warnings.length >= 5, 3000, 'errors logged');
      const m = (await http(o.port, 'GET', '/metrics')).body.toString();
      assert.match(m, /boxstream_origin_disk_errors_total [5-9]\n/);
      assert.match(m, /boxstream_origin_disk_writes_total 1\n/);
      assert.ok(warnings.every((w) => w.startsWith('disk: cannot write /live/s/seg-')), warnings.join('\n'));
      assert.is((await http(o.port, 'GET', '/live/s/seg-6.m4s')).status, 200, 'memory still serves');
    } finally {
      await o.close();
    }
    // A --dir that cannot even be created (its parent is a regular file): the origin still runs.
    const blocked = join(dir, 'live', 'sub');
    const o2 = await startOrigin({ dir: blocked, warn: (m) => warnings.push(m) });
    try {
      assert.is((await put(o2.port, '/a.ts', 'a')).status, 201);
      assert.is((await http(o2.port, 'GET', '/a.ts')).status, 200);
      await waitUntil(() => warnings.some((w) => w.includes('cannot write /a.ts')), 2000, 'write error');
    } finally {
      await o2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shutdown waits for queued disk writes', async () => {
  const dir = tempDir();
  try {
    const o = await startOrigin({ dir, warn: quiet });
    const body = Buffer.alloc(4 * 1024 * 1024, 7);
    for (let i = 0; i < 8; i++) assert.is((await put(o.port, `/v/${i}.ts`, body)).status, 201);
    await o.running.close(5000);
    for (let i = 0; i < 8; i++) assert.is(readFileSync(join(dir, `v/${i}.ts`)).length, body.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test.run();
