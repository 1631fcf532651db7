import type { Command } from 'commander';
import { type AwsClients, throwIfInterrupted } from '../../aws/clients.js';
import { detectLocalTools } from '../../aws/local-tools.js';
import { runChecks } from '../../check/index.js';
import { liveSessions } from '../../check/live.js';
import { localChecks } from '../../check/local.js';
import { withSkew } from '../../check/skew.js';
import type { LoadedSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import type { RunReport } from '../../core/report.js';
import type { StepContext, TargetInstance } from '../../core/step.js';
import { ExitCode } from '../exit-codes.js';
import { openSession } from '../session.js';
import { readOnlyFan } from './read-only-fan.js';

type CheckOptions = { all?: boolean; live?: boolean; deep?: boolean };

/** `ssm-setup check`: the readiness report; exit 3 when a target is not ready. */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const { loaded, aws } = await openSession(cmd, io);
  const opts = cmd.opts<CheckOptions>();
  const fanned = await readOnlyFan(
    'check',
    loaded,
    aws,
    io,
    (t) => checkReport(t.loaded, t.aws, t.io, opts),
    () => 'ssm-setup check',
  );
  if (fanned !== undefined) return fanned;
  const report = await checkReport(loaded, aws, io, opts);
  throwIfInterrupted(io.signal);
  io.result(report);
  return report.ok ? ExitCode.Ok : ExitCode.ChangesPending;
}

/** The readiness report of one account and region. */
async function checkReport(loaded: LoadedSettings, aws: AwsClients, io: Io, opts: CheckOptions): Promise<RunReport> {
  const identity = await aws.identity();
  const region = aws.target.region;
  const { describeInstances, resolveTargets } = await import('../../aws/targets.js');
  const targets: readonly TargetInstance[] = opts.all ? await describeInstances(aws) : await resolveTargets(aws, loaded.settings, region);
  const ctx: StepContext = { settings: loaded.settings, sources: loaded.sources, identity, region, outputs: {}, aws, io, targets: async () => targets };

  const result = await io.task(`Checking ${targets.length} target${targets.length === 1 ? '' : 's'}`, () => runChecks(ctx, targets));
  let reports = result.targets;
  if (opts.deep) {
    const { deepChecks } = await import('../../check/deep.js');
    reports = await deepChecks(aws, io, region, reports, result.managed);
  }
  if (opts.live) reports = await liveSessions(aws, reports);
  const tools = await detectLocalTools();
  const local = await localChecks(loaded.settings, tools);
  // The version-skew guard: each target's agent against the local plugin.
  const agents = Object.fromEntries([...result.managed].map(([id, m]) => [id, m.agentVersion]));
  reports = withSkew(reports, agents, tools.plugin);
  const broken = [...result.account, ...result.operator, ...local].some((f) => f.status === 'error');
  const ready = reports.every((t) => t.ready) && !broken;
  // `ok` follows the exit code: false whenever check exits 3.
  return {
    command: 'check',
    account: identity.account,
    region,
    ok: ready,
    steps: [],
    targets: reports,
    checks: { account: result.account, operator: result.operator, local },
    connect: result.connect,
  };
}
