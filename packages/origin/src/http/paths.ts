// Request targets to object keys. Keys are decoded, normalised absolute paths ("/live/a.m4s");
// anything that could escape a directory if the store were ever a file system, or that decodes
// ambiguously, is refused rather than repaired.

/** Default longest accepted path (the part before `?`), in bytes as sent. */
export const MAX_PATH_BYTES = 1024;

/** A parsed request target: the object key, or why the target was refused. */
export type PathResult = { ok: true; key: string } | { ok: false; reason: string };

const refuse = (reason: string): PathResult => ({ ok: false, reason });

/**
 * Turns a request target (`req.url`) into an object key.
 *
 * - The query string and fragment are not part of the key.
 * - An absolute-form target (`http://host/path`) is reduced to its path.
 * - Segments are percent-decoded as UTF-8; empty and `.` segments are dropped, so `//a/./b`
 *   is `/a/b`.
 * - Refused: `..` (raw or encoded), an encoded `/` or `\` (`%2f`, `%5c`), backslashes, NUL and
 *   other control characters (raw or encoded), invalid percent-encoding or UTF-8, a target not
 *   starting with `/`, and paths longer than `maxBytes`.
 */
export function parseRequestPath(target: string, maxBytes: number = MAX_PATH_BYTES): PathResult {
  let end = target.length;
  const q = target.indexOf('?');
  if (q >= 0) end = q;
  const h = target.indexOf('#');
  if (h >= 0 && h < end) end = h;
  let path = target.slice(0, end);
  if (!path.startsWith('/')) {
    const m = /^https?:\/\/[^/]*/i.exec(path);
    if (!m) return refuse('request target must be an absolute path');
    path = path.slice(m[0].length) || '/';
  }
  // The request line is latin1 on the wire, so string length is the byte count.
  if (path.length > maxBytes) return refuse(`path longer than ${maxBytes} bytes`);
  const segments: string[] = [];
  let from = 1;
  while (from <= path.length) {
    let to = path.indexOf('/', from);
    if (to < 0) to = path.length;
    const raw = path.slice(from, to);
    from = to + 1;
    if (raw === '') continue;
    let seg: string;
    try {
      seg = raw.includes('%') ? decodeURIComponent(raw) : raw;
    } catch {
      return refuse('invalid percent-encoding');
    }
    if (seg.includes('/')) return refuse('encoded slash in path');
    if (seg.includes('\\')) return refuse('backslash in path');
    if (hasControl(seg)) return refuse('control character in path');
    if (seg === '..') return refuse('dot-dot segment in path');
    if (seg === '.') continue;
    segments.push(seg);
  }
  return { ok: true, key: '/' + segments.join('/') };
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
