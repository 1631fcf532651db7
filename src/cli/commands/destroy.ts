import type { Command } from 'commander';
import { type AwsClients, throwIfInterrupted } from '../../aws/clients.js';
import { toStepError } from '../../aws/errors.js';
import { forceUnlock, withLease } from '../../aws/lease.js';
import { UsageError } from '../../base/errors.js';
import type { LoadedSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import { errorView, type RunReport, type StepReport } from '../../core/report.js';
import { STEPS } from '../../engine/catalog.js';
import { selectTargets } from '../../engine/fan-targets.js';
import { fanOut } from '../../engine/fanout.js';
import { rerunCommand } from '../../engine/rerun.js';
import { confirmTeardown, readTeardown } from '../../teardown/index.js';
import type { Kept, Removal, TeardownContext } from '../../teardown/types.js';
import { exitCodeOfReport } from '../exit-codes.js';
import { switches } from '../options.js';
import { openSession } from '../session.js';

/**
 * `ssm-setup destroy`: removes what ssm-setup created (tagged ManagedBy=ssm-setup, or named and
 * recorded by it), in the reverse order of init, after showing it and asking. The audit trail
 * (bucket, objects, log group, key) stays unless --delete-logs, which has the operator type the
 * bucket's name and the key's alias (src/teardown/confirm.ts). What it keeps, and why, is in the
 * plan. Reading again on every run makes a rerun after a partial failure finish the job.
 */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const opts = cmd.opts<{ deleteLogs?: boolean; force?: boolean; forceUnlock?: boolean }>();
  if (opts.deleteLogs && switches(cmd).yes && !opts.force) {
    throw new UsageError('NEEDS_FORCE', '--delete-logs with --yes also needs --force: it deletes the session logs for good', {
      hint: 'or run it in a terminal and type the names it asks for',
    });
  }
  const { loaded, aws } = await openSession(cmd, io);
  const yes = !!switches(cmd).yes;
  const fan = await selectTargets(loaded, aws, io);
  if (fan) {
    // Every target read first, one question for all of them, then each removes under its own lease.
    let removals: Removal[] = [];
    let shown = false;
    const combined = await fanOut(fan, {
      command: 'destroy',
      io,
      rerun: (failed) =>
        rerunCommand('destroy', [], loaded, {
          regions: [...new Set(failed.map((t) => t.region))],
          ...(fan.byAccount ? { accounts: [...new Set(failed.map((t) => t.account))] } : {}),
        }),
      plan: async (t) => {
        const read = await readTarget(t.loaded, t.aws, t.io, opts);
        removals = [...removals, ...read.removals];
        return read.removals.length ? { report: read.report, apply: () => read.apply() } : { report: read.report };
      },
      between: async (plan) => {
        throwIfInterrupted(io.signal);
        shown = true;
        io.plan(plan);
        await confirmTeardown(io, removals, { yes });
        return true;
      },
    });
    // Nothing to remove anywhere: the combined plan says so all the same.
    if (!shown) io.plan(combined);
    io.result(combined);
    return exitCodeOfReport(combined);
  }
  const read = await readTarget(loaded, aws, io, opts);
  throwIfInterrupted(io.signal);
  io.plan(read.report);
  if (read.removals.length) {
    await confirmTeardown(io, read.removals, { yes });
    await read.apply();
  }
  io.result(read.report);
  return exitCodeOfReport(read.report);
}

/** What destroy removes in one account and region, and the removal itself (under the region's lease). */
async function readTarget(loaded: LoadedSettings, aws: AwsClients, io: Io, opts: { deleteLogs?: boolean; forceUnlock?: boolean }) {
  const identity = await aws.identity();
  const leaseFailed = (err: unknown) => {
    throw toStepError('destroy', err, 'ssm-setup destroy');
  };
  if (opts.forceUnlock) await forceUnlock(aws, io).catch(leaseFailed);
  const ctx: TeardownContext = { settings: loaded.settings, identity, region: aws.target.region, aws, io, deleteLogs: !!opts.deleteLogs };
  const { removals, kept } = await io
    .task('Reading what ssm-setup created', () => readTeardown(ctx))
    .catch((err: unknown) => {
      throw toStepError('destroy', err, 'ssm-setup destroy');
    });
  // Without --delete-logs, what stays of the audit trail is in `kept` (only what exists).
  const report = reportOf(removals, kept, identity.account, ctx.region);
  // Under the region's lease: a run of init meanwhile would recreate what is being removed.
  const apply = async () => {
    // `remove`: destroy leaves nothing of ours, the lease's parameter included (a run leaves it released).
    await withLease(aws, identity, 'ssm-setup destroy', io, () => execute(removals, report, io), { remove: true }).catch(leaseFailed);
    return report;
  };
  return { removals, report, apply };
}

/**
 * One report row per step, in init's order, each removal a `- delete` / `~ update` line; what
 * the step keeps is its note (`kept <resource>: <why>`, one line), and a step that only keeps is
 * unchanged.
 */
function reportOf(removals: readonly Removal[], kept: readonly Kept[], account: string, region: string): RunReport {
  const involved = (id: string) => removals.some((r) => r.step === id) || kept.some((k) => k.step === id);
  const steps: StepReport[] = STEPS.filter((s) => involved(s.id)).map((s) => {
    const changes = removals.filter((r) => r.step === s.id).map(({ action, resource, detail }) => ({ action, resource, detail }));
    const notes = kept.filter((k) => k.step === s.id).map((k) => `kept ${k.resource}: ${k.why}`);
    return {
      id: s.id,
      title: s.title,
      status: changes.length ? 'pending' : 'unchanged',
      outputs: {},
      changes,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    };
  });
  return { command: 'destroy', account, region, ok: true, steps };
}

/** In order; the first failure stops (a rerun reads again and finishes). */
async function execute(removals: readonly Removal[], report: RunReport, io: Io): Promise<void> {
  for (const r of removals) {
    const row = report.steps.find((s) => s.id === r.step)!;
    try {
      const outcome = await io.task(`${r.action === 'delete' ? 'Removing' : 'Restoring'} ${r.resource}`, r.run);
      // A key is only scheduled for deletion: the summary says when, and how to undo it.
      if (outcome) {
        row.status = 'scheduled';
        row.note = outcome.scheduled;
      } else if (row.status === 'pending') row.status = 'deleted';
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
