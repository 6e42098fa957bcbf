// `--print-config`: the effective settings as a config file that `--config` reads back. Values
// set by the file or by flags are written out; defaults are there too, commented out. Secrets
// are never printed.
import { stringify } from 'yaml';
import type { RelayTargetOptions } from '../relay/options.js';
import { NOT_SHOWN, SECRET_ENV, SECRET_KEYS } from './config-file.js';
import { FLAGS, type Flag, type FlagValues } from './flags.js';

/** A URL with its password hidden (`http://alice:***@b:1`): relays send it as Basic credentials. */
function hideCredentials(url: string): string {
  return url.replace(/^(\/[^=]*=)?([a-z0-9+.-]+:\/\/[^/@:]*:)[^/@]*@/i, '$1$2***@');
}

/** The relay keys of a config file, from the options a relay map gave. */
function relayMap(options: RelayTargetOptions): Record<string, unknown> {
  const out: Record<string, unknown> = { url: hideCredentials(options.url) };
  if (options.prefix !== undefined) out.prefix = options.prefix;
  if (options.secret !== undefined) out.secret = NOT_SHOWN;
  const numbers: [keyof RelayTargetOptions, string][] = [
    ['maxQueue', 'max-queue'],
    ['maxQueueBytes', 'max-queue-bytes'],
    ['maxConnections', 'max-connections'],
    ['timeoutMs', 'timeout-ms'],
    ['minBackoffMs', 'min-backoff-ms'],
    ['maxBackoffMs', 'max-backoff-ms'],
  ];
  for (const [option, key] of numbers) if (options[option] !== undefined) out[key] = options[option];
  if (options.s3?.endpoint !== undefined) out['s3-endpoint'] = options.s3.endpoint;
  if (options.s3?.region !== undefined) out['s3-region'] = options.s3.region;
  return out;
}

/** The config text for `values` (set by file or flags) and the relay maps of the file. */
export function printConfig(values: FlagValues, relayMaps: readonly RelayTargetOptions[], head: string, env: NodeJS.ProcessEnv = process.env): string {
  const out = [
    `# ${head}`,
    '# Set by the config file or by flags; commented lines are defaults. Secrets are not shown:',
    `# where one says ${NOT_SHOWN}, give it again (here, by its flag or in its environment variable).`,
  ];
  for (const flag of FLAGS as readonly Flag[]) {
    if (flag.meta) continue;
    const value = values[flag.name];
    if (SECRET_KEYS.has(flag.name)) {
      const from = SECRET_ENV[flag.name];
      out.push(value !== undefined ? stringify({ [flag.name]: NOT_SHOWN }).trimEnd() : `# ${flag.name}: ${env[from] !== undefined ? `(from ${from})` : '(none)'}`);
      continue;
    }
    if (flag.name === 'relay' && (value !== undefined || relayMaps.length > 0)) {
      const entries = [...((value as string[] | undefined) ?? []).map(hideCredentials), ...relayMaps.map(relayMap)];
      out.push(stringify({ relay: entries }).trimEnd());
      continue;
    }
    if (value !== undefined) {
      // Whole numbers as numbers, as one would write them.
      const typed = flag.kind === 'int' && /^[0-9]+$/.test(String(value)) ? Number(value) : value;
      out.push(stringify({ [flag.name]: typed }).trimEnd());
    } else if (flag.default === undefined) {
      out.push(`# ${flag.name}: (none)`);
    } else {
      out.push(...stringify({ [flag.name]: flag.default }).trimEnd().split('\n').map((line) => `# ${line}`));
    }
  }
  return out.join('\n') + '\n';
}
