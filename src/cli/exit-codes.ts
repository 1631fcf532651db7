import { AbortedError, SetupError, UsageError } from '../base/errors.js';

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
