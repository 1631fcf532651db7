import type { Command } from 'commander';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import { STEPS } from '../../engine/catalog.js';
import { ExitCode } from '../exit-codes.js';
import { runCommand } from './apply.js';

/** `ssm-setup plan`: read-only; with --detailed-exitcode, 3 means changes are pending. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const detailed = cmd.opts().detailedExitcode === true;
  const { result, exitCode } = await runCommand(cmd, detailed ? exitThreeIo(io) : io, { command: 'plan', mode: 'plan', selected: STEPS });
  if (exitCode === ExitCode.Ok && detailed && pending(result.report)) return ExitCode.ChangesPending;
  return exitCode;
}

const pending = (report: RunReport) => report.steps.some((s) => s.status === 'pending');

/**
 * The same Io, but the report it shows says `ok: false` when --detailed-exitcode will exit 3:
 * `ok` is false whenever the exit code is not 0 (docs/product.md, "Output").
 */
function exitThreeIo(io: Io): Io {
  return new Proxy(io, {
    get(target, prop) {
      if (prop === 'result') return (report: RunReport) => target.result(report.ok && pending(report) ? { ...report, ok: false } : report);
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
