import type { Command } from 'commander';
import type { Io } from '../../core/io.js';
import { STEPS } from '../../engine/catalog.js';
import { runCommand } from './apply.js';
import { offerSettingsFile } from './config-file.js';

/** `ssm-setup init`: every step in order; the wizard asks what flags and config did not say. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { result, exitCode } = await runCommand(cmd, io, { command: 'init', mode: 'apply', wizard: true, selected: STEPS });
  await offerSettingsFile(result, io, 'init');
  return exitCode;
}
