import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Clients } from '../core/clients.js';
import { isAmbiguous, unlessMissing } from './errors.js';

/**
 * The parameter of the region's lease (src/aws/lease.ts): its record, how it is read, and the
 * version check that makes an overwrite a compare-and-set. SSM refuses names that begin with
 * `aws` or `ssm`, hence `/app/…`.
 */
export const LEASE_PARAMETER = '/app/ssm-setup/lease';

/** The parameter's value (JSON). */
export interface LeaseRecord {
  /** Who holds it (held it last, once released): the caller ARN, the host and the process id. */
  readonly holder: string;
  /** What it runs, e.g. `ssm-setup init`. */
  readonly command: string;
  /** ISO times. */
  readonly started: string;
  readonly expires: string;
  /** When the run gave the lease up (ISO): the region is free. Absent while held, and in the records of older versions. */
  readonly released?: string;
}

/** The lease as read: its version, and its record (undefined when the value is not one of ours). */
export interface LeaseState {
  readonly version: number;
  readonly value: string;
  readonly record?: LeaseRecord;
}

const ssm = (aws: Clients) => aws.get(SSMClient);
export const iso = (ms: number) => new Date(ms).toISOString();

/** Whether `a` is the record of the run of `mine`, and that run still holds it (a released record is nobody's). */
export const heldBy = (a: LeaseRecord | undefined, mine: LeaseRecord) => a?.holder === mine.holder && a.started === mine.started && !a.released;

/** `record` given up now: the run named still, `released` set, and `expires` too, so that an older version sees it expired (free). */
export function releasedOf(record: LeaseRecord): LeaseRecord {
  const now = iso(Date.now());
  return { holder: record.holder, command: record.command, started: record.started, expires: now, released: now };
}

/**
 * Whether the lease as read leaves the region free to take: absent (null, or readLease's
 * undefined), released, or expired (a crashed run's). A value that is not one of our records is
 * held: only --force-unlock clears it.
 */
export function isFree(state: LeaseState | undefined | null): boolean {
  if (!state) return true;
  return !!state.record && (!!state.record.released || Date.parse(state.record.expires) <= Date.now());
}

/** The lease of the region (at `version`, when given), or undefined when there is no parameter (or no such version). */
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
    const times = [r.expires, ...(r.released === undefined ? [] : [r.released])];
    const fields = [r.holder, r.command, r.started, ...times];
    return fields.every((f) => typeof f === 'string') && times.every((t) => !Number.isNaN(Date.parse(t!))) ? (r as LeaseRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** `arn:… on host (pid 123), running \`ssm-setup init\` since …; it expires at …`: who to ask, and until when (or when it ended). */
export function describeLease(s: LeaseState): string {
  const r = s.record;
  if (!r) return `an unreadable value (${s.value.slice(0, 80)})`;
  if (r.released) return `${r.holder}, which ran \`${r.command}\` from ${r.started}; released at ${r.released}`;
  return `${r.holder}, running \`${r.command}\` since ${r.started}; it expires at ${r.expires}`;
}

/**
 * Overwrites the lease with `Value` and returns the version this write made. Sent once (no
 * automatic retry, which would make a second version); when the answer is lost, the value is
 * read back to learn whether the write was made.
 */
export async function overwrite(aws: Clients, Value: string): Promise<number> {
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
 * whose write is still the current one puts back the value its write replaced (version
 * `mine - 1`: the winner's, or what the winner left since, such as its release), so that its
 * own record never stands where another's stood.
 */
export async function firstAfter(aws: Clients, seen: number, mine: number): Promise<boolean> {
  const winner = mine > seen ? seen + 1 : 1;
  if (mine === winner) return true;
  try {
    const [now, before] = await Promise.all([readLease(aws), readLease(aws, mine - 1)]);
    if (now?.version === mine && before) await overwrite(aws, before.value);
  } catch {
    // Best effort: our value expires on its own.
  }
  return false;
}
