import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { UsageError } from '../base/errors.js';
import { type Settings, settingsSchema } from './schema.js';
import { ALL_SETTINGS, DEFAULTS, envVars, RENAMED, settingSpec } from './settings.js';

/** Where a setting's value came from; errors name the flag, key or variable accordingly. */
export type Source = 'default' | 'deployed' | 'config' | 'env' | 'flag' | 'prompt';

export const DEFAULT_CONFIG_FILE = 'ssm-setup.json';

/** Built-in defaults, the lowest layer: taken from the settings table (settings.ts). */
export { DEFAULTS } from './settings.js';

export interface LoadedSettings {
  readonly settings: Settings;
  /** The layer each key's value came from. */
  readonly sources: Readonly<Record<string, Source>>;
  /** The raw merged values, before validation (re-validated after prompts). */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The config file that was read, if any. */
  readonly configFile?: string;
  /** What the operator should know about the settings given (an old name still accepted). */
  readonly warnings?: readonly string[];
  /** Settings given under an old name (`resourceTags` → `tags`): errors name them as typed. */
  readonly givenAs?: Readonly<Record<string, string>>;
}

export interface LoadInput {
  /** Values of the flags the operator actually typed (no parser defaults), by config key. */
  readonly flags: Readonly<Record<string, unknown>>;
  /** `--config`; without it `./ssm-setup.json` is read when it exists. */
  readonly configPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Merges defaults < config file < environment < flags, then validates everything at once.
 * Throws one UsageError listing every problem, each naming its flag, config key or variable.
 */
export async function loadSettings(input: LoadInput): Promise<LoadedSettings> {
  const env = input.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const warnings: string[] = [];
  const givenAs: Record<string, string> = {};
  let configFile: string | undefined;
  const layer = (values: Record<string, unknown>, source: Source) => {
    for (const [given, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const key = renamed(given, source, configFile, warnings);
      if (key !== given) givenAs[key] = given;
      else if (source !== 'env') delete givenAs[key];
      // Only flags and variables arrive as strings: a config-file value keeps its JSON type.
      raw[key] = source === 'config' ? value : normalise(key, value);
      sources[key] = source;
    }
  };

  layer(DEFAULTS, 'default');
  const file = await readConfigFile(input.configPath, input.cwd ?? process.cwd());
  configFile = file?.path;
  if (file) layer(file.values, 'config');
  const fromEnv: Record<string, unknown> = {};
  for (const spec of ALL_SETTINGS) {
    const name = envVars(spec).find((v) => env[v]);
    if (!name) continue;
    fromEnv[spec.key] = env[name];
    if (name !== envVars(spec)[0]) givenAs[spec.key] = name;
  }
  layer(fromEnv, 'env');
  layer(input.flags, 'flag');
  // --log-group names a group, so it switches CloudWatch logging on unless that was set itself.
  // It is then given as much as the group is (the deployed state does not switch it off again).
  if (sources.logGroup !== 'default' && sources.cloudwatchLogs === 'default') {
    raw.cloudwatchLogs = true;
    sources.cloudwatchLogs = sources.logGroup!;
  }

  return { ...validate(raw, sources, file?.path, givenAs), ...(warnings.length ? { warnings } : {}) };
}

/** The current name of a setting given by an old one (`tags` → `resourceTags`), with a warning. */
function renamed(key: string, source: Source, configFile: string | undefined, warnings: string[]): string {
  const old = RENAMED.find((r) => r.from === key);
  if (!old) return key;
  const now = settingSpec(old.to)!;
  warnings.push(
    source === 'config'
      ? `"${old.from}" in ${configFile ?? DEFAULT_CONFIG_FILE} is now "${old.to}": rename the key (the old one still works for now)`
      : `${old.fromFlag} is now ${now.flag} (the old name still works for now)`,
  );
  return old.to;
}

/**
 * The deployed-state layer: a setting nobody gave (still at its built-in default) takes the
 * value the account already has, so a rerun with fewer flags never undoes an earlier run. What
 * the config file, the environment, a flag or the wizard gave still wins. Source `deployed`.
 */
export function withDeployed(loaded: LoadedSettings, deployed: Readonly<Record<string, unknown>>): LoadedSettings {
  let raw = { ...loaded.raw };
  const sources = { ...loaded.sources };
  for (const [key, value] of Object.entries(deployed)) {
    if (value === undefined || (sources[key] ?? 'default') !== 'default') continue;
    // Settled by the account even where it equals the default: the wizard does not ask it again.
    sources[key] = 'deployed';
    // null: the account has none of it (no Run As, no maximum duration): settled, at the default.
    if (value === null) continue;
    const next = { ...raw, [key]: value };
    // A value the account holds that these settings cannot express (set by hand) stays at the default.
    if (settingsSchema.safeParse(next).success) raw = next;
  }
  return { ...validate(raw, sources, loaded.configFile, loaded.givenAs), ...(loaded.warnings ? { warnings: loaded.warnings } : {}) };
}

/** Re-validates after the wizard's answers were merged in (source `prompt`). */
export function withAnswers(loaded: LoadedSettings, answers: Readonly<Record<string, unknown>>): LoadedSettings {
  const raw = { ...loaded.raw };
  const sources = { ...loaded.sources };
  for (const [key, value] of Object.entries(answers)) {
    raw[key] = normalise(key, value);
    sources[key] = 'prompt';
  }
  return validate(raw, sources, loaded.configFile, loaded.givenAs);
}

function validate(
  raw: Record<string, unknown>,
  sources: Record<string, Source>,
  configFile?: string,
  givenAs?: Readonly<Record<string, string>>,
): LoadedSettings {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(
      'INVALID_SETTINGS',
      parsed.error.issues.flatMap((i) => describeIssue(i, raw, sources, configFile, givenAs)),
      {
        hint: 'Nothing was changed. Fix the values above and run the command again (`ssm-setup --help` lists the flags).',
      },
    );
  }
  return { settings: parsed.data, sources, raw, configFile, ...(givenAs && Object.keys(givenAs).length ? { givenAs } : {}) };
}

/** What an open or read error means for a path, in words. */
const WHY: Record<string, string> = {
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'a symlink loop',
  ENOTDIR: 'a part of the path above it is a file, not a directory',
  EISDIR: 'it is a directory',
  ENAMETOOLONG: 'the path is too long',
};

/** How a file that is not a regular file is named in an error. */
export function fileKind(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }) {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  return info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : 'not a regular file';
}

/**
 * The settings file's text, or undefined when ./ssm-setup.json is absent. Opened without
 * blocking and checked to be a regular file before it is read: reading a FIFO would wait for
 * a writer forever, a directory or a device is no settings file.
 */
async function readConfigText(path: string, label: string, explicit: boolean): Promise<string | undefined> {
  const refuse = (why: string) =>
    new UsageError('CONFIG_UNREADABLE', `${label}cannot read ${path}: ${why}`, {
      hint: explicit ? 'pass a readable JSON settings file with --config' : `move ${path} out of the way, or pass another file with --config`,
    });
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!explicit && code === 'ENOENT') return undefined;
    throw refuse(WHY[code] ?? (code || String(err)));
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw refuse(`it is ${fileKind(info)}, not a file`);
    return await file.readFile('utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw refuse(WHY[code] ?? (code || String(err)));
  } finally {
    await file.close();
  }
}

async function readConfigFile(explicit: string | undefined, cwd: string) {
  const path = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  const text = await readConfigText(path, explicit ? '--config: ' : '', explicit !== undefined);
  if (text === undefined) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (err) {
    throw new UsageError('CONFIG_NOT_JSON', `${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError('CONFIG_NOT_OBJECT', `${path}: must hold one JSON object of settings`);
  }
  return { path, values: values as Record<string, unknown> };
}

/** Flags, variables and prompt answers arrive as strings: numbers and comma lists are turned into what the schema expects. */
function normalise(key: string, value: unknown): unknown {
  const kind = settingSpec(key)?.kind;
  if (kind === 'number' && typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  if ((kind === 'list' || kind === 'repeated') && typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return value;
}

/** Names a value the way the operator gave it: `--idle-timeout`, `"idleTimeout" in ./ssm-setup.json`, `AWS_REGION`. */
export function labelFor(key: string, source: Source | undefined, configFile?: string, givenAs?: string): string {
  const spec = settingSpec(key);
  switch (source) {
    case 'flag':
      return (givenAs && RENAMED.find((r) => r.from === givenAs)?.fromFlag) || (spec?.flag ?? key);
    case 'config':
      return `"${givenAs ?? key}" in ${configFile ?? DEFAULT_CONFIG_FILE}`;
    case 'env':
      return givenAs ?? (spec ? envVars(spec)[0] : undefined) ?? key;
    default:
      return spec ? `${spec.flag} (${key})` : key;
  }
}

function describeIssue(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  sources: Record<string, Source>,
  configFile?: string,
  givenAs: Readonly<Record<string, string>> = {},
): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const near = closest(k);
      return `${configFile ?? DEFAULT_CONFIG_FILE}: unknown key "${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
    });
  }
  const [key, ...rest] = issue.path.map(String);
  if (!key) return [issue.message];
  let value: unknown = raw[key];
  for (const p of rest) value = (value as Record<string, unknown> | undefined)?.[p];
  // A tag named by its key, given as a K=V list: the entry with that key.
  if (value === undefined && Array.isArray(raw[key]) && rest[0] !== undefined && !/^\d+$/.test(rest[0])) {
    value = (raw[key] as unknown[]).find((e) => typeof e === 'string' && e.slice(0, e.indexOf('=')).trim() === (rest[0] ?? '').trim());
  }
  // The entry as the operator wrote it, not an internal path: `--tag " =x"`, `--resource-tags "Note=a#b"`.
  const written = Array.isArray(raw[key]) || typeof value !== 'string' ? value : `${rest[0]}=${value}`;
  const entry = rest.length ? ` ${JSON.stringify(written ?? rest.join('.'))}` : '';
  const label = labelFor(key, sources[key], configFile, givenAs[key]) + entry;
  const shown = rest.length || value === undefined || typeof value === 'object' ? '' : ` (got ${JSON.stringify(value)})`;
  return [`${label}: ${issue.message}${shown}`];
}

function closest(key: string): string | undefined {
  const lower = key.toLowerCase().replace(/[-_]/g, '');
  return ALL_SETTINGS.map((s) => s.key).find((k) => k.toLowerCase() === lower || distance(k.toLowerCase(), lower) <= 2);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
