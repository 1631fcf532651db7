import { hostname } from 'node:os';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AwsError } from '../base/errors.js';
import { MANAGED_BY_TAG } from '../config/schema.js';
import type { Clients, Identity } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { errorName, isAmbiguous, unlessMissing } from './errors.js';

/**
 * The lease: one SSM parameter per region that says which run is changing the region. Two runs
 * at once would both create a key (one orphaned) and every association twice; the one that does
 * not get the lease stops with LEASE_HELD. A parameter, not a tag on something of ours, because
 * PutParameter without Overwrite is a compare-and-set (ParameterAlreadyExists), tags are not.
 * SSM refuses names that begin with `aws` or `ssm`, hence `/app/…`.
 */
export const LEASE_PARAMETER = '/app/ssm-setup/lease';

/** How long a lease lasts unless renewed, and how often a held lease looks whether it is due; tests shorten them. */
export const leaseTiming = { ttlMs: 10 * 60_000, heartbeatMs: 60_000 };

/** The parameter's value (JSON). */
export interface LeaseRecord {
  /** Who holds it: the caller ARN, the host and the process id. */
  readonly holder: string;
  /** What it runs, e.g. `ssm-setup init`. */
  readonly command: string;
  /** ISO times. */
  readonly started: string;
  readonly expires: string;
}

/** The lease as read: its version, and its record (undefined when the value is not one of ours). */
export interface LeaseState {
  readonly version: number;
  readonly value: string;
  readonly record?: LeaseRecord;
}

const ssm = (aws: Clients) => aws.get(SSMClient);
const iso = (ms: number) => new Date(ms).toISOString();
const sameHolder = (a: LeaseRecord | undefined, b: LeaseRecord) => a?.holder === b.holder && a.started === b.started;
const expired = (s: LeaseState) => !!s.record && Date.parse(s.record.expires) <= Date.now();

/** The lease of the region, or undefined when nobody holds it. */
export async function readLease(aws: Clients, version?: number): Promise<LeaseState | undefined> {
  const name = version === undefined ? LEASE_PARAMETER : `${LEASE_PARAMETER}:${version}`;
  const out = await unlessMissing(ssm(aws).send(new GetParameterCommand({ Name: name })), 'ParameterNotFound', 'ParameterVersionNotFound');
  const value = out?.Parameter?.Value;
  if (!out?.Parameter || value === undefined) return undefined;
  return { version: out.Parameter.Version ?? 0, value, record: parseRecord(value) };
}

function parseRecord(value: string): LeaseRecord | undefined {
  try {
    const r = JSON.parse(value) as Partial<LeaseRecord>;
    const fields = [r.holder, r.command, r.started, r.expires];
    return fields.every((f) => typeof f === 'string') && !Number.isNaN(Date.parse(r.expires!)) ? (r as LeaseRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** `arn:… on host (pid 123), running \`ssm-setup init\` since …; expires …`: who to ask, and until when. */
export function describeLease(s: LeaseState): string {
  const r = s.record;
  return r ? `${r.holder}, running \`${r.command}\` since ${r.started}; it expires at ${r.expires}` : `an unreadable value (${s.value.slice(0, 80)})`;
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

/**
 * Overwrites the lease with `Value` and returns the version this write made. Sent once (no
 * automatic retry, which would make a second version); when the answer is lost, the value is
 * read back to learn whether the write was made.
 */
async function overwrite(aws: Clients, Value: string): Promise<number> {
  try {
    const out = await aws.once(SSMClient).send(new PutParameterCommand({ Name: LEASE_PARAMETER, Value, Type: 'String', Overwrite: true }));
    return out.Version ?? 0;
  } catch (err) {
    const now = isAmbiguous(err) ? await readLease(aws) : undefined;
    if (now?.value === Value) return now.version;
    throw err;
  }
}

/**
 * Whether our overwrite (version `mine`) was the first write after the version we read (`seen`):
 * Parameter Store numbers every write, so only one writer can make version `seen + 1` (or 1,
 * when the parameter was deleted in between): the compare-and-set an overwrite lacks. A loser
 * puts the winner's value back if its own is still the current one.
 */
async function firstAfter(aws: Clients, seen: number, mine: number): Promise<boolean> {
  const winner = mine > seen ? seen + 1 : 1;
  if (mine === winner) return true;
  try {
    const [now, won] = await Promise.all([readLease(aws), readLease(aws, winner)]);
    if (now?.version === mine && won?.record) await overwrite(aws, won.value);
  } catch {
    // Best effort: our value expires on its own.
  }
  return false;
}

/**
 * Takes the lease of the region for `command`, or throws LEASE_HELD naming the holder and when it
 * expires. An expired lease is taken over (a crashed run's). Call it only when there is
 * something to write: a converged rerun makes no write call at all.
 */
export async function takeLease(aws: Clients, identity: Identity, command: string): Promise<Lease> {
  const region = aws.target.region;
  const now = Date.now();
  const mine: LeaseRecord = {
    holder: `${identity.arn} on ${hostname()} (pid ${process.pid})`,
    command,
    started: iso(now),
    expires: iso(now + leaseTiming.ttlMs),
  };
  let current: LeaseState | undefined;
  // A lease released between our create and our read: create again (a few times).
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await ssm(aws).send(
        new PutParameterCommand({
          Name: LEASE_PARAMETER,
          Value: JSON.stringify(mine),
          Type: 'String',
          Tier: 'Standard',
          Overwrite: false,
          Description: 'ssm-setup: the run that is changing this region; removed when it ends',
          Tags: [{ Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }],
        }),
      );
      return new Lease(aws, mine);
    } catch (err) {
      if (errorName(err) !== 'ParameterAlreadyExists') throw err;
    }
    current = await readLease(aws);
    if (!current) continue;
    // Our own create, retried by the SDK after its answer was lost.
    if (sameHolder(current.record, mine)) return new Lease(aws, mine);
    if (!expired(current)) throw held(current, region);
    const version = await overwrite(aws, JSON.stringify(mine));
    if (await firstAfter(aws, current.version, version)) return new Lease(aws, mine);
    throw held((await readLease(aws)) ?? current, region);
  }
  throw held(current, region);
}

/**
 * `--force-unlock`: removes the lease of the region, whoever holds it, and warns naming the
 * holder it removed. Nothing is written when there is none.
 */
export async function forceUnlock(aws: Clients, io: Io): Promise<LeaseState | undefined> {
  const current = await readLease(aws);
  if (!current) return undefined;
  await unlessMissing(ssm(aws).send(new DeleteParameterCommand({ Name: LEASE_PARAMETER })), 'ParameterNotFound');
  io.warn(`--force-unlock: removed the lease of region ${aws.target.region} held by ${describeLease(current)}`);
  return current;
}

/**
 * Runs `work` under the region's lease: takes it (LEASE_HELD when another run holds it), keeps
 * it alive while `work` runs, and releases it at the end, after a failure too. A lease that
 * cannot be removed is only warned about: it expires on its own.
 */
export async function withLease<T>(aws: Clients, identity: Identity, command: string, io: Io, work: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = (await takeLease(aws, identity, command)).keepAlive();
  try {
    return await work(lease);
  } finally {
    // After Ctrl-C too: the next run must not wait for the lease to expire.
    await aws
      .evenIfInterrupted(() => lease.release())
      .catch((err: unknown) => {
        io.warn(`could not remove the lease ${LEASE_PARAMETER} (${errorName(err) || String(err)}); it expires at ${lease.expires}`);
      });
  }
}

/** A lease this run holds: renew it while the run lasts, release it at the end. */
export class Lease {
  private busy: Promise<void> = Promise.resolve();
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly aws: Clients,
    private record: LeaseRecord,
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
    const region = this.aws.target.region;
    const current = await readLease(this.aws);
    if (!current || !sameHolder(current.record, this.record)) throw held(current, region, true);
    const next = { ...this.record, expires: iso(Date.now() + leaseTiming.ttlMs) };
    const version = await overwrite(this.aws, JSON.stringify(next));
    if (!(await firstAfter(this.aws, current.version, version))) throw held(await readLease(this.aws), region, true);
    this.record = next;
  }

  /** Removes the lease if this run still holds it (never another run's). */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.busy.catch(() => {});
    const current = await readLease(this.aws);
    if (!current || !sameHolder(current.record, this.record)) return;
    await unlessMissing(ssm(this.aws).send(new DeleteParameterCommand({ Name: LEASE_PARAMETER })), 'ParameterNotFound');
  }
}
