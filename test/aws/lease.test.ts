// Issue 13, item 3: two runs at once. The lease is one SSM parameter per region, taken with
// PutParameter without Overwrite (a compare-and-set), against a Parameter Store as strict as AWS.
// Issue 15: the parameter stays, released, after a run (its versions one history), and a lease
// read before the plan (`seen`) is taken without reading it again.
import { hostname } from 'node:os';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeLease, forceUnlock, isFree, LEASE_PARAMETER, type LeaseRecord, leaseTiming, readLease, takeLease, withLease } from '../../src/aws/lease.js';
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
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: new Date(T0).toISOString() });
  });
});

describe('a held lease', () => {
  it('is released at the end, and only if still ours', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    await lease.release();
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: new Date(T0).toISOString() });

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
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: new Date(T0 + 15 * MINUTE).toISOString() });
    expect(leaseTiming.heartbeatMs).toBeLessThan(leaseTiming.ttlMs / 2);
  });
});

describe('forceUnlock', () => {
  it('releases whatever lease there is, warning with its holder; without one it writes nothing', async () => {
    const io = new TestIo();
    expect(await forceUnlock(aws(), io)).toBeUndefined();
    expect(fake.writes()).toEqual([]);

    fake.put(LEASE_PARAMETER, BOB);
    await forceUnlock(aws(), io);
    // Bob's record, released: the version history goes on (no delete).
    expect(fake.value(LEASE_PARAMETER)).toEqual({ ...BOB, expires: new Date(T0).toISOString(), released: new Date(T0).toISOString() });
    expect(fake.params.get(LEASE_PARAMETER)!.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(io.lines.filter((l) => l.startsWith('warn:')).join('\n')).toContain(BOB.holder);
  });

  it('writes nothing for a released lease; an expired one is released too, naming its holder', async () => {
    const io = new TestIo();
    fake.put(LEASE_PARAMETER, { ...BOB, released: new Date(T0 - 1).toISOString() });
    expect(await forceUnlock(aws(), io)).toBeUndefined();
    expect(fake.writes()).toEqual([]);
    expect(io.lines.filter((l) => l.startsWith('warn:'))).toEqual([]);

    fake.put(LEASE_PARAMETER, STALE);
    await forceUnlock(aws(), io);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: BOB.holder, released: new Date(T0).toISOString() });
    expect(io.lines.filter((l) => l.startsWith('warn:')).join('\n')).toContain(BOB.holder);
  });

  it('a lease this run holds, once forced open by another operator, is lost: renewal throws LEASE_HELD, the release leaves it released', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    await forceUnlock(aws(), new TestIo());
    vi.setSystemTime(T0 + 6 * MINUTE);
    expect((await held(() => lease.renewIfDue()))?.code).toBe('LEASE_HELD');
    await lease.release();
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: expect.any(String) });
  });
});

describe('a release checked by its version', () => {
  it('forced open meanwhile (a released record before ours): one overwrite, and the release stands', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    await forceUnlock(aws(), new TestIo());
    fake.mock.resetHistory();
    await lease.release();
    // Not the next version after our take: the one before ours is read, released, so nothing more.
    expect(fake.calls()).toEqual(['PutParameterCommand', 'GetParameterCommand']);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: expect.any(String) });
  });

  it('deleted meanwhile (a destroy): the release makes version 1 and reads nothing before it', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    vi.setSystemTime(T0 + 2 * MINUTE);
    await lease.renewIfDue(); // not due: nothing written
    fake.params.delete(LEASE_PARAMETER);
    fake.mock.resetHistory();
    await lease.release();
    expect(fake.calls()).toEqual(['PutParameterCommand']);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: expect.any(String) });
  });

  it('a renewal that found the lease lost: the release writes nothing', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    vi.setSystemTime(T0 + 6 * MINUTE);
    const carol = { ...BOB, holder: 'carol', expires: new Date(T0 + 20 * MINUTE).toISOString() };
    fake.put(LEASE_PARAMETER, carol);
    expect((await held(() => lease.renewIfDue()))?.code).toBe('LEASE_HELD');
    fake.mock.resetHistory();
    await lease.release();
    expect(fake.calls()).toEqual([]);
    expect(fake.value(LEASE_PARAMETER)).toEqual(carol);
  });
});

describe('a released lease', () => {
  const RELEASED: LeaseRecord = { ...BOB, expires: new Date(T0 - MINUTE).toISOString(), released: new Date(T0 - MINUTE).toISOString() };

  it('is one overwrite at the end: the same record plus `released`, the next version of our take, so no read', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    vi.setSystemTime(T0 + 2 * MINUTE);
    await lease.release();
    expect(fake.calls()).toEqual(['PutParameterCommand', 'PutParameterCommand']);
    expect(fake.mock.calls()[1]!.args[0].input).toMatchObject({ Overwrite: true });
    const at = new Date(T0 + 2 * MINUTE).toISOString();
    expect(fake.value(LEASE_PARAMETER)).toEqual({ holder: ME, command: 'ssm-setup init', started: new Date(T0).toISOString(), expires: at, released: at });
    expect(fake.params.get(LEASE_PARAMETER)!.versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('is free: the next run takes it over without LEASE_HELD', async () => {
    fake.put(LEASE_PARAMETER, RELEASED, { ManagedBy: 'ssm-setup' });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(fake.value(LEASE_PARAMETER)).not.toHaveProperty('released');
    expect(lease.undisturbed).toBe(false);
  });

  it('a record with a `released` that is not a time is not ours: held, never taken over', async () => {
    fake.put(LEASE_PARAMETER, { ...RELEASED, released: 'soon' });
    expect((await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init')))?.code).toBe('LEASE_HELD');
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ released: 'soon' });
  });

  it('of a lease that expired and was taken over, the release sees a write between and puts that run\u2019s record back', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init');
    vi.setSystemTime(T0 + 11 * MINUTE);
    const bob = { ...BOB, started: new Date(T0 + 11 * MINUTE).toISOString(), expires: new Date(T0 + 21 * MINUTE).toISOString() };
    fake.put(LEASE_PARAMETER, bob);
    await lease.release();
    expect(fake.value(LEASE_PARAMETER)).toEqual(bob);
    // Our take, our release (checked by its version: not the next after ours), bob's record put back.
    expect(fake.writes()).toEqual(['PutParameterCommand', 'PutParameterCommand', 'PutParameterCommand']);
  });

  it('with `remove` (destroy), the parameter is deleted, and only if still ours', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup destroy');
    await lease.release({ remove: true });
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);

    const again = await takeLease(aws(), IDENTITY, 'ssm-setup destroy');
    fake.put(LEASE_PARAMETER, BOB);
    await again.release({ remove: true });
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);
  });

  it('withLease leaves the lease released after the work (removed with `remove`), and only warns when it cannot be released', async () => {
    const io = new TestIo();
    expect(await withLease(aws(), IDENTITY, 'ssm-setup init', io, async (l) => l.expires)).toBe(new Date(T0 + 10 * MINUTE).toISOString());
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: new Date(T0).toISOString() });

    await withLease(aws(), IDENTITY, 'ssm-setup destroy', io, async () => {}, { remove: true });
    expect(fake.params.has(LEASE_PARAMETER)).toBe(false);

    let denied = false;
    fake.beforeNextPut(() => {});
    fake.beforeNextPut(() => {
      denied = true;
      throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    });
    await expect(withLease(aws(), IDENTITY, 'ssm-setup init', io, async () => 'done')).resolves.toBe('done');
    expect(denied).toBe(true);
    expect(io.lines.filter((l) => l.startsWith('warn: could not release'))).toHaveLength(1);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(fake.value(LEASE_PARAMETER)).not.toHaveProperty('released');
  });
});

describe('isFree and describeLease', () => {
  it('absent, released and expired leases are free; a live or unreadable one is held', async () => {
    const state = (value: string | object) => {
      fake.put(LEASE_PARAMETER, value);
      return readLease(aws());
    };
    expect(isFree(null)).toBe(true);
    expect(isFree(undefined)).toBe(true);
    expect(isFree(await state({ ...BOB, released: new Date(T0).toISOString() }))).toBe(true);
    expect(isFree(await state(STALE))).toBe(true);
    expect(isFree(await state(BOB))).toBe(false);
    expect(isFree(await state('not json'))).toBe(false);
    const released = (await state({ ...BOB, released: new Date(T0).toISOString() }))!;
    expect(describeLease(released)).toContain(`released at ${new Date(T0).toISOString()}`);
    expect(describeLease(released)).toContain(BOB.holder);
  });
});

describe('takeLease with the lease read before the plan (`seen`)', () => {
  const RELEASED: LeaseRecord = { ...BOB, expires: new Date(T0 - MINUTE).toISOString(), released: new Date(T0 - MINUTE).toISOString() };
  const CAROL: LeaseRecord = {
    holder: 'carol on ci (pid 9)',
    command: 'ssm-setup init',
    started: new Date(T0).toISOString(),
    expires: new Date(T0 + 10 * MINUTE).toISOString(),
  };
  const carolReleased = { ...CAROL, expires: new Date(T0).toISOString(), released: new Date(T0).toISOString() };
  const versions = () => fake.params.get(LEASE_PARAMETER)!.versions.map((v) => v.version);

  it('absent: one create, the first version, undisturbed', async () => {
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', null);
    expect(fake.calls()).toEqual(['PutParameterCommand']);
    expect(fake.mock.calls()[0]!.args[0].input).toMatchObject({ Overwrite: false, Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] });
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(lease.undisturbed).toBe(true);
  });

  it('released: one overwrite (no Tags), the next version, undisturbed; the release is one more overwrite', async () => {
    fake.put(LEASE_PARAMETER, RELEASED);
    fake.put(LEASE_PARAMETER, RELEASED);
    const seen = await readLease(aws());
    fake.mock.resetHistory();
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', seen);
    expect(fake.calls()).toEqual(['PutParameterCommand']);
    const input = fake.mock.calls()[0]!.args[0].input as Record<string, unknown>;
    expect(input).toMatchObject({ Overwrite: true });
    expect(input.Tags).toBeUndefined();
    expect(lease.undisturbed).toBe(true);
    expect(versions()).toEqual([1, 2, 3]);
    await lease.release();
    expect(fake.calls()).toEqual(['PutParameterCommand', 'PutParameterCommand']);
    expect(versions()).toEqual([1, 2, 3, 4]);
  });

  it('expired (a crashed run): taken over the same way, undisturbed', async () => {
    fake.put(LEASE_PARAMETER, STALE);
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', await readLease(aws()));
    expect(fake.writes()).toEqual(['PutParameterCommand']);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(lease.undisturbed).toBe(true);
  });

  it('released, then taken and released by another run before our take: ours is put back, the lease taken again, not undisturbed', async () => {
    fake.put(LEASE_PARAMETER, RELEASED);
    const seen = await readLease(aws());
    fake.beforeNextPut(() => {
      fake.put(LEASE_PARAMETER, CAROL);
      fake.put(LEASE_PARAMETER, carolReleased);
    });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', seen);
    expect(lease.undisturbed).toBe(false);
    const values = fake.params.get(LEASE_PARAMETER)!.versions.map((v) => JSON.parse(v.value) as LeaseRecord);
    // 1 seen, 2-3 carol's run, 4 our overwrite (lost), 5 carol's release put back, 6 our take.
    expect(values.map((v) => v.holder)).toEqual([BOB.holder, CAROL.holder, CAROL.holder, ME, CAROL.holder, ME]);
    expect(values[4]).toEqual(carolReleased);
    expect(values[5]).not.toHaveProperty('released');
  });

  it('released, then taken by another run that still holds it: LEASE_HELD naming it, its value put back', async () => {
    fake.put(LEASE_PARAMETER, RELEASED);
    const seen = await readLease(aws());
    fake.beforeNextPut(() => fake.put(LEASE_PARAMETER, CAROL));
    const error = await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init', seen));
    expect(error?.code).toBe('LEASE_HELD');
    expect(error?.message).toContain(CAROL.holder);
    expect(fake.value(LEASE_PARAMETER)).toEqual(CAROL);
  });

  it('absent, then created by another run: LEASE_HELD; created and released meanwhile: taken over, not undisturbed', async () => {
    fake.beforeNextPut(() => fake.put(LEASE_PARAMETER, CAROL));
    expect((await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init', null)))?.code).toBe('LEASE_HELD');
    expect(fake.value(LEASE_PARAMETER)).toEqual(CAROL);

    fake.params.clear();
    fake.beforeNextPut(() => {
      fake.put(LEASE_PARAMETER, CAROL);
      fake.put(LEASE_PARAMETER, carolReleased);
    });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', null);
    expect(lease.undisturbed).toBe(false);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
    expect(versions()).toEqual([1, 2, 3]);
  });

  it('absent, and our create retried by the SDK after its answer was lost: ours, version 1, undisturbed', async () => {
    fake.put(LEASE_PARAMETER, {
      holder: ME,
      command: 'ssm-setup init',
      started: new Date(T0).toISOString(),
      expires: new Date(T0 + 10 * MINUTE).toISOString(),
    });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', null);
    expect(lease.undisturbed).toBe(true);
    expect(fake.writes()).toEqual(['PutParameterCommand']);
  });

  it('held by a live run when read: read again, not trusted; still held → LEASE_HELD, released since → taken, not undisturbed', async () => {
    fake.put(LEASE_PARAMETER, BOB);
    const seen = await readLease(aws());
    expect((await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init', seen)))?.code).toBe('LEASE_HELD');
    expect(fake.value(LEASE_PARAMETER)).toEqual(BOB);

    fake.put(LEASE_PARAMETER, { ...BOB, released: new Date(T0).toISOString() });
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', seen);
    expect(lease.undisturbed).toBe(false);
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME });
  });

  it('an unreadable value when read is held: never taken over, whatever `seen` says', async () => {
    fake.put(LEASE_PARAMETER, 'not json');
    const seen = await readLease(aws());
    expect((await held(() => takeLease(aws(), IDENTITY, 'ssm-setup init', seen)))?.code).toBe('LEASE_HELD');
    expect(fake.value(LEASE_PARAMETER)).toBe('not json');
  });

  it('without `seen`, never undisturbed', async () => {
    expect((await takeLease(aws(), IDENTITY, 'ssm-setup init')).undisturbed).toBe(false);
  });

  it('withLease passes `seen` on', async () => {
    fake.put(LEASE_PARAMETER, RELEASED);
    const seen = await readLease(aws());
    fake.mock.resetHistory();
    const undisturbed = await withLease(aws(), IDENTITY, 'ssm-setup init', new TestIo(), async (l) => l.undisturbed, { seen });
    expect(undisturbed).toBe(true);
    expect(fake.calls()).toEqual(['PutParameterCommand', 'PutParameterCommand']);
  });

  it('after a race of two takes, the winner releases it even though the loser put its value back after it (review)', async () => {
    fake.put(LEASE_PARAMETER, RELEASED);
    const seen = (await readLease(aws()))!;
    // We win (version 2); the loser's overwrite (3) and its put-back of our value (4) come after.
    const lease = await takeLease(aws(), IDENTITY, 'ssm-setup init', seen);
    const ours = fake.value(LEASE_PARAMETER);
    fake.put(LEASE_PARAMETER, { ...BOB, started: new Date(T0).toISOString() });
    fake.put(LEASE_PARAMETER, ours as object);
    await lease.release();
    expect(fake.value(LEASE_PARAMETER)).toMatchObject({ holder: ME, released: expect.any(String) });
  });
});

describe('the fake Parameter Store, for the lease', () => {
  it('answers PutParameter with the version it made, and GetParameter name:version for every version kept', async () => {
    const client = aws().get(SSMClient);
    const put = (Value: string, Overwrite: boolean) => client.send(new PutParameterCommand({ Name: LEASE_PARAMETER, Value, Type: 'String', Overwrite }));
    expect((await put('a', false)).Version).toBe(1);
    expect((await put('b', true)).Version).toBe(2);
    for (let i = 0; i < 100; i++) await put(`v${i + 3}`, true);
    expect((await readLease(aws(), 3))?.value).toBe('v3');
    expect((await readLease(aws(), 102))?.value).toBe('v102');
    // The oldest versions are gone (100 kept).
    expect(await readLease(aws(), 2)).toBeUndefined();
  });
});
