import { AttachUserPolicyCommand, GetAccountSummaryCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UsageError } from '../../../src/base/errors.js';
import type { StepContext } from '../../../src/core/step.js';
import { operatorPolicy } from '../../../src/policies/operator-policy.js';
import { operatorPolicyStep } from '../../../src/steps/operator-policy/index.js';
import { iamConsistency } from '../../../src/steps/shared/managed-policy.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeIam, fakeIam, otherPolicies } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const POLICY = 'SSMSessionManagerOperatorPolicy';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${POLICY}`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const expected = () => operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'restricted' });
const denied = () =>
  Object.assign(new Error('not authorized to perform: iam:GetAccountSummary'), { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } });

async function context(flags: Record<string, unknown> = {}, io?: TestIo): Promise<StepContext> {
  const ctx = await makeContext(flags, io);
  return { ...ctx, outputs: { kmsKeyArn: KEY_ARN } };
}
const refusal = (ctx: StepContext) =>
  planned(operatorPolicyStep, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );

let fake: FakeIam;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

describe('operator-policy: the managed-policies-per-user and per-group quotas', () => {
  it('the strict fake refuses an 11th policy on a user and on a group, as IAM does', async () => {
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', otherPolicies(10));
    fake.addGroup('ops', otherPolicies(10));
    const iam = (await context()).aws.get(IAMClient);
    const { AttachGroupPolicyCommand } = await import('@aws-sdk/client-iam');
    await expect(iam.send(new AttachUserPolicyCommand({ UserName: 'alice', PolicyArn: POLICY_ARN }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for PoliciesPerUser: 10',
    });
    await expect(iam.send(new AttachGroupPolicyCommand({ GroupName: 'ops', PolicyArn: POLICY_ARN }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for PoliciesPerGroup: 10',
    });
  });

  it('a user and a group that are full: one POLICY_QUOTA naming both, before the policy is even created', async () => {
    const userHas = otherPolicies(10);
    fake.addUser('alice', userHas);
    fake.addUser('bob', otherPolicies(3));
    fake.addGroup('ops', otherPolicies(10));
    const error = await refusal(await context({ operatorUsers: ['alice', 'bob'], operatorGroups: ['ops'] }));

    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'POLICY_QUOTA', stepId: 'operator-policy' });
    const { message, hint } = error as StepError;
    expect(message).toContain('user alice');
    expect(message).toContain('group ops');
    expect(message).not.toContain('bob');
    expect(message).toContain('PoliciesPerUser');
    expect(message).toContain('PoliciesPerGroup');
    for (const arn of userHas) expect(hint).toContain(arn.slice(arn.lastIndexOf('/') + 1));
    expect(hint).toMatch(/Service Quotas/);
    expect(fake.writes()).toEqual([]);
    expect(fake.iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
  });

  it('one place left: attaches', async () => {
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', otherPolicies(9));
    const { changes } = await converge(operatorPolicyStep, await context({ operatorUsers: ['alice'] }));
    expect(kinds(changes)).toEqual(['attach']);
    expect(fake.users.get('alice')!.attached.size).toBe(10);
  });

  it('already attached to a full user: nothing to do, no quota read', async () => {
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', [...otherPolicies(9), POLICY_ARN]);
    const { changes } = await planned(operatorPolicyStep, await context({ operatorUsers: ['alice'] }));
    expect(changes).toEqual([]);
    expect(fake.iam).not.toHaveReceivedCommand(GetAccountSummaryCommand);
  });

  it('uses the account’s quotas (users raised to 20)', async () => {
    fake.quotas.user = 20;
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', otherPolicies(12));
    fake.addGroup('ops', otherPolicies(10));
    const error = await refusal(await context({ operatorUsers: ['alice'], operatorGroups: ['ops'] }));
    expect((error as StepError).message).toContain('group ops');
    expect((error as StepError).message).not.toContain('alice');
  });

  it('GetAccountSummary denied: IAM’s default of 10', async () => {
    fake.failNext(GetAccountSummaryCommand, denied());
    fake.quotas.user = 20; // what the account really has, unknown to the caller
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', otherPolicies(10));
    expect(await refusal(await context({ operatorUsers: ['alice'] }))).toMatchObject({ code: 'POLICY_QUOTA' });
  });

  it('counts every attached policy, over several pages', async () => {
    fake.restore();
    fake = fakeIam({ pageSize: 4 });
    fake.addPolicy(POLICY, [expected()]);
    fake.addGroup('ops', otherPolicies(10));
    expect(await refusal(await context({ operatorGroups: ['ops'] }))).toMatchObject({ code: 'POLICY_QUOTA' });
  });

  it('unknown principals are still a UsageError, not a quota error', async () => {
    fake.addUser('alice', otherPolicies(10));
    expect(await refusal(await context({ operatorUsers: ['alice', 'ghost'] }))).toBeInstanceOf(UsageError);
  });
});

describe('operator-policy: the refusal stops the whole run before its first write', () => {
  it('kms-key would create the key, the operator policy cannot be attached: nothing at all is written', async () => {
    const { runSteps } = await import('../../../src/engine/runner.js');
    const { STEPS } = await import('../../../src/engine/catalog.js');
    const { fakeKms } = await import('../../helpers/fake-kms.js');
    const { mockIdentity } = await import('../../helpers/aws.js');
    const { settingsFrom, testClients } = await import('../../helpers/fixtures.js');
    const kms = fakeKms();
    const sts = mockIdentity();
    try {
      fake.addUser('alice', otherPolicies(10));
      const { report } = await runSteps({
        command: 'run',
        mode: 'apply',
        selected: STEPS.filter((s) => s.id === 'kms-key' || s.id === 'operator-policy'),
        catalog: STEPS,
        loaded: await settingsFrom({ operatorUsers: ['alice'] }),
        aws: testClients(),
        io: new TestIo({ 'runner.apply': true }),
      });
      expect(report.ok).toBe(false);
      expect(report.steps.find((s) => s.id === 'operator-policy')?.error?.code).toBe('POLICY_QUOTA');
      expect(kms.writes()).toEqual([]);
      expect(fake.writes()).toEqual([]);
    } finally {
      sts.restore();
      kms.mock.restore();
    }
  });
});

describe('operator-policy: one quota read per run', () => {
  it('instance-role and operator-policy in one run share one GetAccountSummary', async () => {
    const { instanceRoleStep } = await import('../../../src/steps/instance-role/index.js');
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    fake.addUser('alice');
    const ctx = await context({ operatorUsers: ['alice'], instanceIds: ['i-0aaaaaaaaaaaaaaa1'] });
    const withTargets: StepContext = {
      ...ctx,
      outputs: { ...ctx.outputs, bucketName: 'b-logs' },
      targets: async () => [
        { id: 'i-0aaaaaaaaaaaaaaa1', state: 'running', platform: 'Linux/UNIX', tags: {}, profileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/AppProfile` },
      ],
    };
    await planned(instanceRoleStep, withTargets);
    await planned(operatorPolicyStep, withTargets);
    expect(fake.iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
  });
});

describe('operator-policy: IAM eventual consistency after CreatePolicy', () => {
  const saved = { ...iamConsistency };
  beforeEach(() => {
    fake.restore();
    fake = fakeIam({ propagation: true });
    iamConsistency.delayMs = 0;
  });
  afterEach(() => {
    Object.assign(iamConsistency, saved);
  });

  it('a new policy attached at once: retried until IAM knows it, with progress', async () => {
    fake.addUser('alice');
    const io = new TestIo();
    const { changes } = await converge(operatorPolicyStep, await context({ operatorUsers: ['alice'] }, io));
    expect(kinds(changes)).toEqual(['create-policy', 'attach']);
    expect(fake.iam).toHaveReceivedCommandTimes(AttachUserPolicyCommand, 2);
    expect(fake.users.get('alice')!.attached.has(POLICY_ARN)).toBe(true);
    expect(io.lines.some((l) => /waiting for IAM/.test(l))).toBe(true);
  });
});

describe('operator-policy: tags IAM refuses', () => {
  it('--tags with a character outside IAM’s set: INVALID_SETTINGS before CreatePolicy', async () => {
    // Refused by the settings (load) or by the plan: either way before any write.
    const error = await context({ tags: ['Owner=a;b'] }).then(refusal, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'INVALID_SETTINGS' });
    expect(fake.writes()).toEqual([]);
  });

  it('no create, no tag check: an existing policy is only updated', async () => {
    fake.addPolicy(POLICY, [expected()]);
    // The settings refuse such tags when they are loaded; the plan's own check (a second line of
    // defence) only runs when something would be created with them.
    const ctx = await context({});
    const bad = { ...ctx, settings: { ...ctx.settings, tags: { Owner: 'a;b' } } };
    const { changes } = await planned(operatorPolicyStep, bad);
    expect(changes).toEqual([]);
  });
});
