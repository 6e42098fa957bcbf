// The live latency real players held in the end-to-end tests (packages/origin/test/e2e), as the
// tests recorded it in results/players-latest.json: reported beside the bench's own figures.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface PlayerRun {
  name: string;
  ok: boolean;
  segmentSec: number;
  chunkSec: number;
  latencySec?: { median: number; worst: number };
  stalls?: number;
}

interface PlayersResult {
  startedAt: string;
  tools?: Record<string, string>;
  runs: PlayerRun[];
}

/** A short table of the latest player runs, or undefined when the e2e tests never ran here. */
export function playersSummary(resultsDir: string): string | undefined {
  const file = join(resultsDir, 'players-latest.json');
  if (!existsSync(file)) return undefined;
  let result: PlayersResult;
  try {
    result = JSON.parse(readFileSync(file, 'utf8')) as PlayersResult;
  } catch {
    return undefined;
  }
  const lines = [
    `Live latency held by real players (e2e tests, ${result.startedAt}; ${file}):`,
    '| run | segment / chunk | median latency | worst | stalls | ok |',
    '|:--|--:|--:|--:|--:|:--|',
  ];
  for (const r of result.runs) {
    const l = r.latencySec;
    lines.push(
      `| ${r.name} | ${r.segmentSec} s / ${r.chunkSec} s | ${l ? `${l.median.toFixed(2)} s` : '-'} | ${l ? `${l.worst.toFixed(2)} s` : '-'} | ${r.stalls ?? '-'} | ${r.ok ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}
