import { AbortedError, SetupError, UsageError } from '../base/errors.js';
import type { RunReport } from '../core/report.js';

/** Exit codes of the contract (docs/product.md, "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  ChangesPending: 3,
  Internal: 70,
  Aborted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof AbortedError) return ExitCode.Aborted;
  if (err instanceof SetupError) return ExitCode.Failed;
  return ExitCode.Internal;
}

/** The exit code of a finished run: 0 ok, 130 when Ctrl-C stopped it (the report says what was done), else 1. */
export function exitCodeOfReport(report: RunReport): ExitCode {
  if (report.ok) return ExitCode.Ok;
  return report.error?.code === 'INTERRUPTED' || report.steps.some((s) => s.error?.code === 'INTERRUPTED') ? ExitCode.Aborted : ExitCode.Failed;
}
