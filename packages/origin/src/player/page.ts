// The /player page: one self-contained HTML document (inline CSS and script, no external
// fetches) that plays ?url= with dash.js, hls.js or Shaka Player served by the origin, and shows live latency,
// buffer, bitrate, resolution and stalls as they happen. When a library is not installed the
// page says how to install it.
import { CLIENT_SCRIPT } from './client.js';
import { VOD_SCRIPT } from './vod-client.js';
import type { PlayerLib, PlayerLibs } from './assets.js';

/** What the page needs from the server. */
export interface PageOptions {
  /** The origin's UTC time endpoint (dash.js' fallback clock), or false. */
  timePath: string | false;
  /** Where VOD uploads go (`/vod`), or false when VOD is off: the page then has no VOD panel. */
  vodPath?: string | false;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const libConfig = (lib: PlayerLib | undefined): { pkg: string; version: string; src: string } | null =>
  lib === undefined ? null : { pkg: lib.pkg, version: lib.version, src: `${lib.path}?v=${encodeURIComponent(lib.version)}` };

const STYLE = `
  :root { color-scheme: dark; --fg: #e8e8e8; --dim: #9a9a9a; --bg: #121212; --panel: #1e1e1e; --bad: #ff6b6b; --warn: #f5c542; --ok: #5fd38d; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 10px 14px; background: var(--panel); }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  header form { display: flex; flex: 1; gap: 6px; min-width: 300px; }
  header input[type=text] { flex: 1; padding: 5px 8px; background: #000; color: var(--fg); border: 1px solid #444; border-radius: 4px; }
  header select, header button { padding: 5px 10px; background: #2b2b2b; color: var(--fg); border: 1px solid #444; border-radius: 4px; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(300px, 1fr); gap: 14px; padding: 14px; }
  @media (max-width: 800px) { main { grid-template-columns: 1fr; } }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9; border-radius: 4px; }
  #status { color: var(--dim); margin: 6px 0 0; word-break: break-all; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; padding: 12px; background: var(--panel); border-radius: 4px; font-variant-numeric: tabular-nums; }
  dt { color: var(--dim); }
  dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
  dd.small { font-size: 12px; color: var(--dim); }
  #s-latency { font-size: 20px; color: var(--ok); }
  ul#log { list-style: none; margin: 10px 0 0; padding: 8px 12px; background: var(--panel); border-radius: 4px; max-height: 260px; overflow: auto; font: 12px/1.4 ui-monospace, monospace; }
  #log .error { color: var(--bad); } #log .warn { color: var(--warn); } #log .info { color: var(--dim); }
  .missing { margin: 14px; padding: 12px 16px; border: 1px solid var(--warn); border-radius: 4px; background: #2a2410; }
  .missing code { background: #000; padding: 1px 5px; border-radius: 3px; }
  #vod { margin: 0 14px 14px; padding: 12px; background: var(--panel); border-radius: 4px; }
  #vod h2 { font-size: 15px; margin: 0 0 8px; }
  #vod form { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
  #vod input[type=text], #vod input[type=password] { padding: 5px 8px; background: #000; color: var(--fg); border: 1px solid #444; border-radius: 4px; }
  #vod button { padding: 4px 10px; background: #2b2b2b; color: var(--fg); border: 1px solid #444; border-radius: 4px; }
  #vod table { width: 100%; border-collapse: collapse; margin-top: 10px; }
  #vod td { padding: 4px 8px; border-top: 1px solid #333; vertical-align: top; }
  #vod a { color: #7fb8ff; }
  #vod .small { font-size: 12px; color: var(--dim); }
  #vod .bad, #vod-status.bad { color: var(--bad); }
`;

function vodPanel(vodPath: string | false | undefined): string {
  if (vodPath === undefined || vodPath === false) return '';
  return `<section id="vod">
  <h2>VOD: upload a video, play it while it transcodes</h2>
  <form id="vod-form">
    <input type="file" id="vod-file" name="file" accept="video/*,.mkv,.mov,.mp4,.webm">
    <input type="text" id="vod-name" name="name" placeholder="name (optional)" spellcheck="false">
    <input type="password" id="vod-secret" placeholder="ingest secret (if set)" autocomplete="off">
    <button type="submit">Upload</button>
    <progress id="vod-progress" max="100" value="0" hidden></progress>
    <span id="vod-status"></span>
  </form>
  <table><tbody id="vod-jobs"></tbody></table>
</section>`;
}

function missingNotice(libs: PlayerLibs): string {
  const missing = [
    libs.dash === undefined ? 'dash.js (npm package <code>dashjs</code>)' : '',
    libs.hls === undefined ? 'hls.js (npm package <code>hls.js</code>)' : '',
    libs.shaka === undefined ? 'Shaka Player (npm package <code>shaka-player</code>)' : '',
  ].filter(Boolean);
  if (missing.length === 0) return '';
  return `<section class="missing" id="missing">
  <strong>Not installed on this origin: ${missing.join(' and ')}.</strong>
  <p>The player libraries are optional: the origin serves them from the project's own <code>node_modules</code>, never from the internet.
  In the boxstream workspace they are devDependencies of <code>@boxstream/origin</code>: run <code>pnpm install</code> at the workspace root.
  When the origin is mounted in your own project, install them there: <code>npm i dashjs hls.js shaka-player</code>.
  Then restart the origin (or just reload: it looks again while they are missing).</p>
</section>`;
}

/** The /player HTML document. */
export function renderPlayerPage(libs: PlayerLibs, options: PageOptions): string {
  const config = {
    libs: { dash: libConfig(libs.dash), hls: libConfig(libs.hls), shaka: libConfig(libs.shaka) },
    timePath: options.timePath,
    vod: options.vodPath ?? false,
  };
  const versions = [libs.dash && `dash.js ${libs.dash.version}`, libs.hls && `hls.js ${libs.hls.version}`, libs.shaka && `Shaka ${libs.shaka.version}`].filter(Boolean).join(', ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>boxstream player</title>
<style>${STYLE}</style>
<script id="boxstream-config" type="application/json">${scriptJson(config)}</script>
</head>
<body>
<header>
  <h1>boxstream player</h1>
  <form method="get" action="/player">
    <input type="text" id="url" name="url" placeholder="/live/out.mpd or /live/out.m3u8" spellcheck="false">
    <select id="kind" name="player"><option value="dash">dash.js</option><option value="hls">hls.js</option><option value="shaka">Shaka</option></select>
    <button type="submit">Play</button>
  </form>
  <span style="color: var(--dim)">${escapeHtml(versions || 'no player library installed')}</span>
</header>
${missingNotice(libs)}
<main>
  <div>
    <video id="video" muted autoplay playsinline controls></video>
    <p id="status"></p>
  </div>
  <div>
    <dl>
      <dt>live latency</dt><dd id="s-latency">-</dd>
      <dt>measured by</dt><dd id="s-source" class="small">-</dd>
      <dt>target</dt><dd id="s-target">-</dd>
      <dt>buffer</dt><dd id="s-buffer">-</dd>
      <dt>bitrate</dt><dd id="s-bitrate">-</dd>
      <dt>resolution</dt><dd id="s-resolution">-</dd>
      <dt>playback rate</dt><dd id="s-rate">-</dd>
      <dt>stalls</dt><dd id="s-stalls">0</dd>
      <dt>errors</dt><dd id="s-errors">0</dd>
      <dt>media time</dt><dd id="s-time">-</dd>
      <dt>state</dt><dd id="s-state">-</dd>
      <dt>dropped frames</dt><dd id="s-dropped">0</dd>
    </dl>
    <ul id="log"></ul>
  </div>
</main>
${vodPanel(options.vodPath)}
<script>${CLIENT_SCRIPT}</script>
${options.vodPath ? `<script>${VOD_SCRIPT}</script>` : ''}
</body>
</html>
`;
}
