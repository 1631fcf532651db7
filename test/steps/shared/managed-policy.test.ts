import { CreatePolicyVersionCommand, DeletePolicyVersionCommand, GetAccountSummaryCommand, IAMClient, ListPolicyVersionsCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UsageError } from '../../../src/base/errors.js';
import {
  type AttachQuotas,
  applyManagedPolicy,
  iamConsistency,
  readAttachQuotas,
  readManagedPolicy,
  refuseBadIamTags,
  refuseOverQuota,
  whenIamKnows,
} from '../../../src/steps/shared/managed-policy.js';
import { type FakeIam, fakeIam, otherPolicies, policyArnOf } from '../../helpers/fake-iam.js';
import { testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const ACCOUNT_QUOTAS: AttachQuotas = { role: 10, user: 10, group: 10, source: 'account' };
const doc = (sid: string) => ({
  Version: '2012-10-17' as const,
  Statement: [{ Sid: sid, Effect: 'Allow' as const, Action: 'ssm:DescribeSessions', Resource: '*' }],
});
const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });

let fake: FakeIam;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

describe('readAttachQuotas', () => {
  it('reads the three quotas from GetAccountSummary, once per IAM client (once per run)', async () => {
    fake.quotas.role = 20;
    const iam = testClients().get(IAMClient);
    expect(await readAttachQuotas(iam)).toEqual({ role: 20, user: 10, group: 10, source: 'account' });
    await readAttachQuotas(iam);
    expect(fake.iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
    await readAttachQuotas(testClients().get(IAMClient)); // another run
    expect(fake.iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 2);
  });

  it('denied: IAM’s default of 10 each, marked as such', async () => {
    fake.failNext(GetAccountSummaryCommand, denied());
    expect(await readAttachQuotas(testClients().get(IAMClient))).toEqual({ role: 10, user: 10, group: 10, source: 'default' });
  });

  it('another failure is thrown, and not remembered', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    fake.failNext(GetAccountSummaryCommand, throttled);
    const iam = testClients().get(IAMClient);
    await expect(readAttachQuotas(iam)).rejects.toBe(throttled);
    expect((await readAttachQuotas(iam)).source).toBe('account');
  });
});

describe('refuseOverQuota (pure)', () => {
  const target = (n: number, adding = 1) => ({
    kind: 'role' as const,
    name: 'R',
    attached: otherPolicies(n),
    adding: otherPolicies(adding).map((a) => `${a}-new`),
  });

  it('passes when everything fits, up to the quota itself', () => {
    expect(() => refuseOverQuota('s', [target(9), target(8, 2)], ACCOUNT_QUOTAS)).not.toThrow();
    expect(() => refuseOverQuota('s', [target(30, 0)], ACCOUNT_QUOTAS)).not.toThrow(); // nothing to add: not ours to judge
  });

  it('POLICY_QUOTA naming the step, when one would go over', () => {
    let error: unknown;
    try {
      refuseOverQuota('instance-role', [target(9, 2)], ACCOUNT_QUOTAS, 'use the force');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'POLICY_QUOTA', stepId: 'instance-role' });
    expect((error as StepError).hint).toContain('use the force');
  });

  it('judges each kind by its own quota', () => {
    const quotas: AttachQuotas = { role: 20, user: 10, group: 5, source: 'account' };
    expect(() => refuseOverQuota('s', [{ ...target(19), kind: 'role' }], quotas)).not.toThrow();
    expect(() => refuseOverQuota('s', [{ ...target(9), kind: 'user' }], quotas)).not.toThrow();
    expect(() => refuseOverQuota('s', [{ ...target(5), kind: 'group' }], quotas)).toThrow(StepError);
  });

  it('no quotas known: IAM’s default of 10', () => {
    expect(() => refuseOverQuota('s', [target(10)], undefined)).toThrow(StepError);
  });
});

describe('refuseBadIamTags (pure)', () => {
  it.each([[{ ManagedBy: 'ssm-setup', Team: 'infra ops', Mail: 'a@b.c', Path: 'a/b:c+d=e_f.g-h', Ünïcode: 'ß' }]])('accepts what IAM accepts', (tags) => {
    expect(() => refuseBadIamTags(tags)).not.toThrow();
  });

  it.each([[{ 'a&b': 'x' }], [{ Team: 'a,b' }], [{ Team: 'a', team: 'b' }], [Object.fromEntries(Array.from({ length: 51 }, (_, n) => [`K${n}`, 'v']))]])(
    'INVALID_SETTINGS for what IAM refuses: %o',
    (tags) => {
      expect(() => refuseBadIamTags(tags)).toThrow(UsageError);
      try {
        refuseBadIamTags(tags);
      } catch (e) {
        expect(e).toMatchObject({ code: 'INVALID_SETTINGS' });
      }
    },
  );
});

describe('whenIamKnows', () => {
  const saved = { ...iamConsistency };
  beforeEach(() => {
    iamConsistency.delayMs = 0;
  });
  afterEach(() => {
    Object.assign(iamConsistency, saved);
  });

  it('retries NoSuchEntity until the call succeeds, saying so', async () => {
    const io = new TestIo();
    let n = 0;
    const result = await whenIamKnows(io, 'role R', async () => {
      if (++n < 3) throw Object.assign(new Error('The role with name R cannot be found.'), { name: 'NoSuchEntityException' });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(n).toBe(3);
    expect(io.lines.filter((l) => l.includes('waiting for IAM to know role R'))).toHaveLength(2);
  });

  it('does not retry other errors', async () => {
    let n = 0;
    const limit = Object.assign(new Error('Cannot exceed quota for PoliciesPerRole: 10'), { name: 'LimitExceededException' });
    await expect(
      whenIamKnows(new TestIo(), 'x', async () => {
        n++;
        throw limit;
      }),
    ).rejects.toBe(limit);
    expect(n).toBe(1);
  });

  it('gives up at the deadline', async () => {
    Object.assign(iamConsistency, { timeoutMs: 0, delayMs: 10 });
    const missing = Object.assign(new Error('gone'), { name: 'NoSuchEntityException' });
    await expect(
      whenIamKnows(new TestIo(), 'x', async () => {
        throw missing;
      }),
    ).rejects.toBe(missing);
  });
});

describe('applyManagedPolicy', () => {
  it('sees every version when IAM lists them over several pages: the oldest goes before the sixth is made', async () => {
    fake.restore();
    fake = fakeIam({ pageSize: 2 });
    fake.addPolicy('P', [doc('A'), doc('B'), doc('C'), doc('D'), doc('E')]);
    const iam = testClients().get(IAMClient);
    const state = await readManagedPolicy(iam, 'P', policyArnOf('P'));
    await applyManagedPolicy(testClients(), state, doc('F'), { stepId: 'test', description: 'd', tags: {} });
    expect(fake.iam.commandCalls(ListPolicyVersionsCommand).length).toBeGreaterThan(1);
    expect(fake.iam).toHaveReceivedCommandWith(DeletePolicyVersionCommand, { VersionId: 'v1' });
    expect(fake.iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 1);
    expect(fake.defaultDocument('P')).toEqual(doc('F'));
  });

  it('the strict fake refuses a document over 6,144 characters without white space, and one that is not JSON', async () => {
    const iam = testClients().get(IAMClient);
    const big = { ...doc('A'), Statement: [{ Sid: 'Big', Effect: 'Allow' as const, Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(6200)}` }] };
    await expect(
      applyManagedPolicy(testClients(), { kind: 'absent', name: 'Big', arn: policyArnOf('Big') }, big, { stepId: 'test', description: 'd', tags: {} }),
    ).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for PolicySize: 6144',
    });
    const { CreatePolicyCommand } = await import('@aws-sdk/client-iam');
    await expect(iam.send(new CreatePolicyCommand({ PolicyName: 'Bad', PolicyDocument: '{"Version":' }))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
    });
    // White space does not count.
    const spaced = JSON.stringify(doc('A'), null, 40);
    await expect(iam.send(new CreatePolicyCommand({ PolicyName: 'Spaced', PolicyDocument: spaced }))).resolves.toBeDefined();
  });

  it('the strict fake refuses a sixth version', async () => {
    fake.addPolicy('P', [doc('A'), doc('B'), doc('C'), doc('D'), doc('E')]);
    const iam = testClients().get(IAMClient);
    await expect(iam.send(new CreatePolicyVersionCommand({ PolicyArn: policyArnOf('P'), PolicyDocument: JSON.stringify(doc('F')) }))).rejects.toMatchObject({
      name: 'LimitExceededException',
    });
  });
});
