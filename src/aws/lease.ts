import { hostname } from 'node:os';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsError } from '../base/errors.js';
import { MANAGED_BY_TAG } from '../config/schema.js';
import type { Clients, Identity } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { errorName, unlessMissing } from './errors.js';
import {
  describeLease,
  firstAfter,
  heldBy,
  isFree,
  iso,
  LEASE_PARAMETER,
  type LeaseRecord,
  type LeaseState,
  overwrite,
  readLease,
  releasedOf,
} from './lease-record.js';

export { describeLease, isFree, LEASE_PARAMETER, type LeaseRecord, type LeaseState, readLease } from './lease-record.js';

/*
 * The lease: one SSM parameter per region (LEASE_PARAMETER) that says which run is changing the
 * region. Two runs at once would both create a key (one orphaned) and every association twice;
 * the one that does not get the lease stops with LEASE_HELD. A parameter, not a tag on something
 * of ours, because PutParameter without Overwrite is a compare-and-set (ParameterAlreadyExists),
 * tags are not.
 *
 * The parameter stays after a run: the release overwrites it with a released record (who ran
 * last, and when it ended); only destroy deletes it (`remove`). Parameter Store numbers every
 * write of a name, so while the parameter is not deleted its versions are one history, and "our
 * write made version n + 1" proves that nobody wrote between our read of version n and our
 * write (`firstAfter`). That lets a run read the lease before its plan's reads and take it
 * without reading it again (`seen`), and skip the re-plan when the take was the next write.
 * The one gap: a delete restarts the versions at 1, and destroy deletes. A destroy that takes
 * and deletes the lease in full between a run's read of an absent lease and that run's create
 * goes unseen: the create makes version 1 all the same (so does a release by an older
 * ssm-setup, which deleted the lease). Every other write in between, a delete followed by a
 * write included, moves the version and is detected (short of a delete followed by exactly as
 * many writes as the version read, all within one run's plan). Known weakness: with three or
 * more runs overwriting the same free version at once, a loser puts back the version before its
 * own write, which may be another loser's record: the winner applies while the record names a
 * run that stopped, so others see LEASE_HELD until it expires (10 minutes, or --force-unlock).
 * Likewise a release that lands between a take's losing write and that loser's put-back takes
 * the loser's record for another run's and puts it back (a run applies for a second at least, a
 * loser puts back within two round trips of its write).
 */

/** How long a lease lasts unless renewed, and how often a held lease looks whether it is due; tests shorten them. */
export const leaseTiming = { ttlMs: 10 * 60_000, heartbeatMs: 60_000 };

/** How `withLease` takes the lease and gives it back. */
export interface LeaseOptions {
  /** The lease as read before the plan's reads (takeLease's `seen`; null: absent). */
  readonly seen?: LeaseState | null;
  /** Delete the parameter at the end instead of leaving a released record: destroy leaves nothing of ours. */
  readonly remove?: boolean;
}

function held(s: LeaseState | undefined, region: string, lost = false): AwsError {
  const who = s ? describeLease(s) : 'another run';
  return new AwsError(
    'LEASE_HELD',
    `${lost ? 'this run lost the lease to' : 'another ssm-setup run is changing'} region ${region}: ${who} (SSM parameter ${LEASE_PARAMETER})`,
    {
      hint: s?.record
        ? `wait for that run to end, then run the command again; if it was interrupted, its lease expires at ${s.record.expires}, or --force-unlock clears it now`
        : 'if no other run is going on, --force-unlock clears the lease',
    },
  );
}

/** Creates the lease (the compare-and-set): the version made, or undefined when the parameter exists. */
async function create(aws: Clients, record: LeaseRecord): Promise<number | undefined> {
  try {
    const out = await aws.get(SSMClient).send(
      new PutParameterCommand({
        Name: LEASE_PARAMETER,
        Value: JSON.stringify(record),
        Type: 'String',
        Tier: 'Standard',
        Overwrite: false,
        Description: 'ssm-setup: the run changing this region, or the last one (released); destroy removes it',
        Tags: [{ Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }],
      }),
    );
    return out.Version ?? 1;
  } catch (err) {
    if (errorName(err) === 'ParameterAlreadyExists') return undefined;
    throw err;
  }
}

/**
 * Takes the lease of the region for `command`, or throws LEASE_HELD naming the holder and when it
 * expires. A released or expired lease (a crashed run's) is taken over. Call it only when there
 * is something to write: a converged rerun makes no write call at all.
 *
 * `seen`: the lease as the caller read it before its plan's reads (null: absent; undefined: not
 * read). When it was free, the lease is taken without reading it first: created from null,
 * overwritten otherwise, and the version decides who won. The lease's `undisturbed` then says
 * whether our take was the very next write after `seen`: no other run held the lease since, so
 * what the caller read after `seen` still holds. A `seen` held by another run is not trusted
 * (it may have ended since): the lease is read again.
 */
export async function takeLease(aws: Clients, identity: Identity, command: string, seen?: LeaseState | null): Promise<Lease> {
  const now = Date.now();
  const mine: LeaseRecord = {
    holder: `${identity.arn} on ${hostname()} (pid ${process.pid})`,
    command,
    started: iso(now),
    expires: iso(now + leaseTiming.ttlMs),
  };
  if (seen === null) {
    const version = await create(aws, mine);
    if (version !== undefined) return new Lease(aws, mine, version, version === 1);
    return takeChecked(aws, mine, { create: false, sent: true, fromAbsent: true });
  }
  if (seen && isFree(seen)) {
    const version = await overwrite(aws, JSON.stringify(mine));
    if (await firstAfter(aws, seen.version, version)) return new Lease(aws, mine, version, version === seen.version + 1);
    // Another run wrote first; what stands now decides (that run may have ended already).
    return takeChecked(aws, mine, { create: false, sent: false, fromAbsent: false });
  }
  return takeChecked(aws, mine, { create: true, sent: false, fromAbsent: false });
}

/**
 * The careful take: create, else read, and take over a free lease. `create`: begin with the
 * create (else with the read: it was just sent, or the parameter exists); `sent`: our create
 * was sent already; `fromAbsent`: the caller saw no lease.
 */
async function takeChecked(aws: Clients, mine: LeaseRecord, opts: { create: boolean; sent: boolean; fromAbsent: boolean }): Promise<Lease> {
  const region = aws.target.region;
  let sent = opts.sent;
  let current: LeaseState | undefined;
  // A lease deleted between our create and our read (a destroy's): create again (a few times).
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0 || opts.create) {
      const version = await create(aws, mine);
      if (version !== undefined) return new Lease(aws, mine, version);
      sent = true;
    }
    current = await readLease(aws);
    if (!current) continue;
    // Our own create, retried by the SDK after its answer was lost (version 1: nobody wrote before it).
    if (sent && heldBy(current.record, mine)) return new Lease(aws, mine, current.version, opts.fromAbsent && attempt === 0 && current.version === 1);
    if (!isFree(current)) throw held(current, region);
    const version = await overwrite(aws, JSON.stringify(mine));
    if (await firstAfter(aws, current.version, version)) return new Lease(aws, mine, version);
    throw held((await readLease(aws)) ?? current, region);
  }
  throw held(current, region);
}

/**
 * `--force-unlock`: frees the lease of the region, whoever holds it (an expired one too), with a
 * released record of its holder, and warns naming the holder it removed. Nothing is written when
 * there is none, or it is released already.
 */
export async function forceUnlock(aws: Clients, io: Io): Promise<LeaseState | undefined> {
  const current = await readLease(aws);
  if (!current || current.record?.released) return undefined;
  const now = iso(Date.now());
  await overwrite(aws, JSON.stringify(releasedOf(current.record ?? { holder: 'unknown', command: 'unknown', started: now, expires: now })));
  io.warn(`--force-unlock: removed the lease of region ${aws.target.region} held by ${describeLease(current)}`);
  return current;
}

/**
 * Runs `work` under the region's lease: takes it (LEASE_HELD when another run holds it; `seen` as
 * in takeLease), keeps it alive while `work` runs, and releases it at the end, after a failure
 * too (`remove`: deletes it). A lease that cannot be released is only warned about: it expires
 * on its own.
 */
export async function withLease<T>(
  aws: Clients,
  identity: Identity,
  command: string,
  io: Io,
  work: (lease: Lease) => Promise<T>,
  opts: LeaseOptions = {},
): Promise<T> {
  const lease = (await takeLease(aws, identity, command, opts.seen)).keepAlive();
  try {
    return await work(lease);
  } finally {
    // After Ctrl-C too: the next run must not wait for the lease to expire.
    await aws
      .evenIfInterrupted(() => lease.release({ remove: opts.remove }))
      .catch((err: unknown) => {
        io.warn(`could not release the lease ${LEASE_PARAMETER} (${errorName(err) || String(err)}); it expires at ${lease.expires}`);
      });
  }
}

/** A lease this run holds: renew it while the run lasts, release it at the end. */
export class Lease {
  private busy: Promise<void> = Promise.resolve();
  private timer?: ReturnType<typeof setInterval>;
  /** A renewal found another run's record: the lease is not ours to release. */
  private lost = false;

  /**
   * @param version the version our last write of the parameter made (the take, a renewal)
   * @param undisturbed true when no other run held the lease between the caller's read (`seen`)
   * and our take: what was read after `seen` still holds, no re-plan needed
   */
  constructor(
    private readonly aws: Clients,
    private record: LeaseRecord,
    private version: number,
    readonly undisturbed = false,
  ) {}

  /** When the lease ends unless renewed (ISO). */
  get expires(): string {
    return this.record.expires;
  }

  /**
   * Renews the lease when less than half of its time remains (only while we hold it); throws
   * LEASE_HELD when another run has taken it, and keeps throwing it: the run must stop. Calls
   * are queued, so the heartbeat and the runner never renew at once.
   */
  renewIfDue(): Promise<void> {
    this.busy = this.busy.then(() => this.renew());
    return this.busy;
  }

  /** Renews in the background too (a step such as `agents` can outlast the lease); the next renewIfDue reports a loss. */
  keepAlive(): this {
    this.timer ??= setInterval(() => void this.renewIfDue().catch(() => {}), leaseTiming.heartbeatMs);
    this.timer.unref?.();
    return this;
  }

  private async renew(): Promise<void> {
    if (Date.parse(this.record.expires) - Date.now() > leaseTiming.ttlMs / 2) return;
    const current = await readLease(this.aws);
    if (!current || !heldBy(current.record, this.record)) throw this.lostTo(current);
    const next = { ...this.record, expires: iso(Date.now() + leaseTiming.ttlMs) };
    const version = await overwrite(this.aws, JSON.stringify(next));
    if (!(await firstAfter(this.aws, current.version, version))) throw this.lostTo(await readLease(this.aws));
    this.record = next;
    this.version = version;
  }

  /** Another run holds the lease now: this one gives nothing back at its end. */
  private lostTo(current: LeaseState | undefined): AwsError {
    this.lost = true;
    return held(current, this.aws.target.region, true);
  }

  /**
   * Gives the lease up, never leaving another run's record overwritten: one overwrite with a
   * released record, checked by its version. When it is the next version after our last write
   * (the take or a renewal), nobody wrote in between and the release stands: one round trip.
   * Otherwise what stood just before it decides: our own record (a loser of the take put our
   * value back after us) or a released one (a --force-unlock) lets the release stand; any other
   * record (a run that took the lease after a --force-unlock, or once ours expired) is put back,
   * unless written over since. A lease a renewal found lost is left alone.
   * `remove` (destroy) reads first and deletes only a lease still ours: a delete has no version.
   */
  async release(opts: { remove?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    await this.busy.catch(() => {});
    if (this.lost) return;
    if (opts.remove) {
      const current = await readLease(this.aws);
      if (!current || !heldBy(current.record, this.record)) return;
      await unlessMissing(this.aws.get(SSMClient).send(new DeleteParameterCommand({ Name: LEASE_PARAMETER })), 'ParameterNotFound');
      return;
    }
    const version = await overwrite(this.aws, JSON.stringify(releasedOf(this.record)));
    // Version 1: the parameter was deleted meanwhile (a destroy); ours is the only record.
    if (version === 1 || version === this.version + 1) return;
    const before = await readLease(this.aws, version - 1);
    if (!before || heldBy(before.record, this.record) || before.record?.released) return;
    const now = await readLease(this.aws);
    if (now?.version === version) await overwrite(this.aws, before.value);
  }
}
