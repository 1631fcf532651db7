import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SetupError } from '../base/errors.js';
import { DEFAULT_CONFIG_FILE, type LoadedSettings } from './load.js';

/** Not written: credentials selection and endpoints differ between a laptop and a pipeline. */
const MACHINE_LOCAL = new Set(['profile', 'endpointUrl']);

/**
 * Writes the settings the operator chose (flags, config, answers; not built-in defaults nor what
 * the account already had) to the config file that was read, or ./ssm-setup.json, keeping keys
 * already in it.
 * The region the run used is always written (it may have come from the profile), so the file
 * alone repeats the run.
 */
export async function writeSettingsFile(loaded: LoadedSettings, region: string, cwd = process.cwd()): Promise<string> {
  const path = resolve(cwd, loaded.configFile ?? DEFAULT_CONFIG_FILE);
  const existing = await readFile(path, 'utf8').then(
    (t) => JSON.parse(t) as Record<string, unknown>,
    () => ({}),
  );
  // What the account already had (source `deployed`) is not a choice: the file keeps only what a person gave.
  const chosen = Object.entries(loaded.raw).filter(([key]) => !MACHINE_LOCAL.has(key) && !['default', 'deployed'].includes(loaded.sources[key] ?? 'default'));
  try {
    await writeFile(path, `${JSON.stringify({ ...existing, region, ...Object.fromEntries(chosen) }, null, 2)}\n`);
  } catch (err) {
    throw new SetupError('FILE_UNWRITABLE', `cannot save the settings to ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
      hint: 'the setup itself is done; to repeat it, make the file (or its directory) writable, or pass the same values as flags',
    });
  }
  return path;
}
