import type { Command } from 'commander';
import { UsageError } from '../../base/errors.js';
import type { Io } from '../../core/io.js';
import { STEPS, type StepEntry, stepEntry } from '../../engine/catalog.js';
import { runCommand } from './apply.js';
import { offerSettingsFile } from './config-file.js';

/** `ssm-setup run <step...>`: only those steps; the others are read for their outputs. */
export async function run(cmd: Command, args: string[], io: Io): Promise<number> {
  const ids = [...new Set(args)];
  const unknown = ids.filter((id) => !stepEntry(id));
  if (unknown.length) {
    throw new UsageError('UNKNOWN_STEP', `unknown step${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `valid steps: ${STEPS.map((s) => s.id).join(', ')}`,
    });
  }
  const selected = ids.map((id) => stepEntry(id)!) satisfies StepEntry[];
  const { result, exitCode } = await runCommand(cmd, io, { command: 'run', mode: 'apply', selected });
  await offerSettingsFile(result, io, 'run');
  return exitCode;
}
