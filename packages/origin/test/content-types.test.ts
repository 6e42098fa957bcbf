import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bodyFormatFor, contentTypeFor, extensionOf, looksLikeIsoBmff, manifestKind } from '../src/content-types.js';
import { fixture } from './helpers.js';

test('content types follow REFERENCE.md', () => {
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

test('sniffing the first 8 bytes', () => {
  assert.ok(looksLikeIsoBmff(fixture('lldash-segment.m4s').subarray(0, 8)));
  assert.ok(looksLikeIsoBmff(fixture('lldash-init.mp4').subarray(0, 8)));
  const box = (size: number, type: string) => Buffer.concat([Buffer.from([size >>> 24, (size >> 16) & 255, (size >> 8) & 255, size & 255]), Buffer.from(type, 'latin1')]);
  assert.ok(looksLikeIsoBmff(box(0, 'moof')));
  assert.ok(looksLikeIsoBmff(box(1, 'free')));
  assert.not.ok(looksLikeIsoBmff(box(4, 'ftyp')), 'size below the header');
  assert.not.ok(looksLikeIsoBmff(box(100, 'abcd')), 'implausible first type');
  assert.not.ok(looksLikeIsoBmff(Buffer.from('G@\x00\x10\x00\x00\xb0\x0d', 'latin1')), 'MPEG-TS');
  assert.not.ok(looksLikeIsoBmff(Buffer.from('WEBVTT\n\n')));
  assert.not.ok(looksLikeIsoBmff(Buffer.from('ftyp')), 'too short');
});

test.run();
