import { constants } from 'node:fs';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SetupError } from '../base/errors.js';
import { DEFAULT_CONFIG_FILE, type LoadedSettings } from './load.js';

/** Not written: credentials selection and endpoints differ between a laptop and a pipeline. */
const MACHINE_LOCAL = new Set(['profile', 'endpointUrl']);

/** What saving the run's settings would change in its config file. */
export interface SettingsFileUpdate {
  readonly path: string;
  /** The file is there (and parsed). */
  readonly exists: boolean;
  /** It (or, when absent, its directory) can be written. */
  readonly writable: boolean;
  /** The keys whose value the run chose differently from the file, or that the file lacks (sorted). */
  readonly differs: readonly string[];
  /** The file's content after the update. */
  readonly content: Record<string, unknown>;
}

/**
 * The settings the operator chose (flags, environment, answers; not built-in defaults, nor what
 * the account already had, nor what came from the file itself) laid over the config file that
 * was read, or ./ssm-setup.json, keeping the keys already in it. The region the run used is
 * always written (it may have come from the profile), so the file alone repeats the run.
 */
export async function settingsFileUpdate(loaded: LoadedSettings, region: string, cwd = process.cwd()): Promise<SettingsFileUpdate> {
  const path = resolve(cwd, loaded.configFile ?? DEFAULT_CONFIG_FILE);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const existing = text === undefined ? {} : (JSON.parse(text) as Record<string, unknown>);
  // What the account already had (source `deployed`) is not a choice, and what the file says is
  // there already (under the name it uses): the file takes only what a person gave on top of it.
  const chosen = Object.entries(loaded.raw).filter(
    ([key]) => !MACHINE_LOCAL.has(key) && !['default', 'deployed', 'config'].includes(loaded.sources[key] ?? 'default'),
  );
  const content: Record<string, unknown> = { ...existing, region, ...Object.fromEntries(chosen) };
  const differs = Object.keys(content)
    .filter((key) => JSON.stringify(content[key]) !== JSON.stringify(existing[key]))
    // A file without a region leaves it to the profile: the region alone is no difference.
    .filter((key) => key !== 'region' || existing.region !== undefined || chosen.some(([k]) => k !== 'region'))
    .sort();
  const writable = await (async () => {
    if (text === undefined && !(await stat(dirname(path)).catch(() => undefined))?.isDirectory()) return false;
    return access(text === undefined ? dirname(path) : path, constants.W_OK).then(
      () => true,
      () => false,
    );
  })();
  return { path, exists: text !== undefined, writable, differs, content };
}

/** Writes the update (settingsFileUpdate) and returns the file's path. */
export async function writeSettingsFile(loaded: LoadedSettings, region: string, cwd = process.cwd()): Promise<string> {
  const { path, content } = await settingsFileUpdate(loaded, region, cwd);
  try {
    await writeFile(path, `${JSON.stringify(content, null, 2)}\n`);
  } catch (err) {
    throw new SetupError('FILE_UNWRITABLE', `cannot save the settings to ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
      hint: 'the setup itself is done; to repeat it, make the file (or its directory) writable, or pass the same values as flags',
    });
  }
  return path;
}
