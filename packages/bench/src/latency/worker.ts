// Worker threads for the bench's readers, from TypeScript sources or compiled ones.
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker whose entry is `entry` (a `.ts` URL beside the caller). Node 20 does not apply
 * an inherited `--import tsx` to a worker's own entry module, so when the caller runs as
 * TypeScript the worker is a two-line bootstrap that registers tsx and then imports the entry;
 * compiled to .js, the `.js` entry is loaded directly.
 */
export function startWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.href.endsWith('.ts')) return new Worker(entry, { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData });
}

/** The worker entry `name` (without extension) beside `caller`, as .ts or .js like the caller. */
export function entryBeside(caller: string, name: string): URL {
  return new URL(`./${name}${caller.endsWith('.ts') ? '.ts' : '.js'}`, caller);
}
