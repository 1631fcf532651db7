import type { Command } from 'commander';
import { writeSettingsFile } from '../../config/save.js';
import type { Io } from '../../core/io.js';
import { STEPS } from '../../engine/catalog.js';
import { runCommand } from './apply.js';

/** `ssm-setup init`: every step in order; the wizard asks what flags and config did not say. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { result, exitCode } = await runCommand(cmd, io, { command: 'init', mode: 'apply', wizard: true, selected: STEPS });
  if (result.report.ok && io.interactive) {
    const save = await io.confirm({
      id: 'init.save-config',
      message: 'Save these answers to a settings file, so the next run (or a pipeline with --yes) repeats them?',
      default: true,
    });
    if (save) io.info(`Saved to ${await writeSettingsFile(result.loaded, result.report.region!)}`);
  }
  return exitCode;
}
