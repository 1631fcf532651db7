import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  type DeleteObjectsRequest,
  ListObjectVersionsCommand,
  type ListObjectVersionsRequest,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError } from '../../src/base/errors.js';
import { storageTeardown } from '../../src/teardown/storage.js';
import type { Removal, TeardownContext } from '../../src/teardown/types.js';
import { type FakeS3Options, fakeS3 } from '../helpers/fake-s3.js';
import { ACCOUNT, IDENTITY, REGION, settingsFrom, testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const OURS = { ManagedBy: 'ssm-setup' };

let fake: ReturnType<typeof fakeS3>;
const logs = mockClient(CloudWatchLogsClient);
const kms = mockClient(KMSClient);
const strict = (opts: FakeS3Options = {}) => {
  fake.mock.restore();
  fake = fakeS3(opts);
};

beforeEach(() => {
  fake = fakeS3();
  // No log group and no key: only the bucket's removal is looked at here.
  logs.reset().on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
  kms
    .reset()
    .on(DescribeKeyCommand)
    .rejects(new NotFoundException({ message: 'Alias not found', $metadata: {} }));
});
afterEach(() => fake.mock.restore());

async function teardown(flags: Record<string, unknown>, io: TestIo): Promise<TeardownContext> {
  const { settings } = await settingsFrom(flags);
  return { settings, identity: IDENTITY, region: REGION, aws: testClients(), io, deleteLogs: true };
}

/** The bucket's removal, or undefined when destroy leaves the bucket alone. */
async function bucketRemoval(flags: Record<string, unknown> = {}, io = new TestIo()): Promise<Removal | undefined> {
  return (await storageTeardown(await teardown(flags, io))).removals.find((r) => r.step === 'log-bucket');
}

const listInputs = () => fake.mock.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input as ListObjectVersionsRequest);
const deleteInputs = () => fake.mock.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input as DeleteObjectsRequest);

describe('destroy --delete-logs: the session-log bucket', () => {
  it('is left alone unless ssm-setup made it, and when it does not exist', async () => {
    fake.addBucket(BUCKET, { tags: { Owner: 'ops' } });
    expect(await bucketRemoval()).toBeUndefined();
    fake.buckets.delete(BUCKET);
    expect(await bucketRemoval()).toBeUndefined();
    expect(fake.writes()).toEqual([]);
  });

  it('is left alone when the named bucket lives in another region: ssm-setup never made it from here', async () => {
    fake.addBucket('team-logs', { region: 'us-west-2', tags: OURS });
    expect(await bucketRemoval({ bucket: 'team-logs' })).toBeUndefined();
    expect(fake.writes()).toEqual([]);
  });

  it('empties a versioned bucket page by page (markers, at most 1,000 keys a call) and deletes it', async () => {
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled', policy: '{"Version":"2012-10-17","Statement":[]}' });
    for (let i = 0; i < 1_500; i++)
      fake.addObject(BUCKET, `session-logs/s-${String(i).padStart(4, '0')}.log`, { versions: i % 3 === 0 ? 2 : 1, deleteMarker: i % 5 === 0 });
    const total = fake.versionCount(BUCKET);
    expect(total).toBeGreaterThan(2_000);

    const removal = (await bucketRemoval())!;
    // The plan counted them, page by page too.
    const counted = listInputs().length;
    expect(counted).toBe(Math.ceil(total / 1000));
    await removal.run();

    expect(fake.buckets.has(BUCKET)).toBe(false);
    expect(fake.writes()[0]).toBe('DeleteBucketPolicyCommand');
    expect(fake.writes().at(-1)).toBe('DeleteBucketCommand');
    const lists = listInputs().slice(counted);
    expect(lists).toHaveLength(Math.ceil(total / 1000));
    expect(lists[0]).not.toHaveProperty('KeyMarker');
    // Each page continues where the last one ended, instead of starting over.
    for (const input of lists.slice(1)) expect(input).toEqual(expect.objectContaining({ KeyMarker: expect.any(String), VersionIdMarker: expect.any(String) }));
    const deletes = deleteInputs();
    for (const d of deletes) expect(d.Delete?.Objects?.length).toBeLessThanOrEqual(1000);
    expect(deletes.reduce((n, d) => n + (d.Delete?.Objects?.length ?? 0), 0)).toBe(total);
  });

  it('a version under Object Lock: stops with OBJECTS_NOT_DELETED naming the key, after a bounded number of calls', async () => {
    strict({ callBudget: 50 });
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled' });
    fake.addObject(BUCKET, 'session-logs/a.log');
    fake.addObject(BUCKET, 'session-logs/held.log', { versions: 2, lock: 'legal-hold' });
    fake.addObject(BUCKET, 'session-logs/z.log');

    const error = await (await bucketRemoval())!.run().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'OBJECTS_NOT_DELETED', stepId: 'log-bucket' });
    expect((error as StepError).message).toContain('session-logs/held.log');
    expect((error as StepError).hint).toMatch(/Object Lock/);
    expect(fake.mock.commandCalls(DeleteObjectsCommand)).toHaveLength(1);
    // One listing to count them for the plan, one to delete.
    expect(fake.mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(2);
    expect(fake.mock.commandCalls(DeleteBucketCommand)).toHaveLength(0);
    expect(fake.buckets.has(BUCKET)).toBe(true);
  });

  it('a removal stopped by Object Lock puts the bucket policy back: the bucket stays, with its TLS-only deny', async () => {
    strict({ callBudget: 50 });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: `arn:aws:s3:::${BUCKET}/*`,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    });
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled', policy });
    fake.addObject(BUCKET, 'session-logs/held.log', { lock: 'retention' });
    await expect((await bucketRemoval())!.run()).rejects.toMatchObject({ code: 'OBJECTS_NOT_DELETED' });
    expect(fake.buckets.get(BUCKET)?.policy).toBe(policy);
  });

  it('when the policy cannot be put back, it says so and how to restore it, and the removal error stands', async () => {
    strict({ deny: ['s3:PutBucketPolicy'], callBudget: 50 });
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled', policy: '{"Version":"2012-10-17","Statement":[]}' });
    fake.addObject(BUCKET, 'session-logs/held.log', { lock: 'legal-hold' });
    const io = new TestIo();
    await expect((await bucketRemoval({}, io))!.run()).rejects.toMatchObject({ code: 'OBJECTS_NOT_DELETED' });
    expect(io.lines.filter((l) => l.startsWith('warn:'))).toEqual([expect.stringContaining('ssm-setup run log-bucket')]);
  });

  it('without s3:DeleteObjectVersion: OBJECTS_NOT_DELETED, the hint naming the permission, a few keys and a count of the rest', async () => {
    strict({ deny: ['s3:DeleteObjectVersion'], callBudget: 50 });
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled' });
    const keys = Array.from({ length: 12 }, (_, i) => `session-logs/k${String(i).padStart(2, '0')}.log`);
    for (const key of keys) fake.addObject(BUCKET, key);

    const error = (await (await bucketRemoval())!.run().catch((e: unknown) => e)) as StepError;

    expect(error).toMatchObject({ code: 'OBJECTS_NOT_DELETED', stepId: 'log-bucket' });
    expect(error.hint).toContain('s3:DeleteObjectVersion');
    expect(error.message).toContain(keys[0]);
    expect(error.message).toContain('AccessDenied');
    expect(keys.filter((k) => error.message.includes(k)).length).toBeLessThan(keys.length); // a few, not all
    expect(error.message).toContain(String(keys.length - keys.filter((k) => error.message.includes(k)).length));
    expect(fake.versionCount(BUCKET)).toBe(keys.length);
  });

  it('the plan counts the object versions (delete markers too) and their bytes that will go, over every listing page', async () => {
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled' });
    for (let i = 0; i < 1_200; i++) fake.addObject(BUCKET, `session-logs/s-${String(i).padStart(4, '0')}.log`, { size: 2_500, deleteMarker: i === 0 });
    const removal = (await bucketRemoval())!;
    expect(removal.detail).toBe('delete 1,201 object versions (3.0 MB) and the bucket');
    expect(removal.typed).toMatchObject({ id: 'destroy.confirm-bucket-name', name: BUCKET, what: expect.stringContaining('1,201 object versions (3.0 MB)') });
    expect(listInputs()).toHaveLength(2);
    expect(fake.writes()).toEqual([]);
  });

  it('an empty bucket: the plan says so', async () => {
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled' });
    expect((await bucketRemoval())!.detail).toBe('delete the bucket (it holds no object)');
  });

  it('a failed DeleteBucket leaves the tags: a rerun reads the bucket again and finishes', async () => {
    fake.addBucket(BUCKET, { tags: OURS, versioning: 'Enabled' });
    fake.addObject(BUCKET, 'session-logs/a.log', { versions: 3 });
    fake.failOnce(DeleteBucketCommand);
    await expect((await bucketRemoval())!.run()).rejects.toThrow('socket hang up');
    expect(fake.versionCount(BUCKET)).toBe(0);
    await (await bucketRemoval())!.run();
    expect(fake.buckets.has(BUCKET)).toBe(false);
    expect(fake.mock.commandCalls(DeleteBucketPolicyCommand)).toHaveLength(2);
  });
});
