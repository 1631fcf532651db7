import {
  type CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandInput,
  InvalidParameterException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { HeadObjectCommand, type HeadObjectCommandInput, ListObjectsV2Command, type ListObjectsV2CommandInput, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { headError, s3Error } from '../helpers/fake-s3.js';

/**
 * The session records of the audit tests, as S3 and CloudWatch Logs answer for them, strict
 * where the reads could go wrong: ListObjectsV2 matches the Prefix, pages by at most 1,000 keys
 * (MaxKeys above that is 1,000) with a ContinuationToken, and answers NoSuchBucket for a bucket
 * that is not there; HeadObject answers 404 NotFound (no body, as S3) and the object's
 * encryption; DescribeLogStreams takes a limit of 1..50 and no orderBy=LastEventTime with a
 * prefix (InvalidParameterException), pages with nextToken, and answers
 * ResourceNotFoundException for a missing group. Handlers go on the given stubs (the check
 * world's, test/check/harness.ts), after its own.
 */
export interface FakeObject {
  readonly encryption?: 'aws:kms' | 'AES256';
  readonly kmsKeyId?: string;
  /** HeadObject answers 403 (a caller with s3:ListBucket but not s3:GetObject), as S3 does: no body, only the status. */
  readonly unreadable?: boolean;
  /** Listed, but gone by the HeadObject (expired or deleted in between): 404. */
  readonly goneBeforeHead?: boolean;
}

export function sessionRecords(s3: AwsClientStub<S3Client>, logs: AwsClientStub<CloudWatchLogsClient>) {
  /** Bucket → key → object. */
  const buckets = new Map<string, Map<string, FakeObject>>();
  /** Log group → stream names. */
  const groups = new Map<string, Set<string>>();

  s3.on(ListObjectsV2Command).callsFake(async (i: ListObjectsV2CommandInput) => {
    const objects = buckets.get(i.Bucket ?? '');
    if (!objects) throw s3Error('NoSuchBucket', 404, 'The specified bucket does not exist');
    const keys = [...objects.keys()].filter((k) => k.startsWith(i.Prefix ?? '')).sort();
    const start = i.ContinuationToken ? Number(Buffer.from(i.ContinuationToken, 'base64').toString()) : 0;
    if (Number.isNaN(start)) throw s3Error('InvalidArgument', 400, 'The continuation token provided is incorrect');
    const end = start + Math.min(i.MaxKeys ?? 1000, 1000);
    const page = keys.slice(start, end);
    const truncated = end < keys.length;
    return {
      Contents: page.map((Key) => ({ Key, Size: 1 })),
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: Buffer.from(String(end)).toString('base64') } : {}),
    };
  });
  s3.on(HeadObjectCommand).callsFake(async (i: HeadObjectCommandInput) => {
    const objects = buckets.get(i.Bucket ?? '');
    if (!objects) throw headError(404);
    const o = objects.get(i.Key ?? '');
    if (!o || o.goneBeforeHead) throw headError(404);
    if (o.unreadable) throw headError(403);
    return { ContentLength: 1, ...(o.encryption ? { ServerSideEncryption: o.encryption } : {}), ...(o.kmsKeyId ? { SSEKMSKeyId: o.kmsKeyId } : {}) };
  });
  logs.on(DescribeLogStreamsCommand).callsFake(async (i: DescribeLogStreamsCommandInput) => {
    if (i.limit !== undefined && (i.limit < 1 || i.limit > 50)) throw new InvalidParameterException({ message: 'limit must be 1 to 50', $metadata: {} });
    if (i.logStreamNamePrefix && i.orderBy === 'LastEventTime')
      throw new InvalidParameterException({ message: 'Cannot order by LastEventTime with a logStreamNamePrefix.', $metadata: {} });
    const streams = groups.get(i.logGroupName ?? '');
    if (!streams) throw new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} });
    const names = [...streams].filter((n) => n.startsWith(i.logStreamNamePrefix ?? '')).sort();
    const start = i.nextToken ? Number(i.nextToken) : 0;
    const end = start + (i.limit ?? 50);
    return {
      logStreams: names.slice(start, end).map((logStreamName) => ({ logStreamName, creationTime: 1 })),
      ...(end < names.length ? { nextToken: String(end) } : {}),
    };
  });

  return {
    buckets,
    groups,
    putObject(bucket: string, key: string, o: FakeObject = {}) {
      const objects = buckets.get(bucket) ?? new Map<string, FakeObject>();
      objects.set(key, o);
      buckets.set(bucket, objects);
    },
    addBucket(bucket: string) {
      if (!buckets.has(bucket)) buckets.set(bucket, new Map());
    },
    putStream(group: string, stream: string) {
      groups.set(group, (groups.get(group) ?? new Set()).add(stream));
    },
    addGroup(group: string) {
      if (!groups.has(group)) groups.set(group, new Set());
    },
  };
}
