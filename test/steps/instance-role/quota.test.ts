import { AttachRolePolicyCommand, CreatePolicyCommand, GetAccountSummaryCommand } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UsageError } from '../../../src/base/errors.js';
import type { StepContext, TargetInstance } from '../../../src/core/step.js';
import { instancePolicy } from '../../../src/policies/instance-policy.js';
import { parsePolicy } from '../../../src/policies/types.js';
import { instanceRoleStep } from '../../../src/steps/instance-role/index.js';
import { iamConsistency } from '../../../src/steps/shared/managed-policy.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeIam, fakeIam, IAM_LIMITS, otherPolicies, profileArnOf } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const POLICY = 'SSMSessionManagerInstancePolicy';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${POLICY}`;
const ROLE = 'SSMSessionManagerInstanceRole';
const CW_ARN = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BUCKET = 'team-session-logs';
const APP = 'i-0aaaaaaaaaaaaaaa1';
const DB = 'i-0ddddddddddddddd4';
const BARE = 'i-0bbbbbbbbbbbbbbb2';

const denied = () =>
  Object.assign(new Error('User is not authorized to perform: iam:GetAccountSummary'), {
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: { httpStatusCode: 403 },
  });
const ourPolicy = () => instancePolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, bucketName: BUCKET, s3Prefix: 'session-logs/' });

/** A target as ctx.targets() resolves it: with the profile it has, or none. */
const target = (id: string, profile?: string): TargetInstance => ({
  id,
  state: 'running',
  platform: 'Linux/UNIX',
  tags: {},
  ...(profile ? { profileArn: profileArnOf(profile) } : {}),
});

async function context(targets: readonly TargetInstance[], flags: Record<string, unknown> = {}, io?: TestIo): Promise<StepContext> {
  const ctx = await makeContext(flags, io, targets);
  return { ...ctx, outputs: { kmsKeyArn: KEY_ARN, bucketName: BUCKET } };
}

/** The error a read + plan throws, or undefined. */
const refusal = (ctx: StepContext) =>
  planned(instanceRoleStep, ctx).then(
    () => undefined,
    (e: unknown) => e,
  );

let fake: FakeIam;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

describe('instance-role: the managed-policies-per-role quota', () => {
  beforeEach(() => {
    fake.addPolicy(POLICY, [ourPolicy()]);
  });

  it('the strict fake refuses an 11th managed policy as IAM does', async () => {
    fake.addRole('Full', otherPolicies(10));
    const { IAMClient } = await import('@aws-sdk/client-iam');
    const iam = (await context([])).aws.get(IAMClient);
    await expect(iam.send(new AttachRolePolicyCommand({ RoleName: 'Full', PolicyArn: POLICY_ARN }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      message: 'Cannot exceed quota for PoliciesPerRole: 10',
    });
  });

  it('a role that cannot take our two policies: POLICY_QUOTA in the plan, naming the role, its policies and the fixes; nothing written', async () => {
    fake.policies.clear(); // a create-policy is pending too: it must not be written either
    const others = otherPolicies(9);
    fake.addRole('AppRole', others);
    fake.addProfile('AppProfile', ['AppRole']);
    const error = await refusal(await context([target(APP, 'AppProfile')]));

    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'POLICY_QUOTA', stepId: 'instance-role' });
    const { message, hint } = error as StepError;
    expect(message).toContain('AppRole');
    expect(message).toMatch(/\b10\b/);
    expect(message).toContain('PoliciesPerRole');
    for (const arn of others) expect(hint).toContain(arn.slice(arn.lastIndexOf('/') + 1));
    expect(hint).toMatch(/inline policy/);
    expect(hint).toMatch(/Service Quotas/);
    expect(hint).toContain('--no-cloudwatch-agent');
    expect(fake.writes()).toEqual([]);
    expect(fake.iam).toHaveReceivedCommandTimes(GetAccountSummaryCommand, 1);
  });

  it('room for exactly what is missing: attaches, and the role ends at its quota', async () => {
    fake.addRole('AppRole', otherPolicies(8));
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(kinds(changes)).toEqual(['attach']);
    expect(fake.roles.get('AppRole')!.attached.size).toBe(10);
  });

  it('counts only what is missing: a role at 9 with the CloudWatch policy takes ours', async () => {
    fake.addRole('AppRole', [...otherPolicies(8), CW_ARN]);
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(changes).toEqual([expect.objectContaining({ kind: 'attach', detail: expect.stringMatching(new RegExp(`^attach ${POLICY} \\(`)) })]);
    expect(fake.roles.get('AppRole')!.attached.has(POLICY_ARN)).toBe(true);
  });

  it('--no-cloudwatch-agent: one policy fits on a role at 9', async () => {
    fake.addRole('AppRole', otherPolicies(9));
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')], { cloudwatchAgent: false }));
    expect(kinds(changes)).toEqual(['attach']);
    expect(fake.roles.get('AppRole')!.attached.size).toBe(10);
  });

  it('uses the account’s quota from GetAccountSummary (raised to 20 in Service Quotas)', async () => {
    fake.quotas.role = 20;
    fake.addRole('AppRole', otherPolicies(15));
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(kinds(changes)).toEqual(['attach']);
    expect(fake.roles.get('AppRole')!.attached.size).toBe(17);

    fake.addRole('BigRole', otherPolicies(19));
    fake.addProfile('BigProfile', ['BigRole']);
    expect(await refusal(await context([target(DB, 'BigProfile')]))).toMatchObject({ code: 'POLICY_QUOTA', message: expect.stringMatching(/\b20\b/) });
  });

  it('GetAccountSummary denied: falls back to IAM’s default of 10, and says so', async () => {
    fake.failNext(GetAccountSummaryCommand, denied(), 2);
    fake.addRole('AppRole', otherPolicies(9));
    fake.addProfile('AppProfile', ['AppRole']);
    const error = await refusal(await context([target(APP, 'AppProfile')]));
    expect(error).toMatchObject({ code: 'POLICY_QUOTA' });
    expect((error as StepError).message).toContain('GetAccountSummary');

    fake.roles.get('AppRole')!.attached = new Set(otherPolicies(8));
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(kinds(changes)).toEqual(['attach']);
  });

  it('another failure of GetAccountSummary is not hidden', async () => {
    fake.failNext(GetAccountSummaryCommand, Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    expect(await refusal(await context([target(APP, 'AppProfile')]))).toMatchObject({ name: 'Throttling' });
  });

  it('names every role that is full, in one refusal, before writing anything', async () => {
    fake.addRole('AppRole', otherPolicies(10));
    fake.addProfile('AppProfile', ['AppRole']);
    fake.addRole('DbRole', otherPolicies(9));
    fake.addProfile('DbProfile', ['DbRole']);
    fake.addRole('OkRole');
    fake.addProfile('OkProfile', ['OkRole']);
    const error = await refusal(await context([target(APP, 'AppProfile'), target(DB, 'DbProfile'), target(BARE, 'OkProfile')]));
    expect(error).toMatchObject({ code: 'POLICY_QUOTA' });
    expect((error as StepError).message).toContain('AppRole');
    expect((error as StepError).message).toContain('DbRole');
    expect((error as StepError).message).not.toContain('OkRole');
    expect(fake.writes()).toEqual([]);
  });

  it('reads no quota when nothing is to be attached', async () => {
    fake.addRole('AppRole', [...otherPolicies(10), POLICY_ARN, CW_ARN]); // over 10: the quota was higher once
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await planned(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(changes).toEqual([]);
    expect(fake.iam).not.toHaveReceivedCommand(GetAccountSummaryCommand);
  });

  it('a new role needs no quota read', async () => {
    const { changes } = await converge(instanceRoleStep, await context([target(BARE)]));
    expect(kinds(changes)).toEqual(['create-role', 'create-profile', 'associate']);
    expect(fake.iam).not.toHaveReceivedCommand(GetAccountSummaryCommand);
  });

  it('counts every attached policy, over several pages of ListAttachedRolePolicies', async () => {
    fake.restore();
    fake = fakeIam({ pageSize: 3 });
    fake.addPolicy(POLICY, [ourPolicy()]);
    fake.addRole('AppRole', otherPolicies(9));
    fake.addProfile('AppProfile', ['AppRole']);
    expect(await refusal(await context([target(APP, 'AppProfile')]))).toMatchObject({ code: 'POLICY_QUOTA' });
  });
});

describe('instance-role: IAM eventual consistency right after a create', () => {
  const saved = { ...iamConsistency };
  beforeEach(() => {
    fake.restore();
    fake = fakeIam({ propagation: true });
    iamConsistency.delayMs = 0;
  });
  afterEach(() => {
    Object.assign(iamConsistency, saved);
  });

  it('new policy, role and profile: attach and AddRoleToInstanceProfile wait until IAM knows them', async () => {
    const io = new TestIo();
    const { changes } = await converge(instanceRoleStep, await context([target(BARE)], {}, io));
    expect(kinds(changes)).toEqual(['create-policy', 'create-role', 'create-profile', 'associate']);
    expect([...fake.roles.get(ROLE)!.attached].sort()).toEqual([CW_ARN, POLICY_ARN].sort());
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
    expect(io.lines.some((l) => /waiting for IAM/.test(l))).toBe(true);
  });

  it('a new policy attached to an existing role', async () => {
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, 'AppProfile')]));
    expect(kinds(changes)).toEqual(['create-policy', 'attach']);
    expect(fake.roles.get('AppRole')!.attached.has(POLICY_ARN)).toBe(true);
  });

  it('does not wait on a NoSuchEntity when nothing was created in this run', async () => {
    fake.addPolicy(POLICY, [ourPolicy()]);
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    const ctx = await context([target(APP, 'AppProfile')]);
    const { state, changes } = await planned(instanceRoleStep, ctx);
    fake.roles.delete('AppRole'); // deleted by someone else between the plan and the apply
    await expect(instanceRoleStep.apply(ctx, state, changes)).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    // Both policies went out at once, each once: neither was retried.
    expect(fake.iam).toHaveReceivedCommandTimes(AttachRolePolicyCommand, 2);
  });
});

describe('instance-role: request shapes IAM validates', () => {
  it('the largest settings still give an instance policy IAM accepts (≤ 6,144 characters without white space)', async () => {
    const flags = { s3Prefix: `${'p'.repeat(511)}/`, cloudwatchLogs: true, logGroup: `/${'g'.repeat(511)}`, bucket: 'b'.repeat(63) };
    const ctx = await context([], flags);
    await converge(instanceRoleStep, { ...ctx, outputs: { kmsKeyArn: KEY_ARN } });
    const doc = fake.iam.commandCalls(CreatePolicyCommand)[0]!.args[0].input.PolicyDocument!;
    expect(parsePolicy(doc)!.Statement.map((s) => s.Sid)).toContain('SessionLogsToCloudWatch');
    expect(doc.replace(/\s/g, '').length).toBeLessThanOrEqual(IAM_LIMITS.policySize);
  });

  it.each([
    ['a character IAM refuses in a value', ['Owner=a&b']],
    ['a character IAM refuses in a key', ['Cost#Center=1']],
    ['a key that differs from ManagedBy only in case', ['managedby=me']],
    ['two keys that differ only in case', ['Team=a', 'team=b']],
  ])('--tags with %s: an INVALID_SETTINGS UsageError before any write', async (_, tags) => {
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    // Refused by the settings (load) or by the plan: either way before any write.
    const error = await context([target(BARE)], { tags }).then(refusal, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'INVALID_SETTINGS' });
    expect((error as UsageError).message).toContain('--tags');
    expect(fake.writes()).toEqual([]);
  });

  it('the strict fake refuses those tags as IAM does', async () => {
    const { CreateRoleCommand, IAMClient } = await import('@aws-sdk/client-iam');
    const iam = (await context([])).aws.get(IAMClient);
    const create = (Tags: { Key: string; Value: string }[]) =>
      iam.send(new CreateRoleCommand({ RoleName: 'R', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }), Tags }));
    await expect(create([{ Key: 'Owner', Value: 'a&b' }])).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(
      create([
        { Key: 'ManagedBy', Value: 'x' },
        { Key: 'managedby', Value: 'y' },
      ]),
    ).rejects.toMatchObject({ name: 'InvalidInputException' });
    await expect(create(Array.from({ length: 51 }, (_, n) => ({ Key: `K${n}`, Value: 'v' })))).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('tags that IAM accepts (letters of any script, spaces, _.:/=+-@) pass', async () => {
    const { changes } = await converge(
      instanceRoleStep,
      await context([target(BARE)], { tags: ['Équipe=Infra Ops', 'Owner=ops@example.com', 'Path=a/b:c+d'] }),
    );
    expect(kinds(changes)).toContain('create-role');
  });
});
