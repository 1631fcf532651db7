import { DescribeIamInstanceProfileAssociationsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { errorCode, reset, runCli, sdk } from './harness.js';

const iam = () => sdk(IAMClient);
const ec2 = () => sdk(EC2Client);
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const ACCOUNT = '123456789012';

async function instance(tags: Record<string, string>, profile?: string): Promise<string> {
  const out = await ec2().send(
    new RunInstancesCommand({
      ImageId: 'ami-0ed094fb1304fd857',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      ...(profile ? { IamInstanceProfile: { Name: profile } } : {}),
      TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

async function attachedTo(role: string) {
  return ((await iam().send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? []).map((p) => p.PolicyName).sort();
}

async function profileOf(instanceId: string) {
  const out = await ec2().send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
  return out.IamInstanceProfileAssociations?.[0]?.IamInstanceProfile?.Arn;
}

beforeEach(reset);

describe('IAM for instances and operators against moto_server', () => {
  it('attaches to the existing role, gives the bare instance a profile, leaves the others alone; the rerun writes nothing', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'AppRole', AssumeRolePolicyDocument: TRUST }));
    await iam().send(new CreateInstanceProfileCommand({ InstanceProfileName: 'AppProfile' }));
    await iam().send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'AppProfile', RoleName: 'AppRole' }));
    await iam().send(new CreateUserCommand({ UserName: 'alice' }));
    const withProfile = await instance({ Name: 'app-1', Env: 'demo' }, 'AppProfile');
    const bare = await instance({ Name: 'app-2', Env: 'demo' });
    const other = await instance({ Name: 'db-1', Env: 'prod' });

    // The agents and host-management steps need SSM APIs moto lacks (DescribeInstanceInformation,
    // associations; covered by mocks in test/steps): with targets, run the IAM steps themselves.
    expect((await runCli(['init', '--yes'])).code).toBe(0);
    const args = ['run', 'instance-role', 'operator-policy', '--yes', '--tag', 'Env=demo', '--operator-users', 'alice'];
    const run = await runCli(args);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    expect(await attachedTo('AppRole')).toEqual(['CloudWatchAgentServerPolicy', 'SSMSessionManagerInstancePolicy']);
    expect(await attachedTo('SSMSessionManagerInstanceRole')).toEqual(['CloudWatchAgentServerPolicy', 'SSMSessionManagerInstancePolicy']);
    const trust = decodeURIComponent((await iam().send(new GetRoleCommand({ RoleName: 'SSMSessionManagerInstanceRole' }))).Role!.AssumeRolePolicyDocument!);
    expect(JSON.parse(trust).Statement[0].Principal).toEqual({ Service: 'ec2.amazonaws.com' });
    expect(await profileOf(bare)).toBe(`arn:aws:iam::${ACCOUNT}:instance-profile/SSMSessionManagerInstanceRole`);
    expect(await profileOf(withProfile)).toBe(`arn:aws:iam::${ACCOUNT}:instance-profile/AppProfile`);
    expect(await profileOf(other)).toBeUndefined();

    const policyArn = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;
    const policy = (await iam().send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy!;
    const doc = (await iam().send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.DefaultVersionId }))).PolicyVersion!.Document!;
    expect(decodeURIComponent(doc)).toContain(`arn:aws:s3:::ssm-session-logs-${ACCOUNT}-us-east-1/session-logs/*`);
    const operator = (await iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies!.map((p) => p.PolicyName);
    expect(operator).toEqual(['SSMSessionManagerOperatorPolicy']);
    expect(run.stdout, run.stdout).toContain(`${bare} → SSMSessionManagerInstanceRole`);

    const rerun = await runCli(args);
    expect(rerun.code).toBe(0);
    expect(rerun.writes).toEqual([]);
    const plan = await runCli(['plan', '--detailed-exitcode', '--operator-users', 'alice']);
    expect(plan.code, plan.stdout).toBe(0);
  });

  it('a changed setting makes a new default policy version, not a second policy', async () => {
    expect((await runCli(['init', '--yes'])).code).toBe(0);
    const run = await runCli(['init', '--yes', '--s3-prefix', 'audit/']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/~ update IAM policy SSMSessionManagerInstancePolicy: new default version: changed SessionLogsToS3/);
    expect(run.writes.filter((c) => c.service === 'IAM').map((c) => c.operation)).toEqual(['CreatePolicyVersion']);
    const policyArn = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;
    expect((await iam().send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy!.DefaultVersionId).toBe('v2');
  });

  it('without targets only the policies are made, and the plan says why', async () => {
    const run = await runCli(['init', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no target instances (--instance-ids or --tag)');
    expect(run.writes.map((c) => c.operation)).not.toContain('AssociateIamInstanceProfile');
    expect(run.writes.map((c) => c.operation)).not.toContain('CreateRole');
  });

  it.each([
    [['--instance-ids', 'i-0123456789abcdef0'], 'UNKNOWN_INSTANCE', 'i-0123456789abcdef0'],
    [['--operator-users', 'nobody'], 'UNKNOWN_PRINCIPAL', 'nobody'],
  ])('unknown %j: exit 2 naming it, no write call', async (args, code, named) => {
    const run = await runCli(['init', '--yes', '--verbose', ...args]);
    expect(run.code).toBe(2);
    expect(errorCode(run)).toBe(code);
    expect(run.stderr).toContain(named);
    expect(run.writes).toEqual([]);
  });
});
