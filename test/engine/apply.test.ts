// Issue 15: steps whose round trips do not depend on each other are applied side by side; the
// report keeps run order, a failure starts nothing new, and Ctrl-C says what each step did.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyStep, Change } from '../../src/core/step.js';
import { applyOrder } from '../../src/engine/apply.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { STEPS } from '../../src/engine/catalog.js';
import type { Planned } from '../../src/engine/planning.js';
import { runSteps } from '../../src/engine/runner.js';
import { mockIdentity } from '../helpers/aws.js';
import { settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

const create = (resource: string): Change => ({ kind: 'create', action: 'create', resource, detail: 'new' });

interface Spec {
  deps?: string[];
  concurrent?: boolean;
  fail?: boolean;
  /** Says it is ready (StepContext.ready) as soon as it starts. */
  early?: boolean;
  /** Starts before these dependencies (StepEntry.startsBefore) and awaits the first (StepContext.after). */
  startsBefore?: string[];
  /** Nothing to apply. */
  converged?: boolean;
}

/**
 * Steps that each have one change; every apply waits until the test releases it (`release(id)`),
 * so the test sees which applies are in flight at once (`inFlight`).
 */
function catalog(spec: Record<string, Spec>) {
  const log: string[] = [];
  const inFlight = new Set<string>();
  const gates = new Map<string, () => void>();
  const seen: Record<string, unknown> = {};
  let maxTogether = 0;
  const entries: StepEntry[] = Object.entries(spec).map(([id, s]) => {
    const step: AnyStep = {
      id,
      read: async () => ({}),
      plan: () => (s.converged ? [] : [create(id)]),
      async apply(ctx) {
        log.push(`start ${id}`);
        if (s.startsBefore) {
          const later = ctx.after?.(s.startsBefore[0]!);
          log.push(later ? `${id} waits` : `${id} waits for nothing`);
          await later;
          log.push(`${id} goes on`);
        }
        seen[id] = { ...ctx.outputs };
        if (s.early) ctx.ready?.({ bucketName: `${id}-out` });
        inFlight.add(id);
        maxTogether = Math.max(maxTogether, inFlight.size);
        await new Promise<void>((resolve) => gates.set(id, resolve));
        inFlight.delete(id);
        log.push(`end ${id}`);
        if (s.fail) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $ssmSetupCall: 'KMS.CreateKey' });
        return {};
      },
      outputs: () => ({}),
    };
    return { id, title: `step ${id}`, dependsOn: s.deps ?? [], concurrent: s.concurrent, startsBefore: s.startsBefore, load: async () => step };
  });
  /** Lets the apply of `id` end once it has started. */
  const release = async (id: string) => {
    for (let i = 0; i < 100 && !gates.has(id); i++) await new Promise((r) => setTimeout(r, 1));
    gates.get(id)?.();
    gates.delete(id);
  };
  const settled = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
  };
  return { entries, log, seen, inFlight, release, settled, max: () => maxTogether };
}

async function run(entries: StepEntry[], io: TestIo) {
  return runSteps({ command: 'init', mode: 'apply', io, aws: testClients(), loaded: await settingsFrom(), catalog: entries, selected: entries });
}

describe('steps applied side by side', () => {
  it('independent concurrent steps are in flight together, dependents wait, and the report keeps run order', async () => {
    const c = catalog({
      key: { concurrent: true },
      bucket: { concurrent: true, deps: ['key'] },
      policy: { concurrent: true, deps: ['key'] },
      prefs: { concurrent: true, deps: ['bucket'] },
    });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.release('key');
    await c.settled();
    expect([...c.inFlight].sort()).toEqual(['bucket', 'policy']);
    await c.release('policy');
    await c.release('bucket');
    await c.release('prefs');
    const { report } = await running;
    expect(c.log.indexOf('start prefs')).toBeGreaterThan(c.log.indexOf('end bucket'));
    expect(c.max()).toBe(2);
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['key', 'created'],
      ['bucket', 'created'],
      ['policy', 'created'],
      ['prefs', 'created'],
    ]);
  });

  it('a step that is not concurrent waits for every earlier step, and every later step waits for it', async () => {
    const c = catalog({ key: { concurrent: true }, agents: {}, policy: { concurrent: true } });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.release('key');
    await c.release('agents');
    await c.release('policy');
    await running;
    expect(c.log).toEqual(['start key', 'end key', 'start agents', 'end agents', 'start policy', 'end policy']);
    expect(c.max()).toBe(1);
  });

  it('after a failure nothing new starts; a step in flight beside it finishes and keeps its status', async () => {
    const c = catalog({
      key: { concurrent: true },
      bucket: { concurrent: true, deps: ['key'], fail: true },
      policy: { concurrent: true, deps: ['key'] },
      prefs: { concurrent: true, deps: ['key'] },
      agents: {},
    });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.release('key');
    await c.release('bucket');
    await c.settled();
    await c.release('policy');
    await c.release('prefs');
    const { report } = await running;
    expect(c.log).not.toContain('start agents');
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['key', 'created'],
      ['bucket', 'failed'],
      ['policy', 'created'],
      ['prefs', 'created'],
      ['agents', 'skipped'],
    ]);
    expect(report.steps[1]!.error?.code).toBe('ACCESS_DENIED');
  });

  it('a dependent of a failed step is not run', async () => {
    const c = catalog({ key: { concurrent: true, fail: true }, bucket: { concurrent: true, deps: ['key'] }, policy: { concurrent: true } });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.release('key');
    await c.release('policy');
    const { report } = await running;
    expect(c.log).not.toContain('start bucket');
    expect(report.steps.map((s) => s.status)).toEqual(['failed', 'skipped', 'created']);
  });

  it('Ctrl-C: steps in flight end as they end, the others never start, and the run is INTERRUPTED', async () => {
    const controller = new AbortController();
    const c = catalog({ key: { concurrent: true }, bucket: { concurrent: true, deps: ['key'] }, policy: { concurrent: true } });
    const io = new TestIo({ 'runner.apply': true }, { signal: controller.signal });
    const running = run(c.entries, io);
    await c.settled();
    controller.abort();
    await c.release('policy');
    await c.release('key');
    const { report } = await running;
    expect(c.log).not.toContain('start bucket');
    expect(report.error?.code).toBe('INTERRUPTED');
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['key', 'created'],
      ['bucket', 'skipped'],
      ['policy', 'created'],
    ]);
  });
});

describe('failures side by side (review)', () => {
  it('two steps that fail in flight together are both failed with their own error, neither said "not run"', async () => {
    const c = catalog({
      key: { concurrent: true },
      bucket: { concurrent: true, deps: ['key'], fail: true },
      policy: { concurrent: true, deps: ['key'], fail: true },
    });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.release('key');
    await c.release('bucket');
    await c.release('policy');
    const { report } = await running;
    expect(report.steps.map((s) => [s.id, s.status, s.error?.code, s.note])).toEqual([
      ['key', 'created', undefined, undefined],
      ['bucket', 'failed', 'ACCESS_DENIED', undefined],
      ['policy', 'failed', 'ACCESS_DENIED', undefined],
    ]);
  });

  it('a step that failed on its own before Ctrl-C keeps its error; the run still ends INTERRUPTED', async () => {
    const controller = new AbortController();
    const c = catalog({ bucket: { concurrent: true, fail: true }, policy: { concurrent: true } });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }, { signal: controller.signal }));
    await c.release('bucket');
    await c.settled();
    controller.abort();
    await c.release('policy');
    const { report } = await running;
    expect(report.error?.code).toBe('INTERRUPTED');
    expect(report.steps.map((s) => [s.id, s.status, s.error?.code])).toEqual([
      ['bucket', 'failed', 'ACCESS_DENIED'],
      ['policy', 'created', undefined],
    ]);
  });
});

describe('a step that says it is ready', () => {
  it('lets its dependents start before its apply ends, with the outputs it gave; a failure after it fails only that step', async () => {
    const c = catalog({ key: { concurrent: true, early: true, fail: true }, bucket: { concurrent: true, deps: ['key'] }, agents: {} });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.settled();
    expect([...c.inFlight].sort()).toEqual(['bucket', 'key']);
    expect(c.seen.bucket).toEqual({ bucketName: 'key-out' });
    await c.release('bucket');
    await c.release('key');
    const { report } = await running;
    // Not concurrent: the agents wait for the key's whole apply, which failed.
    expect(c.log).not.toContain('start agents');
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['key', 'failed'],
      ['bucket', 'created'],
      ['agents', 'skipped'],
    ]);
  });
});

describe('a step that starts before its dependency', () => {
  it('starts beside it and awaits it itself; with the dependency converged, it waits for nothing', async () => {
    const c = catalog({ key: { concurrent: true }, bucket: { concurrent: true, deps: ['key'], startsBefore: ['key'] } });
    const running = run(c.entries, new TestIo({ 'runner.apply': true }));
    await c.settled();
    expect(c.log).toEqual(['start key', 'start bucket', 'bucket waits']);
    await c.release('key');
    await c.settled();
    expect(c.log.slice(3)).toEqual(['end key', 'bucket goes on']);
    await c.release('bucket');
    expect((await running).report.ok).toBe(true);

    const d = catalog({ key: { concurrent: true, converged: true }, bucket: { concurrent: true, deps: ['key'], startsBefore: ['key'] } });
    const again = run(d.entries, new TestIo({ 'runner.apply': true }));
    await d.release('bucket');
    expect((await again).report.ok).toBe(true);
    expect(d.log).toEqual(['start bucket', 'bucket waits for nothing', 'bucket goes on', 'end bucket']);
  });
});

describe('applyOrder', () => {
  const planned = (ids: string[]) => ids.map((id) => ({ entry: STEPS.find((e) => e.id === id)! }) as unknown as Planned);

  it('the foundations of the catalog wait for what they depend on, through steps with nothing to apply', () => {
    const order = applyOrder(planned(['kms-key', 'log-bucket', 'log-group', 'instance-role', 'operator-policy', 'preferences']), STEPS);
    expect(Object.fromEntries(order)).toEqual({
      'kms-key': [],
      'log-bucket': ['kms-key'],
      'log-group': ['kms-key'],
      'instance-role': ['kms-key', 'log-bucket', 'log-group'],
      'operator-policy': ['kms-key'],
      preferences: ['kms-key', 'log-bucket', 'log-group'],
    });
    // The bucket has nothing to apply: the preferences still wait for the key behind it.
    expect(applyOrder(planned(['kms-key', 'preferences']), STEPS).get('preferences')).toEqual(['kms-key']);
  });

  it('the steps after the foundations wait for every earlier step (the agents need the role and the endpoints)', () => {
    const order = applyOrder(planned(['kms-key', 'instance-role', 'vpc-endpoints', 'agents']), STEPS);
    expect(order.get('vpc-endpoints')).toEqual(['kms-key', 'instance-role']);
    expect(order.get('agents')).toEqual(['kms-key', 'instance-role', 'vpc-endpoints']);
  });
});
