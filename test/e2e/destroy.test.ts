import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  ListPoliciesCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetBucketEncryptionCommand, HeadBucketCommand, PutBucketTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { endpoint, errorCode, kms, reset, runCli, sdk } from './harness.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';

// destroy lists the host-management associations, which moto does not implement: the stub
// proxy in front of moto holds them (ssm-stub-proxy.ts) and forwards everything else.
let proxy: SsmStubProxy;
beforeAll(async () => {
  proxy = await startSsmStubProxy(endpoint());
});
afterAll(() => proxy.close());
beforeEach(async () => {
  await reset();
  proxy.associations.clear();
});

const cli = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: proxy.url } });
const iam = () => sdk(IAMClient);
const BUCKET = 'ssm-session-logs-123456789012-us-east-1';
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

async function customerPolicies() {
  return ((await iam().send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? []).map((p) => p.PolicyName).sort();
}

describe('destroy against moto_server', () => {
  it('removes exactly what init created, keeps the audit trail, and a second destroy is a no-op', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'AppRole', AssumeRolePolicyDocument: TRUST }));
    const team = await iam().send(
      new CreatePolicyCommand({
        PolicyName: 'TeamPolicy',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] }),
      }),
    );
    await iam().send(new AttachRolePolicyCommand({ RoleName: 'AppRole', PolicyArn: team.Policy!.Arn }));
    await iam().send(new CreateUserCommand({ UserName: 'alice' }));

    const init = await cli(['init', '--yes', '--cloudwatch-logs', '--operator-users', 'alice']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    expect(await customerPolicies()).toEqual(['SSMSessionManagerInstancePolicy', 'SSMSessionManagerOperatorPolicy', 'TeamPolicy']);
    // init leaves its lease released; destroy deletes it (issue 15).
    const lease = () => sdk(SSMClient).send(new GetParameterCommand({ Name: '/app/ssm-setup/lease' }));
    expect(JSON.parse((await lease()).Parameter!.Value!)).toHaveProperty('released');

    const run = await cli(['destroy', '--yes']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('- delete IAM policy SSMSessionManagerOperatorPolicy: detach from user alice; delete it');
    // The plan names what stays of the audit trail, each part that exists.
    expect(run.stdout).toContain('kept KMS key alias/ssm-session-manager: the audit trail stays (--delete-logs removes it)');
    expect(run.stdout).toContain(`kept S3 bucket ${BUCKET} and its session logs`);
    expect(run.stdout).toContain('kept log group /aws/ssm/session-logs');
    expect(await customerPolicies()).toEqual(['TeamPolicy']);
    expect((await iam().send(new GetRoleCommand({ RoleName: 'AppRole' }))).Role?.RoleName).toBe('AppRole');
    expect((await iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies).toEqual([]);
    await expect(sdk(SSMClient).send(new DescribeDocumentCommand({ Name: 'SSM-SessionManagerRunShell' }))).rejects.toMatchObject({ name: 'InvalidDocument' });
    // The audit trail stays.
    await sdk(S3Client).send(new HeadBucketCommand({ Bucket: BUCKET }));
    expect((await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect((await sdk(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/ssm/session-logs' }))).logGroups).toHaveLength(1);
    await expect(lease()).rejects.toMatchObject({ name: 'ParameterNotFound' });

    const again = await cli(['destroy', '--yes']);
    expect(again.code).toBe(0);
    expect(again.writes).toEqual([]);
  });

  it('--delete-logs needs --force with --yes (exit 2, nothing read or written)', async () => {
    const run = await cli(['destroy', '--yes', '--delete-logs', '--verbose']);
    expect(run.code).toBe(2);
    expect(errorCode(run)).toBe('NEEDS_FORCE');
    expect(run.stderr).toContain('--force');
    expect(run.calls).toEqual([]);
  });

  it('--delete-logs --force --yes deletes the log group and the emptied bucket, and schedules the key for deletion', async () => {
    expect((await cli(['init', '--yes', '--cloudwatch-logs'])).code).toBe(0);
    const keyId = (await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata!.KeyId;
    const run = await cli(['destroy', '--yes', '--force', '--delete-logs']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((await kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState, run.stdout + run.stderr).toBe('PendingDeletion');
    await expect(kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(sdk(S3Client).send(new HeadBucketCommand({ Bucket: BUCKET }))).rejects.toBeTruthy();
    expect((await sdk(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/ssm/session-logs' }))).logGroups).toEqual([]);
    // Not "removed": when KMS deletes the key, with its real id, and how to undo it.
    const { DeletionDate } = (await kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
    expect(run.stdout).toContain(
      `key ${keyId} scheduled for deletion on ${DeletionDate!.toISOString().slice(0, 10)}; undo with aws kms cancel-key-deletion --key-id ${keyId}`,
    );
    const again = await cli(['destroy', '--yes', '--force', '--delete-logs']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout.trim().split('\n').at(-1)).toBe('Nothing to remove.');
    expect(again.writes).toEqual([]);
  });

  // Associations through the stub proxy (moto has none): ours made by the built CLI, one named
  // like ours seeded without the ManagedBy tag.
  it('an association named ssm-setup-… without our ManagedBy tag stays; ours go; a second destroy removes nothing', async () => {
    const made = await cli(['run', 'host-management', '--yes', '--tag', 'Env=dev']);
    expect(made.code, made.stdout + made.stderr).toBe(0);
    const ours = [...proxy.associations.values()].map((a) => a.AssociationName).sort();
    expect(ours).toEqual(['ssm-setup-SoftwareInventory', 'ssm-setup-UpdateCloudWatchAgent', 'ssm-setup-UpdateSSMAgent']);
    const foreign = proxy.addAssociation({
      Name: 'AWS-GatherSoftwareInventory',
      AssociationName: 'ssm-setup-Foreign',
      Targets: [{ Key: 'tag:Env', Values: ['dev'] }],
      ScheduleExpression: 'rate(1 day)',
      tags: { Owner: 'ops' },
    });

    const run = await cli(['destroy', '--yes']);

    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect([...proxy.associations.keys()]).toEqual([foreign]);
    expect(run.stdout).toContain('- delete association ssm-setup-UpdateSSMAgent');
    expect(run.stdout).toContain('kept association ssm-setup-Foreign');
    expect(run.writes.filter((w) => w.operation === 'DeleteAssociation')).toHaveLength(3);
    const again = await cli(['destroy', '--yes']);
    expect(again.code).toBe(0);
    expect(again.writes).toEqual([]);
    expect([...proxy.associations.keys()]).toEqual([foreign]);
  });

  it('--delete-logs keeps the key while the adopted bucket’s default encryption names it, and says so', async () => {
    // Someone's bucket (tagged by its team), under the default name: init adopts it and encrypts it with the new key.
    await sdk(S3Client).send(new CreateBucketCommand({ Bucket: BUCKET }));
    await sdk(S3Client).send(new PutBucketTaggingCommand({ Bucket: BUCKET, Tagging: { TagSet: [{ Key: 'Owner', Value: 'audit' }] } }));
    const init = await cli(['init', '--yes']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    const key = (await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata!;
    const sse = (await sdk(S3Client).send(new GetBucketEncryptionCommand({ Bucket: BUCKET }))).ServerSideEncryptionConfiguration?.Rules?.[0];
    expect(sse?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(key.Arn);

    const run = await cli(['destroy', '--yes', '--force', '--delete-logs']);

    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`kept KMS key alias/ssm-session-manager: still used by bucket ${BUCKET}'s default encryption`);
    expect(run.writes.map((w) => w.operation)).not.toContain('ScheduleKeyDeletion');
    expect((await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata?.KeyState).toBe('Enabled');
    await sdk(S3Client).send(new HeadBucketCommand({ Bucket: BUCKET }));
    expect((await cli(['destroy', '--yes', '--force', '--delete-logs'])).writes).toEqual([]);
  });
});
