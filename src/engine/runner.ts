import { interrupted, throwIfInterrupted } from '../aws/clients.js';
import { type RerunCommands, toStepError } from '../aws/errors.js';
import { forceUnlock, type Lease, withLease } from '../aws/lease.js';
import { AbortedError } from '../base/errors.js';
import { type LoadedSettings, withDeployed } from '../config/load.js';
import type { Clients } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { errorView, type RunReport, type StepReport } from '../core/report.js';
import type { Change, StepContext, StepOutputs, TargetInstance } from '../core/step.js';
import { LOCAL_STEPS, type StepEntry } from './catalog.js';
import { confirmChanges } from './confirm.js';
import { deployedSettings } from './deployed.js';
import { fail, type Plan, type Planned, pendingOf, planKey, planSteps, publish } from './planning.js';
import { loadSteps } from './reads.js';
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
 * confirm once (never when nothing changes) → take the lease, read and plan again under it
 * (asking again if the plan changed meanwhile) → apply → release the lease. Dependencies that
 * were not selected are only read, for their outputs. A failing step ends the run; later steps
 * are reported as not run. Step failures are returned in the report (ok: false); bad input, a
 * declined confirmation and a lease another run holds (LEASE_HELD) are thrown.
 */
export async function runSteps(opts: RunOptions): Promise<RunResult> {
  const { io, aws, catalog } = opts;
  const order = withDependencies(opts.selected, catalog);
  const loading = loadSteps(order);
  const identity = await aws.identity();
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
  let plan = await aws.withReadCache(async () => {
    if (!opts.resetDefaults)
      loaded = withDeployed(
        loaded,
        await deployed(
          ctx(),
          order.map((e) => e.id),
          io,
        ),
      );
    if (opts.wizard && io.interactive) {
      loaded = await runWizard(
        order.filter((e) => selected.has(e.id)),
        steps,
        loaded,
        (l) => ({ ...ctx(), settings: l.settings, sources: l.sources }),
      );
    }
    return planSteps(input);
  });
  throwIfInterrupted(io.signal);
  // After `plan`: the command that applies exactly this plan (its flags, its answers).
  if (opts.mode === 'plan' && plan.ok && pendingOf(plan).length) report.next = rerunCommand('init', [], loaded, { region, switches: ['--yes', ...reset] });
  io.plan(report);
  if (!plan.ok || opts.mode === 'plan') return { report, loaded };
  if (pendingOf(plan).length) {
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
      if (lease) {
        // Another run may have changed the account between our reads and our lease.
        const confirmed = planKey(report);
        plan = await planSteps(input);
        if (!plan.ok) return false;
        if (planKey(report) !== confirmed) await replanned(plan, report, io);
      }
      await applyAll(pendingOf(plan), { report, ctx, outputs, io, rerun, lease });
      return true;
    };
    // The lease guards the account: a change of this machine only (the SSH config) needs none.
    const applied =
      opts.lease && pendingOf(plan).some((p) => !LOCAL_STEPS.has(p.entry.id))
        ? await withLease(aws, identity, ['ssm-setup', opts.command, ...ids].join(' '), io, apply).catch((err: unknown) => {
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
    return await deployedSettings(ctx, stepIds);
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

interface ApplyInput {
  readonly report: RunReport;
  readonly ctx: () => StepContext;
  readonly outputs: StepOutputs;
  readonly io: Io;
  readonly rerun: () => RerunCommands;
  readonly lease?: Lease;
}

/**
 * Applies each step with changes, in order, renewing the lease between steps; the first failure
 * stops. So does Ctrl-C (Io.signal): the call in flight finishes, the clients send nothing more,
 * and the report says which steps were applied, which one was cut short, and which never ran.
 */
async function applyAll(pending: readonly Planned[], { report, ctx, outputs, io, rerun, lease }: ApplyInput): Promise<void> {
  for (const p of pending) {
    if (io.signal?.aborted) return interruptedAt(report, p.row, false);
    try {
      await lease?.renewIfDue();
      const out = await io.task(`Applying ${p.entry.title}`, () => p.step.apply(ctx(), p.state, p.changes));
      p.row.outputs = publish(outputs, out);
      p.row.status = p.changes.some((c) => c.action === 'create') ? 'created' : 'updated';
    } catch (err) {
      // Whatever the step made of the refused call (a failed batch, a wrapped error): Ctrl-C stopped it.
      if (io.signal?.aborted) return interruptedAt(report, p.row, true);
      fail(report, p.row, err, io, rerun());
      break;
    }
  }
}

/** Ctrl-C stopped the apply at `row` (`started`: part of that step may be applied): what ran stays reported as done. */
function interruptedAt(report: RunReport, row: StepReport, started: boolean): void {
  const e = interrupted();
  report.ok = false;
  report.error = errorView(e);
  const at = report.steps.indexOf(row);
  if (started) {
    row.status = 'failed';
    row.error = errorView(e);
    row.note = 'interrupted: part of it may be applied; a rerun finishes it';
  } else {
    row.status = 'skipped';
    row.note = 'not run: interrupted (Ctrl-C)';
  }
  report.steps.forEach((other, i) => {
    if (other.status === 'pending' && i > at) {
      other.status = 'skipped';
      other.note = 'not applied: interrupted (Ctrl-C)';
    }
  });
}

/** Read-only steps that look at the result (check) run last, on what is there now. */
async function verify(plan: Plan, { report, ctx, outputs, io, rerun }: ApplyInput): Promise<void> {
  for (const v of report.ok ? plan.verifiers : []) {
    try {
      const state = await io.task(v.entry.title, () => v.step.read(ctx()));
      v.row.note = v.step.note?.(state, ctx());
      v.row.outputs = publish(outputs, v.step.outputs(state));
    } catch (err) {
      if (io.signal?.aborted) return interruptedAt(report, v.row, false);
      fail(report, v.row, err, io, rerun());
    }
  }
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
