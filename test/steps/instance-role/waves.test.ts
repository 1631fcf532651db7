// Issue 15: the round trips of the instance-role apply, one after the other (each wave waits for
// an answer of the one before): what needs only names goes out at once.
import { EC2Client } from '@aws-sdk/client-ec2';
import { CreatePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import type { StepContext, TargetInstance } from '../../../src/core/step.js';
import { instanceRoleStep } from '../../../src/steps/instance-role/index.js';
import { readInstanceRole } from '../../../src/steps/instance-role/read.js';
import { applyPlanned, converge, kinds, planned } from '../../helpers/aws.js';
import type { FakeEc2 } from '../../helpers/fake-ec2.js';
import { type FakeIam, profileArnOf } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { iamAndEc2Each } from '../../helpers/iam-ec2.js';
import { callWaves } from '../../helpers/waves.js';

const ROLE = 'SSMSessionManagerInstanceRole';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BARE = 'i-0bbbbbbbbbbbbbbb2';
const APP = 'i-0aaaaaaaaaaaaaaa1';

let fake: FakeIam;
let ec2: FakeEc2;
iamAndEc2Each((iam, e) => {
  fake = iam;
  ec2 = e;
});

const target = (id: string, profile?: string): TargetInstance => {
  ec2.addInstance({ InstanceId: id, ...(profile ? { IamInstanceProfile: { Arn: profileArnOf(profile) } } : {}) });
  return ec2.targets([id])[0]!;
};
const context = async (targets: readonly TargetInstance[]): Promise<StepContext> => ({
  ...(await makeContext({}, undefined, targets)),
  outputs: { kmsKeyArn: KEY_ARN, bucketName: 'team-session-logs' },
});

/** The waves of the apply alone (the read before it is not counted). */
async function applyWaves(targets: readonly TargetInstance[]) {
  const ctx = await context(targets);
  const plan = await planned(instanceRoleStep, ctx);
  const waves = callWaves(ctx.aws.get(IAMClient), ctx.aws.get(EC2Client));
  await applyPlanned(instanceRoleStep, ctx, plan);
  return { changes: kinds(plan.changes), waves: waves.waves() };
}

describe('instance-role apply: round trips', () => {
  it('nothing there, a bare instance: the policy, the role and the profile at once; then the attachments and the role into the profile', async () => {
    const { changes, waves } = await applyWaves([target(BARE)]);
    expect(changes).toEqual(['create-policy', 'create-role', 'create-profile', 'associate']);
    expect(waves).toEqual([
      ['CreateInstanceProfile', 'CreatePolicy', 'CreateRole'],
      ['AddRoleToInstanceProfile', 'AttachRolePolicy', 'AttachRolePolicy'],
      ['AssociateIamInstanceProfile'],
      ['CreateTags'],
    ]);
    expect(fake.roles.get(ROLE)!.attached.has(POLICY_ARN)).toBe(true);
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
  });

  it('a new policy, an instance whose role lacks it and a bare one: the other role waits for the policy only', async () => {
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    const { waves } = await applyWaves([target(APP, 'AppProfile'), target(BARE)]);
    expect(waves.slice(0, 2)).toEqual([
      ['CreateInstanceProfile', 'CreatePolicy', 'CreateRole'],
      ['AddRoleToInstanceProfile', 'AttachRolePolicy', 'AttachRolePolicy', 'AttachRolePolicy', 'AttachRolePolicy'],
    ]);
  });

  it('the policy refused: the role and profile made alongside are finished by the rerun, which creates neither again', async () => {
    const bare = target(BARE);
    fake.failNext(CreatePolicyCommand, Object.assign(new Error('bad'), { name: 'MalformedPolicyDocumentException', $metadata: { httpStatusCode: 400 } }));
    await expect(converge(instanceRoleStep, await context([bare]))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    expect(fake.roles.get(ROLE)?.attached.size ?? 0).toBe(0);
    const rerun = await converge(instanceRoleStep, await context([ec2.targets([BARE])[0]!]));
    expect(kinds(rerun.changes)).toEqual(['create-policy', 'attach', 'associate']);
    expect(fake.roles.get(ROLE)!.attached.has(POLICY_ARN)).toBe(true);
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
  });
});

describe('instance-role read: round trips', () => {
  it('what the targets have is read without waiting for our policy: three waves, not five', async () => {
    fake.addPolicy('SSMSessionManagerInstancePolicy', [{ Version: '2012-10-17', Statement: [] }]);
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    const ctx = await context([target(APP, 'AppProfile'), target(BARE)]);
    const waves = callWaves(ctx.aws.get(IAMClient), ctx.aws.get(EC2Client));
    const state = await readInstanceRole(ctx);
    expect(state.policy.kind).toBe('present');
    expect(waves.waves()).toEqual([
      ['DescribeIamInstanceProfileAssociations', 'GetInstanceProfile', 'GetInstanceProfile', 'GetPolicy', 'GetRole'],
      ['GetPolicyVersion', 'ListAttachedRolePolicies'],
      ['GetAccountSummary'],
    ]);
  });
});
