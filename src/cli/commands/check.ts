import type { Command } from 'commander';
import { StartSessionCommand, SSMClient, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import type { FindingView, RunReport } from '../../core/report.js';
import type { StepContext, TargetInstance } from '../../core/step.js';
import type { Settings } from '../../config/schema.js';
import { AWS_CLI_INSTALL_URL, detectLocalTools, PLUGIN_INSTALL_URL, type LocalTools } from '../../aws/local-tools.js';
import { runChecks, type TargetReport } from '../../check/index.js';
import type { Io } from '../../core/io.js';
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
  const reports = opts.live ? await live(ctx, result.targets) : result.targets;
  const local = [...localFindings(await detectLocalTools()), await sshConfigFinding(loaded.settings)];
  const report: RunReport = {
    command: 'check', account: identity.account, region, ok: true, steps: [],
    targets: reports, checks: { account: result.account, operator: result.operator, local }, connect: result.connect,
  };
  io.result(report);
  const broken = [...result.account, ...result.operator, ...local].some((f) => f.status === 'error');
  return reports.every((t) => t.ready) && !broken ? ExitCode.Ok : ExitCode.ChangesPending;
}

/** `--live`: a real StartSession and an immediate TerminateSession on each ready target. */
async function live(ctx: StepContext, targets: readonly TargetReport[]): Promise<TargetReport[]> {
  const ssm = ctx.aws.get(SSMClient);
  const out: TargetReport[] = [];
  for (const t of targets) {
    if (!t.ready) {
      out.push(t);
      continue;
    }
    let finding: FindingView;
    try {
      const { SessionId } = await ssm.send(new StartSessionCommand({ Target: t.instanceId, Reason: 'ssm-setup check --live' }));
      if (SessionId) await ssm.send(new TerminateSessionCommand({ SessionId }));
      finding = { check: 'live-session', status: 'ok', detail: `StartSession accepted (${SessionId}), terminated` };
    } catch (err) {
      finding = { check: 'live-session', status: 'error', detail: `StartSession refused: ${(err as Error).name}: ${(err as Error).message}`, fix: 'see the operator findings' };
    }
    out.push({ ...t, ready: finding.status === 'ok', findings: [...t.findings, finding] });
  }
  return out;
}


/** The AWS CLI and the Session Manager plugin must be on PATH for `aws ssm start-session` and SSH. */
export function localFindings(tools: LocalTools): FindingView[] {
  return [
    tools.aws
      ? { check: 'aws-cli', status: 'ok', detail: `AWS CLI ${tools.aws}` }
      : { check: 'aws-cli', status: 'warning', detail: 'AWS CLI not found on PATH', fix: `install it: ${AWS_CLI_INSTALL_URL}` },
    tools.plugin
      ? { check: 'session-manager-plugin', status: 'ok', detail: `session-manager-plugin ${tools.plugin}` }
      : { check: 'session-manager-plugin', status: 'error', detail: 'session-manager-plugin not found on PATH: `aws ssm start-session` fails without it', fix: `install it: ${PLUGIN_INSTALL_URL}` },
  ];
}

/** Whether the managed `~/.ssh/config` block is there, as `ssm-setup ssh-config --write` would write it now. */
async function sshConfigFinding(settings: Settings): Promise<FindingView> {
  const { blockFor, readSshConfig, resolveSshConfigPath } = await import('../../steps/ssh-config/index.js');
  const { BEGIN_MARKER, hasCurrentBlock } = await import('../../policies/ssh-config.js');
  const path = resolveSshConfigPath(settings.sshConfigPath);
  const file = await readSshConfig(path).catch(() => ({ text: '', existed: false }));
  if (hasCurrentBlock(file.text, blockFor(settings, process.platform === 'win32'))) return { check: 'ssh-config', status: 'ok', detail: `SSH over Session Manager configured in ${path}` };
  const outdated = file.text.includes(BEGIN_MARKER);
  return {
    check: 'ssh-config',
    status: 'warning',
    detail: outdated ? `the ssm-setup block in ${path} is not current (other --profile/--region?)` : `no ssm-setup block in ${path}: ssh i-… does not go through Session Manager`,
    fix: 'ssm-setup ssh-config --write',
  };
}
