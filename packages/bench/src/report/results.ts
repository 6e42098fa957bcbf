// Result files: `<name>-<timestamp>.json` plus `<name>-latest.json`, written atomically.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** 2024-05-01T12-30-00Z: sortable and safe in file names. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

// The workspace root, found from this file (packages/bench/src/report/): results name paths
// relative to it, so no path of the machine that ran the bench goes into a committed file.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** `s` with the workspace root (as a path or a file: URL) made relative. */
function portable(s: string): string {
  return s.split(`file://${ROOT}`).join('').split(ROOT).join('');
}

/** Writes `data` as JSON to `dir`; returns the two paths. */
export function writeResults(dir: string, name: string, data: unknown, date = new Date()): { file: string; latest: string } {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? portable(v) : v), 2)}\n`;
  const file = join(dir, `${name}-${timestamp(date)}.json`);
  const latest = join(dir, `${name}-latest.json`);
  writeAtomic(file, text);
  writeAtomic(latest, text);
  return { file, latest };
}
