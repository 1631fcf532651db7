import { type AwsClients, throwIfInterrupted } from '../../aws/clients.js';
import type { LoadedSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import { selectTargets, type Target } from '../../engine/fan-targets.js';
import { fanOut, type Prepared, runFailed } from '../../engine/fanout.js';
import { rerunCommand } from '../../engine/rerun.js';
import { ExitCode } from '../exit-codes.js';

/**
 * `check` and `audit` over several accounts or regions: each target's report, a few at once, in
 * one result with an entry per target. Undefined when the run has one account and region. Exit
 * 1 when a target failed (its role could not be assumed…), else 3 when one is not ready or lacks
 * a record, else 0.
 */
export async function readOnlyFan(
  command: 'check' | 'audit',
  loaded: LoadedSettings,
  aws: AwsClients,
  io: Io,
  work: (t: Prepared) => Promise<RunReport>,
  base: () => string,
): Promise<number | undefined> {
  const fan = await selectTargets(loaded, aws, io);
  if (!fan) return undefined;
  const rerun = (failed: readonly Target[]) => {
    const accounts = fan.byAccount ? [...new Set(failed.map((t) => t.account))] : undefined;
    const again = rerunCommand(command, [], loaded, { regions: [...new Set(failed.map((t) => t.region))], ...(accounts ? { accounts } : {}) });
    return again.replace(`ssm-setup ${command}`, base());
  };
  const combined = await fanOut(fan, { command, io, rerun, plan: async (t) => ({ report: await work(t) }) });
  throwIfInterrupted(io.signal);
  io.result(combined);
  if (combined.runs?.some(runFailed)) return ExitCode.Failed;
  return combined.ok ? ExitCode.Ok : ExitCode.ChangesPending;
}
