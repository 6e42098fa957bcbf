// The /player page's script, as text (inlined into the page). Plain ES2018 for the browser: it
// reads its configuration from the page's JSON block and ?url=&player=&delay=, loads the one
// library it needs from the origin, plays, and shows latency, buffer, bitrate, resolution and
// stalls four times a second. The same numbers are kept on `window.__stats` for tests.
//
// Kept as String.raw so regular expressions keep their backslashes; it has no interpolation.
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('boxstream-config').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var video = $('video');
  var q = new URLSearchParams(location.search);
  var raw = (q.get('url') || '').trim();

  // Everything a viewer (or a test) wants to know, updated as it happens.
  var stats = {
    player: null, version: null, url: null,
    ready: false, started: false, playing: false,
    currentTime: 0,
    latency: null, latencySource: null, targetLatency: null, edgeLatency: null,
    buffer: 0, bitrate: null, audioBitrate: null, width: 0, height: 0,
    playbackRate: 1, lowLatency: null,
    stalls: 0, stallMs: 0, longestStallMs: 0, stalling: false,
    errors: [], warnings: [],
    waitingForStream: false, waitedMs: 0,
    droppedFrames: 0, frames: 0, representations: null, updatedAt: 0
  };
  window.__stats = stats;

  $('url').value = raw;
  if (q.get('player')) $('kind').value = q.get('player');

  function log(kind, text) {
    var li = document.createElement('li');
    li.className = kind;
    li.textContent = new Date().toISOString().slice(11, 23) + ' ' + text;
    $('log').prepend(li);
    while ($('log').children.length > 50) $('log').lastChild.remove();
  }
  function fail(text) { stats.errors.push(text); log('error', text); }
  function warn(text) { stats.warnings.push(text); log('warn', text); }

  if (raw === '') {
    $('status').textContent = 'Give a manifest: /player?url=/live/out.mpd (DASH) or /player?url=/live/out.m3u8 (LL-HLS).';
    return;
  }
  var url;
  try { url = new URL(raw, location.href).href; } catch (e) { fail('not a URL: ' + raw); return; }
  var kind = q.get('player') || (/\.m3u8($|[?#])/i.test(new URL(url).pathname) ? 'hls' : 'dash');
  var NAMES = { dash: 'dash.js', hls: 'hls.js', shaka: 'Shaka Player' };
  if (!NAMES.hasOwnProperty(kind)) { fail('player must be dash, hls or shaka, got ' + kind); return; }
  var lib = cfg.libs[kind];
  stats.player = kind;
  stats.url = url;
  $('kind').value = kind;
  if (!lib) {
    fail(NAMES[kind] + ' is not installed on this origin (see above)');
    return;
  }
  stats.version = lib.version;
  var delayParam = Number(q.get('delay'));
  var delay = delayParam > 0 ? delayParam : null;
  // ?start=0: play from the beginning, not the live edge (a VOD asset still being made, whose
  // playlists are EVENT and MPD dynamic until the end), without catching up to the edge.
  var fromStart = q.get('start') === '0';
  $('status').textContent = 'loading ' + lib.pkg + ' ' + lib.version + ' for ' + url;

  // --- stalls: playback that should advance and does not -------------------------------------
  // A stall starts on 'waiting' or when currentTime has not moved for STALL_MS while playing,
  // and ends when currentTime moves again. Only counted once playback has started.
  var STALL_MS = 300;
  var lastT = -1, lastAdvance = performance.now(), stallStart = 0;
  function beginStall(at) {
    if (stats.stalling) return;
    stats.stalling = true;
    stallStart = at;
    stats.stalls++;
    log('warn', 'stall #' + stats.stalls + ' at ' + video.currentTime.toFixed(2));
  }
  function endStall(now) {
    if (!stats.stalling) return;
    var d = now - stallStart;
    stats.stalling = false;
    stats.stallMs += d;
    if (d > stats.longestStallMs) stats.longestStallMs = d;
    log('warn', 'stall ended after ' + Math.round(d) + ' ms');
  }
  function watch() {
    var now = performance.now();
    var t = video.currentTime;
    if (t !== lastT) {
      endStall(now);
      lastT = t;
      lastAdvance = now;
    } else if (stats.started && !video.paused && !video.ended && now - lastAdvance >= STALL_MS) {
      beginStall(lastAdvance);
    }
  }
  video.addEventListener('playing', function () {
    if (!stats.started) {
      stats.started = true;
      log('info', 'playing');
    }
    lastAdvance = performance.now();
  });
  video.addEventListener('waiting', function () {
    if (stats.started && !video.paused) beginStall(performance.now());
  });
  video.addEventListener('error', function () {
    var e = video.error;
    fail('video element error ' + (e ? e.code + ' ' + e.message : ''));
  });

  // --- numbers shown and exported -------------------------------------------------------------
  var readers = null; // player-specific: fills latency, bitrate, ...
  function bufferAhead() {
    var b = video.buffered, t = video.currentTime;
    for (var i = 0; i < b.length; i++) if (b.start(i) <= t + 0.05 && t <= b.end(i)) return Math.max(0, b.end(i) - t);
    return 0;
  }
  function sample() {
    stats.currentTime = video.currentTime;
    stats.buffer = bufferAhead();
    stats.playbackRate = video.playbackRate;
    stats.width = video.videoWidth;
    stats.height = video.videoHeight;
    if (video.getVideoPlaybackQuality) {
      var quality = video.getVideoPlaybackQuality();
      stats.droppedFrames = quality.droppedVideoFrames;
      stats.frames = quality.totalVideoFrames;
    }
    if (readers) { try { readers(); } catch (e) { /* player not ready yet */ } }
    stats.playing = stats.started && !video.paused && !video.ended && !stats.stalling;
    if (stats.stalling) stats.longestStallMs = Math.max(stats.longestStallMs, performance.now() - stallStart);
    stats.updatedAt = Date.now();
  }
  var fmt = function (v, digits, unit) { return v === null || v === undefined || isNaN(v) ? '-' : v.toFixed(digits) + unit; };
  function render() {
    $('s-latency').textContent = fmt(stats.latency, 2, ' s');
    $('s-source').textContent = stats.latencySource || '-';
    $('s-target').textContent = fmt(stats.targetLatency, 2, ' s');
    $('s-buffer').textContent = fmt(stats.buffer, 2, ' s');
    $('s-bitrate').textContent = stats.bitrate ? Math.round(stats.bitrate / 1000) + ' kbit/s' + (stats.audioBitrate ? ' + ' + Math.round(stats.audioBitrate / 1000) + ' (audio)' : '') : '-';
    $('s-resolution').textContent = stats.width ? stats.width + 'x' + stats.height : '-';
    $('s-rate').textContent = fmt(stats.playbackRate, 2, 'x');
    $('s-stalls').textContent = stats.stalls + (stats.stalls ? ' (longest ' + Math.round(stats.longestStallMs) + ' ms)' : '') + (stats.stalling ? ' stalled now' : '');
    $('s-errors').textContent = String(stats.errors.length) + (stats.warnings.length ? ' (+' + stats.warnings.length + ' warnings)' : '');
    $('s-time').textContent = fmt(stats.currentTime, 2, ' s');
    $('s-state').textContent = stats.playing ? 'playing' : stats.stalling ? 'stalled' : stats.started ? (video.paused ? 'paused' : 'waiting') : 'starting';
    $('s-dropped').textContent = String(stats.droppedFrames);
  }
  setInterval(watch, 100);
  setInterval(function () { sample(); render(); }, 250);

  // --- the players ----------------------------------------------------------------------------
  function startDash() {
    var dashjs = window.dashjs;
    var player = dashjs.MediaPlayer().create();
    window.__player = player;
    var settings = {
      streaming: {
        // dash.js 5 turns low-latency mode on by itself for availabilityTimeComplete="false"
        // (ffmpeg -ldash 1); the target delay is ?delay=, else the MPD's own (see below), else 2 s.
        delay: { liveDelay: delay || NaN },
        liveCatchup: { enabled: !fromStart, mode: 'liveCatchupModeDefault' },
        buffer: { fastSwitchEnabled: true }
      }
    };
    if (cfg.timePath) {
      // Never ask the internet for the time: the MPD's UTCTiming comes first, then our clock.
      settings.streaming.utcSynchronization = { defaultTimingSource: { scheme: 'urn:mpeg:dash:utc:http-xsdate:2014', value: location.origin + cfg.timePath } };
    }
    player.updateSettings(settings);
    var ev = dashjs.MediaPlayer.events;
    if (!delay) {
      // An MPD with a ServiceDescription latency target (the origin's own, for CMAF ingest) gets
      // it; one without (ffmpeg's is empty) gets 2 s, not dash.js's four segments.
      player.on(ev.MANIFEST_LOADED, function (e) {
        var list = [].concat((e && e.data && e.data.ServiceDescription) || []);
        var target = list.some(function (d) {
          var latency = [].concat((d && d.Latency) || [])[0];
          return latency && Number(latency.target) > 0;
        });
        if (!target) player.updateSettings({ streaming: { delay: { liveDelay: 2 } } });
      });
    }
    player.on(ev.ERROR, function (e) {
      var err = e && e.error;
      fail('dash.js error ' + (err ? (err.code || '') + ' ' + (err.message || '') : JSON.stringify(e)));
    });
    player.on(ev.PLAYBACK_ERROR, function (e) { fail('dash.js playback error ' + (e && e.error ? e.error.message || e.error : '')); });
    player.on(ev.STREAM_INITIALIZED, function () { stats.ready = true; });
    if (fromStart) {
      // A dynamic MPD starts near its live edge; once it plays, seek(0) goes to the start of
      // its window (dash.js ignores a seek before playback begins).
      video.addEventListener('playing', function once() {
        video.removeEventListener('playing', once);
        if (player.isDynamic() && video.currentTime > 0.5) player.seek(0);
      });
    }
    player.on(ev.QUALITY_CHANGE_RENDERED, function (e) {
      if (e.mediaType === 'video' && e.newRepresentation) log('info', 'video ' + Math.round(e.newRepresentation.bandwidth / 1000) + ' kbit/s ' + e.newRepresentation.width + 'x' + e.newRepresentation.height);
    });
    var reps = function (type) {
      return (player.getRepresentationsByType(type) || []).map(function (r) { return { id: r.id, bandwidth: r.bandwidth, width: r.width, height: r.height }; });
    };
    readers = function () {
      if (!stats.ready) return;
      var l = player.getCurrentLiveLatency();
      stats.latency = isNaN(l) ? null : l;
      stats.latencySource = 'dash.js getCurrentLiveLatency';
      stats.targetLatency = player.getTargetLiveDelay();
      stats.lowLatency = player.getLowLatencyModeEnabled();
      var v = player.getCurrentRepresentationForType('video');
      var a = player.getCurrentRepresentationForType('audio');
      stats.bitrate = v ? v.bandwidth : null;
      stats.audioBitrate = a ? a.bandwidth : null;
      if (!stats.representations) stats.representations = { video: reps('video'), audio: reps('audio') };
    };
    player.initialize(video, url, true);
    $('status').textContent = 'dash.js ' + player.getVersion() + ': ' + url;
  }

  function startHls() {
    var Hls = window.Hls;
    if (!Hls.isSupported()) { fail('hls.js: MediaSource is not supported in this browser'); return; }
    // Live catch-up up to 1.5x, as dash.js does: hls.js then settles at the playlist's target.
    var config = { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, backBufferLength: 30 };
    if (delay) config.liveSyncDuration = delay;
    if (fromStart) {
      config.startPosition = 0;
      config.maxLiveSyncPlaybackRate = 1;
    }
    var hls = new Hls(config);
    // LL-HLS playlists (the origin's own) set the target with PART-HOLD-BACK. Playlists without
    // parts (ffmpeg's) list complete segments only: two target durations behind their edge (hls.js'
    // default is three) still leaves a segment of buffer between reloads. ?delay= overrides both.
    hls.once(Hls.Events.LEVEL_LOADED, function (_, data) {
      if (!delay && !data.details.partTarget) hls.targetLatency = 2 * data.details.targetduration;
    });
    window.__player = hls;
    hls.on(Hls.Events.ERROR, function (_, data) {
      var text = 'hls.js ' + (data.fatal ? 'fatal ' : '') + data.type + '/' + data.details + (data.response ? ' HTTP ' + data.response.code : '');
      if (data.fatal) fail(text); else warn(text);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, function () { stats.ready = true; video.play().catch(function (e) { warn('play(): ' + e.message); }); });
    readers = function () {
      if (hls.playingDate) {
        // Wall clock against EXT-X-PROGRAM-DATE-TIME: glass-to-glass from the encoder's clock.
        stats.latency = (Date.now() - hls.playingDate.getTime()) / 1000;
        stats.latencySource = 'program-date-time';
      } else if (hls.latency) {
        stats.latency = hls.latency;
        stats.latencySource = 'hls.latency';
      }
      stats.edgeLatency = hls.latency;
      stats.targetLatency = hls.targetLatency;
      stats.lowLatency = hls.lowLatencyMode;
      var level = hls.levels && hls.levels[hls.currentLevel];
      stats.bitrate = level ? level.bitrate : null;
      if (!stats.representations && hls.levels && hls.levels.length) {
        stats.representations = {
          video: hls.levels.map(function (l) { return { id: l.id, bandwidth: l.bitrate, width: l.width, height: l.height }; }),
          audio: (hls.audioTracks || []).map(function (t) { return { id: t.id, name: t.name }; })
        };
      }
    };
    hls.loadSource(url);
    hls.attachMedia(video);
    $('status').textContent = 'hls.js ' + Hls.version + ': ' + url;
  }

  function startShaka() {
    var shaka = window.shaka;
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) { fail('Shaka: this browser is not supported'); return; }
    var player = new shaka.Player();
    window.__player = player;
    // Low-latency mode reads LL-HLS parts and LL-DASH chunks; the target delay is the stream's own
    // (PART-HOLD-BACK, or the MPD's) unless ?delay= says otherwise. Shaka's byte-range
    // optimization (on by default) reads each segment as one request streamed as it is written
    // and appends every chunk as it arrives; per-part requests would append nothing until a
    // part's request ends, and with the hint's open range that is the segment's end: a stall at
    // each one. Live sync holds the latency down after a stall, as hls.js does.
    var config = {
      streaming: {
        lowLatencyMode: true,
        liveSync: { enabled: true, targetLatency: 0.25, targetLatencyTolerance: 0.25, maxPlaybackRate: 1.1, minPlaybackRate: 0.95, dynamicTargetLatency: { enabled: true, minLatency: 0.25, maxLatency: 2 } }
      },
      manifest: {}
    };
    if (delay) config.manifest.defaultPresentationDelay = delay;
    player.configure(config);
    player.addEventListener('error', function (e) {
      var d = e.detail || {};
      fail('Shaka error ' + d.code + (d.data && d.data.length ? ' ' + JSON.stringify(d.data).slice(0, 200) : ''));
    });
    readers = function () {
      if (!stats.ready) return;
      var s = player.getStats();
      var date = player.getPlayheadTimeAsDate && player.getPlayheadTimeAsDate();
      if (date) {
        stats.latency = (Date.now() - date.getTime()) / 1000;
        stats.latencySource = 'program-date-time';
      } else {
        stats.latency = isNaN(s.liveLatency) ? null : s.liveLatency;
        stats.latencySource = 'shaka liveLatency';
      }
      stats.bitrate = s.streamBandwidth || null;
      stats.lowLatency = player.getConfiguration().streaming.lowLatencyMode;
      if (!stats.representations) {
        var tracks = player.getVariantTracks();
        stats.representations = {
          video: tracks.map(function (t) { return { id: t.id, bandwidth: t.bandwidth, width: t.width, height: t.height }; }),
          audio: player.getAudioLanguagesAndRoles ? player.getAudioLanguagesAndRoles() : []
        };
      }
    };
    player.attach(video).then(function () { return player.load(url); }).then(function () {
      stats.ready = true;
      video.play().catch(function (e) { warn('play(): ' + e.message); });
    }).catch(function (e) { fail('Shaka load failed: ' + (e && (e.code || e.message))); });
    $('status').textContent = 'Shaka Player ' + shaka.Player.version + ': ' + url;
  }

  // --- a stream that is not up yet ------------------------------------------------------------
  // Players give up on a manifest that is not there (dash.js and hls.js report a fatal error).
  // So the page asks for it first and waits, saying so, until the encoder has started: the
  // origin holds each request a few seconds before its 404, and the page asks again.
  function whenAvailable(then) {
    var since = performance.now();
    (function probe() {
      fetch(url, { cache: 'no-store' }).then(function (r) {
        if (r.ok) {
          // Only its status was wanted: the player fetches the manifest itself.
          if (r.body) r.body.cancel().catch(function () {});
          if (stats.waitingForStream) log('info', 'the stream is up after ' + Math.round((performance.now() - since) / 1000) + ' s');
          stats.waitingForStream = false;
          stats.waitedMs = performance.now() - since;
          return then();
        }
        return r.text().then(function (why) {
          if (r.status !== 404 && r.status !== 503) return fail('the manifest answered HTTP ' + r.status + ': ' + url + ' ' + why.trim());
          stats.waitingForStream = true;
          // The origin's reason too (an MPD it cannot map says why at once).
          $('status').textContent = 'waiting for the stream: ' + url + ' is not there yet (HTTP ' + r.status + ': ' + why.trim().slice(0, 200) + '); trying again';
          setTimeout(probe, 1000);
        });
      }).catch(function (e) {
        stats.waitingForStream = true;
        $('status').textContent = 'cannot reach ' + url + ' (network or CORS error: ' + (e && e.message) + '); trying again';
        setTimeout(probe, 2000);
      });
    })();
  }

  var START = { dash: startDash, hls: startHls, shaka: startShaka };
  var script = document.createElement('script');
  script.src = lib.src;
  script.onload = function () {
    whenAvailable(function () {
      try { START[kind](); } catch (e) { fail('could not start ' + kind + ': ' + (e && e.message)); }
    });
  };
  script.onerror = function () { fail('could not load ' + lib.src); };
  document.head.appendChild(script);
})();
`;
