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
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { endpoint, errorCode, kms, reset, runCli, sdk } from './harness.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';

// destroy lists the host-management associations, which moto does not implement: the stub
// proxy in front of moto answers ListAssociations (empty) and forwards everything else.
let proxy: SsmStubProxy;
beforeAll(async () => {
  proxy = await startSsmStubProxy(endpoint());
});
afterAll(() => proxy.close());
beforeEach(reset);

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

    const run = await cli(['destroy', '--yes', '--cloudwatch-logs']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('- delete IAM policy SSMSessionManagerOperatorPolicy: detach from user alice; delete it');
    expect(run.stderr).toContain('Kept: the key alias/ssm-session-manager, the bucket');
    expect(await customerPolicies()).toEqual(['TeamPolicy']);
    expect((await iam().send(new GetRoleCommand({ RoleName: 'AppRole' }))).Role?.RoleName).toBe('AppRole');
    expect((await iam().send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies).toEqual([]);
    await expect(sdk(SSMClient).send(new DescribeDocumentCommand({ Name: 'SSM-SessionManagerRunShell' }))).rejects.toMatchObject({ name: 'InvalidDocument' });
    // The audit trail stays.
    await sdk(S3Client).send(new HeadBucketCommand({ Bucket: BUCKET }));
    expect((await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect((await sdk(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/ssm/session-logs' }))).logGroups).toHaveLength(1);

    const again = await cli(['destroy', '--yes', '--cloudwatch-logs']);
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
    const run = await cli(['destroy', '--yes', '--force', '--delete-logs', '--cloudwatch-logs']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((await kms().send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    await expect(kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(sdk(S3Client).send(new HeadBucketCommand({ Bucket: BUCKET }))).rejects.toBeTruthy();
    expect((await sdk(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/ssm/session-logs' }))).logGroups).toEqual([]);
  });
});
