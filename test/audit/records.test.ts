import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRecords, lookupPrefixes, objectKey, placesFrom, type RecordPlaces } from '../../src/check/records.js';
import { testClients } from '../helpers/fixtures.js';
import { sessionRecords } from './records-fakes.js';

// The one matching of `audit` and `check --live`: where a session's records are, and the
// batched reads that find them.

const BUCKET = 'logs-bucket';
const GROUP = '/aws/ssm/session-logs';
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PLACES: RecordPlaces = { s3: { bucket: BUCKET, prefix: 'session-logs/', encrypted: true, keyArn: KEY }, cloudwatch: { logGroup: GROUP } };

let s3: AwsClientStub<S3Client>;
let logs: AwsClientStub<CloudWatchLogsClient>;
let fake: ReturnType<typeof sessionRecords>;
beforeEach(() => {
  s3 = mockClient(S3Client);
  logs = mockClient(CloudWatchLogsClient);
  fake = sessionRecords(s3, logs);
  fake.addBucket(BUCKET);
  fake.addGroup(GROUP);
});
afterEach(() => {
  s3.restore();
  logs.restore();
});

describe('where the records are', () => {
  it('the key as the agent joins it (Go path.Join), the places from the preference inputs', () => {
    expect(objectKey('session-logs/', 'alice-1')).toBe('session-logs/alice-1.log');
    expect(objectKey('session-logs', 'alice-1')).toBe('session-logs/alice-1.log');
    expect(objectKey('', 'alice-1')).toBe('alice-1.log');
    expect(objectKey('a//b/', 'alice-1')).toBe('a/b/alice-1.log');
    expect(placesFrom({ s3BucketName: BUCKET, s3KeyPrefix: 'p/', s3EncryptionEnabled: 'true', cloudWatchLogGroupName: GROUP }, KEY)).toEqual({
      s3: { bucket: BUCKET, prefix: 'p/', encrypted: true, keyArn: KEY },
      cloudwatch: { logGroup: GROUP },
    });
    expect(placesFrom({ s3BucketName: '', cloudWatchLogGroupName: '' })).toEqual({});
  });

  it('ids of one owner are listed together; an owner with one session is looked up alone', () => {
    expect(lookupPrefixes(['alice-1', 'alice-2', 'bob-1', 'nodash'])).toEqual(['alice-', 'bob-1', 'nodash']);
  });
});

describe('findRecords', () => {
  it('found and missing per destination, with the encryption of what was found', async () => {
    fake.putObject(BUCKET, 'session-logs/alice-1.log', { encryption: 'aws:kms', kmsKeyId: KEY });
    fake.putStream(GROUP, 'alice-1');
    fake.putStream(GROUP, 'alice-2');
    const found = await findRecords(testClients(), PLACES, ['alice-1', 'alice-2']);
    expect(found.get('alice-1')).toEqual({
      s3: { bucket: BUCKET, key: 'session-logs/alice-1.log', exists: true, encryption: 'aws:kms', kmsKeyId: KEY },
      cloudwatch: { logGroup: GROUP, stream: 'alice-1', exists: true },
    });
    expect(found.get('alice-2')).toEqual({
      s3: { bucket: BUCKET, key: 'session-logs/alice-2.log', exists: false },
      cloudwatch: { logGroup: GROUP, stream: 'alice-2', exists: true },
    });
    // HeadObject only for the object found.
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['session-logs/alice-1.log']);
  });

  it('an object listed but gone by its HeadObject holds no record; one the caller may not read exists, encryption unknown; the rest still match', async () => {
    fake.putObject(BUCKET, 'session-logs/alice-1.log', { goneBeforeHead: true });
    fake.putObject(BUCKET, 'session-logs/alice-2.log', { unreadable: true });
    fake.putObject(BUCKET, 'session-logs/alice-3.log', { encryption: 'aws:kms', kmsKeyId: KEY });
    const found = await findRecords(testClients(), { s3: PLACES.s3 }, ['alice-1', 'alice-2', 'alice-3']);
    expect(found.get('alice-1')?.s3).toMatchObject({ exists: false });
    expect(found.get('alice-2')?.s3).toEqual({ bucket: BUCKET, key: 'session-logs/alice-2.log', exists: true });
    expect(found.get('alice-3')?.s3).toMatchObject({ exists: true, encryption: 'aws:kms' });
  });

  it('many sessions: one ListObjectsV2 per page of the owner prefix and one DescribeLogStreams per page, not a call per session', async () => {
    const ids = Array.from({ length: 1500 }, (_, n) => `alice-${String(n).padStart(17, '0')}`);
    for (const id of ids) {
      fake.putObject(BUCKET, objectKey('session-logs/', id));
      fake.putStream(GROUP, id);
    }
    const plain: RecordPlaces = { ...PLACES, s3: { ...PLACES.s3!, encrypted: false } };
    const found = await findRecords(testClients(), plain, ids);
    expect([...found.values()].every((r) => r.s3?.exists && r.cloudwatch?.exists)).toBe(true);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(2);
    expect(s3.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toMatchObject({ Bucket: BUCKET, Prefix: 'session-logs/alice-', MaxKeys: 1000 });
    expect(s3).not.toHaveReceivedCommand(HeadObjectCommand);
    expect(logs.commandCalls(DescribeLogStreamsCommand)).toHaveLength(30);
    expect(logs.commandCalls(DescribeLogStreamsCommand)[0]!.args[0].input).toMatchObject({ logGroupName: GROUP, logStreamNamePrefix: 'alice-', limit: 50 });
  });

  it('a bucket or a log group that does not exist holds no record', async () => {
    fake.buckets.clear();
    fake.groups.clear();
    const found = await findRecords(testClients(), PLACES, ['alice-1']);
    expect(found.get('alice-1')).toMatchObject({ s3: { exists: false }, cloudwatch: { exists: false } });
  });

  it('only the configured destinations are read', async () => {
    await findRecords(testClients(), { cloudwatch: { logGroup: GROUP } }, ['alice-1']);
    expect(s3.calls()).toHaveLength(0);
    expect(logs.calls()).toHaveLength(1);
  });
});
