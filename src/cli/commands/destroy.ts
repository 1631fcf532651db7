import type { Command } from 'commander';
import { toStepError } from '../../aws/errors.js';
import { AbortedError, UsageError } from '../../base/errors.js';
import type { Io } from '../../core/io.js';
import { errorView, type RunReport, type StepReport } from '../../core/report.js';
import { STEPS } from '../../engine/catalog.js';
import { bucketNameFor } from '../../steps/log-bucket/read.js';
import { iamRemovals } from '../../teardown/iam.js';
import { sshConfigRemovals } from '../../teardown/local.js';
import { associationRemovals, preferencesRemovals } from '../../teardown/ssm.js';
import { storageRemovals } from '../../teardown/storage.js';
import type { Removal, TeardownContext } from '../../teardown/types.js';
import { ExitCode } from '../exit-codes.js';
import { switches } from '../options.js';
import { openSession } from '../session.js';

/**
 * `ssm-setup destroy`: removes what ssm-setup created (tagged ManagedBy=ssm-setup, or named and
 * recorded by it), in the reverse order of init, after showing it and asking. The audit trail
 * (bucket, objects, log group, key) stays unless --delete-logs, which asks a second time.
 * Reading again on every run makes a rerun after a partial failure finish the job.
 */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const opts = cmd.opts<{ deleteLogs?: boolean; force?: boolean }>();
  if (opts.deleteLogs && switches(cmd).yes && !opts.force) {
    throw new UsageError('NEEDS_FORCE', '--delete-logs with --yes also needs --force: it deletes the session logs for good', {
      hint: 'or run it in a terminal and confirm twice',
    });
  }
  const { loaded, aws } = await openSession(cmd, io);
  const identity = await aws.identity();
  const ctx: TeardownContext = { settings: loaded.settings, identity, region: aws.target.region, aws, io, deleteLogs: !!opts.deleteLogs };
  const removals = await io
    .task('Reading what ssm-setup created', async () => [
      ...(await sshConfigRemovals(ctx)),
      ...(await associationRemovals(ctx)),
      ...(await preferencesRemovals(ctx)),
      ...(await iamRemovals(ctx)),
      ...(await storageRemovals(ctx)),
    ])
    .catch((err: unknown) => {
      throw toStepError('destroy', err, 'ssm-setup destroy');
    });
  const report = reportOf(removals, identity.account, ctx.region);
  io.plan(report);
  if (!opts.deleteLogs)
    io.info(
      `Kept: the key ${loaded.settings.keyAlias}, the bucket ${bucketNameFor(loaded.settings, identity.account, ctx.region)} with its logs, and the log group (--delete-logs removes them).`,
    );
  if (removals.length) {
    if (!(await io.confirm({ id: 'destroy.confirm', message: `Remove these ${removals.length}?`, default: false })))
      throw new AbortedError('DECLINED', 'Declined: nothing was removed.');
    if (removals.some((r) => r.step === 'log-bucket' || r.step === 'log-group')) {
      const bucket = bucketNameFor(loaded.settings, identity.account, ctx.region);
      const sure = await io.confirm({
        id: 'destroy.confirm-delete-logs',
        message: `Delete the session logs in bucket ${bucket} and the log group for good?`,
        default: false,
      });
      if (!sure) throw new AbortedError('DECLINED', 'Declined: nothing was removed.');
    }
    await execute(removals, report, io);
  }
  io.result(report);
  return report.ok ? ExitCode.Ok : ExitCode.Failed;
}

/** One report row per step, in init's order, each removal a `- delete` / `~ update` line. */
function reportOf(removals: readonly Removal[], account: string, region: string): RunReport {
  const steps: StepReport[] = STEPS.filter((s) => removals.some((r) => r.step === s.id)).map((s) => ({
    id: s.id,
    title: s.title,
    status: 'pending',
    outputs: {},
    changes: removals.filter((r) => r.step === s.id).map(({ action, resource, detail }) => ({ action, resource, detail })),
  }));
  return { command: 'destroy', account, region, ok: true, steps };
}

/** In order; the first failure stops (a rerun reads again and finishes). */
async function execute(removals: readonly Removal[], report: RunReport, io: Io): Promise<void> {
  for (const r of removals) {
    const row = report.steps.find((s) => s.id === r.step)!;
    try {
      await io.task(`${r.action === 'delete' ? 'Removing' : 'Restoring'} ${r.resource}`, r.run);
      if (row.status === 'pending') row.status = 'deleted';
    } catch (err) {
      const e = toStepError(r.step, err, 'ssm-setup destroy');
      row.status = 'failed';
      row.error = errorView(e, `${r.resource}: `);
      report.ok = false;
      for (const other of report.steps) if (other.status === 'pending') other.status = 'skipped';
      return;
    }
  }
}
