// Issue 13, item 3: two runs at once. The lease is one SSM parameter per region, taken with
// PutParameter without Overwrite (a compare-and-set), against a Parameter Store as strict as AWS.
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forceUnlock, LEASE_PARAMETER, type LeaseRecord, leaseTiming, takeLease } from '../../src/aws/lease.js';
import type { SetupError } from '../../src/base/errors.js';
import { type FakeParameters, fakeParameters, parameterNameProblem } from '../helpers/fake-parameters.js';
import { IDENTITY, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const T0 = Date.parse('2025-01-01T10:00:00.000Z');
const MINUTE = 60_000;
const ME = `${IDENTITY.arn} on ${hostname()} (pid ${process.pid})`;
const BOB: LeaseRecord = {
  holder: 'arn:aws:iam::123456789012:user/bob on laptop (pid 7)',
  command: 'ssm-setup init',
  started: new Date(T0 - MINUTE).toISOString(),
  expires: new Date(T0 + 9 * MINUTE).toISOString(),
};
const STALE: LeaseRecord = { ...BOB, expires: new Date(T0 - 1).toISOString() };

let fake: FakeParameters;
const aws = () => testClients();
const held = (fn: () => Promise<unknown>) =>
  fn().then(
    () => undefined,
    (e: SetupError) => e,
  );

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
  fake = fakeParameters();
});
afterEach(() => {
  fake.mock.restore();
  vi.useRealTimers();
});

describe('the fake Parameter Store', () => {
  it('keeps the naming rules of SSM: nothing that begins with aws or ssm, hierarchies fully qualified', () => {
    for (const name of ['/ssm-setup/lease', 'ssm-lease', '/aws/x', 'AWSlease', 'app/lease', '/app/le ase'])
      expect(parameterNameProblem(name), name).toBeDefined();
    expect(parameterNameProblem(LEASE_PARAMETER)).toBeUndefined();
  });
});

describe('takeLease', () => {
  it('creates the parameter once (Overwrite false, Standard, tagged ours) naming the caller, host and pid, for 10 minutes', async () => {
    await takeLease(aws(), IDENTITY, 'ssm-setup init');
    const input = fake.mock.calls()[0]!.args[0].input as Record<string, unknown>;
    expect(input).toMatchObject({
      Name: LEASE_PARAMETER,
      Type: 'String',
      Tier: 'Standard',
      Overwrite: false,
      Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }],
    });
    expect(fake.value(LEASE_PARAMETER)).toEqual({
      holder: ME,
      command: 'ssm-setup init',
      started: new Date(T0).toISOString(),
      expires: new Date(T0 + 10 * MINUTE).toISOString(),
    });
    expect(fake.params.get(LEASE_PARAMETER)!.tags).toEqual({ ManagedBy: 'ssm-setup' });
    expect(fake.writes()).toEqual(['PutParameterCommand']);
  });

  it('a second run gets LEASE_HELD naming the holder and when the lease expires, and writes nothing', async () => {
    fake.put(LEASE_PARAMETER, BOB);
    const error = await held(() => takeLease(aws(), IDENTITY, 'ssm-setup run kms-key'));
    expect(error?.code).toBe('LEASE_HELD');
    expect(error?.message).toContain(BOB.holder);
    expect(error?.message).toContain(BOB.expires);
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
    expect(fake.params.get(LEASE_PARAMETER)!.versions).toHaveLength(1);
  });

  it('a value that is not a lease is held too (never taken over): --force-unlock clears it', async () => {
    fake.put(LEASE_PARAMETER, 'not json');
    expect((await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init')))?.code).toBe('LEASE_HELD');
    expect(fake.value(LEASE_PARAMETER)).toBe('not json');
  });

  it('takes over an expired lease (a crashed run) without sending Tags with Overwrite', async () => {
    fake.put(LEASE_PARAMETER, STALE, { ManagedBy: 'ssm-setup' });
    await takeLease(aws(), IDENTITY, 'ssm-setup init');
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(fake.params.get(LEASE_PARAMETER)!.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('of two runs taking over one expired lease, only the first writer holds it; the other puts its value back', async () => {
    fake.put(LEASE_PARAMETER, STALE);
    const carol = { ...BOB, holder: 'carol on ci (pid 9)', started: new Date(T0).toISOString(), expires: new Date(T0 + 10 * MINUTE).toISOString() };
    // Our create fails (it exists); between our read of the stale lease and our overwrite, carol takes it over.
    fake.beforeNextPut(() => {});
    fake.beforeNextPut(() => fake.put(LEASE_PARAMETER, carol));
    const error = await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init'));
    expect(error?.code).toBe('LEASE_HELD');
    expect(error?.message).toContain('carol');
    expect(fake.value(LEASE_PARAMETER)).toEqual(carol);
  });

  it('a create whose answer was lost and was retried finds its own lease and holds it', async () => {
    fake.put(LEASE_PARAMETER, {
      holder: ME,
      command: 'ssm-setup init',
      started: new Date(T0).toISOString(),
      expires: new Date(T0 + 10 * MINUTE).toISOString(),
    });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    await lease.release();
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);
  });
});

describe('a held lease', () => {
  it('is released at the end, and only if still ours', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    await lease.release();
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);

    const again = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    fake.put(LEASE_PARAMETER, BOB); // ours expired and bob took it over
    await again.release();
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
  });

  it('is renewed only when less than half of its time remains, and only while ours', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    vi.setSystemTime(T0 + 4 * MINUTE);
    await lease.renewIfDue();
    expect(fake.writes()).toEqual(['PutParameterCommand']);

    vi.setSystemTime(T0 + 6 * MINUTE);
    await lease.renewIfDue();
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, expires: new Date(T0 + 16 * MINUTE).toISOString() });
    expect(lease.expires).toBe(new Date(T0 + 16 * MINUTE).toISOString());

    vi.setSystemTime(T0 + 12 * MINUTE);
    fake.put(LEASE_PARAMETER, BOB);
    expect((await held(() => lease.renewIfDue()))?.code).toBe('LEASE_HELD');
    // Lost for good: the run must stop, and bob's lease stays.
    expect((await held(() => lease.renewIfDue()))?.code).toBe('LEASE_HELD');
    await lease.release();
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
  });

  it('keeps itself alive in the background while a long step runs', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(T0);
    const lease = (await takeLease(aws(), IDENTITY, 'ssm-setup init')).keepAlive();
    await vi.advanceTimersByTimeAsync(15 * MINUTE);
    expect(Date.parse((fake.value(LEASE_PARAMETER) as LeaseRecord).expires)).toBeGreaterThan(T0 + 15 * MINUTE);
    await lease.release();
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);
    expect(leaseTiming.heartbeatMs).toBeLessThan(leaseTiming.ttlMs / 2);
  });
});

describe('forceUnlock', () => {
  it('removes whatever lease there is, warning with its holder; without one it writes nothing', async () => {
    const io = new TestIo();
    expect(await forceUnlock(aws(), io)).toBeUndefined();
    expect(fake.writes()).toEqual([]);

    fake.put(LEASE_PARAMETER, BOB);
    await forceUnlock(aws(), io);
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);
    expect(io.lines.filter((l) => l.startsWith('warn:')).join('\n')).toContain(BOB.holder);
  });
});
