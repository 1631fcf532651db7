import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyStep, Change, StepOutputs } from '../../src/core/step.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { runSteps } from '../../src/engine/runner.js';
import { mockIdentity } from '../helpers/aws.js';
import { settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

/**
 * Fake steps whose reads wait until the test lets them answer (`answer(id)`), recording how many
 * are in flight at once and what each read saw of the outputs.
 */
function gatedCatalog(ids: string[], opts: { readAfter?: Record<string, string[]>; out?: Record<string, StepOutputs> } = {}) {
  let inFlight = 0;
  let most = 0;
  const started: string[] = [];
  const seen: Record<string, StepOutputs> = {};
  const gates = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>(ids.map((id) => [id, new Promise<void>((go) => gates.set(id, go))]));
  const entries: StepEntry[] = ids.map((id) => {
    const change: Change = { kind: 'create', action: 'create', resource: `R ${id}`, detail: 'new' };
    const step: AnyStep = {
      id,
      ...(opts.readAfter?.[id] ? { readAfter: () => opts.readAfter![id]! } : {}),
      async read(ctx) {
        started.push(id);
        seen[id] = { ...ctx.outputs };
        most = Math.max(most, ++inFlight);
        await waiting.get(id);
        inFlight--;
        return { id };
      },
      plan: () => [change],
      apply: async () => opts.out?.[id] ?? {},
      outputs: () => opts.out?.[id] ?? {},
    };
    return { id, title: `step ${id}`, dependsOn: [], load: async () => step };
  });
  /** Lets the reads answer one by one, in `order`, each after the ones before it have been let go. */
  const answerIn = async (order: string[]) => {
    for (const id of order) {
      while (!started.includes(id)) await new Promise((r) => setTimeout(r, 0));
      gates.get(id)!();
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  return { entries, started, seen, answerIn, most: () => most };
}

async function plan(entries: StepEntry[]) {
  return runSteps({ command: 'plan', mode: 'plan', io: new TestIo({}), aws: testClients(), loaded: await settingsFrom(), catalog: entries, selected: entries });
}

describe('reads across steps', () => {
  it('independent reads are in flight together', async () => {
    const c = gatedCatalog(['a', 'b', 'c', 'd']);
    const run = plan(c.entries);
    await c.answerIn(['a', 'b', 'c', 'd']);
    await run;
    expect(c.most()).toBe(4);
  });

  it('the plan keeps the run order when the answers arrive in reverse order', async () => {
    const c = gatedCatalog(['a', 'b', 'c', 'd']);
    const run = plan(c.entries);
    await c.answerIn(['d', 'c', 'b', 'a']);
    const { report } = await run;
    expect(report.steps.map((s) => [s.id, s.status, s.changes.map((x) => x.resource)])).toEqual([
      ['a', 'pending', ['R a']],
      ['b', 'pending', ['R b']],
      ['c', 'pending', ['R c']],
      ['d', 'pending', ['R d']],
    ]);
  });

  it('a read that uses another step’s outputs (readAfter) starts after that read and sees its outputs; the others see none', async () => {
    const c = gatedCatalog(['a', 'b', 'c'], { readAfter: { c: ['a'] }, out: { a: { kmsKeyArn: 'arn:k' } } });
    const run = plan(c.entries);
    while (c.started.length < 2) await new Promise((r) => setTimeout(r, 0));
    expect(c.started).toEqual(['a', 'b']); // c waits for a
    await c.answerIn(['b', 'a', 'c']);
    await run;
    expect(c.seen).toEqual({ a: {}, b: {}, c: { kmsKeyArn: 'arn:k' } });
  });
});
