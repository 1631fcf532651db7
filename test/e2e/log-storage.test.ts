import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { kms, reset, runCli, sdk, setupWrites } from './harness.js';

const BUCKET = 'ssm-session-logs-123456789012-us-east-1';
const GROUP = '/aws/ssm/session-logs';
const s3 = () => sdk(S3Client);
const logs = () => sdk(CloudWatchLogsClient);
const keyArn = async () => (await kms().send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata!.Arn!;

beforeEach(reset);

describe('session log storage against moto_server', () => {
  it('init --yes --cloudwatch-logs creates key, bucket and log group with every property, and a rerun writes nothing', async () => {
    const run = await runCli(['init', '--yes', '--cloudwatch-logs', '--tags', 'Team=infra']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const arn = await keyArn();
    const Bucket = BUCKET;

    expect((await s3().send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const sse = (await s3().send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration!.Rules![0]!;
    expect(sse).toMatchObject({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn }, BucketKeyEnabled: true });
    const policy = JSON.parse((await s3().send(new GetBucketPolicyCommand({ Bucket }))).Policy!);
    expect(policy.Statement).toEqual([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    const [rule] = (await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules!;
    expect(rule).toMatchObject({
      ID: 'ssm-setup-session-logs',
      Status: 'Enabled',
      Filter: { Prefix: 'session-logs/' },
      Transitions: [{ Days: 90, StorageClass: 'GLACIER' }],
      Expiration: { Days: 365 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
    expect((await s3().send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');
    expect((await s3().send(new GetBucketTaggingCommand({ Bucket }))).TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );

    const [group] = (await logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: GROUP }))).logGroups!;
    expect(group).toMatchObject({ logGroupName: GROUP, kmsKeyId: arn, retentionInDays: 365 });
    expect((await logs().send(new ListTagsForResourceCommand({ resourceArn: group!.logGroupArn }))).tags).toMatchObject({
      ManagedBy: 'ssm-setup',
      Team: 'infra',
    });
    const keyPolicy = JSON.parse((await kms().send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }))).Policy!);
    expect(keyPolicy.Statement).toContainEqual(expect.objectContaining({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } }));
    expect(run.stdout).toContain(`bucketArn: arn:aws:s3:::${BUCKET}`);

    const rerun = await runCli(['init', '--yes', '--cloudwatch-logs', '--tags', 'Team=infra']);
    expect(rerun.code).toBe(0);
    expect(rerun.writes).toEqual([]);
    const plan = await runCli(['plan', '--cloudwatch-logs', '--tags', 'Team=infra', '--detailed-exitcode']);
    expect(plan.code, plan.stdout).toBe(0);
    expect((await s3().send(new ListBucketsCommand({}))).Buckets).toHaveLength(1);
  });

  it('adopts a bucket made beforehand: its policy statements and lifecycle rules stay, and it is not claimed', async () => {
    const Bucket = BUCKET;
    await s3().send(new CreateBucketCommand({ Bucket }));
    const foreignStatement = {
      Sid: 'AuditReaders',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::123456789012:root' },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${Bucket}/*`,
    };
    await s3().send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [foreignStatement] }) }));
    const foreignRule = { ID: 'tmp-cleanup', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3 } };
    await s3().send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [foreignRule] } }));

    const plan = await runCli(['plan']);
    expect(plan.stdout).toContain(`~ update default encryption of bucket ${Bucket}`);
    expect(plan.stdout).toContain('keeps 1 other statement');
    expect(plan.stdout).toContain('keeps 1 other rule');

    const run = await runCli(['init', '--yes']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const policy = JSON.parse((await s3().send(new GetBucketPolicyCommand({ Bucket }))).Policy!);
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(['AuditReaders', 'DenyInsecureTransport']);
    const rules = (await s3().send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules!;
    expect(rules.map((r) => r.ID)).toEqual(['tmp-cleanup', 'ssm-setup-session-logs']);
    expect(rules[0]).toMatchObject(foreignRule);
    const tags = await s3()
      .send(new GetBucketTaggingCommand({ Bucket }))
      .then(
        (t) => t.TagSet,
        () => [],
      );
    expect(tags).not.toContainEqual({ Key: 'ManagedBy', Value: 'ssm-setup' });
    expect(run.writes.map((c) => c.operation)).not.toContain('CreateBucket');
    expect((await runCli(['init', '--yes'])).writes).toEqual([]);
  });

  it('a run interrupted after creating the bucket converges on rerun', async () => {
    await runCli(['run', 'kms-key', '--yes']);
    await s3().send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3().send(new PutBucketTaggingCommand({ Bucket: BUCKET, Tagging: { TagSet: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] } }));
    const run = await runCli(['init', '--yes']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(
      run.writes
        .filter((c) => c.service === 'S3')
        .map((c) => c.operation)
        .sort(),
    ).toEqual(['PutBucketEncryption', 'PutBucketLifecycleConfiguration', 'PutBucketPolicy', 'PutBucketVersioning', 'PutPublicAccessBlock']);
    expect((await runCli(['init', '--yes'])).writes).toEqual([]);
  });

  it('creates the bucket in the region being set up (location constraint outside us-east-1)', async () => {
    const run = await runCli(['init', '--yes'], { env: { AWS_REGION: 'eu-west-1' } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const Bucket = 'ssm-session-logs-123456789012-eu-west-1';
    expect((await s3().send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint).toBe('eu-west-1');
    expect((await runCli(['init', '--yes'], { env: { AWS_REGION: 'eu-west-1' } })).writes).toEqual([]);
  });

  it('adopts a log group: fixes its retention, keeps it unclaimed', async () => {
    await runCli(['run', 'kms-key', '--yes', '--cloudwatch-logs']);
    await logs().send(new CreateLogGroupCommand({ logGroupName: '/team/sessions', kmsKeyId: await keyArn() }));
    const run = await runCli(['run', 'log-group', '--yes', '--log-group', '/team/sessions', '--log-retention-days', '90']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(setupWrites(run).map((c) => c.operation)).toEqual(['PutRetentionPolicy']);
    const [group] = (await logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/team/sessions' }))).logGroups!;
    expect(group!.retentionInDays).toBe(90);
    expect((await logs().send(new ListTagsForResourceCommand({ resourceArn: group!.logGroupArn }))).tags ?? {}).not.toHaveProperty('ManagedBy');
  });

  it('run log-bucket alone needs the key: exit 1 naming the step to run first, nothing written', async () => {
    const run = await runCli(['run', 'log-bucket', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('run `ssm-setup run kms-key`');
    expect(run.writes).toEqual([]);
  });

  it.each([
    [['--log-retention-days', '31'], '--log-retention-days'],
    [['--bucket', 'Bad_Name'], '--bucket'],
    [['--s3-prefix', '/logs'], '--s3-prefix'],
    [['--log-group', 'aws/x'], '--log-group'],
  ])('refuses %j before any AWS call, exit 2', async (args, flag) => {
    const run = await runCli(['init', '--yes', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${flag}:`);
    expect(run.calls).toEqual([]);
  });
});
