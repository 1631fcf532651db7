import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cloudWatchLogsStatement, sessionKeyPolicy } from '../../../src/policies/kms-key-policy.js';
import { DEFAULT_KEY_POLICY, type FakeKms, fakeKms } from '../../helpers/fake-kms.js';
import { type FakeLogs, fakeLogs, groupArnOf } from '../../helpers/fake-logs.js';
import { ACCOUNT, REGION, testClients } from '../../helpers/fixtures.js';

// The strict CloudWatch Logs fake refuses what the service refuses; the step tests rely on it.
const GROUP = '/aws/ssm/session-logs';
let kms: FakeKms;
let logs: FakeLogs;
let keyArn: string;
const client = () => testClients().get(CloudWatchLogsClient);
const withLogs = (statement = cloudWatchLogsStatement({ partition: 'aws', account: ACCOUNT, region: REGION })) => {
  const doc = JSON.parse(DEFAULT_KEY_POLICY) as { Statement: unknown[] };
  doc.Statement.push(statement);
  return JSON.stringify(doc);
};

beforeEach(() => {
  kms = fakeKms();
  logs = fakeLogs(kms);
  keyArn = kms.keys.get(kms.addKey({ policy: withLogs() }))!.meta.Arn!;
});
afterEach(() => {
  logs.mock.restore();
  kms.mock.restore();
});

describe('the strict fake CloudWatch Logs', () => {
  it('encrypts with a key ARN whose policy admits logs.<region> for the group', async () => {
    await client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: keyArn }));
    expect(logs.groups.get(GROUP)).toMatchObject({ kmsKeyId: keyArn, arn: groupArnOf(GROUP) });
  });

  it.each([
    ['a key policy without the logs statement', () => DEFAULT_KEY_POLICY],
    ['a statement for another region', () => withLogs(cloudWatchLogsStatement({ partition: 'aws', account: ACCOUNT, region: 'us-east-1' }))],
    [
      'a statement scoped to another log group',
      () =>
        withLogs({
          ...cloudWatchLogsStatement({ partition: 'aws', account: ACCOUNT, region: REGION }),
          Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': groupArnOf('/other') } },
        }),
    ],
    ['an explicit Deny', () => withLogs({ Effect: 'Deny', Principal: { Service: `logs.${REGION}.amazonaws.com` }, Action: 'kms:*', Resource: '*' })],
  ])('CreateLogGroup and AssociateKmsKey: AccessDeniedException with the real message for %s', async (_what, policy) => {
    const arn = kms.keys.get(kms.addKey({ policy: policy() }))!.meta.Arn!;
    const message = `The specified KMS key does not exist or is not allowed to be used with Arn '${groupArnOf(GROUP)}'`;
    await expect(client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: arn }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message,
    });
    logs.addGroup(GROUP);
    await expect(client().send(new AssociateKmsKeyCommand({ logGroupName: GROUP, kmsKeyId: arn }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message,
    });
    expect(logs.groups.get(GROUP)!.kmsKeyId).toBeUndefined();
  });

  it.each([
    ['a key id', () => keyArn.split('/')[1]!],
    ['an alias ARN', () => `arn:aws:kms:${REGION}:${ACCOUNT}:alias/ssm-session-manager`],
  ])('refuses %s for kmsKeyId (it must be the key ARN)', async (_what, id) => {
    await expect(client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: id() }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });

  it('a key whose policy just changed is refused once (CloudWatch Logs catches up), then accepted', async () => {
    kms.keys.get(keyArn.split('/')[1]!)!.logsLag = true;
    await expect(client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: keyArn }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: keyArn }));
  });

  it('PutRetentionPolicy takes only the allowed values', async () => {
    logs.addGroup(GROUP);
    await expect(client().send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 31 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await client().send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 30 }));
    expect(logs.groups.get(GROUP)!.retentionDays).toBe(30);
  });

  it('tags go on the log group ARN without :*, at most 50, no aws: keys', async () => {
    logs.addGroup(GROUP);
    const arn = groupArnOf(GROUP);
    await expect(client().send(new TagResourceCommand({ resourceArn: `${arn}:*`, tags: { A: 'b' } }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(client().send(new ListTagsForResourceCommand({ resourceArn: `${arn}:*` }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(client().send(new TagResourceCommand({ resourceArn: arn, tags: { 'aws:x': 'b' } }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`K${i}`, 'v']));
    await expect(client().send(new TagResourceCommand({ resourceArn: arn, tags: many }))).rejects.toMatchObject({ name: 'TooManyTagsException' });
    await client().send(new TagResourceCommand({ resourceArn: arn, tags: { A: 'b' } }));
    expect((await client().send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual({ A: 'b' });
  });

  it('DescribeLogGroups filters by prefix, sorts by name and pages', async () => {
    logs.mock.restore();
    logs = fakeLogs(kms, { pageSize: 2 });
    for (const n of ['/b', '/a/2', '/a/1', '/a/3']) logs.addGroup(n);
    const first = await client().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/a/' }));
    expect(first.logGroups!.map((g) => g.logGroupName)).toEqual(['/a/1', '/a/2']);
    expect(first.logGroups![0]!.arn).toBe(`${groupArnOf('/a/1')}:*`);
    const second = await client().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/a/', nextToken: first.nextToken }));
    expect(second.logGroups!.map((g) => g.logGroupName)).toEqual(['/a/3']);
    expect(second.nextToken).toBeUndefined();
  });

  it('CreateLogGroup refuses a second group of the same name; DeleteLogGroup removes it', async () => {
    await client().send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await expect(client().send(new CreateLogGroupCommand({ logGroupName: GROUP }))).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    await client().send(new DeleteLogGroupCommand({ logGroupName: GROUP }));
    expect(logs.groups.has(GROUP)).toBe(false);
    await expect(client().send(new DeleteLogGroupCommand({ logGroupName: GROUP }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('the key policy ssm-setup writes is one it accepts', async () => {
    const arn = kms.keys.get(
      kms.addKey({ policy: JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true })) }),
    )!.meta.Arn!;
    await client().send(new CreateLogGroupCommand({ logGroupName: GROUP, kmsKeyId: arn }));
  });
});
