// Issue 13, item 3: two runs at once. The runner takes the region's lease only when there is
// something to apply, after the confirmation and before the first write; re-reads and re-plans
// under it; releases it at the end, after a failure too (issue 15: the parameter stays,
// released); and a second run stops with LEASE_HELD.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LEASE_PARAMETER, type LeaseRecord, leaseTiming } from '../../src/aws/lease.js';
import { type SetupError, UsageError } from '../../src/base/errors.js';
import type { AnyStep, Change } from '../../src/core/step.js';
import type { StepEntry } from '../../src/engine/catalog.js';
import { runSteps } from '../../src/engine/runner.js';
import { mockIdentity } from '../helpers/aws.js';
import { type FakeParameters, fakeParameters } from '../helpers/fake-parameters.js';
import { settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const BOB: LeaseRecord = {
  holder: 'arn:aws:iam::123456789012:user/bob on laptop (pid 7)',
  command: 'ssm-setup init',
  started: new Date(Date.now() - 60_000).toISOString(),
  expires: new Date(Date.now() + 9 * 60_000).toISOString(),
};

/** The lease as a run leaves it: the parameter stays, our record released (issue 15). */
const released = () => {
  const lease = fake.value(LEASE_PARAMETER) as LeaseRecord | undefined;
  return !!lease?.released && lease.holder !== BOB.holder;
};

let sts: ReturnType<typeof mockIdentity>;
let fake: FakeParameters;
const timing = { ...leaseTiming };
beforeEach(() => {
  sts = mockIdentity();
  fake = fakeParameters();
});
afterEach(() => {
  fake.mock.restore();
  sts.restore();
  Object.assign(leaseTiming, timing);
  vi.useRealTimers();
});

/** What each step sees and makes: `world[id]` true once it exists. */
interface World {
  [id: string]: boolean | undefined;
}

/** Steps that create their resource unless `world` has it; `log` records reads, applies and who held the lease then. */
function catalog(ids: string[], world: World, opts: { failApply?: string; onApply?: (id: string) => void; usageError?: string } = {}) {
  const log: string[] = [];
  const entries: StepEntry[] = ids.map((id) => {
    const step: AnyStep = {
      id,
      read: async () => {
        log.push(`read ${id}`);
        return { exists: world[id] === true };
      },
      plan: (state) =>
        (state as { exists: boolean }).exists ? [] : [{ kind: 'create', action: 'create', resource: `thing ${id}`, detail: 'new' } satisfies Change],
      apply: async () => {
        const lease = fake.value(LEASE_PARAMETER) as LeaseRecord | undefined;
        log.push(`apply ${id} (lease ${lease && !lease.released ? 'held' : 'none'})`);
        opts.onApply?.(id);
        if (opts.usageError === id) throw new UsageError('INVALID_SETTINGS', 'bad');
        if (opts.failApply === id) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $ssmSetupCall: 'KMS.CreateKey' });
        world[id] = true;
        return {};
      },
      outputs: () => ({}),
    };
    return { id, title: `step ${id}`, dependsOn: [], load: async () => step };
  });
  return { entries, log };
}

async function run(entries: StepEntry[], io: TestIo, lease: { forceUnlock?: boolean } = {}) {
  return runSteps({ command: 'init', mode: 'apply', io, aws: testClients(), loaded: await settingsFrom(), catalog: entries, selected: entries, lease });
}

describe('the lease of a run', () => {
  it('is read beside the identity but not taken when nothing changes: a converged rerun writes nothing', async () => {
    const { entries } = catalog(['a', 'b'], { a: true, b: true });
    const { report } = await run(entries, new TestIo({}));
    expect(report.ok).toBe(true);
    expect(fake.calls()).toEqual(['GetParameterCommand']);
  });

  it('is not taken for a change of this machine only (the SSH config): the account is not written', async () => {
    const { entries, log } = catalog(['ssh-config'], {});
    const { report } = await run(entries, new TestIo({ 'runner.apply': true }));
    expect(report.steps[0]!.status).toBe('created');
    expect(log).toEqual(['read ssh-config', 'apply ssh-config (lease none)']);
    expect(fake.calls()).toEqual([]);
  });

  it('is not taken when the plan is declined', async () => {
    const { entries } = catalog(['a'], {});
    await expect(run(entries, new TestIo({ 'runner.apply': false }))).rejects.toMatchObject({ code: 'DECLINED' });
    expect(fake.calls()).toEqual(['GetParameterCommand']);
  });

  it('under --yes, a lease that nobody held since it was read before the plan spares the plan under it', async () => {
    const { entries, log } = catalog(['a', 'b'], {});
    fake.put(LEASE_PARAMETER, { ...BOB, released: BOB.started });
    fake.beforeNextPut(() => log.push('lease'));
    const { report } = await run(entries, new TestIo({ 'runner.apply': true }, { interactive: false }));
    expect(report.ok).toBe(true);
    expect(log).toEqual(['read a', 'read b', 'lease', 'apply a (lease held)', 'apply b (lease held)']);
    // The lease was read first (before the plan's reads), then taken over in one write; released after a read.
    expect(fake.calls()).toEqual(['GetParameterCommand', 'PutParameterCommand', 'PutParameterCommand']);
    expect(released()).toBe(true);
  });

  it('under --yes, a lease another run took and released after it was read makes the run plan again under it', async () => {
    const { entries, log } = catalog(['a'], {});
    const carol = { ...BOB, holder: 'arn:aws:iam::123456789012:user/carol on ci (pid 9)' };
    fake.beforeNextPut(() => {
      // Carol's whole run fits between our read of the lease and our take.
      fake.put(LEASE_PARAMETER, carol);
      fake.put(LEASE_PARAMETER, { ...carol, released: carol.started });
      log.push('carol ran');
    });
    const { report } = await run(entries, new TestIo({ 'runner.apply': true }, { interactive: false }));
    expect(report.ok).toBe(true);
    expect(log).toEqual(['read a', 'carol ran', 'read a', 'apply a (lease held)']);
    expect(released()).toBe(true);
  });

  it('is taken after the confirmation and before the first write, held while applying, and released at the end', async () => {
    const { entries, log } = catalog(['a', 'b'], {});
    const io = new TestIo({ 'runner.apply': true });
    let promptsAtLease: string[] = [];
    fake.beforeNextPut(() => {
      promptsAtLease = [...io.prompts];
      log.push('lease');
    });
    const { report } = await run(entries, io);
    expect(report.ok).toBe(true);
    expect(promptsAtLease).toEqual(['runner.apply']);
    // Read, confirm, lease, read again under it, apply.
    expect(log).toEqual(['read a', 'read b', 'lease', 'read a', 'read b', 'apply a (lease held)', 'apply b (lease held)']);
    expect(released()).toBe(true);
    expect(io.prompts).toEqual(['runner.apply']);
  });

  it('a second run meanwhile stops with LEASE_HELD naming the holder, and applies nothing', async () => {
    fake.put(LEASE_PARAMETER, BOB);
    const { entries, log } = catalog(['a'], {});
    const error = (await run(entries, new TestIo({ 'runner.apply': true })).catch((e: unknown) => e)) as SetupError;
    expect(error.code).toBe('LEASE_HELD');
    expect(error.message).toContain(BOB.holder);
    expect(error.message).toContain(BOB.expires);
    expect(log).toEqual(['read a']);
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
  });

  it('--force-unlock removes the lease first, warning whose it was, then runs', async () => {
    fake.put(LEASE_PARAMETER, BOB);
    const { entries, log } = catalog(['a'], {});
    const io = new TestIo({ 'runner.apply': true });
    const { report } = await run(entries, io, { forceUnlock: true });
    expect(report.ok).toBe(true);
    expect(io.lines.find((l) => l.startsWith('warn: --force-unlock'))).toContain(BOB.holder);
    expect(log).toContain('apply a (lease held)');
    expect(released()).toBe(true);
  });

  it('is released after a failed step, and after a thrown error', async () => {
    const failed = catalog(['a', 'b'], {}, { failApply: 'a' });
    const { report } = await run(failed.entries, new TestIo({ 'runner.apply': true }));
    expect(report.steps.map((s) => s.status)).toEqual(['failed', 'skipped']);
    expect(released()).toBe(true);

    const thrown = catalog(['a'], {}, { usageError: 'a' });
    await expect(run(thrown.entries, new TestIo({ 'runner.apply': true }))).rejects.toMatchObject({ code: 'INVALID_SETTINGS' });
    expect(released()).toBe(true);
  });

  it('when another run did the work between our plan and our lease, applies nothing and asks nothing more', async () => {
    const world: World = {};
    const { entries, log } = catalog(['a', 'b'], world);
    fake.beforeNextPut(() => Object.assign(world, { a: true, b: true }));
    const io = new TestIo({ 'runner.apply': true });
    const { report } = await run(entries, io);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
    expect(log.filter((l) => l.startsWith('apply'))).toEqual([]);
    expect(io.prompts).toEqual(['runner.apply']);
    expect(io.plans).toHaveLength(2);
  });

  it('when the plan under the lease differs, shows it and asks again; only the new plan is applied', async () => {
    const world: World = {};
    const { entries, log } = catalog(['a', 'b'], world);
    fake.beforeNextPut(() => Object.assign(world, { a: true }));
    const io = new TestIo({ 'runner.apply': true, 'runner.apply-replanned': true });
    const { report } = await run(entries, io);
    expect(io.prompts).toEqual(['runner.apply', 'runner.apply-replanned']);
    expect(io.plans.at(-1)!.steps.map((s) => s.status)).toEqual(['unchanged', 'pending']);
    expect(log.filter((l) => l.startsWith('apply'))).toEqual(['apply b (lease held)']);
    expect(report.steps.map((s) => s.status)).toEqual(['unchanged', 'created']);
  });

  it('a declined new plan writes nothing and releases the lease', async () => {
    const world: World = {};
    const { entries, log } = catalog(['a', 'b'], world);
    fake.beforeNextPut(() => Object.assign(world, { a: true }));
    const io = new TestIo({ 'runner.apply': true, 'runner.apply-replanned': false });
    await expect(run(entries, io)).rejects.toMatchObject({ code: 'DECLINED' });
    expect(log.filter((l) => l.startsWith('apply'))).toEqual([]);
    expect(released()).toBe(true);
  });

  it('is renewed between steps when less than half remains; a lost lease stops the run before the next step', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { entries, log } = catalog(
      ['a', 'b', 'c'],
      {},
      {
        onApply: (id) => {
          // Step a takes 6 of the 10 minutes; during step b another run takes the lease over.
          vi.setSystemTime(Date.now() + 6 * 60_000);
          if (id === 'b') fake.put(LEASE_PARAMETER, BOB);
        },
      },
    );
    const { report } = await run(entries, new TestIo({ 'runner.apply': true }));
    const puts = fake.mock.calls().filter((c) => c.args[0].constructor.name === 'PutParameterCommand');
    expect(puts.map((c) => (c.args[0].input as { Overwrite?: boolean }).Overwrite)).toEqual([false, true]);
    expect(log.filter((l) => l.startsWith('apply'))).toEqual(['apply a (lease held)', 'apply b (lease held)']);
    expect(report.steps.map((s) => s.status)).toEqual(['created', 'created', 'failed']);
    expect(report.steps[2]!.error?.code).toBe('LEASE_HELD');
    // Bob's lease is his: not removed.
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
  });
});
