import { isDeepStrictEqual } from 'node:util';
import { throwIfInterrupted } from '../aws/clients.js';
import { type RerunCommands, toStepError } from '../aws/errors.js';
import { forceUnlock, type Lease, readLease, withLease } from '../aws/lease.js';
import { AbortedError } from '../base/errors.js';
import { type LoadedSettings, withDeployed } from '../config/load.js';
import type { Clients } from '../core/clients.js';
import type { Io } from '../core/io.js';
import type { RunReport } from '../core/report.js';
import type { Change, StepContext, StepOutputs, TargetInstance } from '../core/step.js';
import { applyAll, verify } from './apply.js';
import { LOCAL_STEPS, type StepEntry } from './catalog.js';
import { confirmChanges } from './confirm.js';
import { type Plan, pendingOf, planKey, planSteps } from './planning.js';
import { loadSteps, startReads } from './reads.js';
import { rerunCommand } from './rerun.js';
import { runWizard } from './wizard.js';

export interface RunOptions {
  readonly command: string;
  /** The steps the operator chose, in any order; unavailable ones are reported as skipped. */
  readonly selected: readonly StepEntry[];
  /** The whole catalog, for dependency lookup and run order. */
  readonly catalog: readonly StepEntry[];
  /** `plan` stops after showing the plan; `apply` confirms once and applies. */
  readonly mode: 'plan' | 'apply';
  /** Interactive `init`: each step asks for the settings the operator did not give. */
  readonly wizard?: boolean;
  readonly loaded: LoadedSettings;
  readonly aws: Clients;
  readonly io: Io;
  /**
   * Take the region's lease (src/aws/lease.ts) before the first write and re-plan under it, so
   * two runs at once cannot both apply; `forceUnlock` first removes a lease left by another run,
   * with a warning. The CLI passes it for every `apply`; without it no lease is taken (the unit
   * tests of single steps).
   */
  readonly lease?: { readonly forceUnlock?: boolean };
  /**
   * `--reset-defaults`: a setting nobody gave takes its built-in default. Without it, it takes
   * the value the account already has (engine/deployed.ts), so a rerun never undoes an earlier one.
   */
  readonly resetDefaults?: boolean;
  /**
   * Replaces the question before the first write: a run over several accounts or regions
   * (engine/fanout.ts) asked once for all of them, and passes what makes sure the plan is still
   * the one confirmed. Given the pending changes and the report of the plan.
   */
  readonly confirm?: (changes: readonly Change[], report: RunReport) => Promise<void>;
}

export interface RunResult {
  readonly report: RunReport;
  /** The settings after the wizard's answers. */
  readonly loaded: LoadedSettings;
}

/**
 * Runs steps in catalog order: (wizard) → read and plan every step → show the plan →
 * confirm once (never when nothing changes) → take the lease, and read and plan again under it
 * unless the lease shows nobody held it since before the first read and nobody was asked
 * (asking again if the plan changed meanwhile) → apply, each step as soon as what it waits for
 * is applied (engine/apply.ts) → release the lease. Dependencies that were not selected are only
 * read, for their outputs. A failing step ends the run: no step starts after it; later steps
 * are reported as not run. Step failures are returned in the report (ok: false); bad input, a
 * declined confirmation and a lease another run holds (LEASE_HELD) are thrown.
 */
export async function runSteps(opts: RunOptions): Promise<RunResult> {
  const { io, aws, catalog } = opts;
  const order = withDependencies(opts.selected, catalog);
  // The lease as it is before the plan's first read, beside the identity: a lease taken later
  // that proves nobody held it since (Lease.undisturbed) spares the plan under it.
  const leaseRead =
    opts.mode === 'apply' && opts.lease && !opts.lease.forceUnlock && order.some((e) => !LOCAL_STEPS.has(e.id))
      ? readLease(aws).then(
          (s) => s ?? null,
          () => undefined,
        )
      : undefined;
  const first = Promise.all([aws.identity(), leaseRead]);
  // The steps' modules (each with its SDK client) compile while those calls are in flight.
  const loading = aws.sent(first).then(() => loadSteps(order));
  loading.catch(() => {}); // awaited below, unless the identity failed first
  const [identity, seen] = await first;
  const region = aws.target.region;
  let loaded = opts.loaded;
  const outputs: StepOutputs = {};
  // Resolved once, on first use, for the settings of that moment (after the wizard); EC2 loads only then.
  let targets: Promise<readonly TargetInstance[]> | undefined;
  const resolve = () =>
    (targets ??=
      loaded.settings.instanceIds.length || loaded.settings.tag.length
        ? import('../aws/targets.js').then((m) => m.resolveTargets(aws, loaded.settings, region))
        : Promise.resolve([]));
  const selected = new Set(opts.selected.map((e) => e.id));
  const ctx = (): StepContext => ({ settings: loaded.settings, sources: loaded.sources, identity, region, outputs, selected, aws, io, targets: resolve });
  const report: RunReport = { command: opts.command, account: identity.account, region, ok: true, steps: [] };
  // Before the first question: the operator sees which account they are about to change.
  io.info(`AWS account ${identity.account} (${identity.arn}), region ${region}`);

  // `run` names its steps; init and plan run them all.
  const ids = opts.command === 'run' ? order.filter((e) => selected.has(e.id)).map((e) => e.id) : [];
  // A rerun without --reset-defaults would take the deployed values again: another plan.
  const reset = opts.resetDefaults ? ['--reset-defaults'] : [];
  const rerun = (): RerunCommands => ({
    again: rerunCommand(opts.command, ids, loaded, { region, switches: reset }),
    run: (stepIds, extra) => rerunCommand('run', stepIds, loaded, { region, switches: [...reset, ...(extra ?? [])] }),
  });
  if (opts.mode === 'apply' && opts.lease?.forceUnlock) {
    await forceUnlock(aws, io).catch((err: unknown) => {
      throw toStepError('lease', err, rerun());
    });
  }
  const steps = await loading;

  const input = { order, steps, selected, report, ctx, outputs, io, rerun };
  // The deployed settings, the questions and the first plan read the same things: each once.
  const asks = opts.wizard && io.interactive;
  let plan = await aws.withReadCache(async () => {
    // The plan's reads go out beside the deployed settings' reads. When those change no
    // setting, the plan takes them as they are; otherwise it reads again, and finds the answers
    // that did not change in the read cache. Not before the wizard, whose answers may name
    // other things.
    const before = loaded.settings;
    const early = asks ? undefined : startReads(order, steps, ctx);
    if (!opts.resetDefaults)
      loaded = withDeployed(
        loaded,
        await deployed(
          ctx(),
          order.map((e) => e.id),
          io,
        ),
      );
    if (asks) {
      loaded = await runWizard(
        order.filter((e) => selected.has(e.id)),
        steps,
        loaded,
        (l) => ({ ...ctx(), settings: l.settings, sources: l.sources }),
      );
    }
    return planSteps(input, early && isDeepStrictEqual(before, loaded.settings) ? early : undefined);
  });
  throwIfInterrupted(io.signal);
  // After `plan`: the command that applies exactly this plan (its flags, its answers).
  if (opts.mode === 'plan' && plan.ok && pendingOf(plan).length) report.next = rerunCommand('init', [], loaded, { region, switches: ['--yes', ...reset] });
  io.plan(report);
  if (!plan.ok || opts.mode === 'plan') return { report, loaded };
  if (pendingOf(plan).length) {
    const waited = io.interactive || !!opts.confirm;
    if (opts.confirm)
      await opts.confirm(
        pendingOf(plan).flatMap((p) => p.changes),
        report,
      );
    else
      await confirmChanges(
        pendingOf(plan).flatMap((p) => p.changes),
        io,
        'runner.apply',
      );
    // Only now, with something to write: a converged rerun makes no write call, the lease included.
    const apply = async (lease?: Lease): Promise<boolean> => {
      // Another run may have changed the account between our reads and our lease; unless the
      // lease proves nobody held it since it was read before them, and no person took time to
      // answer (someone may have changed the account by hand meanwhile), read and plan again.
      if (lease && (!lease.undisturbed || waited)) {
        const confirmed = planKey(report);
        plan = await planSteps(input);
        if (!plan.ok) return false;
        if (planKey(report) !== confirmed) await replanned(plan, report, io);
      }
      await applyAll(pendingOf(plan), order, { report, ctx, outputs, io, rerun, lease });
      return true;
    };
    // The lease guards the account: a change of this machine only (the SSH config) needs none.
    const applied =
      opts.lease && pendingOf(plan).some((p) => !LOCAL_STEPS.has(p.entry.id))
        ? await withLease(aws, identity, ['ssm-setup', opts.command, ...ids].join(' '), io, apply, { seen }).catch((err: unknown) => {
            throw toStepError('lease', err, rerun());
          })
        : await apply();
    if (!applied) {
      io.plan(report);
      return { report, loaded };
    }
  }
  // The checks look at what is there now: the targets as the apply left them (a new profile).
  if (report.steps.some((s) => s.status === 'created' || s.status === 'updated')) targets = undefined;
  await verify(plan, { report, ctx, outputs, io, rerun });
  return { report, loaded };
}

/** The deployed settings; when they cannot be read, the plan (which reads the same) says why in its step. */
async function deployed(ctx: StepContext, stepIds: readonly string[], io: Io): Promise<Record<string, unknown>> {
  try {
    // Imported here: it brings the SDK clients of the steps it reads, which load while the first calls are in flight.
    return await (await import('./deployed.js')).deployedSettings(ctx, stepIds);
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    io.debug(`  the deployed settings could not be read (${(err as Error).name}: ${(err as Error).message}); built-in defaults apply`);
    return {};
  }
}

/** The plan under the lease differs from the one confirmed: show it, and ask again unless nothing is left. */
async function replanned(plan: Plan, report: RunReport, io: Io): Promise<void> {
  const pending = pendingOf(plan);
  io.warn(
    pending.length
      ? 'The account changed since the plan was shown (another run?): this is the plan now.'
      : 'The account changed since the plan was shown (another run?): nothing is left to change.',
  );
  io.plan(report);
  if (pending.length)
    await confirmChanges(
      pending.flatMap((p) => p.changes),
      io,
      'runner.apply-replanned',
    );
}

/** The selected steps plus everything they depend on, in catalog (run) order. */
export function withDependencies(selected: readonly StepEntry[], catalog: readonly StepEntry[]): StepEntry[] {
  const need = new Set<string>();
  const visit = (id: string) => {
    if (need.has(id)) return;
    need.add(id);
    for (const dep of catalog.find((e) => e.id === id)?.dependsOn ?? []) visit(dep);
  };
  for (const e of selected) visit(e.id);
  return catalog.filter((e) => need.has(e.id));
}
