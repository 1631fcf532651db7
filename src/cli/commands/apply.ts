import type { Command } from 'commander';
import { runSteps, type RunOptions, type RunResult } from '../../core/runner.js';
import type { StepEntry } from '../../steps/index.js';
import { STEPS } from '../../steps/index.js';
import type { Io } from '../../ui/io.js';
import { ExitCode } from '../exit-codes.js';
import { openSession } from '../session.js';

/** Shared by init, plan and run: open the session, run the chosen steps, show the result. */
export async function runCommand(
  cmd: Command,
  io: Io,
  opts: Pick<RunOptions, 'command' | 'mode' | 'wizard'> & { selected: readonly StepEntry[] },
): Promise<{ result: RunResult; exitCode: number }> {
  const session = await openSession(cmd, io);
  const result = await runSteps({ ...opts, catalog: STEPS, loaded: session.loaded, aws: session.aws, io });
  io.result(result.report);
  return { result, exitCode: result.report.ok ? ExitCode.Ok : ExitCode.Failed };
}
