// Summarises V8 .cpuprofile files (node --cpu-prof) as the functions with the most self time:
//   tsx src/latency/profile-summary.ts DIR_OR_FILES... [--top 25] [--inclusive dist/]
// Self time per function (name, file, line), summed over all given profiles, with the share of
// all sampled time; idle and GC show as "(idle)", "(garbage collector)", "(program)".
// --inclusive PATTERN adds a table of total (self + callees) time of the functions whose file
// matches PATTERN, e.g. the origin's own code, to see which of its paths the time is under.
// --skip-ms MS drops each profile's first MS of samples (module loading at startup would
// otherwise be a quarter of a short run's profile).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

function where(frame: CallFrame): string {
  if (frame.url === '') return '';
  const url = frame.url.replace(/^file:\/\//, '');
  const shown = url.startsWith('/') ? relative(process.cwd(), url) : url;
  return `${shown}:${frame.lineNumber + 1}`;
}

/** Self time by function over `profiles`, busiest first. */
export function hotSpots(profiles: CpuProfile[], includeIdle = false): HotSpot[] {
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const node = byId.get(p.samples[i]);
      if (node === undefined) continue;
      const dt = p.timeDeltas[i] ?? 0;
      const name = node.callFrame.functionName || '(anonymous)';
      if (!includeIdle && name === '(idle)') continue;
      total += dt;
      const key = `${name}\u0000${node.callFrame.url}\u0000${node.callFrame.lineNumber}`;
      const entry = self.get(key) ?? { name, where: where(node.callFrame), us: 0 };
      entry.us += dt;
      self.set(key, entry);
    }
  }
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: total === 0 ? 0 : e.us / total }));
}

/** Total time (self + callees) per function whose url contains `pattern`; recursion counted once. */
export function inclusiveTimes(profiles: CpuProfile[], pattern: string): HotSpot[] {
  const totals = new Map<string, { name: string; where: string; us: number }>();
  let all = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (let i = 0; i < p.samples.length; i++) {
      const dt = p.timeDeltas[i] ?? 0;
      let node = byId.get(p.samples[i]);
      if (node === undefined || node.callFrame.functionName === '(idle)') continue;
      all += dt;
      const seen = new Set<string>();
      while (node !== undefined) {
        const f = node.callFrame;
        if (f.url.includes(pattern)) {
          const key = `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}`;
          if (!seen.has(key)) {
            seen.add(key);
            const e = totals.get(key) ?? { name: f.functionName || '(anonymous)', where: where(f), us: 0 };
            e.us += dt;
            totals.set(key, e);
          }
        }
        const up = parent.get(node.id);
        node = up === undefined ? undefined : byId.get(up);
      }
    }
  }
  return [...totals.values()].sort((a, b) => b.us - a.us).map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: all === 0 ? 0 : e.us / all }));
}

/** `profile` without the samples taken in its first `ms` milliseconds. */
export function skipStart(profile: CpuProfile, ms: number): CpuProfile {
  let at = 0;
  let first = 0;
  while (first < profile.samples.length && at < ms * 1000) at += profile.timeDeltas[first++] ?? 0;
  return { ...profile, samples: profile.samples.slice(first), timeDeltas: profile.timeDeltas.slice(first) };
}

function profileFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.cpuprofile'))
          .map((f) => join(p, f))
      : [p],
  );
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, idle: { type: 'boolean' }, inclusive: { type: 'string' }, 'skip-ms': { type: 'string' } } });
  const files = profileFiles(positionals);
  if (files.length === 0) {
    process.stderr.write('usage: profile-summary.ts DIR_OR_FILES... [--top N] [--idle] [--inclusive PATTERN] [--skip-ms MS]\n');
    process.exit(2);
  }
  const skipMs = Number(values['skip-ms'] ?? 0);
  if (!(skipMs >= 0)) {
    process.stderr.write(`--skip-ms wants milliseconds, got '${values['skip-ms']}'\n`);
    process.exit(2);
  }
  const profiles = files.map((f) => skipStart(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, skipMs));
  const top = Number(values.top ?? 25);
  const spots = hotSpots(profiles, values.idle ?? false);
  const busyMs = spots.reduce((a, s) => a + s.selfMs, 0);
  process.stdout.write(`${files.length} profile(s): ${files.map((f) => basename(f)).join(', ')}\n`);
  process.stdout.write(`${busyMs.toFixed(0)} ms sampled${values.idle ? '' : ' (idle excluded)'}\n\n`);
  process.stdout.write('| self ms | share | function | where |\n|--:|--:|:--|:--|\n');
  for (const s of spots.slice(0, top)) {
    process.stdout.write(`| ${s.selfMs.toFixed(1)} | ${(s.share * 100).toFixed(1)}% | ${s.name} | ${s.where} |\n`);
  }
  if (values.inclusive !== undefined) {
    process.stdout.write(`\nTotal time (self + callees) of functions in files matching '${values.inclusive}':\n\n`);
    process.stdout.write('| total ms | share | function | where |\n|--:|--:|:--|:--|\n');
    for (const s of inclusiveTimes(profiles, values.inclusive).slice(0, top)) {
      process.stdout.write(`| ${s.selfMs.toFixed(1)} | ${(s.share * 100).toFixed(1)}% | ${s.name} | ${s.where} |\n`);
    }
  }
}

main();
