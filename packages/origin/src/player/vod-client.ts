// The /player page's VOD panel script, as text (inlined after the player's): upload a file with
// a progress bar (XMLHttpRequest reports upload progress; fetch does not), then the jobs with
// their transcode progress and links to play each asset from its start. Plain ES2018; names from
// the server are put in the page as text, never as HTML. What it sees is kept on `window.__vod`.
export const VOD_SCRIPT = String.raw`(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('boxstream-config').textContent);
  if (!cfg.vod) return;
  var base = cfg.vod;
  var $ = function (id) { return document.getElementById(id); };
  var state = { uploads: [], jobs: [], error: null };
  window.__vod = state;

  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }
  function auth(xhrOrHeaders) {
    var secret = $('vod-secret').value;
    if (!secret) return xhrOrHeaders;
    if (xhrOrHeaders.setRequestHeader) xhrOrHeaders.setRequestHeader('Authorization', 'Bearer ' + secret);
    else xhrOrHeaders.Authorization = 'Bearer ' + secret;
    return xhrOrHeaders;
  }
  function say(text, bad) {
    $('vod-status').textContent = text;
    $('vod-status').className = bad ? 'bad' : '';
  }

  $('vod-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var file = $('vod-file').files[0];
    if (!file) return say('Choose a video file first.', true);
    var form = new FormData();
    var name = $('vod-name').value.trim();
    if (name) form.append('name', name);
    form.append('file', file, file.name);
    var upload = { file: file.name, size: file.size, loaded: 0, status: null, startedAt: Date.now(), endedAt: null, job: null };
    state.uploads.push(upload);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', base);
    auth(xhr);
    $('vod-progress').hidden = false;
    $('vod-progress').value = 0;
    xhr.upload.onprogress = function (p) {
      upload.loaded = p.loaded;
      if (p.lengthComputable) $('vod-progress').value = Math.round((100 * p.loaded) / p.total);
      say('uploading ' + file.name + ': ' + Math.round(p.loaded / 1048576) + ' of ' + Math.round(file.size / 1048576) + ' MiB');
    };
    xhr.upload.onload = function () { say('checking ' + file.name + ' with ffprobe...'); };
    xhr.onload = function () {
      upload.status = xhr.status;
      upload.endedAt = Date.now();
      $('vod-progress').hidden = true;
      if (xhr.status === 202) {
        upload.job = JSON.parse(xhr.responseText);
        say('uploaded: ' + upload.job.name + ' is ' + upload.job.state);
        $('vod-form').reset();
      } else {
        say('upload refused (' + xhr.status + '): ' + xhr.responseText.trim(), true);
      }
      refresh();
    };
    xhr.onerror = function () {
      upload.status = 0;
      upload.endedAt = Date.now();
      $('vod-progress').hidden = true;
      say('the upload failed: the connection was lost', true);
    };
    xhr.send(form);
  });

  function playLink(href, text) {
    var a = el('a', text, { href: href });
    return a;
  }
  function row(job) {
    var tr = el('tr');
    tr.appendChild(el('td', job.name));
    var cell = el('td');
    if (job.state === 'transcoding') {
      var bar = el('progress', null, { max: '100' });
      bar.value = job.percent;
      cell.appendChild(bar);
      cell.appendChild(el('span', ' ' + job.percent.toFixed(0) + ' %'));
    } else {
      cell.appendChild(el('span', job.state, { class: job.state === 'failed' ? 'bad' : '' }));
      if (job.error) cell.appendChild(el('div', job.error, { class: 'small' }));
    }
    tr.appendChild(cell);
    var s = job.source;
    tr.appendChild(el('td', s.width + 'x' + s.height + ', ' + s.duration.toFixed(1) + ' s', { class: 'small' }));
    tr.appendChild(el('td', job.renditions.map(function (r) { return r.type === 'video' ? r.height + 'p' : 'audio'; }).join(' '), { class: 'small' }));
    var links = el('td');
    if (job.state === 'transcoding' || job.state === 'done') {
      links.appendChild(playLink('/player?player=hls&start=0&url=' + encodeURIComponent(job.hls), 'hls.js'));
      links.appendChild(document.createTextNode(' '));
      links.appendChild(playLink('/player?player=dash&start=0&url=' + encodeURIComponent(job.dash), 'dash.js'));
      links.appendChild(document.createTextNode(' '));
    }
    var del = el('button', 'delete', { type: 'button' });
    del.addEventListener('click', function () {
      fetch(base + '/' + encodeURIComponent(job.name), { method: 'DELETE', headers: auth({}) }).then(function (r) {
        if (r.status !== 204) return r.text().then(function (t) { say('delete refused (' + r.status + '): ' + t.trim(), true); });
        refresh();
      });
    });
    links.appendChild(del);
    tr.appendChild(links);
    return tr;
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer);
    fetch(base + '/jobs', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (body) {
      state.jobs = body.jobs;
      state.error = null;
      var tbody = $('vod-jobs');
      tbody.textContent = '';
      body.jobs.slice().reverse().forEach(function (job) { tbody.appendChild(row(job)); });
      if (body.jobs.length === 0) tbody.appendChild(el('tr')).appendChild(el('td', 'No VOD assets yet.', { colspan: '5', class: 'small' }));
      var busy = body.jobs.some(function (j) { return j.state === 'queued' || j.state === 'transcoding'; });
      timer = setTimeout(refresh, busy ? 1000 : 5000);
    }).catch(function (e) {
      state.error = String(e);
      timer = setTimeout(refresh, 5000);
    });
  }
  refresh();
})();
`;
