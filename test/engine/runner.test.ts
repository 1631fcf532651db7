import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError, StepError, UsageError } from '../../src/base/errors.js';
import type { AnyStep, Change, StepOutputs } from '../../src/core/step.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { runSteps, withDependencies } from '../../src/engine/runner.js';
import { mockIdentity } from '../helpers/aws.js';
import { ACCOUNT, settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

interface Fake {
  changes?: Change[];
  fail?: 'read' | 'apply';
  exists?: boolean;
  out?: StepOutputs;
  answers?: Record<string, unknown>;
}

/** A catalog of fake steps that log what the runner asked them to do. */
function catalog(spec: Record<string, Fake & { deps?: string[]; readAfter?: string[] }>) {
  const log: string[] = [];
  const seen: Record<string, StepOutputs> = {};
  const entries: StepEntry[] = Object.entries(spec).map(([id, f]) => {
    const step: AnyStep = {
      id,
      ask: f.answers ? async () => f.answers! : undefined,
      ...(f.readAfter ? { readAfter: () => f.readAfter! } : {}),
      async read(ctx) {
        log.push(`read ${id}`);
        seen[id] = { ...ctx.outputs };
        if (f.fail === 'read') throw Object.assign(new Error('boom'), { name: 'ThrottlingException', $ssmSetupCall: 'KMS.DescribeKey' });
        return {};
      },
      plan: () => f.changes ?? [],
      async apply() {
        log.push(`apply ${id}`);
        if (f.fail === 'apply') throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $ssmSetupCall: 'KMS.CreateKey' });
        return f.out ?? {};
      },
      outputs: () => (f.exists === false ? undefined : (f.out ?? {})),
    };
    return { id, title: `step ${id}`, dependsOn: f.deps ?? [], load: async () => step };
  });
  return { entries, log, seen };
}

const create = (resource: string): Change => ({ kind: 'create', action: 'create', resource, detail: 'new' });
const update = (resource: string): Change => ({ kind: 'update', action: 'update', resource, detail: 'a → b' });

async function run(entries: StepEntry[], selected: string[], io: TestIo, mode: 'plan' | 'apply' = 'apply') {
  return runSteps({
    command: 'init',
    mode,
    io,
    aws: testClients(),
    loaded: await settingsFrom(),
    catalog: entries,
    selected: entries.filter((e) => selected.includes(e.id)),
  });
}

describe('runner', () => {
  it('plans every step before applying, in catalog order, and asks once', async () => {
    const { entries, log } = catalog({ a: { changes: [create('A')] }, b: { changes: [update('B')] }, c: {} });
    const io = new TestIo({ 'runner.apply': true });
    const { report } = await run(entries, ['c', 'b', 'a'], io);
    expect(log).toEqual(['read a', 'read b', 'read c', 'apply a', 'apply b']);
    expect(io.prompts).toEqual(['runner.apply']);
    expect(report.steps.map((s) => [s.id, s.status])).toEqual([
      ['a', 'created'],
      ['b', 'updated'],
      ['c', 'unchanged'],
    ]);
    expect(report).toMatchObject({ account: ACCOUNT, region: 'eu-west-1', ok: true });
  });

  it('never asks when nothing changes', async () => {
    const { entries, log } = catalog({ a: {}, b: {} });
    const io = new TestIo({});
    const { report } = await run(entries, ['a', 'b'], io);
    expect(io.prompts).toEqual([]);
    expect(log).toEqual(['read a', 'read b']);
    expect(report.steps.every((s) => s.status === 'unchanged')).toBe(true);
  });

  it('declining applies nothing and is an AbortedError (exit 130)', async () => {
    const { entries, log } = catalog({ a: { changes: [create('A')] } });
    const error = await run(entries, ['a'], new TestIo({ 'runner.apply': false })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).code).toBe('DECLINED');
    expect(log).toEqual(['read a']);
  });

  it('plan mode shows the plan and applies nothing', async () => {
    const { entries, log } = catalog({ a: { changes: [create('A')] } });
    const io = new TestIo({});
    const { report } = await run(entries, ['a'], io, 'plan');
    expect(log).toEqual(['read a']);
    expect(report.steps[0]).toMatchObject({ status: 'pending', changes: [{ action: 'create', resource: 'A', detail: 'new' }] });
    expect(io.plans).toHaveLength(1);
  });

  it('a failing apply stops the run: the step is failed with its AWS call, later steps are not run', async () => {
    const { entries, log } = catalog({ a: { changes: [create('A')] }, b: { changes: [create('B')], fail: 'apply' }, c: { changes: [create('C')] } });
    const { report } = await run(entries, ['a', 'b', 'c'], new TestIo({ 'runner.apply': true }));
    expect(log).toEqual(['read a', 'read b', 'read c', 'apply a', 'apply b']);
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.status)).toEqual(['created', 'failed', 'skipped']);
    expect(report.steps[1]!.error).toMatchObject({ code: 'ACCESS_DENIED', call: 'KMS.CreateKey' });
    expect(report.steps[1]!.error!.hint).toContain('rerun `ssm-setup init`');
    expect(report.steps[2]!.note).toBe('not run: b failed');
  });

  it('a step that fails keeps in the report what it did finish (StepError outputs)', async () => {
    const { entries } = catalog({ a: { changes: [create('A')] } });
    const step = await entries[0]!.load!();
    step.apply = async () => {
      throw new StepError('a', 'RUN_COMMAND_FAILED', '1 of 3 failed', { outputs: { agentResults: { 'i-1': 'done', 'i-2': 'Failed' } } });
    };
    entries[0] = { ...entries[0]!, load: async () => step };
    const { report } = await run(entries, ['a'], new TestIo({ 'runner.apply': true }));
    expect(report.steps[0]).toMatchObject({ status: 'failed', outputs: { agentResults: { 'i-1': 'done', 'i-2': 'Failed' } } });
  });

  it('a failure while reading stops before any write', async () => {
    const { entries, log } = catalog({ a: { changes: [create('A')] }, b: { fail: 'read' }, c: {} });
    const io = new TestIo({});
    const { report } = await run(entries, ['a', 'b', 'c'], io);
    // The reads were all in flight together; nothing was applied.
    expect(log).toEqual(['read a', 'read b', 'read c']);
    expect(io.prompts).toEqual([]);
    expect(report.steps.map((s) => [s.status, s.note])).toEqual([
      ['skipped', 'not applied: b failed first'],
      ['failed', undefined],
      ['skipped', 'not run: b failed'],
    ]);
    expect(report.steps[1]!.error).toMatchObject({ code: 'THROTTLED', call: 'KMS.DescribeKey' });
    expect(report.steps[1]!.error!.hint).toContain('throttled');
  });

  it('run <step> reads unselected dependencies for their outputs without planning or applying them', async () => {
    const { entries, log, seen } = catalog({
      a: { out: { kmsKeyArn: 'arn:k' }, changes: [create('A')] },
      b: { deps: ['a'], readAfter: ['a'], changes: [update('B')] },
    });
    const { report } = await run(entries, ['b'], new TestIo({ 'runner.apply': true }));
    expect(log).toEqual(['read a', 'read b', 'apply b']);
    expect(seen.b).toEqual({ kmsKeyArn: 'arn:k' });
    expect(report.steps.map((s) => s.id)).toEqual(['b']);
  });

  it('a dependency that does not exist yet names the step to run first', async () => {
    const { entries } = catalog({ a: { exists: false }, b: { deps: ['a'] } });
    const error = await run(entries, ['b'], new TestIo({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('DEPENDENCY_MISSING');
    expect((error as StepError).hint).toContain('ssm-setup run a');
  });

  it('the wizard merges answers into the settings and re-validates them', async () => {
    const { entries } = catalog({ a: { answers: { idleTimeout: 30 } } });
    const { loaded } = await runSteps({
      command: 'init',
      mode: 'apply',
      wizard: true,
      io: new TestIo({}),
      aws: testClients(),
      loaded: await settingsFrom(),
      catalog: entries,
      selected: entries,
    });
    expect(loaded.settings.idleTimeout).toBe(30);
    expect(loaded.sources.idleTimeout).toBe('prompt');
    const bad = catalog({ a: { answers: { idleTimeout: 99 } } });
    const error = await runSteps({
      command: 'init',
      mode: 'apply',
      wizard: true,
      io: new TestIo({}),
      aws: testClients(),
      loaded: await settingsFrom(),
      catalog: bad.entries,
      selected: bad.entries,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('INVALID_SETTINGS');
  });

  it('orders dependencies before the steps that need them', () => {
    const { entries } = catalog({ a: {}, b: { deps: ['a'] }, c: { deps: ['b'] }, d: {} });
    expect(withDependencies([entries[2]!], entries).map((e) => e.id)).toEqual(['a', 'b', 'c']);
  });
});
