// boxstream as it was at a given commit, built with the same bundler as the package (tsup), so a
// change is measured against the code before it, in the same run on the same machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'tsup';
import { boxstreamRun, type Contender, type ParserClass } from './contenders.js';
import { benchDir } from './fixture.js';

/** The last commit before the parser-facts work (issue 13): "today's boxstream" for its target. */
export const DEFAULT_BASELINE = '24b8955';

function git(args: string[], cwd = benchDir): { ok: boolean; out: Buffer } {
  const r = spawnSync('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: r.stdout ?? Buffer.alloc(0) };
}

/**
 * A contender running boxstream's Parser from commit `ref`: its `packages/boxstream/src` is taken
 * with `git archive`, bundled once into `.cache/boxstream-<sha>/`, and imported. Undefined (with
 * the reason) when this is not a git checkout or the commit is unknown.
 */
export async function loadBaseline(ref: string): Promise<{ contender?: Contender; sha?: string; why?: string }> {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  if (!sha.ok) return { why: `'${ref}' is not a commit of this checkout (a git clone with its history is needed)` };
  const full = sha.out.toString().trim();
  const dir = join(benchDir, '.cache', `boxstream-${full.slice(0, 12)}`);
  const bundle = join(dir, 'dist', 'index.js');
  if (!existsSync(bundle)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Paths given to git archive are relative to the working directory: run it at the top.
    const top = git(['rev-parse', '--show-toplevel']).out.toString().trim();
    const archive = git(['archive', '--format=tar', full, 'packages/boxstream/src'], top);
    if (!archive.ok) return { why: `git archive of ${full} failed` };
    const tar = spawnSync('tar', ['-x', '-C', dir, '--strip-components=2'], { input: archive.out });
    if (tar.status !== 0) return { why: 'tar failed to unpack the baseline sources' };
    await build({
      entry: { index: join(dir, 'src', 'index.ts') },
      outDir: join(dir, 'dist'),
      format: ['esm'],
      target: 'es2022',
      dts: false,
      config: false,
      silent: true,
    });
  }
  const { Parser } = (await import(pathToFileURL(bundle).href)) as { Parser: ParserClass };
  return {
    sha: full,
    contender: {
      id: 'baseline',
      label: `boxstream @${full.slice(0, 7)} (baseline)`,
      mode: 'native',
      method: `the same drive as boxstream, with its Parser built from commit ${full} (git archive + tsup, esm, es2022)`,
      readsSequence: true,
      run: boxstreamRun(Parser),
    },
  };
}
