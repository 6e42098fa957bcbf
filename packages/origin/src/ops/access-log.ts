// Access log lines: one per request, as text for people or as JSON for machines.
import type { AccessLogEntry } from '../options.js';

/** `text` (default): one line of space-separated fields; `json`: one JSON object per line. */
export type LogFormat = 'text' | 'json';

/** Keeps a text log line one line of printable tokens whatever the path holds. */
const printable = (s: string): string => s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));

/** Formats one entry as a line (with its newline). `now` is the time stamp, default the current time. */
export function formatAccessLog(entry: AccessLogEntry, format: LogFormat = 'text', now = new Date()): string {
  if (format === 'json') {
    // JSON.stringify escapes control characters, so a hostile path cannot break the line.
    return (
      JSON.stringify({
        time: now.toISOString(),
        method: entry.method,
        path: entry.path,
        status: entry.status,
        bytes: entry.bytes,
        chunks: entry.chunks,
        ms: Math.round(entry.durationMs * 10) / 10,
        aborted: entry.aborted,
        ...(entry.remote !== undefined ? { remote: entry.remote } : undefined),
        ...(entry.http !== undefined ? { http: entry.http } : undefined),
        ...(entry.user !== undefined ? { user: entry.user } : undefined),
      }) + '\n'
    );
  }
  return (
    `${now.toISOString()} ${entry.method} ${printable(entry.path)} ${entry.status} bytes=${entry.bytes} chunks=${entry.chunks} ` +
    `ms=${entry.durationMs.toFixed(1)}${entry.http === '2.0' ? ' h2' : ''}${entry.aborted ? ' aborted' : ''}${entry.user !== undefined ? ` user=${printable(entry.user)}` : ''}\n`
  );
}
