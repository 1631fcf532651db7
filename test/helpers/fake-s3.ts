import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  type LifecycleRule,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { REGION } from './fixtures.js';

export interface FakeBucket {
  region: string;
  tags?: Record<string, string>;
  publicAccess?: PublicAccessBlockConfiguration;
  encryption?: ServerSideEncryptionRule;
  policy?: string;
  rules?: LifecycleRule[];
  versioning?: 'Enabled' | 'Suspended';
}

/** An S3 error as the SDK throws it: a name and an HTTP status, HeadBucket without a message. */
export const s3Error = (name: string, httpStatusCode: number, message = '') =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode } });

/**
 * A small stateful S3 behind aws-sdk-client-mock, enough to prove that apply converges:
 * apply, then read again, and the plan is empty. New buckets get the defaults S3 has applied
 * since 2023 (all public access blocked, SSE-S3); `foreign` names belong to another account.
 * `failOnce(command)` makes the next call of that command fail, to interrupt a run.
 */
export function fakeS3() {
  const mock = mockClient(S3Client);
  const buckets = new Map<string, FakeBucket>();
  const foreign = new Set<string>();
  const failures = new Map<string, Error>();

  const guard = <I extends object, O>(command: { name: string }, fn: (input: I) => O) => async (input: I) => {
    const failure = failures.get(command.name);
    if (failure) {
      failures.delete(command.name);
      throw failure;
    }
    return fn(structuredClone(input));
  };
  const find = (name: string | undefined) => {
    const bucket = buckets.get(name ?? '');
    if (!bucket) throw s3Error(foreign.has(name ?? '') ? 'AccessDenied' : 'NoSuchBucket', foreign.has(name ?? '') ? 403 : 404, 'The specified bucket does not exist');
    return bucket;
  };
  const missing = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw s3Error(name, 404, name);
    return value;
  };

  mock.on(HeadBucketCommand).callsFake(guard(HeadBucketCommand, (i: { Bucket?: string }) => {
    if (foreign.has(i.Bucket ?? '')) throw s3Error('Forbidden', 403);
    const bucket = buckets.get(i.Bucket ?? '');
    if (!bucket) throw s3Error('NotFound', 404);
    return { BucketRegion: bucket.region };
  }));
  mock.on(CreateBucketCommand).callsFake(guard(CreateBucketCommand, (i: { Bucket?: string; CreateBucketConfiguration?: { LocationConstraint?: string; Tags?: { Key?: string; Value?: string }[] } }) => {
    const name = i.Bucket ?? '';
    if (foreign.has(name)) throw s3Error('BucketAlreadyExists', 409, 'The requested bucket name is not available.');
    const region = i.CreateBucketConfiguration?.LocationConstraint ?? 'us-east-1';
    if (buckets.has(name)) {
      if (region === 'us-east-1') return {}; // us-east-1 answers 200 to its owner
      throw s3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.');
    }
    buckets.set(name, {
      region,
      publicAccess: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
      ...(i.CreateBucketConfiguration?.Tags ? { tags: Object.fromEntries(i.CreateBucketConfiguration.Tags.map((t) => [t.Key ?? '', t.Value ?? ''])) } : {}),
    });
    return { Location: `/${name}` };
  }));
  mock.on(ListBucketsCommand).callsFake(guard(ListBucketsCommand, () => ({
    Buckets: [...buckets].map(([Name, b]) => ({ Name, BucketRegion: b.region })),
  })));

  mock.on(GetBucketTaggingCommand).callsFake(guard(GetBucketTaggingCommand, (i: { Bucket?: string }) => {
    const tags = missing(find(i.Bucket).tags, 'NoSuchTagSet');
    return { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
  }));
  mock.on(PutBucketTaggingCommand).callsFake(guard(PutBucketTaggingCommand, (i: { Bucket?: string; Tagging?: { TagSet?: { Key?: string; Value?: string }[] } }) => {
    find(i.Bucket).tags = Object.fromEntries((i.Tagging?.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])); // replaces the whole set
    return {};
  }));
  mock.on(GetPublicAccessBlockCommand).callsFake(guard(GetPublicAccessBlockCommand, (i: { Bucket?: string }) => ({
    PublicAccessBlockConfiguration: missing(find(i.Bucket).publicAccess, 'NoSuchPublicAccessBlockConfiguration'),
  })));
  mock.on(PutPublicAccessBlockCommand).callsFake(guard(PutPublicAccessBlockCommand, (i: { Bucket?: string; PublicAccessBlockConfiguration?: PublicAccessBlockConfiguration }) => {
    find(i.Bucket).publicAccess = i.PublicAccessBlockConfiguration;
    return {};
  }));
  mock.on(GetBucketEncryptionCommand).callsFake(guard(GetBucketEncryptionCommand, (i: { Bucket?: string }) => ({
    ServerSideEncryptionConfiguration: { Rules: [missing(find(i.Bucket).encryption, 'ServerSideEncryptionConfigurationNotFoundError')] },
  })));
  mock.on(PutBucketEncryptionCommand).callsFake(guard(PutBucketEncryptionCommand, (i: { Bucket?: string; ServerSideEncryptionConfiguration?: { Rules?: ServerSideEncryptionRule[] } }) => {
    find(i.Bucket).encryption = i.ServerSideEncryptionConfiguration?.Rules?.[0];
    return {};
  }));
  mock.on(GetBucketPolicyCommand).callsFake(guard(GetBucketPolicyCommand, (i: { Bucket?: string }) => ({
    Policy: missing(find(i.Bucket).policy, 'NoSuchBucketPolicy'),
  })));
  mock.on(PutBucketPolicyCommand).callsFake(guard(PutBucketPolicyCommand, (i: { Bucket?: string; Policy?: string }) => {
    find(i.Bucket).policy = i.Policy;
    return {};
  }));
  mock.on(GetBucketLifecycleConfigurationCommand).callsFake(guard(GetBucketLifecycleConfigurationCommand, (i: { Bucket?: string }) => ({
    Rules: missing(find(i.Bucket).rules, 'NoSuchLifecycleConfiguration'),
  })));
  mock.on(PutBucketLifecycleConfigurationCommand).callsFake(guard(PutBucketLifecycleConfigurationCommand, (i: { Bucket?: string; LifecycleConfiguration?: { Rules?: LifecycleRule[] } }) => {
    find(i.Bucket).rules = i.LifecycleConfiguration?.Rules ?? []; // replaces the whole configuration
    return {};
  }));
  mock.on(GetBucketVersioningCommand).callsFake(guard(GetBucketVersioningCommand, (i: { Bucket?: string }) => {
    const status = find(i.Bucket).versioning;
    return status ? { Status: status } : {};
  }));
  mock.on(PutBucketVersioningCommand).callsFake(guard(PutBucketVersioningCommand, (i: { Bucket?: string; VersioningConfiguration?: { Status?: string } }) => {
    find(i.Bucket).versioning = i.VersioningConfiguration?.Status as FakeBucket['versioning'];
    return {};
  }));

  return {
    mock,
    buckets,
    foreign,
    addBucket(name: string, bucket: Partial<FakeBucket> = {}) {
      buckets.set(name, { region: REGION, ...structuredClone(bucket) });
    },
    /** The next call of `command` fails with `error` (default: a network error). */
    failOnce(command: { name: string }, error: Error = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })) {
      failures.set(command.name, error);
    },
    /** Write calls made so far (CreateBucket, PutBucketPolicy, …), in order. */
    writes: () => mock.calls().map((c) => (c.args[0] as object).constructor.name).filter(isWriteCall),
  };
}
