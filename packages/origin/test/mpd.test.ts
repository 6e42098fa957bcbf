import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readMpd, MAX_MPD_CHARS, type ManifestDecl, type RenditionDecl } from '../src/stream/mpd.js';
import { compileTemplate, expandTemplate, isTemplateError, type SegmentNamePattern } from '../src/stream/template.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Debian's ffmpeg 5.1 dash muxer, live (`-streaming 1 -ldash 1`), as uploaded while streaming. */
const FFMPEG_MPD = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" xsi:schemaLocation="urn:mpeg:DASH:schema:MPD:2011 http://standards.iso.org/ittf/PubliclyAvailableStandards/MPEG-DASH_schema_files/DASH-MPD.xsd" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" minimumUpdatePeriod="PT500S" suggestedPresentationDelay="PT1S" availabilityStartTime="2026-12-02T21:00:00.000Z" publishTime="2026-12-02T21:00:06.000Z" timeShiftBufferDepth="PT6.0S" maxSegmentDuration="PT2.0S" minBufferTime="PT2.0S">
	<ProgramInformation>
	</ProgramInformation>
	<ServiceDescription id="0">
	</ServiceDescription>
	<Period id="0" start="PT0.0S">
		<AdaptationSet id="0" contentType="video" startWithSAP="1" segmentAlignment="true" bitstreamSwitching="true" frameRate="30/1" maxWidth="640" maxHeight="360" par="16:9">
			<Representation id="0" mimeType="video/mp4" codecs="avc1.64001e" bandwidth="1000000" width="640" height="360" sar="1:1">
				<SegmentTemplate timescale="1000000" duration="2000000" availabilityTimeOffset="1.800" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1">
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
		<AdaptationSet id="1" contentType="audio" startWithSAP="1" segmentAlignment="true" bitstreamSwitching="true">
			<Representation id="1" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="48000">
				<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1" />
				<SegmentTemplate timescale="1000000" duration="2000000" availabilityTimeOffset="1.800" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1">
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
	</Period>
	<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="http://127.0.0.1:8080/time"/>
</MPD>
`;

/** A minimal MPD around `period` (the Period's content) with extra MPD-level markup. */
const mpd = (period: string, { mpdAttrs = 'type="dynamic"', mpdChildren = '', periodAttrs = 'id="p0"' } = {}): string =>
  `<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" ${mpdAttrs}>${mpdChildren}<Period ${periodAttrs}>${period}</Period></MPD>`;

/** One video Representation with its own template. */
const videoRep = (id: string, media = 'seg-$RepresentationID$-$Number$.m4s', extra = ''): string =>
  `<AdaptationSet contentType="video"><Representation id="${id}" bandwidth="1000" ${extra}>` +
  `<SegmentTemplate media="${media}" initialization="init-$RepresentationID$.mp4" duration="2"/></Representation></AdaptationSet>`;

function ok(text: string, key = '/live/out.mpd'): ManifestDecl {
  const r = readMpd(text, key);
  assert.ok(r.ok, `expected ok, refused: ${r.ok ? '' : r.reason}`);
  return r.manifest;
}

/** Asserts a refusal whose reason matches `cause`. */
function refused(text: string, cause: RegExp, key = '/live/out.mpd'): string {
  const r = readMpd(text, key);
  assert.ok(!r.ok, `expected a refusal matching ${cause}, got ok`);
  assert.match(r.reason, cause);
  return r.reason;
}

function rendition(m: ManifestDecl, id: string): RenditionDecl {
  const r = m.renditions.find((x) => x.id === id);
  assert.ok(r !== undefined, `no rendition ${id}`);
  return r;
}

function pattern(template: string, id = 'v1', bandwidth: number | undefined = 500000): SegmentNamePattern {
  const p = compileTemplate(template, id, bandwidth);
  assert.ok(!isTemplateError(p), `refused: ${isTemplateError(p) ? p.error : ''}`);
  return p;
}

/** The refusal's reason; `bandwidth: 'none'` compiles for a Representation without @bandwidth. */
function templateError(template: string, bandwidth: number | 'none' = 500000): string {
  const p = compileTemplate(template, 'v1', bandwidth === 'none' ? undefined : bandwidth);
  assert.ok(isTemplateError(p), `expected ${template} to be refused`);
  return p.error;
}

// ---------------------------------------------------------------------------------------------
// template.ts

test('ended: a static MPD, or a dynamic one with mediaPresentationDuration and no minimumUpdatePeriod (the end of a live stream)', () => {
  const period = videoRep('v');
  assert.is(ok(mpd(period)).ended, false);
  assert.is(ok(mpd(period, { mpdAttrs: 'type="static"' })).ended, true);
  assert.is(ok(mpd(period, { mpdAttrs: 'type="dynamic" mediaPresentationDuration="PT30S"' })).ended, true);
  assert.is(ok(mpd(period, { mpdAttrs: 'type="dynamic" mediaPresentationDuration="PT30S" minimumUpdatePeriod="PT2S"' })).ended, false);
});

test('lastNumber: a static MPD declares its last segment from its duration and the template; a timeline or a dynamic MPD does not', () => {
  const rep = (template: string) => `<AdaptationSet contentType="video"><Representation id="v" bandwidth="1000"><SegmentTemplate media="s-$Number$.m4s" ${template}/></Representation></AdaptationSet>`;
  const at = (mpdAttrs: string, template: string, periodAttrs = 'id="p0"') => rendition(ok(mpd(rep(template), { mpdAttrs, periodAttrs })), 'v').lastNumber;
  // 60 s of 4 s segments from number 1: 1..15; a hair over is float noise, a frame over is a 16th.
  assert.is(at('type="static" mediaPresentationDuration="PT60S"', 'timescale="12800" duration="51200" startNumber="1"'), 15);
  assert.is(at('type="static" mediaPresentationDuration="PT60.0000001S"', 'timescale="12800" duration="51200" startNumber="1"'), 15);
  assert.is(at('type="static" mediaPresentationDuration="PT60.04S"', 'timescale="12800" duration="51200" startNumber="1"'), 16);
  assert.is(at('type="static" mediaPresentationDuration="PT1M"', 'timescale="48000" duration="192000" startNumber="0"'), 14);
  assert.is(at('type="static" mediaPresentationDuration="P0DT1H0M0.5S"', 'duration="2"'), 1801);
  // The Period's start counts from the presentation's.
  assert.is(at('type="static" mediaPresentationDuration="PT60S"', 'duration="4"', 'id="p0" start="PT20S"'), 10);
  // Nothing declared: dynamic, no or malformed duration, a SegmentTimeline.
  assert.is(at('type="dynamic" mediaPresentationDuration="PT60S"', 'duration="4"'), undefined);
  assert.is(at('type="static"', 'duration="4"'), undefined);
  assert.is(at('type="static" mediaPresentationDuration="60"', 'duration="4"'), undefined);
  assert.is(at('type="static" mediaPresentationDuration="PT"', 'duration="4"'), undefined);
  const timeline = rendition(ok(mpd(`<AdaptationSet contentType="video"><Representation id="v" bandwidth="1000"><SegmentTemplate media="s-$Number$.m4s"><SegmentTimeline><S t="0" d="4" r="14"/></SegmentTimeline></SegmentTemplate></Representation></AdaptationSet>`, { mpdAttrs: 'type="static" mediaPresentationDuration="PT60S"' })), 'v');
  assert.is(timeline.lastNumber, undefined);
});

test('template: %05d pads to five digits, longer numbers keep their digits, and match inverts format', () => {
  const p = pattern('chunk-$RepresentationID$-$Number%05d$.m4s', '0');
  assert.is(p.kind, 'number');
  assert.is(p.format({ number: 42 }), 'chunk-0-00042.m4s');
  assert.is(p.format({ number: 0 }), 'chunk-0-00000.m4s');
  assert.is(p.format({ number: 123456 }), 'chunk-0-123456.m4s');
  assert.equal(p.match('chunk-0-00042.m4s'), { number: 42 });
  assert.equal(p.match('chunk-0-123456.m4s'), { number: 123456 });
  assert.equal(p.match('chunk-0-99999.m4s'), { number: 99999 });
  for (const n of [1, 9, 10, 99999, 100000, 4294967296, Number.MAX_SAFE_INTEGER]) {
    assert.equal(p.match(p.format({ number: n })), { number: n }, `round trip ${n}`);
  }
  // Names the encoder would not write: short padding, extra padding.
  assert.is(p.match('chunk-0-42.m4s'), undefined);
  assert.is(p.match('chunk-0-000042.m4s'), undefined);
  assert.is(p.match('chunk-0-0123456.m4s'), undefined);
});

test('template: unpadded $Number$ refuses leading zeros; anchored on both ends', () => {
  const p = pattern('seg-$Number$.m4s');
  assert.equal(p.match('seg-42.m4s'), { number: 42 });
  assert.equal(p.match('seg-0.m4s'), { number: 0 });
  assert.is(p.match('seg-042.m4s'), undefined);
  assert.is(p.match('xseg-42.m4s'), undefined);
  assert.is(p.match('seg-42.m4sx'), undefined);
  assert.is(p.match('dir/seg-42.m4s'), undefined);
  assert.is(p.match('seg-.m4s'), undefined);
  assert.is(p.match('seg-4a.m4s'), undefined);
  assert.is(p.match('seg--1.m4s'), undefined);
});

test('template: numbers beyond Number.MAX_SAFE_INTEGER do not match', () => {
  const p = pattern('seg-$Number$.m4s');
  assert.equal(p.match('seg-9007199254740991.m4s'), { number: 9007199254740991 });
  assert.is(p.match('seg-9007199254740992.m4s'), undefined);
  assert.is(p.match('seg-123456789012345678901234567890.m4s'), undefined);
  assert.throws(() => p.format({ number: 2 ** 53 }), RangeError);
});

test('template: $Time$ values are exact bigints beyond 2^53', () => {
  const p = pattern('t-$RepresentationID$-$Time$.m4s', 'a');
  assert.is(p.kind, 'time');
  const big = 2n ** 60n + 1n; // not representable as a double
  assert.is(p.format({ time: big }), `t-a-${big}.m4s`);
  assert.equal(p.match('t-a-1152921504606846977.m4s'), { time: 1152921504606846977n });
  assert.equal(p.match(p.format({ time: 2n ** 64n - 1n })), { time: 2n ** 64n - 1n });
  assert.is(p.match(`t-a-${2n ** 64n}.m4s`), undefined, 'beyond xs:unsignedLong');
  assert.is(p.match('t-b-5.m4s'), undefined);
  const padded = pattern('$Time%012d$.cmfv');
  assert.is(padded.format({ time: 90000n }), '000000090000.cmfv');
  assert.equal(padded.match('000000090000.cmfv'), { time: 90000n });
});

test('template: format refuses a value of the other kind, a negative or a fraction', () => {
  const n = pattern('$Number$.m4s');
  const t = pattern('$Time$.m4s');
  assert.throws(() => n.format({ time: 5n }), RangeError);
  assert.throws(() => t.format({ number: 5 }), RangeError);
  assert.throws(() => n.format({ number: -1 }), RangeError);
  assert.throws(() => n.format({ number: 1.5 }), RangeError);
  assert.throws(() => t.format({ time: -1n }), RangeError);
});

test('template: regex-special characters in literals and ids are literal', () => {
  const p = pattern('a.b+(c)[x]{2}^|?*\\$Number$.m4s', 'v.1');
  assert.equal(p.match('a.b+(c)[x]{2}^|?*\\7.m4s'), { number: 7 });
  assert.is(p.match('aXb+(c)[x]{2}^|?*\\7.m4s'), undefined, '. is not a wildcard');
  assert.is(p.match('a.bb+(c)[x]{2}^|?*\\7.m4s'), undefined, '+ is not a quantifier');
  const q = pattern('$RepresentationID$_$Number$.m4s', 'v.1');
  assert.equal(q.match('v.1_3.m4s'), { number: 3 });
  assert.is(q.match('vX1_3.m4s'), undefined);
});

test('template: $$ is a literal dollar', () => {
  const p = pattern('cost$$-$Number$-$$$$.m4s');
  assert.is(p.format({ number: 7 }), 'cost$-7-$$.m4s');
  assert.equal(p.match('cost$-7-$$.m4s'), { number: 7 });
  assert.is(p.match('cost$$-7-$$$$.m4s'), undefined);
});

test('template: $Bandwidth$ with and without a width; required only when used', () => {
  const p = pattern('$Bandwidth$/$Bandwidth%09d$-$Number$.m4s', 'x', 500000);
  assert.is(p.format({ number: 3 }), '500000/000500000-3.m4s');
  assert.equal(p.match('500000/000500000-3.m4s'), { number: 3 });
  assert.match(templateError('$Bandwidth$-$Number$.m4s', 'none'), /Bandwidth/);
  assert.ok(!isTemplateError(compileTemplate('$Number$.m4s', 'x', undefined)));
});

test('template: a repeated $Number$ must agree everywhere', () => {
  const p = pattern('s$Number$-$Number%03d$');
  assert.is(p.format({ number: 5 }), 's5-005');
  assert.equal(p.match('s5-005'), { number: 5 });
  assert.is(p.match('s5-006'), undefined);
});

test('template: refusals say why', () => {
  assert.match(templateError('seg-$Number$-$Time$.m4s'), /both \$Number\$ and \$Time\$/);
  assert.match(templateError('seg-$RepresentationID$.m4s'), /neither \$Number\$ nor \$Time\$/);
  assert.match(templateError('seg.m4s'), /neither/);
  assert.match(templateError('seg-$Index$.m4s'), /unknown identifier "\$Index\$"/);
  assert.match(templateError('seg-$number$.m4s'), /unknown identifier/);
  assert.match(templateError('seg-$Number$-$SubNumber$.m4s'), /SubNumber.*not supported/);
  assert.match(templateError('seg-$Number.m4s'), /unterminated/);
  assert.match(templateError('seg-$Number$.m4s$'), /unterminated/);
  assert.match(templateError('$RepresentationID%03d$-$Number$'), /RepresentationID\$ takes no format tag/);
  assert.match(templateError('$Number%5d$'), /%0<width>d/);
  assert.match(templateError('$Number%05x$'), /%0<width>d/);
  assert.match(templateError('$Number%0d$'), /%0<width>d/);
  assert.match(templateError('$Number%00d$'), /width/);
  assert.match(templateError('$Number%099999999999d$'), /width/);
});

test('template: expandTemplate names what is the same for every segment', () => {
  assert.is(expandTemplate('init-$RepresentationID$-$Bandwidth%08d$$$.mp4', 'a', 64000), 'init-a-00064000$.mp4');
  const refusedInit = expandTemplate('init-$Number$.mp4', 'a', 64000);
  assert.ok(isTemplateError(refusedInit));
  assert.match((refusedInit as { error: string }).error, /\$Number\$/);
  assert.ok(isTemplateError(expandTemplate('init-$Bogus$.mp4', 'a', 1)));
});

// ---------------------------------------------------------------------------------------------
// mpd.ts: what is read

test('ffmpeg live MPD: two renditions, their attributes and keys', () => {
  const m = ok(FFMPEG_MPD);
  assert.is(m.type, 'dynamic');
  assert.is(m.availabilityStartTime, Date.UTC(2026, 11, 2, 21, 0, 0));
  assert.equal(
    m.renditions.map((r) => r.id),
    ['0', '1'],
  );
  const v = rendition(m, '0');
  assert.is(v.type, 'video');
  assert.is(v.adaptationSetId, '0');
  assert.is(v.mimeType, 'video/mp4');
  assert.is(v.codecs, 'avc1.64001e');
  assert.is(v.bandwidth, 1000000);
  assert.is(v.width, 640);
  assert.is(v.height, 360);
  assert.is(v.frameRate, 30, 'frameRate inherited from the AdaptationSet');
  assert.is(v.audioSamplingRate, undefined);
  assert.is(v.channels, undefined);
  assert.is(v.timescale, 1000000);
  assert.is(v.duration, 2000000);
  assert.is(v.startNumber, 1);
  assert.is(v.presentationTimeOffset, 0);
  assert.is(v.initKey, '/live/init-0.m4s');
  assert.is(v.mediaBase, '/live/');
  assert.equal(v.matchKey('/live/chunk-0-00042.m4s'), { number: 42 });
  assert.is(v.matchKey('/live/chunk-1-00042.m4s'), undefined);
  assert.is(v.matchKey('/other/chunk-0-00042.m4s'), undefined);
  assert.is(v.matchKey('/live/init-0.m4s'), undefined);
  assert.is(v.mediaBase + v.media.format({ number: 43 }), '/live/chunk-0-00043.m4s');

  const a = rendition(m, '1');
  assert.is(a.type, 'audio');
  assert.is(a.adaptationSetId, '1');
  assert.is(a.codecs, 'mp4a.40.2');
  assert.is(a.bandwidth, 64000);
  assert.is(a.audioSamplingRate, 48000);
  assert.is(a.channels, '1');
  assert.is(a.frameRate, undefined, 'not inherited across AdaptationSets');
  assert.is(a.width, undefined);
  assert.is(a.initKey, '/live/init-1.m4s');
  assert.equal(a.matchKey('/live/chunk-1-00042.m4s'), { number: 42 });
  assert.is(a.matchKey('/live/chunk-0-00042.m4s'), undefined);
});

test('ffmpeg MPD at the end of the stream is static; keys follow the MPD key', () => {
  const m = ok(FFMPEG_MPD.replace('type="dynamic"', 'type="static"'), '/events/2026/main.mpd');
  assert.is(m.type, 'static');
  const v = rendition(m, '0');
  assert.is(v.initKey, '/events/2026/init-0.m4s');
  assert.equal(v.matchKey('/events/2026/chunk-0-00001.m4s'), { number: 1 });
  assert.is(v.matchKey('/live/chunk-0-00001.m4s'), undefined);
  // Absent @type is "static" (the DASH default); no availabilityStartTime is undefined.
  const bare = ok(mpd(videoRep('v'), { mpdAttrs: '' }));
  assert.is(bare.type, 'static');
  assert.is(bare.availabilityStartTime, undefined);
});

test('a 3-video + 2-audio ladder: types, inheritance, per-rendition keys', () => {
  const text = mpd(`
    <AdaptationSet id="v" contentType="video" mimeType="video/mp4" codecs="avc1.64001f" frameRate="30000/1001" segmentAlignment="true">
      <SegmentTemplate timescale="90000" duration="180000" startNumber="0"
        initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number%06d$.m4s"/>
      <Representation id="1080p" bandwidth="6000000" width="1920" height="1080" codecs="avc1.640028"/>
      <Representation id="720p" bandwidth="3000000" width="1280" height="720"/>
      <Representation id="360p" bandwidth="800000" width="640" height="360" frameRate="25"/>
    </AdaptationSet>
    <AdaptationSet id="a-en" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en" audioSamplingRate="48000">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:mpegB:cicp:ChannelConfiguration" value="2"/>
      <SegmentTemplate timescale="48000" duration="96000" startNumber="0"
        initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number%06d$.m4s"/>
      <Representation id="aac-en" bandwidth="128000"/>
    </AdaptationSet>
    <AdaptationSet id="a-fr" mimeType="audio/mp4" lang="fr">
      <SegmentTemplate timescale="48000" duration="96000" startNumber="0"
        initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number%06d$.m4s"/>
      <Representation id="ec3-fr" bandwidth="256000" codecs="ec-3" audioSamplingRate="44100 48000">
        <AudioChannelConfiguration schemeIdUri="tag:dolby.com,2014:dash:audio_channel_configuration:2011" value="F801"/>
      </Representation>
    </AdaptationSet>`);
  const m = ok(text, '/tv/ch1/manifest.mpd');
  assert.equal(
    m.renditions.map((r) => [r.id, r.type]),
    [
      ['1080p', 'video'],
      ['720p', 'video'],
      ['360p', 'video'],
      ['aac-en', 'audio'],
      ['ec3-fr', 'audio'],
    ],
  );
  const hd = rendition(m, '1080p');
  assert.is(hd.codecs, 'avc1.640028', 'Representation overrides AdaptationSet');
  assert.is(hd.mimeType, 'video/mp4');
  assert.is(hd.frameRate, 30000 / 1001);
  assert.is(hd.width, 1920);
  assert.is(hd.timescale, 90000);
  assert.is(hd.duration, 180000);
  assert.is(hd.startNumber, 0);
  assert.is(hd.initKey, '/tv/ch1/1080p/init.mp4');
  assert.is(hd.mediaBase, '/tv/ch1/1080p/');
  assert.equal(hd.matchKey('/tv/ch1/1080p/000000.m4s'), { number: 0 });
  assert.is(hd.matchKey('/tv/ch1/720p/000000.m4s'), undefined);
  const sd = rendition(m, '720p');
  assert.is(sd.codecs, 'avc1.64001f', 'inherited');
  assert.is(sd.frameRate, 30000 / 1001);
  assert.equal(sd.matchKey('/tv/ch1/720p/001234.m4s'), { number: 1234 });
  assert.is(rendition(m, '360p').frameRate, 25);
  const en = rendition(m, 'aac-en');
  assert.is(en.lang, 'en');
  assert.is(en.channels, '2', 'AudioChannelConfiguration inherited from the AdaptationSet');
  assert.is(en.audioSamplingRate, 48000);
  assert.is(en.adaptationSetId, 'a-en');
  const fr = rendition(m, 'ec3-fr');
  assert.is(fr.type, 'audio', 'from mimeType when there is no contentType');
  assert.is(fr.lang, 'fr');
  assert.is(fr.channels, 'F801');
  assert.is(fr.audioSamplingRate, 44100, 'the first of a range');
  assert.is(fr.width, undefined);
});

test('type falls back from contentType to mimeType to codecs', () => {
  const text = mpd(`
    <AdaptationSet contentType="text" mimeType="application/mp4" codecs="stpp">
      <SegmentTemplate media="$RepresentationID$-$Number$.m4s"/>
      <Representation id="sub-ct" bandwidth="1"/></AdaptationSet>
    <AdaptationSet mimeType="application/mp4">
      <SegmentTemplate media="$RepresentationID$-$Number$.m4s"/>
      <Representation id="sub-codec" codecs="wvtt"/>
      <Representation id="vid-codec" codecs="hvc1.1.6.L93.B0"/>
      <Representation id="audio-codec" codecs="opus"/>
      <Representation id="unknown" codecs="zzzz"/></AdaptationSet>
    <AdaptationSet contentType="image" mimeType="image/jpeg">
      <SegmentTemplate media="$RepresentationID$-$Number$.jpg"/>
      <Representation id="thumbs"/></AdaptationSet>
    <AdaptationSet mimeType="text/vtt">
      <SegmentTemplate media="$RepresentationID$-$Number$.vtt"/>
      <Representation id="vtt"/></AdaptationSet>`);
  const m = ok(text);
  assert.equal(
    Object.fromEntries(m.renditions.map((r) => [r.id, r.type])),
    { 'sub-ct': 'text', 'sub-codec': 'text', 'vid-codec': 'video', 'audio-codec': 'audio', unknown: 'other', thumbs: 'other', vtt: 'text' },
  );
  assert.is(rendition(m, 'vtt').initKey, undefined, 'no initialization');
});

test('$Time$ with a SegmentTimeline: duration undefined, times as exact bigints', () => {
  const text = mpd(`
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="10000000" presentationTimeOffset="17000000000" initialization="v-$RepresentationID$-init.mp4" media="v-$RepresentationID$-$Time$.mp4">
        <SegmentTimeline><S t="17000000000" d="20000000" r="2"/><S d="19999999"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v0" bandwidth="2000000" width="1280" height="720"/>
    </AdaptationSet>`);
  const v = rendition(ok(text), 'v0');
  assert.is(v.duration, undefined);
  assert.is(v.timescale, 10000000);
  assert.is(v.presentationTimeOffset, 17000000000);
  assert.is(v.media.kind, 'time');
  assert.is(v.initKey, '/live/v-v0-init.mp4');
  assert.equal(v.matchKey('/live/v-v0-17000000000.mp4'), { time: 17000000000n });
  assert.equal(v.matchKey('/live/v-v0-9007199254740993.mp4'), { time: 9007199254740993n });
  assert.is(v.matchKey('/live/v-v1-17000000000.mp4'), undefined);
  // A duration inherited from a level above does not apply next to a SegmentTimeline.
  const inherited = mpd(
    `<SegmentTemplate timescale="1000" duration="2000"/><AdaptationSet contentType="audio">` +
      `<SegmentTemplate media="a-$Time$.m4s"><SegmentTimeline><S t="0" d="2000" r="9"/></SegmentTimeline></SegmentTemplate>` +
      `<Representation id="a0" bandwidth="1"/></AdaptationSet>`,
  );
  const a = rendition(ok(inherited), 'a0');
  assert.is(a.duration, undefined);
  assert.is(a.timescale, 1000);
});

test('SegmentTemplate merges attribute by attribute: Representation > AdaptationSet > Period', () => {
  const text = mpd(
    `<SegmentTemplate timescale="1000" startNumber="100" presentationTimeOffset="5" media="period-$Number$.m4s" initialization="period-init.m4s"/>
    <AdaptationSet id="as" contentType="video">
      <SegmentTemplate duration="4000" media="as-$RepresentationID$-$Number$.m4s" initialization="as-init-$RepresentationID$.m4s"/>
      <Representation id="inherits" bandwidth="1"/>
      <Representation id="overrides" bandwidth="2">
        <SegmentTemplate media="rep-$RepresentationID$-$Number%03d$.m4s" startNumber="7"/>
      </Representation>
      <Representation id="timescale" bandwidth="3">
        <SegmentTemplate timescale="90000"/>
      </Representation>
    </AdaptationSet>`,
  );
  const m = ok(text);
  const a = rendition(m, 'inherits');
  assert.is(a.timescale, 1000, 'from Period');
  assert.is(a.duration, 4000, 'from AdaptationSet');
  assert.is(a.startNumber, 100, 'from Period');
  assert.is(a.presentationTimeOffset, 5);
  assert.is(a.initKey, '/live/as-init-inherits.m4s');
  assert.equal(a.matchKey('/live/as-inherits-100.m4s'), { number: 100 });
  const b = rendition(m, 'overrides');
  assert.is(b.startNumber, 7);
  assert.is(b.duration, 4000);
  assert.is(b.timescale, 1000);
  assert.is(b.initKey, '/live/as-init-overrides.m4s', 'initialization still from the AdaptationSet');
  assert.equal(b.matchKey('/live/rep-overrides-007.m4s'), { number: 7 });
  assert.is(b.matchKey('/live/as-overrides-7.m4s'), undefined);
  const c = rendition(m, 'timescale');
  assert.is(c.timescale, 90000);
  assert.is(c.duration, 4000);
});

test('defaults: timescale 1, startNumber 1, presentationTimeOffset 0', () => {
  const v = rendition(ok(mpd(`<AdaptationSet><Representation id="r" mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s"/></Representation></AdaptationSet>`)), 'r');
  assert.is(v.timescale, 1);
  assert.is(v.startNumber, 1);
  assert.is(v.presentationTimeOffset, 0);
  assert.is(v.duration, undefined);
  assert.is(v.initKey, undefined);
});

test('BaseURL chain: MPD, Period, AdaptationSet, Representation, each relative to the one above', () => {
  const text = mpd(
    `<BaseURL>p/</BaseURL>
    <AdaptationSet contentType="video"><BaseURL>../as/</BaseURL><BaseURL>ignored/</BaseURL>
      <Representation id="r1" bandwidth="1"><BaseURL>r1/</BaseURL>
        <SegmentTemplate media="s-$Number$.m4s" initialization="init.mp4"/></Representation>
      <Representation id="r2" bandwidth="1">
        <SegmentTemplate media="t-$Number$.m4s" initialization="./x/../init2.mp4"/></Representation>
    </AdaptationSet>`,
    { mpdChildren: '<BaseURL>media/</BaseURL>' },
  );
  const m = ok(text, '/live/out.mpd');
  const r1 = rendition(m, 'r1');
  // /live/ + media/ + p/ + ../as/ + r1/
  assert.is(r1.initKey, '/live/media/as/r1/init.mp4');
  assert.is(r1.mediaBase, '/live/media/as/r1/');
  assert.equal(r1.matchKey('/live/media/as/r1/s-3.m4s'), { number: 3 });
  assert.is(r1.matchKey('/live/s-3.m4s'), undefined);
  const r2 = rendition(m, 'r2');
  assert.is(r2.initKey, '/live/media/as/init2.mp4');
  assert.is(r2.mediaBase, '/live/media/as/');
});

test('BaseURL: an absolute path resolves from the root, a file name is replaced, escapes are decoded', () => {
  const abs = mpd(`<AdaptationSet><BaseURL>/cdn/x/</BaseURL>${videoRep('a').replace('<AdaptationSet contentType="video">', '').replace('</AdaptationSet>', '')}</AdaptationSet>`);
  assert.is(rendition(ok(abs), 'a').initKey, '/cdn/x/init-a.mp4');
  // No trailing slash: "other.mpd" is a file, its directory is the base (RFC 3986).
  const file = mpd(videoRep('a'), { mpdChildren: '<BaseURL>sub/other.mpd</BaseURL>' });
  assert.is(rendition(ok(file), 'a').mediaBase, '/live/sub/');
  const encoded = mpd(videoRep('a'), { mpdChildren: '<BaseURL>my%20show/</BaseURL>' });
  const r = rendition(ok(encoded), 'a');
  assert.is(r.initKey, '/live/my show/init-a.mp4');
  assert.equal(r.matchKey('/live/my show/seg-a-5.m4s'), { number: 5 });
  // Built-in XML entities in BaseURL text are decoded by the parser.
  const amp = mpd(videoRep('a'), { mpdChildren: '<BaseURL>r&amp;d&#47;x/</BaseURL>' });
  assert.is(rendition(ok(amp), 'a').mediaBase, '/live/r&d/x/');
  // A trailing dot segment names a directory: "sub/.." is /live/, not /live as a file.
  assert.is(rendition(ok(mpd(videoRep('a'), { mpdChildren: '<BaseURL>sub/..</BaseURL>' })), 'a').initKey, '/live/init-a.mp4');
  assert.is(rendition(ok(mpd(videoRep('a'), { mpdChildren: '<BaseURL>sub/.</BaseURL>' })), 'a').initKey, '/live/sub/init-a.mp4');
  // A query on a BaseURL is not part of a key.
  const query = mpd(videoRep('a'), { mpdChildren: '<BaseURL>q/?token=abc</BaseURL>' });
  assert.is(rendition(ok(query), 'a').initKey, '/live/q/init-a.mp4');
});

test('BaseURL: a scheme or a host cannot be mapped; climbing above the root is refused', () => {
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>http://cdn.example.com/live/</BaseURL>' }), /BaseURL of the MPD "http:\/\/cdn\.example\.com\/live\/" is an absolute URL/);
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>//cdn.example.com/live/</BaseURL>' }), /absolute URL/);
  refused(mpd(`<BaseURL>https://x/</BaseURL>${videoRep('a')}`), /BaseURL of the Period .*absolute URL/);
  refused(mpd(videoRep('a').replace('<SegmentTemplate', '<BaseURL>s3:bucket/</BaseURL><SegmentTemplate')), /BaseURL of Representation "a" .*absolute URL/);
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>../../</BaseURL>' }), /climbs above the root/);
  refused(mpd(videoRep('a', 'seg-$Number$.m4s'), { mpdChildren: '<BaseURL>../%2e%2e/</BaseURL>' }), /climbs above the root/);
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>a%2Fb/</BaseURL>' }), /encodes a "\/"/);
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>bad%zz/</BaseURL>' }), /percent-encoding/);
  refused(mpd(videoRep('a'), { mpdChildren: '<BaseURL>a\\b/</BaseURL>' }), /backslash/);
  // One level up from /live/ is the root: fine.
  assert.is(rendition(ok(mpd(videoRep('a'), { mpdChildren: '<BaseURL>../</BaseURL>' })), 'a').initKey, '/init-a.mp4');
});

test('a directory in the media template is folded into mediaBase', () => {
  const m = ok(
    mpd(
      `<AdaptationSet contentType="video"><SegmentTemplate initialization="../init/$RepresentationID$.mp4" media="../seg/$RepresentationID$/$Number%05d$.m4s"/>` +
        `<Representation id="v1" bandwidth="1"/><Representation id="v2" bandwidth="1"/></AdaptationSet>`,
    ),
    '/ch/manifests/out.mpd',
  );
  const v1 = rendition(m, 'v1');
  assert.is(v1.initKey, '/ch/init/v1.mp4');
  assert.is(v1.mediaBase, '/ch/seg/v1/');
  assert.equal(v1.matchKey('/ch/seg/v1/00012.m4s'), { number: 12 });
  assert.is(v1.matchKey('/ch/seg/v2/00012.m4s'), undefined);
  assert.equal(rendition(m, 'v2').matchKey('/ch/seg/v2/00012.m4s'), { number: 12 });
  refused(mpd(videoRep('a', 'x/$Number$/seg.m4s')), /directory part .*varies per segment/);
});

test('widths and $$ in an MPD template', () => {
  const v = rendition(ok(mpd(videoRep('a', 'price$$$RepresentationID$_$Number%08d$.m4s'))), 'a');
  assert.equal(v.matchKey('/live/price$a_00000042.m4s'), { number: 42 });
  assert.equal(v.matchKey('/live/price$a_123456789.m4s'), { number: 123456789 });
  assert.is(v.matchKey('/live/price$a_42.m4s'), undefined);
  assert.is(v.matchKey('/live/price$$a_00000042.m4s'), undefined);
  assert.is(v.mediaBase + v.media.format({ number: 7 }), '/live/price$a_00000007.m4s');
});

test('a namespace prefix on the elements (mpd:) reads like the default namespace', () => {
  const text = FFMPEG_MPD.replace('xmlns="urn:mpeg:dash:schema:mpd:2011"', 'xmlns:mpd="urn:mpeg:dash:schema:mpd:2011"').replace(
    /<(\/?)(MPD|ProgramInformation|ServiceDescription|Period|AdaptationSet|Representation|AudioChannelConfiguration|SegmentTemplate|UTCTiming)\b/g,
    '<$1mpd:$2',
  );
  assert.match(text, /<mpd:Representation id="1"/);
  const m = ok(text);
  assert.is(m.type, 'dynamic');
  assert.equal(
    m.renditions.map((r) => [r.id, r.initKey, r.channels]),
    [
      ['0', '/live/init-0.m4s', undefined],
      ['1', '/live/init-1.m4s', '1'],
    ],
  );
});

test('numbers are parsed strictly: malformed descriptive values are undefined, never NaN', () => {
  const v = rendition(
    ok(
      mpd(
        `<AdaptationSet contentType="video" frameRate="thirty"><Representation id="r" bandwidth="1e6" width="0x280" height="-360" audioSamplingRate="48k">` +
          `<SegmentTemplate media="$Number$.m4s"/></Representation></AdaptationSet>`,
        { mpdAttrs: 'type="dynamic" availabilityStartTime="yesterday"' },
      ),
    ),
    'r',
  );
  assert.is(v.bandwidth, undefined);
  assert.is(v.width, undefined);
  assert.is(v.height, undefined);
  assert.is(v.frameRate, undefined);
  assert.is(v.audioSamplingRate, undefined);
  const m = ok(mpd(videoRep('a'), { mpdAttrs: 'availabilityStartTime="2026-02-30T00:00:00Z"' }));
  assert.is(m.availabilityStartTime, undefined, 'no February 30th');
  const zoned = ok(mpd(videoRep('a'), { mpdAttrs: 'availabilityStartTime="2026-12-02T22:30:00.5+01:30"' }));
  assert.is(zoned.availabilityStartTime, Date.UTC(2026, 11, 2, 21, 0, 0, 500));
  const local = ok(mpd(videoRep('a'), { mpdAttrs: 'availabilityStartTime="2026-12-02T21:00:00"' }));
  assert.is(local.availabilityStartTime, Date.UTC(2026, 11, 2, 21), 'no zone: UTC');
});

test('malformed timing numbers are refused, not guessed', () => {
  refused(mpd(videoRep('a').replace('duration="2"', 'duration="2" timescale="abc"')), /timescale "abc" is not a positive integer/);
  refused(mpd(videoRep('a').replace('duration="2"', 'timescale="0"')), /timescale "0"/);
  refused(mpd(videoRep('a').replace('duration="2"', 'duration="2.5"')), /duration "2\.5"/);
  refused(mpd(videoRep('a').replace('duration="2"', 'startNumber="-1"')), /startNumber "-1"/);
  refused(mpd(videoRep('a').replace('duration="2"', 'presentationTimeOffset="99999999999999999999"')), /presentationTimeOffset/);
});

// ---------------------------------------------------------------------------------------------
// mpd.ts: refusals

test('refused: not XML, no MPD root', () => {
  refused('hello, world', /not well-formed XML/);
  refused('', /not well-formed XML/);
  refused('<?xml version="1.0"?><html><body/></html>', /no MPD root element/);
  refused('<MPD/><MPD/>', /more than one MPD root/);
});

test('refused: malformed XML, with where', () => {
  const reason = refused(FFMPEG_MPD.replace('</AdaptationSet>', ''), /not well-formed XML/);
  assert.match(reason, /line \d+/);
  refused(mpd(videoRep('a')).replace('</Period>', ''), /not well-formed/);
  refused('<MPD type="dynamic><Period/></MPD>', /not well-formed/);
  refused('<MPD type="dynamic" type="static"><Period/></MPD>', /not well-formed.*repeated/);
});

test('refused: no Period, several Periods', () => {
  refused('<MPD type="static"><BaseURL>x/</BaseURL></MPD>', /no Period/);
  refused(`<MPD><Period id="1">${videoRep('a')}</Period><Period id="2">${videoRep('b')}</Period></MPD>`, /several periods are not supported/);
});

test('refused: no Representation at all', () => {
  refused(mpd(''), /no Representation/);
  refused(mpd('<AdaptationSet contentType="video"><SegmentTemplate media="$Number$.m4s"/></AdaptationSet>'), /no Representation/);
});

test('refused: SegmentBase, SegmentList (at any level), or no SegmentTemplate', () => {
  refused(
    mpd('<AdaptationSet><Representation id="a"><BaseURL>a.mp4</BaseURL><SegmentBase indexRange="800-1000"/></Representation></AdaptationSet>'),
    /Representation "a" is addressed with SegmentBase .*only SegmentTemplate/,
  );
  refused(
    mpd('<AdaptationSet><SegmentList duration="2"><SegmentURL media="s1.m4s"/></SegmentList><Representation id="b"/></AdaptationSet>'),
    /Representation "b" is addressed with SegmentList \(at AdaptationSet level\)/,
  );
  refused(mpd('<AdaptationSet><Representation id="c" bandwidth="1"/></AdaptationSet>'), /Representation "c" has no SegmentTemplate/);
  refused(mpd('<AdaptationSet><Representation id="d"><SegmentTemplate initialization="i.mp4"/></Representation></AdaptationSet>'), /"d".*no media attribute/);
});

test('refused: a template compileTemplate refuses, naming the Representation', () => {
  refused(mpd(videoRep('a', 'seg-$Number$-$Time$.m4s')), /Representation "a": media template .*both \$Number\$ and \$Time\$/);
  refused(mpd(videoRep('a', 'seg-$RepresentationID$.m4s')), /"a".*neither \$Number\$ nor \$Time\$/);
  refused(mpd(videoRep('a', 'seg-$SubNumber$-$Number$.m4s')), /SubNumber.*not supported/);
  refused(mpd(videoRep('a', 'seg-$Number.m4s')), /unterminated/);
  refused(mpd(videoRep('a', 'seg-$Numbre$.m4s')), /unknown identifier "\$Numbre\$"/);
  refused(mpd(videoRep('a').replace('init-$RepresentationID$', 'init-$Number$')), /initialization template .*\$Number\$/);
  refused(mpd(videoRep('a', 'seg-$Number$.m4s?x=1')), /query or fragment/);
});

test('refused: missing or duplicate Representation ids', () => {
  refused(mpd('<AdaptationSet id="7"><SegmentTemplate media="$Number$.m4s"/><Representation bandwidth="1"/></AdaptationSet>'), /Representation #1 of AdaptationSet "7" has no id/);
  refused(mpd('<AdaptationSet><SegmentTemplate media="$Number$.m4s"/><Representation id=""/></AdaptationSet>'), /has no id/);
  refused(mpd(videoRep('same') + videoRep('same')), /duplicate Representation id "same"/);
});

test('refused: two renditions whose templates name the same keys', () => {
  const reason = refused(
    mpd(
      '<AdaptationSet><SegmentTemplate media="seg-$Number$.m4s" initialization="init-$RepresentationID$.mp4"/>' +
        '<Representation id="a" mimeType="video/mp4"/><Representation id="b" mimeType="video/mp4"/></AdaptationSet>',
    ),
    /Representations "a" and "b" use the same media segment key/,
  );
  assert.match(reason, /\/live\/seg-/);
  refused(
    mpd('<AdaptationSet><SegmentTemplate media="$RepresentationID$-$Number$.m4s" initialization="init.mp4"/><Representation id="a"/><Representation id="b"/></AdaptationSet>'),
    /same init segment key "\/live\/init\.mp4"/,
  );
});

test('refused: a bad MPD key, an MPD@type that is neither, an oversized MPD', () => {
  refused(FFMPEG_MPD, /not an absolute path/, 'live/out.mpd');
  refused(FFMPEG_MPD.replace('type="dynamic"', 'type="live"'), /MPD@type "live"/);
  refused(FFMPEG_MPD + ' '.repeat(MAX_MPD_CHARS), /larger than/);
});

// ---------------------------------------------------------------------------------------------
// mpd.ts: hostile input

test('a DOCTYPE entity bomb is refused quickly, without expansion or throwing', () => {
  const lol = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`).join('');
  const bomb = `<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY lol0 "lol">${lol}]><MPD type="static"><Period><AdaptationSet><Representation id="&lol9;"><SegmentTemplate media="&lol9;$Number$"/></Representation></AdaptationSet></Period></MPD>`;
  const start = performance.now();
  refused(bomb, /DOCTYPE/);
  assert.ok(performance.now() - start < 1000, 'returns quickly');
  // A single large entity referenced many times: also refused.
  const wide = `<!DOCTYPE MPD [<!ENTITY big "${'x'.repeat(5000)}">]><MPD>${'&big;'.repeat(20000)}</MPD>`;
  const r = readMpd(wide, '/live/out.mpd');
  assert.is(r.ok, false);
  assert.match((r as { reason: string }).reason, /[Ee]ntit|DOCTYPE/);
  // A DOCTYPE without entities is harmless.
  assert.ok(readMpd(`<!DOCTYPE MPD>${mpd(videoRep('a')).replace('<?xml version="1.0"?>\n', '')}`, '/live/out.mpd').ok);
});

test('never throws: every truncation of the ffmpeg MPD, garbage, huge and odd values', () => {
  for (let n = 0; n < FFMPEG_MPD.length - 8; n += 7) {
    const r = readMpd(FFMPEG_MPD.slice(0, n), '/live/out.mpd');
    assert.is(r.ok, false, `truncated at ${n}`);
  }
  const inputs: unknown[] = [
    '\u0000\uffff<<>>',
    '<MPD><Period><AdaptationSet><Representation id="x"><SegmentTemplate media="$' + 'Number'.repeat(100000) + '$"/></Representation></AdaptationSet></Period></MPD>',
    mpd(videoRep('a'.repeat(200000))),
    mpd(videoRep('a', `s-$Number%0${'9'.repeat(400)}d$`)),
    mpd('<AdaptationSet>' + '<Representation id="r"><SegmentTemplate media="$Number$"/>'.repeat(1) + '</Representation></AdaptationSet>'),
    '<__proto__><Period/></__proto__>',
    '<MPD constructor="x" __proto__="y"><Period/></MPD>',
    '<a>'.repeat(1000) + '</a>'.repeat(1000),
    mpd(videoRep('a'), { mpdChildren: '<BaseURL><x/></BaseURL>' }),
    null,
    42,
  ];
  for (const input of inputs) {
    let result;
    assert.not.throws(() => {
      result = readMpd(input as string, '/live/out.mpd');
    });
    assert.type((result as unknown as { ok: unknown }).ok, 'boolean');
  }
  // The huge id is read, not refused: only its reasons and keys carry it.
  const big = readMpd(mpd(videoRep('a'.repeat(200000))), '/live/out.mpd');
  assert.ok(big.ok);
  assert.is(readMpd(mpd(videoRep('a', `s-$Number%0${'9'.repeat(400)}d$`)), '/live/out.mpd').ok, false);
});

test.run();
