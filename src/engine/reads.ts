import type { AnyStep, ReadContext, StepOutputs } from '../core/step.js';
import type { StepEntry } from './catalog.js';

/**
 * Imports the modules of `entries` (each brings its SDK client) all at once: the runner starts
 * it once the identity call has gone out (Clients.sent), so the modules load while that call is
 * in flight instead of holding it back.
 */
export function loadSteps(entries: readonly StepEntry[]): Promise<Map<string, AnyStep>> {
  const loading = Promise.all(entries.map(async (e) => [e.id, await e.load()] as const)).then((all) => new Map<string, AnyStep>(all));
  loading.catch(() => {}); // awaited later: a failure surfaces there
  return loading;
}

/** A step's read as started: its state, and the outputs that state gives later steps. */
export interface StartedRead {
  readonly state: unknown;
  readonly outputs: StepOutputs | undefined;
}

/**
 * Starts the read of every step of `order` at once, so that round trips that do not depend on
 * each other are in flight together (the key, the bucket, the log group, IAM and the
 * preferences need only the names the settings give). A step whose read uses another's outputs
 * says so (`Step.readAfter`) and starts when that read has ended, seeing those outputs only;
 * every other read sees no outputs, whatever order the answers arrive in. The caller awaits the
 * promises in run order, so the plan and the report keep that order. Skipped steps and the
 * steps that read after the apply (check) are not started. Read-only.
 */
export function startReads(
  order: readonly StepEntry[],
  steps: ReadonlyMap<string, AnyStep>,
  ctx: () => ReadContext,
): ReadonlyMap<string, Promise<StartedRead>> {
  const started = new Map<string, Promise<StartedRead>>();
  const base = ctx();
  for (const entry of order) {
    const step = steps.get(entry.id)!;
    if (step.afterApply || step.skip?.(base.settings)) continue;
    const after = (step.readAfter?.(base) ?? []).map((id) => started.get(id)).filter((p) => p !== undefined);
    const read = (async () => {
      const outputs: StepOutputs = {};
      for (const dep of await Promise.all(after)) Object.assign(outputs, dep.outputs);
      const state = await step.read({ ...ctx(), outputs });
      return { state, outputs: step.outputs(state) };
    })();
    // Awaited in run order by the planner; one that fails before its turn must not go unhandled.
    read.catch(() => {});
    started.set(entry.id, read);
  }
  return started;
}
