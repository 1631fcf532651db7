import type { Command } from 'commander';
import { AwsClients } from '../../aws/clients.js';
import { toStepError } from '../../aws/errors.js';
import { pool } from '../../base/batch.js';
import { type SetupError, UsageError } from '../../base/errors.js';
import { withAnswers } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import { errorView, type RunReport } from '../../core/report.js';
import type { StepEntry } from '../../engine/catalog.js';
import { STEPS } from '../../engine/catalog.js';
import { rerunCommand } from '../../engine/rerun.js';
import { type RunOptions, type RunResult, runSteps } from '../../engine/runner.js';
import { RegionIo } from '../../ui/region-io.js';
import { exitCodeOfReport } from '../exit-codes.js';
import { openSession, type Session } from '../session.js';

type CommandOptions = Pick<RunOptions, 'command' | 'mode' | 'wizard'> & { selected: readonly StepEntry[] };

/**
 * Shared by init, plan and run: open the session, run the chosen steps, show the result. Every
 * apply takes the region's lease before its first write (`--force-unlock` clears a stale one first).
 */
export async function runCommand(cmd: Command, io: Io, command: CommandOptions): Promise<{ result: RunResult; exitCode: number }> {
  const session = await openSession(cmd, io);
  const flags = cmd.opts<{ forceUnlock?: boolean; resetDefaults?: boolean }>();
  const opts = {
    ...command,
    lease: command.mode === 'apply' ? { forceUnlock: flags.forceUnlock === true } : undefined,
    resetDefaults: flags.resetDefaults === true,
  };
  if (session.loaded.settings.regions.length > 1) return runRegions(session, io, opts);
  const result = await runSteps({ ...opts, catalog: STEPS, loaded: session.loaded, aws: session.aws, io });
  io.result(result.report);
  return { result, exitCode: exitCodeOfReport(result.report) };
}

/** Regions at once, at most this many. */
const REGIONS_IN_FLIGHT = 3;

/**
 * `--regions r1,r2`: every chosen step in each region, a few regions at once, with one
 * combined plan and summary. IAM is global, so the IAM names get a `-<region>` suffix: each
 * region's policies name that region's key, bucket and log group. A failure in one region
 * does not stop the others; the run exits 1 at the end.
 */
async function runRegions(session: Session, io: Io, opts: CommandOptions & Pick<RunOptions, 'lease'>) {
  const { loaded, aws } = session;
  if (opts.mode === 'apply' && io.interactive) {
    throw new UsageError('REGIONS_NEED_YES', '--regions runs without questions: add --yes, or look first with `ssm-setup plan --regions …`');
  }
  const identity = await aws.identity();
  const regions = loaded.settings.regions;
  const reports: RunReport[] = [];
  const ids = opts.command === 'run' ? STEPS.filter((s) => opts.selected.includes(s)).map((s) => s.id) : [];
  const regionalOf = (region: string) =>
    withAnswers(loaded, {
      instanceRole: `${loaded.settings.instanceRole}-${region}`,
      instancePolicy: `${loaded.settings.instancePolicy}-${region}`,
      operatorPolicy: `${loaded.settings.operatorPolicy}-${region}`,
    });
  await pool(regions, REGIONS_IN_FLIGHT, async (region) => {
    const regional = regionalOf(region);
    const clients = new AwsClients({ ...aws.target, region }, aws.recorder, aws.signal);
    try {
      const { report } = await runSteps({ ...opts, wizard: false, catalog: STEPS, loaded: regional, aws: clients, io: new RegionIo(io, region) });
      reports.push(report);
    } catch (err) {
      const e = toStepError('init', err, rerunCommand(opts.command, ids, regional, { region })) as SetupError;
      reports.push({ command: opts.command, account: identity.account, region, ok: false, steps: [], error: errorView(e) });
    }
  });
  reports.sort((a, b) => regions.indexOf(a.region!) - regions.indexOf(b.region!));
  const failed = reports.filter((r) => !r.ok);
  // One failed region reruns alone, with its own IAM names; several rerun together (which needs --yes).
  const again = () =>
    failed.length === 1
      ? rerunCommand(opts.command, ids, regionalOf(failed[0]!.region!), { region: failed[0]!.region })
      : rerunCommand(opts.command, ids, loaded, { regions: failed.map((r) => r.region!), switches: opts.mode === 'apply' ? ['--yes'] : [] });
  const combined: RunReport = {
    command: opts.command,
    account: identity.account,
    region: regions.join(','),
    ok: !failed.length,
    steps: reports.flatMap((r) => r.steps.map((s) => ({ ...s, region: r.region }))),
    ...(failed.length
      ? {
          error: {
            code: (failed[0]!.error ?? failed[0]!.steps.find((s) => s.error)?.error)?.code ?? 'AWS_ERROR',
            message: failed.map((r) => `${r.region}: ${r.error?.message ?? r.steps.find((s) => s.error)?.error?.message ?? 'failed'}`).join('; '),
            hint: `the other regions are done; fix the failed ones and rerun \`${again()}\``,
          },
        }
      : {}),
  };
  io.plan(combined);
  io.result(combined);
  const result: RunResult = { report: combined, loaded };
  return { result, exitCode: exitCodeOfReport(combined) };
}
