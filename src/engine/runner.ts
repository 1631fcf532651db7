import { toStepError } from '../aws/errors.js';
import { AbortedError, causeLines, type SetupError, StepError, UsageError } from '../base/errors.js';
import { type LoadedSettings, withAnswers } from '../config/load.js';
import type { Clients } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { type ChangeRisk, errorView, type OutputValue, type RunReport, type StepReport } from '../core/report.js';
import type { AnyStep, Change, StepContext, StepOutputs, TargetInstance } from '../core/step.js';
import type { StepEntry } from './catalog.js';

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
}

export interface RunResult {
  readonly report: RunReport;
  /** The settings after the wizard's answers. */
  readonly loaded: LoadedSettings;
}

interface Planned {
  readonly entry: StepEntry;
  readonly step: AnyStep;
  readonly state: unknown;
  readonly changes: Change[];
  readonly row: StepReport;
}

/**
 * Runs steps in catalog order: (wizard) → read and plan every step → show the plan →
 * confirm once (never when nothing changes) → apply. Dependencies that were not selected are
 * only read, for their outputs. A failing step ends the run; later steps are reported as not
 * run. Step failures are returned in the report (ok: false); bad input and a declined
 * confirmation are thrown.
 */
export async function runSteps(opts: RunOptions): Promise<RunResult> {
  const { io, aws, catalog } = opts;
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

  const order = withDependencies(opts.selected, catalog);
  const steps = new Map<string, AnyStep>();
  for (const entry of order) steps.set(entry.id, await entry.load());

  if (opts.wizard && io.interactive) {
    for (const entry of order.filter((e) => selected.has(e.id))) {
      const answers = (await steps.get(entry.id)?.ask?.(ctx())) ?? {};
      if (Object.keys(answers).length) loaded = withAnswers(loaded, answers);
    }
  }

  const rows = new Map<string, StepReport>();
  for (const entry of order.filter((e) => selected.has(e.id))) {
    const row: StepReport = { id: entry.id, title: entry.title, status: 'unchanged', changes: [], outputs: {} };
    rows.set(entry.id, row);
    report.steps.push(row);
  }

  const planned: Planned[] = [];
  const verifiers: { entry: StepEntry; step: AnyStep; row: StepReport }[] = [];
  for (const entry of order) {
    const step = steps.get(entry.id)!;
    const row = rows.get(entry.id);
    if (!row) {
      await discover(entry, step, ctx, outputs, io);
      continue;
    }
    const skipped = step.skip?.(loaded.settings);
    if (skipped) {
      row.status = 'skipped';
      row.note = skipped;
      continue;
    }
    if (step.afterApply) {
      verifiers.push({ entry, step, row });
      continue;
    }
    try {
      const state = await io.task(`Reading ${entry.title}`, () => step.read(ctx()));
      const changes = step.plan(state, ctx());
      row.changes = changes.map(({ action, resource, detail, risk }) => ({ action, resource, detail, ...(risk ? { risk } : {}) }));
      // What exists is known now, pending changes or not (an existing key whose rotation is
      // off still has its ARN): later steps plan against it instead of "to be created".
      const known = publish(outputs, step.outputs(state));
      row.note = step.note?.(state, ctx());
      if (changes.length) row.status = 'pending';
      else row.outputs = known;
      planned.push({ entry, step, state, changes, row });
    } catch (err) {
      fail(report, row, err, io);
      io.plan(report);
      return { report, loaded };
    }
  }

  for (const v of verifiers) v.row.note = 'runs after the changes are applied';
  io.plan(report);
  if (opts.mode === 'plan') return { report, loaded };
  const pending = planned.filter((p) => p.changes.length);
  if (pending.length) {
    const count = pending.reduce((n, p) => n + p.changes.length, 0);
    if (!(await io.confirm({ id: 'runner.apply', message: `Apply ${count} change${count === 1 ? '' : 's'}?`, default: true }))) {
      throw new AbortedError('DECLINED', 'Declined: nothing was changed.');
    }
    await confirmRisks(
      pending.flatMap((p) => p.changes),
      io,
    );
    for (const p of pending) {
      try {
        const out = await io.task(`Applying ${p.entry.title}`, () => p.step.apply(ctx(), p.state, p.changes));
        p.row.outputs = publish(outputs, out);
        p.row.status = p.changes.some((c) => c.action === 'create') ? 'created' : 'updated';
      } catch (err) {
        fail(report, p.row, err, io);
        break;
      }
    }
  }
  // Read-only steps that look at the result (check) run last, on what is there now.
  for (const v of report.ok ? verifiers : []) {
    try {
      const state = await io.task(v.entry.title, () => v.step.read(ctx()));
      v.row.note = v.step.note?.(state, ctx());
      v.row.outputs = publish(outputs, v.step.outputs(state));
    } catch (err) {
      fail(report, v.row, err, io);
    }
  }
  return { report, loaded };
}

const RISK_LABEL: Record<ChangeRisk['kind'], string> = {
  'weakens-audit': 'weakens audit',
  'weakens-security': 'weakens security',
  foreign: "changes someone else's resource",
};

/**
 * Changes that weaken security or audit, or touch what someone else owns, are confirmed on their
 * own, default No (a person pressing Enter keeps what is deployed); under `--yes` they go ahead,
 * each printed as a warning first.
 */
async function confirmRisks(changes: readonly Change[], io: Io): Promise<void> {
  const risky = changes.filter((c) => c.risk);
  if (!risky.length) return;
  for (const c of risky) io.warn(`${RISK_LABEL[c.risk!.kind]}: ${c.resource}: ${c.detail} (${c.risk!.why})`);
  const n = risky.length;
  const message = `${n} of these change${n === 1 ? 's' : ''} weaken${n === 1 ? 's' : ''} security or audit, or change${n === 1 ? 's' : ''} a resource ssm-setup did not create. Make ${n === 1 ? 'it' : 'them'} too?`;
  if (!(await io.confirm({ id: 'runner.confirm-risky', message, default: false }))) {
    throw new AbortedError(
      'DECLINED',
      'Declined: nothing was changed. Keep the deployed value (drop the flag or config key that changes it) to apply the rest.',
    );
  }
}

/** Reads a step that was not selected, for the outputs the selected ones need. */
async function discover(entry: StepEntry, step: AnyStep, ctx: () => StepContext, outputs: StepOutputs, io: Io) {
  if (step.skip?.(ctx().settings)) return;
  const state = await io
    .task(`Reading ${entry.title}`, () => step.read(ctx()))
    .catch((err) => {
      throw toStepError(entry.id, err);
    });
  const out = step.outputs(state);
  if (!out) {
    throw new StepError(entry.id, 'DEPENDENCY_MISSING', `${entry.title} is not set up yet, and the chosen steps need it`, {
      hint: `run \`ssm-setup run ${entry.id}\` (or \`ssm-setup init\`) first`,
    });
  }
  publish(outputs, out);
}

/** Makes a step's outputs known to later steps; the report shows the names and ARNs, not internal flags. */
function publish(outputs: StepOutputs, out: StepOutputs | undefined): Record<string, OutputValue> {
  Object.assign(outputs, out);
  return Object.fromEntries(Object.entries(out ?? {}).filter(([, v]) => v !== undefined && typeof v !== 'boolean')) as Record<string, OutputValue>;
}

/**
 * Marks `row` failed, the steps after it as not run, and planned changes before it as not
 * applied (a failure while planning stops the run before any write). Bad input and aborts
 * are rethrown: they exit 2 and 130, not 1.
 */
function fail(report: RunReport, row: StepReport, err: unknown, io: Io): void {
  if (err instanceof UsageError || err instanceof AbortedError) throw err;
  const e: SetupError = toStepError(row.id, err);
  row.status = 'failed';
  row.error = errorView(e);
  for (const line of causeLines(e)) io.debug(`  ${line}`);
  if (e instanceof StepError && e.outputs) row.outputs = e.outputs as StepReport['outputs'];
  report.ok = false;
  const at = report.steps.indexOf(row);
  report.steps.forEach((other, i) => {
    if (i > at && other.status !== 'skipped') {
      other.status = 'skipped';
      other.note = `not run: ${row.id} failed`;
    } else if (i < at && other.status === 'pending') {
      other.status = 'skipped';
      other.note = `not applied: ${row.id} failed first`;
    }
  });
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
