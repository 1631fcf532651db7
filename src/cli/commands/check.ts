import type { Command } from 'commander';
import { runChecks } from '../../check/index.js';
import { liveSessions } from '../../check/live.js';
import { localChecks } from '../../check/local.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import type { StepContext, TargetInstance } from '../../core/step.js';
import { ExitCode } from '../exit-codes.js';
import { openSession } from '../session.js';

/** `ssm-setup check`: the readiness report; exit 3 when a target is not ready. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { loaded, aws } = await openSession(cmd, io);
  const opts = cmd.opts<{ all?: boolean; live?: boolean }>();
  const identity = await aws.identity();
  const region = aws.target.region;
  const { describeInstances, resolveTargets } = await import('../../aws/targets.js');
  const targets: readonly TargetInstance[] = opts.all ? await describeInstances(aws) : await resolveTargets(aws, loaded.settings, region);
  const ctx: StepContext = { settings: loaded.settings, sources: loaded.sources, identity, region, outputs: {}, aws, io, targets: async () => targets };

  const result = await io.task(`Checking ${targets.length} target${targets.length === 1 ? '' : 's'}`, () => runChecks(ctx, targets));
  const reports = opts.live ? await liveSessions(aws, result.targets) : result.targets;
  const local = await localChecks(loaded.settings);
  const broken = [...result.account, ...result.operator, ...local].some((f) => f.status === 'error');
  const ready = reports.every((t) => t.ready) && !broken;
  // `ok` follows the exit code: false whenever check exits 3.
  const report: RunReport = {
    command: 'check',
    account: identity.account,
    region,
    ok: ready,
    steps: [],
    targets: reports,
    checks: { account: result.account, operator: result.operator, local },
    connect: result.connect,
  };
  io.result(report);
  return ready ? ExitCode.Ok : ExitCode.ChangesPending;
}
