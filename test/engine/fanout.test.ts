import { IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, ListAccountsForParentCommand, ListChildrenCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallRecorder } from '../../src/aws/calls.js';
import { AwsClients } from '../../src/aws/clients.js';
import { UsageError } from '../../src/base/errors.js';
import type { RunReport } from '../../src/core/report.js';
import { confirmChanges } from '../../src/engine/confirm.js';
import { type Fan, pickAccounts, selectTargets } from '../../src/engine/fan-targets.js';
import { fanOut, type Prepared } from '../../src/engine/fanout.js';
import { ACCOUNT, settingsFrom } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const A = '111122223333';
const B = '444455556666';
const C = '777788889999';
const OU = 'ou-ab12-11111111';

let sts: ReturnType<typeof mockClient>;
let org: ReturnType<typeof mockClient>;
let iam: ReturnType<typeof mockClient>;
beforeEach(() => {
  sts = mockClient(STSClient);
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/alice`, UserId: 'AIDA' });
  // The role does not exist in C: STS refuses it as AWS does (AccessDenied).
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => {
    if (input.RoleArn.includes(`::${C}:`))
      throw Object.assign(new Error(`not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
    return {
      Credentials: { AccessKeyId: `ASIA${input.RoleArn.split(':')[4]}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date(Date.now() + 3_600_000) },
    };
  });
  org = mockClient(OrganizationsClient);
  iam = mockClient(IAMClient);
  iam.on(ListAccountAliasesCommand).resolves({ AccountAliases: [] });
});
afterEach(() => {
  sts.restore();
  org.restore();
  iam.restore();
});

const caller = () => new AwsClients({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:9' }, new CallRecorder(''));
const fanOf = async (flags: Record<string, unknown>, io = new TestIo({}, { interactive: false })) =>
  (await selectTargets(await settingsFrom(flags), caller(), io))!;
const report = (p: Prepared, changes: number): RunReport => ({
  command: 'init',
  account: p.account,
  region: p.region,
  ok: true,
  steps: [
    {
      id: 'kms-key',
      title: 'KMS key',
      status: changes ? 'pending' : 'unchanged',
      outputs: {},
      changes: Array.from({ length: changes }, () => ({ action: 'create' as const, resource: 'key', detail: '' })),
    },
  ],
});

describe('which accounts: pickAccounts', () => {
  const org = [
    { id: ACCOUNT, active: true },
    { id: A, active: true },
    { id: B, active: false },
    { id: C, active: true },
  ];
  const none = { accounts: [], excludeAccounts: [], includeCallerAccount: false };

  it('the ACTIVE accounts of the organization, without the caller’s own; suspended ones are said to be left out', () => {
    const picked = pickAccounts(none, ACCOUNT, org);
    expect(picked.accounts).toEqual([A, C]);
    expect(picked.skipped.map((s) => s.split(' ')[0])).toEqual([ACCOUNT, B]);
  });

  it('--include-caller-account takes the caller’s own; --exclude-accounts leaves some out', () => {
    expect(pickAccounts({ ...none, includeCallerAccount: true, excludeAccounts: [C] }, ACCOUNT, org).accounts).toEqual([A, ACCOUNT].sort());
  });

  it('--accounts as given, the caller’s own included when listed', () => {
    expect(pickAccounts({ ...none, accounts: [ACCOUNT, B], excludeAccounts: [B] }, ACCOUNT).accounts).toEqual([ACCOUNT]);
  });
});

describe('selectTargets', () => {
  it('--organization --ous × --regions: one target per account and region, each other account through its role', async () => {
    org
      .on(ListAccountsForParentCommand, { ParentId: OU })
      .resolves({
        Accounts: [
          { Id: A, State: 'ACTIVE' },
          { Id: ACCOUNT, State: 'ACTIVE' },
          { Id: B, State: 'SUSPENDED' },
        ],
      })
      .on(ListChildrenCommand)
      .resolves({ Children: [] });
    const fan = await fanOf({ organization: true, ous: OU, regions: 'eu-west-1,us-east-1', includeCallerAccount: true });
    expect(fan.targets.map((t) => [t.account, t.region, t.own])).toEqual([
      [A, 'eu-west-1', false],
      [A, 'us-east-1', false],
      [ACCOUNT, 'eu-west-1', true],
      [ACCOUNT, 'us-east-1', true],
    ]);
    expect(fan.targets.map((t) => Boolean(t.aws.target.credentials))).toEqual([true, true, false, false]);
    // IAM is global: with several regions each region's names carry it.
    expect(fan.targets[1]!.loaded.settings.instanceRole).toBe('SSMSessionManagerInstanceRole-us-east-1');
    expect(org.commandCalls(ListAccountsCommand)).toHaveLength(0);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('one account in one region is no fan; --accounts with --organization is CONFLICTING_FLAGS before any call', async () => {
    expect(await selectTargets(await settingsFrom({}), caller(), new TestIo())).toBeUndefined();
    const err = await selectTargets(await settingsFrom({ accounts: A, organization: true }), caller(), new TestIo()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CONFLICTING_FLAGS');
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('fanOut: every target planned, one question, then each applies', () => {
  const run = async (fan: Fan, io: TestIo, plan: (p: Prepared) => Promise<RunReport>, log: string[] = []) =>
    fanOut(fan, {
      command: 'init',
      io,
      rerun: (failed) => `ssm-setup init --accounts ${failed.map((t) => t.account).join(',')}`,
      plan: async (p) => {
        const r = await plan(p);
        log.push(`plan ${p.account}`);
        return {
          report: r,
          apply: async () => {
            log.push(`apply ${p.account}`);
            return { ...r, steps: r.steps.map((s) => ({ ...s, status: s.changes.length ? ('created' as const) : s.status })) };
          },
        };
      },
      between: async (combined) => {
        log.push('ask');
        const changes = combined.steps.flatMap((s) => s.changes);
        if (changes.length) await confirmChanges(changes, io, 'fanout.apply', ' in all accounts');
        return true;
      },
    });

  it('asks once for all the accounts (answered by id), after all of them planned, before any applies', async () => {
    const io = new TestIo({ 'fanout.apply': true });
    const log: string[] = [];
    const combined = await run(await fanOf({ accounts: `${A},${B}` }), io, async (p) => report(p, 2), log);
    expect(io.prompts).toEqual(['fanout.apply']);
    expect(log.indexOf('ask')).toBe(2);
    expect(log.slice(3).sort()).toEqual([`apply ${A}`, `apply ${B}`]);
    expect(combined.ok).toBe(true);
    expect(combined.runs?.map((r) => [r.account, r.ok])).toEqual([
      [A, true],
      [B, true],
    ]);
    expect(combined.steps.map((s) => [s.account, s.region, s.status])).toEqual([
      [A, 'eu-west-1', 'created'],
      [B, 'eu-west-1', 'created'],
    ]);
  });

  it('asks nothing when nothing changes', async () => {
    const io = new TestIo({});
    const combined = await run(await fanOf({ accounts: `${A},${B}` }), io, async (p) => report(p, 0));
    expect(io.prompts).toEqual([]);
    expect(combined.ok).toBe(true);
  });

  it('an account whose role cannot be assumed fails with its reason; the others apply; the error names it', async () => {
    const io = new TestIo({ 'fanout.apply': true });
    const log: string[] = [];
    const combined = await run(await fanOf({ accounts: `${A},${C}` }), io, async (p) => report(p, 1), log);
    expect(log).toContain(`apply ${A}`);
    expect(log.some((l) => l.includes(C))).toBe(false);
    const failed = combined.runs?.find((r) => r.account === C);
    expect(failed?.ok).toBe(false);
    expect(failed?.error?.code).toBe('ASSUME_ROLE_FAILED');
    expect(combined.ok).toBe(false);
    expect(combined.error?.message).toContain(C);
    expect(combined.error?.hint).toContain(`--accounts ${C}`);
    // One AssumeRole per account, the caller's own never.
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('bad input in one target is thrown once every target is planned, before any applies', async () => {
    const log: string[] = [];
    const err = await run(
      await fanOf({ accounts: `${A},${B}` }),
      new TestIo({ 'fanout.apply': true }),
      async (p) => {
        if (p.account === B) throw new UsageError('UNKNOWN_INSTANCE', '--instance-ids: i-00000001 is not in the region');
        return report(p, 1);
      },
      log,
    ).catch((e: unknown) => e);
    expect((err as UsageError).code).toBe('UNKNOWN_INSTANCE');
    expect(log).toEqual([`plan ${A}`]);
  });

  it('works on at most --max-concurrency targets at once', async () => {
    let now = 0;
    let most = 0;
    const ids = ['100000000001', '100000000002', '100000000003', '100000000004', '100000000005'];
    await run(await fanOf({ accounts: ids.join(','), maxConcurrency: 2 }), new TestIo({ 'fanout.apply': true }), async (p) => {
      most = Math.max(most, ++now);
      await new Promise((r) => setTimeout(r, 5));
      now--;
      return report(p, 1);
    });
    expect(most).toBe(2);
  });

  it('the rows carry the account alias where iam:ListAccountAliases answers', async () => {
    iam.on(ListAccountAliasesCommand).resolves({ AccountAliases: ['prod'] });
    const combined = await run(await fanOf({ accounts: A }), new TestIo({}), async (p) => report(p, 0));
    expect(combined.steps[0]).toMatchObject({ account: A, accountAlias: 'prod' });
    expect(combined.runs?.[0]?.accountAlias).toBe('prod');
  });
});
