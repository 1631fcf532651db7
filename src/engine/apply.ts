import { interrupted } from '../aws/clients.js';
import type { RerunCommands } from '../aws/errors.js';
import type { Lease } from '../aws/lease.js';
import type { Io } from '../core/io.js';
import { errorView, type RunReport, type StepReport } from '../core/report.js';
import type { StepContext, StepEntry, StepOutputs } from '../core/step.js';
import { fail, type Plan, type Planned, publish } from './planning.js';

export interface ApplyInput {
  readonly report: RunReport;
  readonly ctx: () => StepContext;
  readonly outputs: StepOutputs;
  readonly io: Io;
  readonly rerun: () => RerunCommands;
  readonly lease?: Lease;
}

/**
 * The steps of `pending` each waits for before its apply: a `concurrent` step its dependencies
 * (through steps with nothing to apply too) and the earlier steps that are not concurrent; any
 * other step every earlier pending step, as a run one after another would. `entries` holds
 * every step of the run, for the dependencies.
 */
export function applyOrder(pending: readonly Planned[], entries: readonly StepEntry[]): Map<string, string[]> {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const upstream = (id: string, seen = new Set<string>()): Set<string> => {
    for (const dep of byId.get(id)?.dependsOn ?? []) if (!seen.has(dep)) upstream(dep, seen.add(dep));
    return seen;
  };
  return new Map(
    pending.map((p, i) => {
      const earlier = pending.slice(0, i);
      const deps = upstream(p.entry.id);
      const waits = p.entry.concurrent ? earlier.filter((e) => deps.has(e.entry.id) || !e.entry.concurrent) : earlier;
      return [p.entry.id, waits.map((e) => e.entry.id)];
    }),
  );
}

/**
 * Applies the steps with changes, each as soon as the steps it waits for (`applyOrder`) are
 * applied, so independent steps' round trips overlap; the report keeps run order. A concurrent
 * step may start even before its dependency's apply ends, once that one says what it needs
 * exists (`StepContext.ready`: the key, before its alias and rotation), and one that says so
 * (`StepEntry.startsBefore`) before its dependency, awaiting it at the call that needs it
 * (`StepContext.after`: the bucket's create beside the key's). The lease is
 * renewed before each step. After a failure no step starts; those in flight finish and keep
 * their status. Ctrl-C (Io.signal) likewise: the calls in flight finish, the clients send
 * nothing more, and the report says which steps were applied, which were cut short, and which
 * never ran.
 */
export async function applyAll(pending: readonly Planned[], entries: readonly StepEntry[], input: ApplyInput): Promise<void> {
  const { report, ctx, outputs, io, lease } = input;
  const order = applyOrder(pending, entries);
  /** Per step: `ready` when what its dependents need exists (StepContext.ready, or the apply's end), `done` at the end; false when it failed first. */
  const gates = new Map<string, { ready: Promise<boolean>; done: Promise<boolean> }>();
  const started = new Set<StepReport>();
  /** `interrupted`: it failed after Ctrl-C (whatever the step made of the refused call), not on its own. */
  const failures: { row: StepReport; err: unknown; interrupted: boolean }[] = [];
  const stopped = () => failures.length > 0 || io.signal?.aborted === true;
  const concurrent = new Set(pending.filter((p) => p.entry.concurrent).map((p) => p.entry.id));
  for (const p of pending) {
    // Between concurrent steps, a dependency's `ready` is enough; anything else waits for the end.
    const inside = new Set(concurrent.has(p.entry.id) ? (p.entry.startsBefore ?? []) : []);
    const waits = order.get(p.entry.id) ?? [];
    const before = waits
      .filter((id) => !inside.has(id))
      .map((id) => (concurrent.has(p.entry.id) && concurrent.has(id) ? gates.get(id)!.ready : gates.get(id)!.done));
    // What it starts before, it awaits itself (StepContext.after).
    const after = (id: string) => (inside.has(id) && waits.includes(id) ? gates.get(id)!.ready.then(() => {}) : undefined);
    let ready = (_ok: boolean) => {};
    const readyGate = new Promise<boolean>((resolve) => (ready = resolve));
    const run = async (): Promise<boolean> => {
      if (!(await Promise.all(before)).every(Boolean) || stopped()) return false;
      started.add(p.row);
      const early = (out: StepOutputs) => {
        publish(outputs, out);
        ready(true);
      };
      try {
        await lease?.renewIfDue();
        const out = await io.task(`Applying ${p.entry.title}`, () => p.step.apply({ ...ctx(), ready: early, after }, p.state, p.changes));
        p.row.outputs = publish(outputs, out);
        p.row.status = p.changes.some((c) => c.action === 'create') ? 'created' : 'updated';
        return true;
      } catch (err) {
        failures.push({ row: p.row, err, interrupted: io.signal?.aborted === true });
        return false;
      }
    };
    const done = run();
    void done.then(ready);
    gates.set(p.entry.id, { ready: readyGate, done });
  }
  await Promise.all([...gates.values()].map((g) => g.done));
  // A failure of its own, before Ctrl-C, is reported as such; the rest as interrupted.
  const rows = report.steps;
  const own = failures.filter((f) => !f.interrupted).sort((a, b) => rows.indexOf(a.row) - rows.indexOf(b.row));
  // All failed first: reporting one marks the pending steps after it as not run, not the others that failed.
  for (const f of own) f.row.status = 'failed';
  for (const f of own) fail(report, f.row, f.err, io, input.rerun());
  if (io.signal?.aborted)
    interruptedAt(
      report,
      pending.map((p) => p.row),
      started,
    );
}

/**
 * Ctrl-C stopped the run: what was applied stays reported as done, a step cut short says part
 * of it may be applied; of the steps that never started, the first whose turn it was says it
 * did not run (unless one was cut short), the others that they were not applied.
 */
export function interruptedAt(report: RunReport, rows: readonly StepReport[], started: ReadonlySet<StepReport>): void {
  const e = interrupted();
  report.ok = false;
  report.error = errorView(e);
  let cut = false;
  for (const row of rows.filter((r) => r.status === 'pending' && started.has(r))) {
    cut = true;
    row.status = 'failed';
    row.error = errorView(e);
    row.note = 'interrupted: part of it may be applied; a rerun finishes it';
  }
  for (const row of report.steps.filter((r) => r.status === 'pending' || rows.includes(r))) {
    if (row.status === 'failed' || row.status === 'created' || row.status === 'updated') continue;
    row.status = 'skipped';
    row.note = cut ? 'not applied: interrupted (Ctrl-C)' : 'not run: interrupted (Ctrl-C)';
    cut = true;
  }
}

/** Read-only steps that look at the result (check) run last, on what is there now. */
export async function verify(plan: Plan, { report, ctx, outputs, io, rerun }: ApplyInput): Promise<void> {
  for (const v of report.ok ? plan.verifiers : []) {
    try {
      const state = await io.task(v.entry.title, () => v.step.read(ctx()));
      v.row.note = v.step.note?.(state, ctx());
      v.row.outputs = publish(outputs, v.step.outputs(state));
    } catch (err) {
      if (io.signal?.aborted) return interruptedAt(report, [v.row], new Set());
      fail(report, v.row, err, io, rerun());
    }
  }
}
