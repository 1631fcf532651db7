import type { Command } from 'commander';
import type { Io } from '../../core/io.js';
import { STEPS } from '../../engine/catalog.js';
import { ExitCode } from '../exit-codes.js';
import { runCommand } from './apply.js';

/** `ssm-setup plan`: read-only; with --detailed-exitcode, 3 means changes are pending. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { result, exitCode } = await runCommand(cmd, io, { command: 'plan', mode: 'plan', selected: STEPS });
  const pending = result.report.steps.some((s) => s.status === 'pending');
  if (exitCode === ExitCode.Ok && pending && cmd.opts().detailedExitcode) return ExitCode.ChangesPending;
  return exitCode;
}
