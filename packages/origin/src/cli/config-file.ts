// `--config FILE`: settings in YAML (or JSON, which YAML reads too), keyed by the CLI's flag
// names. Values become what the flags would have given, so one set of checks serves both, and
// every error names the file, the line and the key. Parsed by `yaml` (eemeli/yaml): a
// well-kept, dependency-free YAML 1.2 parser that reports positions.
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { RelayTargetOptions } from '../relay/options.js';
import { resolveRelayTarget } from '../relay/options.js';
import { FLAG_BY_NAME, type FlagValues } from './flags.js';

/** A config file, read and checked for shape. */
export interface ConfigFile {
  path: string;
  /** Flag values, as the flags would give them. */
  values: FlagValues;
  /** The line of each key. */
  lines: Map<string, number>;
  /** `relay` entries written as maps (per-target settings no flag has). */
  relays: { options: RelayTargetOptions; line: number }[];
  /** Secrets written as `--print-config` leaves them (not shown): they must come from a flag or the environment. */
  unprinted: Map<string, number>;
}

/** What `--print-config` writes in place of a secret; a file holding it has no secret there. */
export const NOT_SHOWN = '(set, not shown)';

/** Keys whose values are secrets, and the environment variable each may come from instead. */
export const SECRET_ENV: Readonly<Record<string, string>> = {
  'ingest-secret': 'BOXSTREAM_INGEST_SECRET',
  'relay-secret': 'BOXSTREAM_RELAY_SECRET',
  'sign-secret': 'BOXSTREAM_SIGN_SECRET',
};
export const SECRET_KEYS: ReadonlySet<string> = new Set(Object.keys(SECRET_ENV));

/** Larger than any config file: a mistaken path (a device, a video) is refused, not read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** A config error: where, and what. */
export class ConfigError extends Error {}

/** Keys of a `relay` entry written as a map, and the option each sets. */
const RELAY_KEYS: Readonly<Record<string, keyof RelayTargetOptions | 's3-endpoint' | 's3-region'>> = {
  url: 'url',
  prefix: 'prefix',
  secret: 'secret',
  'max-queue': 'maxQueue',
  'max-queue-bytes': 'maxQueueBytes',
  'max-connections': 'maxConnections',
  'timeout-ms': 'timeoutMs',
  'min-backoff-ms': 'minBackoffMs',
  'max-backoff-ms': 'maxBackoffMs',
  's3-endpoint': 's3-endpoint',
  's3-region': 's3-region',
};

/** Reads and checks `path`. Throws `ConfigError` with `path:line: key: reason`. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): ConfigFile {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) throw new Error(`not a config file (a regular file of at most ${MAX_CONFIG_BYTES} bytes)`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read: ${(err as Error).message}`);
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: true });
  // Warnings too (an unknown tag such as `!env X` would otherwise become the string "X").
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const at = counter.linePos(problem.pos[0]);
    throw new ConfigError(`${path}:${at.line}:${at.col}: ${problem.message.split('\n')[0]}`);
  }
  const lineOf = (node: Node | null | undefined): number => counter.linePos(node?.range?.[0] ?? 0).line;
  // Numbers as the flags take them: digits only (no 0x10, 1e3, 8.0, +80), and no tags anywhere.
  visit(doc, {
    Scalar(_key, node) {
      const source = (node.srcToken as { source?: string } | undefined)?.source ?? '';
      if (node.tag !== undefined) throw new ConfigError(`${path}:${lineOf(node)}: no YAML tags here (${node.tag})`);
      if (typeof node.value === 'number' && !/^[0-9]+$/.test(source)) throw new ConfigError(`${path}:${lineOf(node)}: ${source} is not a whole number written in digits (quote it if it is text)`);
    },
  });
  const config: ConfigFile = { path, values: {}, lines: new Map(), relays: [], unprinted: new Map() };
  const root = doc.contents;
  if (root === null || root === undefined) return config;
  if (!isMap(root)) throw new ConfigError(`${path}:${lineOf(root)}: the file must be a map of settings (key: value), keyed by flag names`);
  for (const pair of root.items) {
    const keyNode = pair.key as Node;
    const line = lineOf(keyNode);
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const where = `${path}:${line}: ${key}`;
    const flag = FLAG_BY_NAME.get(key);
    if (flag === undefined || flag.meta) {
      const hint = FLAG_BY_NAME.get(key.replace(/^--/, '').replace(/_/g, '-').toLowerCase());
      throw new ConfigError(`${where}: not a setting${hint !== undefined && !hint.meta ? ` (did you mean '${hint.name}'?)` : ''}`);
    }
    config.lines.set(flag.name, line);
    const value = pair.value as Node | null;
    if (value === null || (isScalar(value) && value.value === null)) continue; // `key:` alone: the default
    const scalar = (node: Node, what: string, numbers: boolean): string => {
      if (!isScalar(node) || (typeof node.value !== 'string' && !(numbers && typeof node.value === 'number'))) throw new ConfigError(`${where}: ${what}`);
      if (typeof node.value === 'number' && !Number.isSafeInteger(node.value)) throw new ConfigError(`${where}: ${node.value} is not a whole number`);
      return String(node.value);
    };
    if (SECRET_KEYS.has(flag.name) && isScalar(value) && value.value === NOT_SHOWN) {
      config.unprinted.set(flag.name, line);
      continue;
    }
    switch (flag.kind) {
      case 'bool':
        if (!isScalar(value) || typeof value.value !== 'boolean') throw new ConfigError(`${where}: must be true or false`);
        config.values[flag.name] = value.value;
        break;
      case 'int':
        config.values[flag.name] = scalar(value, 'must be a whole number', true);
        break;
      case 'string':
        config.values[flag.name] = flag.name === 'vod-profiles' && isSeq(value) ? vodProfiles(value.items as Node[], where) : scalar(value, 'must be a string (quote it)', false);
        break;
      case 'list': {
        const items = isSeq(value) ? (value.items as Node[]) : [value];
        const list: string[] = [];
        for (const item of items) {
          if (isMap(item)) {
            const entry = item.toJSON() as Record<string, unknown>;
            if (flag.name === 'relay') config.relays.push({ options: relayEntry(entry, `${path}:${lineOf(item)}: relay`, env), line: lineOf(item) });
            else list.push(ruleEntry(flag.name, entry, `${path}:${lineOf(item)}: ${flag.name}`));
          } else {
            const text = scalar(item, 'must be a string or a list of strings (quote them)', false);
            if (flag.name === 'relay' && /:\*\*\*@/.test(text)) throw new ConfigError(`${path}:${lineOf(item)}: relay: its credentials were not printed: write them here again`);
            list.push(text);
          }
        }
        config.values[flag.name] = list;
        break;
      }
    }
  }
  return config;
}

/** `- { prefix: /static/, cache-control: ... }` and `- { prefix: /archive/, ttl: 0 }`, as the flags write them. */
function ruleEntry(flag: string, entry: Record<string, unknown>, where: string): string {
  const field = flag === 'cache-prefix' ? 'cache-control' : flag === 'ttl-prefix' ? 'ttl' : undefined;
  const keys = Object.keys(entry);
  if (field === undefined || typeof entry.prefix !== 'string' || entry.prefix.includes('=') || entry[field] === undefined || keys.length !== 2) {
    throw new ConfigError(`${where}: ${field === undefined ? 'must be a string' : `an entry is { prefix, ${field} }`}`);
  }
  return `${entry.prefix}=${String(entry[field])}`;
}

/** `- { name: 720p, height: 720, kbps: 2800 }` entries, as `--vod-profiles` writes them. */
function vodProfiles(items: Node[], where: string): string {
  return items
    .map((item) => {
      const p = (isMap(item) ? item.toJSON() : undefined) as Record<string, unknown> | undefined;
      if (p === undefined || typeof p.name !== 'string' || p.height === undefined || p.kbps === undefined || Object.keys(p).length !== 3) {
        throw new ConfigError(`${where}: each profile is { name, height, kbps }`);
      }
      return `${p.name}:${String(p.height)}:${String(p.kbps)}`;
    })
    .join(',');
}

/** A relay target written as a map; checked now, so its error names its line. */
function relayEntry(entry: Record<string, unknown>, where: string, env: NodeJS.ProcessEnv): RelayTargetOptions {
  const options: Record<string, unknown> = {};
  const s3: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    const option = RELAY_KEYS[key];
    if (option === undefined) throw new ConfigError(`${where}: '${key}' is not a relay setting (${Object.keys(RELAY_KEYS).join(', ')})`);
    if (option === 's3-endpoint') s3.endpoint = value;
    else if (option === 's3-region') s3.region = value;
    else options[option] = value;
  }
  if (typeof options.url !== 'string') throw new ConfigError(`${where}: url is required`);
  if (options.secret === NOT_SHOWN || /:\*\*\*@/.test(options.url)) throw new ConfigError(`${where}: its secret was not printed: write it here again`);
  if (String(options.url).startsWith('s3:')) options.s3 = s3;
  else if (Object.keys(s3).length > 0) throw new ConfigError(`${where}: s3-endpoint and s3-region are for s3:// targets`);
  try {
    resolveRelayTarget(options as unknown as RelayTargetOptions, env);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
  return options as unknown as RelayTargetOptions;
}
