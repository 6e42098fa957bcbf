import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bodyFormatFor, classify, contentTypeFor, extensionOf, manifestKind } from '../src/store/classify.js';
import { fixture } from './helpers.js';

test('content types are the ones players and CDNs expect', () => {
  const expected: Record<string, string> = {
    '/a.mpd': 'application/dash+xml',
    '/a.m3u8': 'application/vnd.apple.mpegurl',
    '/a.m4s': 'video/iso.segment',
    '/a.mp4': 'video/mp4',
    '/a.cmfv': 'video/mp4',
    '/a.m4a': 'audio/mp4',
    '/a.cmfa': 'audio/mp4',
    '/a.ts': 'video/mp2t',
    '/a.vtt': 'text/vtt',
    '/live/x/CHUNK.M4S': 'video/iso.segment',
  };
  for (const [key, type] of Object.entries(expected)) assert.is(contentTypeFor(key), type, key);
  assert.is(contentTypeFor('/a.unknown'), undefined);
  assert.is(contentTypeFor('/noext'), undefined);
});

test('extensions come from the last segment only', () => {
  assert.is(extensionOf('/live.v1/seg'), '');
  assert.is(extensionOf('/live/.hidden'), '');
  assert.is(extensionOf('/live/a.b.m4s'), 'm4s');
});

test('manifests by extension or by the upload content type', () => {
  assert.is(manifestKind('/x.mpd'), 'dash');
  assert.is(manifestKind('/x.m3u8'), 'hls');
  assert.is(manifestKind('/x', 'application/dash+xml; charset=utf-8'), 'dash');
  assert.is(manifestKind('/x', 'Application/X-MpegURL'), 'hls');
  assert.is(manifestKind('/x.m4s', 'video/mp4'), undefined);
  assert.is(manifestKind('/x'), undefined);
});

test('body formats by name', () => {
  assert.is(bodyFormatFor('/a.m4s'), 'iso-bmff');
  assert.is(bodyFormatFor('/a.cmfv'), 'iso-bmff');
  assert.is(bodyFormatFor('/a.ts'), 'opaque');
  assert.is(bodyFormatFor('/a.vtt'), 'opaque');
  assert.is(bodyFormatFor('/a'), 'sniff');
});

test('classify: once per body, by name and by boxstream\'s sniffer', () => {
  assert.equal(classify('/a/seg.m4s', fixture('lldash-segment.m4s').subarray(0, 8)), { kind: 'media', contentType: 'video/iso.segment', isoBmff: true });
  assert.equal(classify('/a/init.mp4', fixture('lldash-init.mp4').subarray(0, 8)), { kind: 'init', contentType: 'video/mp4', isoBmff: true });
  // No telling name: the first box decides.
  assert.equal(classify('/a/init', fixture('lldash-init.mp4').subarray(0, 8)), { kind: 'init', contentType: 'video/mp4', isoBmff: true });
  assert.equal(classify('/a/chunk', fixture('lldash-segment.m4s').subarray(0, 8)), { kind: 'media', contentType: 'video/mp4', isoBmff: true });
  assert.equal(classify('/a/x', Buffer.from('WEBVTT\n\n')), { kind: 'opaque', contentType: 'application/octet-stream', isoBmff: false });
  assert.equal(classify('/a/x', Buffer.from('G@\x00\x10\x00\x00\xb0\x0d', 'latin1')).isoBmff, false, 'MPEG-TS');
  // A name that says "not ISO-BMFF" is believed even when the bytes look like boxes.
  assert.equal(classify('/a/x.ts', fixture('lldash-segment.m4s').subarray(0, 8)).kind, 'opaque');
  // A name that says ISO-BMFF is parsed (junk in it is then a 415), whatever its bytes.
  assert.equal(classify('/a/x.m4s', Buffer.from('<html>..')), { kind: 'media', contentType: 'video/iso.segment', isoBmff: true });
});

test.run();
