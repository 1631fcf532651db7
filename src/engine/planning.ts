import { type RerunCommands, toStepError } from '../aws/errors.js';
import { AbortedError, causeLines, type SetupError, StepError, UsageError } from '../base/errors.js';
import type { Io } from '../core/io.js';
import { errorView, type OutputValue, type RunReport, type StepReport } from '../core/report.js';
import type { AnyStep, Change, StepContext, StepOutputs } from '../core/step.js';
import type { StepEntry } from './catalog.js';
import { type StartedRead, startReads } from './reads.js';

/** A selected step as read and planned. */
export interface Planned {
  readonly entry: StepEntry;
  readonly step: AnyStep;
  readonly state: unknown;
  readonly changes: Change[];
  readonly row: StepReport;
}

/** A read-only step that looks at the result (check): it runs after the changes. */
export interface Verifier {
  readonly entry: StepEntry;
  readonly step: AnyStep;
  readonly row: StepReport;
}

export interface Plan {
  readonly planned: readonly Planned[];
  readonly verifiers: readonly Verifier[];
  /** False when a read or a plan failed: the report says which, and nothing may be applied. */
  readonly ok: boolean;
}

export interface PlanInput {
  /** The selected steps and their dependencies, in run order. */
  readonly order: readonly StepEntry[];
  readonly steps: ReadonlyMap<string, AnyStep>;
  readonly selected: ReadonlySet<string>;
  readonly report: RunReport;
  readonly ctx: () => StepContext;
  /** The outputs the steps publish (the object `ctx().outputs` is); emptied before each planning. */
  readonly outputs: StepOutputs;
  readonly io: Io;
  /** The commands a fix hint names, with the run's settings. */
  readonly rerun: () => RerunCommands;
}

/**
 * Reads and plans every step in run order into fresh report rows: the selected ones are
 * planned, unselected dependencies only read for their outputs. The reads are all in flight
 * together (engine/reads.ts); the plans are made one by one in run order as their reads end, so
 * the plan and the report keep the run order whatever order the answers come in. Called again
 * under the lease, on what the account holds by then. `started`: the reads, already in flight
 * for these settings. Read-only: no write call.
 */
export async function planSteps(input: PlanInput, started?: ReadonlyMap<string, Promise<StartedRead>>): Promise<Plan> {
  const { order, steps, selected, report, ctx, outputs, io } = input;
  for (const key of Object.keys(outputs)) delete outputs[key as keyof StepOutputs];
  const rows = new Map<string, StepReport>();
  report.steps = order
    .filter((e) => selected.has(e.id))
    .map((entry) => {
      const row: StepReport = { id: entry.id, title: entry.title, status: 'unchanged', changes: [], outputs: {} };
      rows.set(entry.id, row);
      return row;
    });

  const planned: Planned[] = [];
  const verifiers: Verifier[] = [];
  const reads = started ?? startReads(order, steps, ctx);
  const stateOf = (id: string) => reads.get(id)!.then((r: StartedRead) => r.state);
  for (const entry of order) {
    const step = steps.get(entry.id)!;
    const row = rows.get(entry.id);
    if (!row) {
      await discover(entry, step, input, () => stateOf(entry.id));
      continue;
    }
    const skipped = step.skip?.(ctx().settings);
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
      const state = await io.task(`Reading ${entry.title}`, () => stateOf(entry.id));
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
      fail(report, row, err, io, input.rerun());
      return { planned, verifiers, ok: false };
    }
  }
  for (const v of verifiers) v.row.note = 'runs after the changes are applied';
  return { planned, verifiers, ok: true };
}

/** The steps of a plan that have changes. */
export const pendingOf = (plan: Plan): Planned[] => plan.planned.filter((p) => p.changes.length);

/** What a person confirmed: each step's status and changes (two plans are the same when these are). */
export const planKey = (report: RunReport): string => JSON.stringify(report.steps.map((s) => [s.id, s.status, s.changes]));

/** Reads a step that was not selected, for the outputs the selected ones need. */
async function discover(entry: StepEntry, step: AnyStep, { ctx, outputs, io, rerun }: PlanInput, read: () => Promise<unknown>) {
  if (step.skip?.(ctx().settings)) return;
  const state = await io.task(`Reading ${entry.title}`, read).catch((err) => {
    throw toStepError(entry.id, err, rerun());
  });
  const out = step.outputs(state);
  if (!out) {
    const commands = rerun();
    throw new StepError(entry.id, 'DEPENDENCY_MISSING', `${entry.title} is not set up yet, and the chosen steps need it`, {
      hint: `run \`${commands.run([entry.id])}\` first, then \`${commands.again}\``,
    });
  }
  publish(outputs, out);
}

/** Makes a step's outputs known to later steps; the report shows the names and ARNs, not internal flags. */
export function publish(outputs: StepOutputs, out: StepOutputs | undefined): Record<string, OutputValue> {
  Object.assign(outputs, out);
  return Object.fromEntries(Object.entries(out ?? {}).filter(([, v]) => v !== undefined && typeof v !== 'boolean')) as Record<string, OutputValue>;
}

/**
 * Marks `row` failed, the steps after it as not run, and planned changes before it as not
 * applied (a failure while planning stops the run before any write). Bad input and aborts
 * are rethrown: they exit 2 and 130, not 1.
 */
export function fail(report: RunReport, row: StepReport, err: unknown, io: Io, rerun: RerunCommands): void {
  if (err instanceof UsageError || err instanceof AbortedError) throw err;
  const e: SetupError = toStepError(row.id, err, rerun);
  row.status = 'failed';
  row.error = errorView(e);
  for (const line of causeLines(e)) io.debug(`  ${line}`);
  if (e instanceof StepError && e.outputs) row.outputs = e.outputs as StepReport['outputs'];
  report.ok = false;
  const at = report.steps.indexOf(row);
  report.steps.forEach((other, i) => {
    // Steps applied beside the failed one (engine/apply.ts) keep what they did.
    if (i > at && (other.status === 'pending' || other.status === 'unchanged')) {
      other.status = 'skipped';
      other.note = `not run: ${row.id} failed`;
    } else if (i < at && other.status === 'pending') {
      other.status = 'skipped';
      other.note = `not applied: ${row.id} failed first`;
    }
  });
}
