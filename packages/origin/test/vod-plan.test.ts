// The pure parts of VOD: which renditions a source gets, what ffprobe's answer means, asset
// names from file names, and the options' checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planLadder, transcodeArgs } from '../src/vod/ladder.js';
import { DEFAULT_PROFILES, resolveVodOptions } from '../src/vod/options.js';
import { judge, type SourceFacts } from '../src/vod/probe.js';
import { staticVodMpd } from '../src/vod/manifest.js';
import { readMpd } from '../src/stream/mpd.js';
import { nameFromFile } from '../src/vod/service.js';
import { resolveOptions } from '../src/options.js';
import { Retention } from '../src/store/retention.js';
import { ObjectStore } from '../src/store/store.js';

const facts = (width: number, height: number, audio = true): SourceFacts => ({
  duration: 60,
  width,
  height,
  frameRate: 25,
  videoCodec: 'h264',
  audioCodec: audio ? 'aac' : undefined,
  audioChannels: audio ? 2 : undefined,
});

test('the ladder: profiles at or below the source, never upscaled, even sizes at the source aspect', () => {
  const settings = resolveVodOptions();
  assert.equal(planLadder(settings, facts(1920, 1080)).video.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoKbps}`), [
    '1080p 1920x1080 5000',
    '720p 1280x720 2800',
    '480p 854x480 1400',
    '360p 640x360 800',
  ]);
  assert.equal(planLadder(settings, facts(1280, 720)).video.map((r) => r.name), ['720p', '480p', '360p']);
  // Portrait phone video: heights still cap it, widths follow its 9:16.
  assert.equal(planLadder(settings, facts(1080, 1920)).video.map((r) => `${r.width}x${r.height}`), ['608x1080', '406x720', '270x480', '202x360']);
  // Smaller than every profile: one rendition at its own size.
  const tiny = planLadder(settings, facts(320, 181));
  assert.equal(tiny.video.map((r) => `${r.name} ${r.width}x${r.height} ${r.videoKbps}`), ['180p 318x180 800']);
  assert.is(planLadder(settings, facts(640, 360, false)).audioKbps, undefined);
  assert.is(planLadder(settings, facts(640, 360)).audioKbps, 128);
});

test('the ffmpeg command: one decode split per rung, aligned keyframes, the DASH muxer PUTting to the origin', () => {
  const settings = resolveVodOptions({ segmentSeconds: 2 });
  const ladder = planLadder(settings, facts(1280, 720));
  const args = transcodeArgs(settings, ladder, '/src/file', 'http://vod:t@127.0.0.1:1/vod/a/manifest.mpd');
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  assert.is(at('-filter_complex'), '[0:v:0]split=3[s0][s1][s2];[s0]scale=1280:720,setdar=1280/720[v0];[s1]scale=854:480,setdar=1280/720[v1];[s2]scale=640:360,setdar=1280/720[v2]');
  assert.is(at('-force_key_frames'), 'expr:gte(t,n_forced*2)');
  assert.is(at('-seg_duration'), '2');
  assert.is(at('-adaptation_sets'), 'id=0,streams=v id=1,streams=a');
  assert.is(at('-b:v:1'), '1400k');
  assert.is(args[args.length - 1], 'http://vod:t@127.0.0.1:1/vod/a/manifest.mpd');
  const single = transcodeArgs(settings, planLadder(settings, facts(320, 180, false)), '/s', 'u');
  assert.is(single[single.indexOf('-filter_complex') + 1], '[0:v:0]scale=320:180,setdar=320/180[v0]');
  assert.is(single[single.indexOf('-adaptation_sets') + 1], 'id=0,streams=v');
  assert.not.ok(single.includes('-c:a'));
});

const probeJson = (streams: object[], duration = '10.0') => JSON.stringify({ streams, format: { duration } });

test("ffprobe's answer: facts of a video; refusals of no video, a cut file, no duration, garbage", () => {
  const ok = judge(
    probeJson([
      { codec_type: 'video', codec_name: 'hevc', width: 1920, height: 1080, avg_frame_rate: '30000/1001', nb_frames: '300', nb_read_packets: '300', duration: '10.010000', side_data_list: [{ rotation: -90 }] },
      { codec_type: 'audio', codec_name: 'opus', channels: 6 },
    ]),
    '',
  );
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.equal([ok.facts.width, ok.facts.height], [1080, 1920], 'rotated by 90: displayed upright');
    assert.ok(Math.abs(ok.facts.frameRate! - 29.97) < 0.01);
    assert.is(ok.facts.audioCodec, 'opus');
    assert.is(ok.facts.videoDuration, 10.01);
  }
  const anamorphic = judge(probeJson([{ codec_type: 'video', width: 720, height: 576, sample_aspect_ratio: '16:11' }]), '');
  assert.ok(anamorphic.ok && anamorphic.facts.width === 1047);
  assert.ok(anamorphic.ok && anamorphic.facts.videoDuration === undefined, 'no stream duration: none made up');
  const cover = judge(probeJson([{ codec_type: 'video', width: 500, height: 500, disposition: { attached_pic: 1 } }, { codec_type: 'audio' }]), '');
  assert.equal(cover, { ok: false, reason: 'no video stream' });
  const cut = judge(probeJson([{ codec_type: 'video', width: 320, height: 240, nb_frames: '100', nb_read_packets: '18' }]), 'stream 0, offset 0x77b3: partial file');
  assert.ok(!cut.ok && /truncated \(18 of 100 video frames present; stream 0, offset 0x77b3: partial file\)/.test(cut.reason));
  assert.equal(judge(probeJson([{ codec_type: 'video', width: 320, height: 240 }], 'N/A'), ''), { ok: false, reason: 'the file has no duration' });
  assert.equal(judge('not json', ''), { ok: false, reason: 'ffprobe gave no readable answer' });
});

/** What Debian's ffmpeg dash muxer uploads while a VOD transcode runs (ladder.ts's options). */
const FFMPEG_DYNAMIC_MPD = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
	xmlns="urn:mpeg:dash:schema:mpd:2011"
	xmlns:xlink="http://www.w3.org/1999/xlink"
	profiles="urn:mpeg:dash:profile:isoff-live:2011"
	type="dynamic"
	minimumUpdatePeriod="PT4S"
	suggestedPresentationDelay="PT4S"
	availabilityStartTime="2026-12-03T15:00:00.000Z"
	publishTime="2026-12-03T15:00:12.000Z"
	maxSegmentDuration="PT4.0S"
	minBufferTime="PT8.0S">
	<ProgramInformation>
	</ProgramInformation>
	<ServiceDescription id="0">
	</ServiceDescription>
	<Period id="0" start="PT0.0S">
		<AdaptationSet id="0" contentType="video" startWithSAP="1" segmentAlignment="true" bitstreamSwitching="true" frameRate="25/1" maxWidth="1920" maxHeight="1080" par="16:9">
			<Representation id="0" mimeType="video/mp4" codecs="avc1.640028" bandwidth="5000000" width="1920" height="1080" sar="1:1">
				<SegmentTemplate timescale="12800" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1">
					<SegmentTimeline>
						<S t="0" d="51200" r="2" />
					</SegmentTimeline>
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
		<AdaptationSet id="1" contentType="audio" startWithSAP="1" segmentAlignment="true" bitstreamSwitching="true">
			<Representation id="1" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="128000" audioSamplingRate="48000">
				<AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2" />
				<SegmentTemplate timescale="48000" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number%05d$.m4s" startNumber="1">
					<SegmentTimeline>
						<S t="0" d="191488" />
						<S d="192512" r="1" />
					</SegmentTimeline>
				</SegmentTemplate>
			</Representation>
		</AdaptationSet>
	</Period>
	<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="https://time.akamai.com/?iso"/>
</MPD>
`;

test("the MPD players get while a transcode runs: ffmpeg's dynamic MPD made static, for the whole asset, by number", () => {
  const text = staticVodMpd(FFMPEG_DYNAMIC_MPD, 60, 4)!;
  assert.ok(text !== undefined);
  // No live clock left: players start at 0 and may seek anywhere at once.
  assert.match(text, /<MPD [^>]*type="static"/);
  assert.match(text, /mediaPresentationDuration="PT60S"/);
  for (const gone of ['availabilityStartTime', 'publishTime', 'minimumUpdatePeriod', 'suggestedPresentationDelay', 'SegmentTimeline', '<S ', 'UTCTiming', 'ServiceDescription']) {
    assert.not.ok(text.includes(gone), `${gone} is gone`);
  }
  // Everything a player picks a rendition by is ffmpeg's, unchanged.
  for (const kept of ['codecs="avc1.640028"', 'bandwidth="5000000"', 'width="1920"', 'frameRate="25/1"', 'audio_channel_configuration:2011" value="2"', 'media="chunk-$RepresentationID$-$Number%05d$.m4s"']) {
    assert.ok(text.includes(kept), `${kept} is kept`);
  }
  // The origin reads it as players do: the same keys, 15 segments of 4 s each, numbered from 1.
  const read = readMpd(text, '/vod/talk/manifest.mpd');
  assert.ok(read.ok, read.ok ? '' : read.reason);
  if (read.ok) {
    assert.is(read.manifest.type, 'static');
    assert.equal(read.manifest.renditions.map((r) => [r.id, r.duration! / r.timescale, r.startNumber, r.lastNumber, r.initKey]), [
      ['0', 4, 1, 15, '/vod/talk/init-0.m4s'],
      ['1', 4, 1, 15, '/vod/talk/init-1.m4s'],
    ]);
    assert.equal(read.manifest.renditions[0].matchKey('/vod/talk/chunk-0-00015.m4s'), { number: 15 });
  }
  // Text stays the text it was (ffmpeg copies a source's title), escapes stay escaped.
  const titled = staticVodMpd(FFMPEG_DYNAMIC_MPD.replace('<ProgramInformation>\n\t</ProgramInformation>', '<ProgramInformation><Title>007 &amp; 1e3</Title></ProgramInformation>'), 60, 4)!;
  assert.match(titled, /<Title>007 &amp; 1e3<\/Title>/);
  // Not an MPD, or one with nothing to address by number: nothing made up.
  assert.is(staticVodMpd('<html><body>no</body></html>', 60, 4), undefined);
  assert.is(staticVodMpd('<MPD type="dynamic"><Period/></MPD>', 60, 4), undefined);
  assert.is(staticVodMpd(FFMPEG_DYNAMIC_MPD, 0, 4), undefined);
});

test('asset names from file names', () => {
  assert.is(nameFromFile('My Trip (2).MOV'), 'My-Trip-2');
  assert.is(nameFromFile('C:\\Users\\me\\clip.final.mp4'), 'clip.final');
  assert.is(nameFromFile('../../etc/passwd'), 'passwd');
  assert.is(nameFromFile('...'), 'video');
  assert.is(nameFromFile(undefined), 'video');
  assert.is(nameFromFile('été à Paris.mp4'), 't-Paris');
  assert.is(nameFromFile('x'.repeat(200) + '.mp4').length, 56);
});

test('options: VOD is on with dir, off without; bad profiles and values are refused', () => {
  assert.is(resolveOptions({}).vod, undefined);
  assert.equal(resolveOptions({ dir: '/tmp/x' }).vod?.profiles, DEFAULT_PROFILES);
  assert.is(resolveOptions({ dir: '/tmp/x', vod: false }).vod, undefined);
  assert.ok(resolveOptions({ dir: '/tmp/x' }).ttlRules.some((r) => r.prefix === '/vod/' && r.ttlMs === 0), 'assets never expire');
  assert.equal(resolveOptions({ dir: '/tmp/x', ttlRules: [{ prefix: '/vod/', ttlMs: 5000 }] }).ttlRules, [{ prefix: '/vod/', ttlMs: 5000 }], "the operator's rule stands");
  assert.throws(() => resolveOptions({ vod: true }), /vod needs dir/);
  assert.throws(() => resolveOptions({ vod: { maxJobs: 2 } }), /vod needs dir/);
  assert.throws(() => resolveVodOptions({ profiles: [] }), /at least one/);
  assert.throws(() => resolveVodOptions({ profiles: [{ name: 'a b', height: 360, videoKbps: 1 }] }), /letters, digits/);
  assert.throws(() => resolveVodOptions({ profiles: [{ name: 'a', height: 361, videoKbps: 1 }] }), /even integer/);
  assert.throws(() => resolveVodOptions({ profiles: [{ name: 'a', height: 360, videoKbps: 1 }, { name: 'a', height: 240, videoKbps: 1 }] }), /used twice/);
  assert.throws(() => resolveVodOptions({ profiles: [{ name: 'a', height: 360, videoKbps: 0 }] }), /positive/);
  assert.throws(() => resolveVodOptions({ segmentSeconds: 0 }), /positive/);
  assert.equal(resolveVodOptions({ profiles: [{ name: 'low', height: 240, videoKbps: 1 }, { name: 'high', height: 720, videoKbps: 2 }] }).profiles.map((p) => p.name), ['high', 'low']);
});

test('a prefix kept until DELETE keeps its init segments too, whatever initTtlMs says', () => {
  const retention = new Retention(new ObjectStore(), { ttlMs: 1000, ttlRules: [{ prefix: '/vod/', ttlMs: 0 }, { prefix: '/short/', ttlMs: 5 }], initTtlMs: 2000, maxMemoryBytes: 1 << 20 });
  assert.is(retention.ttlFor('/vod/a/init-0.m4s', 'init'), 0);
  assert.is(retention.ttlFor('/vod/a/chunk-0-00001.m4s', 'media'), 0);
  assert.is(retention.ttlFor('/short/init.mp4', 'init'), 2000);
  assert.is(retention.ttlFor('/live/init.mp4', 'init'), 2000);
  assert.is(retention.ttlFor('/short/a.m4s', 'media'), 5);
  assert.is(retention.ttlFor('/live/a.m4s', 'media'), 1000);
  retention.close();
});

test.run();
