import { DescribeSessionsCommand, type Session, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

/**
 * Session Manager's session list as DescribeSessions answers it, strict where the API is
 * (API reference, DescribeSessions and SessionFilter):
 * - `State` is required, `Active` or `History`; Active lists Connected, Connecting and
 *   Disconnected sessions, History the Terminated, Terminating and Failed ones;
 * - `MaxResults` is 1..200 (default 20 here), `Filters` 1..6 items, each `key` one of
 *   InvokedAfter, InvokedBefore, Target, Owner, Status, SessionId, AccessType, each `value` 1..400
 *   characters, the two dates as `2024-08-29T00:00:00Z`; anything else is a ValidationException;
 * - InvokedAfter keeps sessions started at or after, InvokedBefore before; the others match
 *   exactly;
 * - newest first; `NextToken` pages and is bound to the request it came from (InvalidNextToken
 *   otherwise).
 * moto has no DescribeSessions: the e2e stub (test/e2e/ssm-stub-proxy.ts) answers with the same
 * `describeSessionsPage`.
 */

/** One session of the fake. */
export interface FakeSession {
  readonly SessionId: string;
  readonly Target: string;
  readonly Status: 'Connected' | 'Connecting' | 'Disconnected' | 'Terminated' | 'Terminating' | 'Failed';
  readonly StartDate: Date;
  readonly EndDate?: Date;
  readonly DocumentName?: string;
  readonly Owner: string;
  readonly Reason?: string;
}

export interface DescribeSessionsInput {
  State?: string;
  MaxResults?: number;
  NextToken?: string;
  Filters?: { key?: string; value?: string }[];
}

const ACTIVE = new Set(['Connected', 'Connecting', 'Disconnected']);
const KEYS = new Set(['InvokedAfter', 'InvokedBefore', 'Target', 'Owner', 'Status', 'SessionId', 'AccessType']);
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DEFAULT_PAGE = 20;

/** An SSM error as the SDK throws it. */
export const ssmError = (name: string, message: string) => new SSMServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

const validation = (message: string) => ssmError('ValidationException', `1 validation error detected: ${message}`);

/** Pure: one page of DescribeSessions over `all`, or the error SSM answers with. */
export function describeSessionsPage(all: readonly FakeSession[], input: DescribeSessionsInput): { Sessions: FakeSession[]; NextToken?: string } {
  if (input.State !== 'Active' && input.State !== 'History')
    throw validation(`Value '${input.State ?? 'null'}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [Active, History]`);
  const size = input.MaxResults ?? DEFAULT_PAGE;
  if (!Number.isInteger(size) || size < 1 || size > 200)
    throw validation(`Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 200`);
  const filters = input.Filters;
  if (filters !== undefined && (filters.length < 1 || filters.length > 6))
    throw validation("Value at 'filters' failed to satisfy constraint: Member must have length between 1 and 6");
  for (const f of filters ?? []) {
    if (!KEYS.has(f.key ?? '')) throw validation(`Value '${f.key}' at 'filters.member.key' failed to satisfy constraint: Member must satisfy enum value set`);
    if (!f.value || f.value.length > 400)
      throw validation("Value at 'filters.member.value' failed to satisfy constraint: Member must have length between 1 and 400");
    if ((f.key === 'InvokedAfter' || f.key === 'InvokedBefore') && (!DATE.test(f.value) || Number.isNaN(Date.parse(f.value))))
      throw validation(`Value '${f.value}' at 'filters.member.value' is not a valid timestamp (2024-08-29T00:00:00Z)`);
  }
  const matches = (s: FakeSession) =>
    (input.State === 'Active') === ACTIVE.has(s.Status) &&
    (filters ?? []).every((f) => {
      const v = f.value!;
      if (f.key === 'InvokedAfter') return s.StartDate.getTime() >= Date.parse(v);
      if (f.key === 'InvokedBefore') return s.StartDate.getTime() < Date.parse(v);
      if (f.key === 'AccessType') return v === 'Standard';
      return String(s[f.key as 'Target' | 'Owner' | 'Status' | 'SessionId']) === v;
    });
  const listed = all.filter(matches).sort((a, b) => b.StartDate.getTime() - a.StartDate.getTime());
  // A token names its request: one given to another State or other filters is refused.
  const bound = JSON.stringify([input.State, filters ?? []]);
  let start = 0;
  if (input.NextToken !== undefined) {
    const [offset, of] = (() => {
      try {
        return JSON.parse(Buffer.from(input.NextToken, 'base64').toString('utf8')) as [number, string];
      } catch {
        return [-1, ''];
      }
    })();
    if (of !== bound || !Number.isInteger(offset) || offset < 0) throw ssmError('InvalidNextToken', 'The specified token isn\u2019t valid.');
    start = offset;
  }
  const end = start + size;
  return {
    Sessions: listed.slice(start, end),
    ...(end < listed.length ? { NextToken: Buffer.from(JSON.stringify([end, bound])).toString('base64') } : {}),
  };
}

/**
 * The fake behind aws-sdk-client-mock: `sessions` is the account's list (tests push to it, or
 * call `add`). Give `mock` to share one SSMClient stub with other fakes.
 */
export function fakeSessions(opts: { mock?: AwsClientStub<SSMClient> } = {}) {
  const mock = opts.mock ?? mockClient(SSMClient);
  const sessions: FakeSession[] = [];
  mock.on(DescribeSessionsCommand).callsFake(async (input: DescribeSessionsInput) => {
    const page = describeSessionsPage(sessions, input);
    return { Sessions: page.Sessions.map((s) => ({ ...s }) as Session), ...(page.NextToken ? { NextToken: page.NextToken } : {}) };
  });
  return {
    mock,
    sessions,
    add(...more: FakeSession[]) {
      sessions.push(...more);
    },
    /** The DescribeSessions requests made so far. */
    requests: () => mock.commandCalls(DescribeSessionsCommand).map((c) => c.args[0].input),
  };
}
