import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteAliasCommand, DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  PutBucketPolicyCommand,
  S3Client,
  type _Error as S3Error,
  type Tag,
} from '@aws-sdk/client-s3';
import { errorName, unlessMissing } from '../aws/errors.js';
import { chunks } from '../base/batch.js';
import { StepError } from '../base/errors.js';
import { tagRecord } from '../policies/tags.js';
import { keyTags } from '../steps/kms-key/read.js';
import { bucketNameFor } from '../steps/log-bucket/read.js';
import { isOurs, type Removal, type TeardownContext } from './types.js';

/** KMS waits this long before it deletes a key; it can be cancelled meanwhile. */
export const KEY_DELETION_DAYS = 30;

/** The audit trail (log group, bucket and its objects, key): only with --delete-logs, and only what ssm-setup created. */
export async function storageRemovals(ctx: TeardownContext): Promise<Removal[]> {
  if (!ctx.deleteLogs) return [];
  return [...(await logGroupRemoval(ctx)), ...(await bucketRemoval(ctx)), ...(await keyRemoval(ctx))];
}

async function logGroupRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const logs = ctx.aws.get(CloudWatchLogsClient);
  const name = ctx.settings.logGroup;
  const group = ((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups ?? []).find((g) => g.logGroupName === name);
  const arn = group?.logGroupArn ?? group?.arn?.replace(/:\*$/, '');
  if (!arn || !isOurs((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags)) return [];
  return [
    {
      step: 'log-group',
      action: 'delete',
      resource: `log group ${name}`,
      detail: 'delete it and its session logs',
      run: async () => void (await logs.send(new DeleteLogGroupCommand({ logGroupName: name }))),
    },
  ];
}

async function bucketRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const s3 = ctx.aws.get(S3Client);
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  if (!isOurs(tagRecord(await bucketTags(s3, Bucket, ctx.region)))) return [];
  return [
    {
      step: 'log-bucket',
      action: 'delete',
      resource: `S3 bucket ${Bucket}`,
      detail: 'delete every object version and the bucket',
      run: async () => {
        // The TLS-only policy would refuse the deletes over a plain-HTTP endpoint; the bucket goes anyway.
        const policy = (await unlessMissing(s3.send(new GetBucketPolicyCommand({ Bucket })), 'NoSuchBucketPolicy'))?.Policy;
        await s3.send(new DeleteBucketPolicyCommand({ Bucket }));
        try {
          await deleteAllVersions(s3, Bucket);
        } catch (err) {
          // The bucket stays, with logs in it: it keeps its policy (the TLS-only deny) too.
          if (policy) await restorePolicy(ctx, s3, Bucket, policy);
          throw err;
        }
        await s3.send(new DeleteBucketCommand({ Bucket }));
      },
    },
  ];
}

/** The bucket's tags; none when it is missing, untagged, or in another region (init never makes one there). */
async function bucketTags(s3: S3Client, Bucket: string, region: string): Promise<Tag[] | undefined> {
  try {
    return (await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet;
  } catch (err) {
    if (['NoSuchBucket', 'NoSuchTagSet', 'NoSuchTagSetError'].includes(errorName(err))) return undefined;
    // PermanentRedirect (301), or a 400 such as AuthorizationHeaderMalformed: S3 names the bucket's region in a header.
    const elsewhere = (err as { $response?: { headers?: Record<string, string | undefined> } }).$response?.headers?.['x-amz-bucket-region'];
    if (elsewhere && elsewhere !== region) return undefined;
    throw err;
  }
}

async function restorePolicy(ctx: TeardownContext, s3: S3Client, Bucket: string, Policy: string): Promise<void> {
  try {
    await s3.send(new PutBucketPolicyCommand({ Bucket, Policy }));
  } catch (err) {
    ctx.io.warn(
      `the policy of bucket ${Bucket} could not be put back (${errorName(err) || String(err)}): \`ssm-setup run log-bucket\` restores its TLS-only policy`,
    );
  }
}

/** DeleteObjects takes at most this many keys a call. */
const DELETE_LIMIT = 1000;

/**
 * Deletes every object version and delete marker, one listing page at a time. Quiet mode answers
 * 200 and lists only the keys it refused (Object Lock, a missing s3:DeleteObjectVersion), so
 * the first page with a refusal stops the removal rather than listing the same versions again.
 */
async function deleteAllVersions(s3: S3Client, Bucket: string): Promise<void> {
  for await (const page of versionPages(s3, Bucket)) {
    for (const Objects of chunks(page, DELETE_LIMIT)) {
      const { Errors = [] } = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      if (Errors.length) throw notDeleted(Bucket, Errors);
    }
  }
}

/**
 * ListObjectVersions page by page, each from where the last ended (KeyMarker + VersionIdMarker):
 * the SDK has no paginator for its two markers. Deleting what a page listed does not move them.
 */
async function* versionPages(s3: S3Client, Bucket: string): AsyncGenerator<ObjectIdentifier[]> {
  let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: DELETE_LIMIT, ...markers }));
    const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
    if (versions.length) yield versions;
    if (!page.IsTruncated || !page.NextKeyMarker) return;
    markers = { KeyMarker: page.NextKeyMarker, ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}) };
  }
}

/** Keys named in the message; the rest are counted. */
const SHOWN_KEYS = 5;

function notDeleted(Bucket: string, errors: readonly S3Error[]): StepError {
  const shown = errors.slice(0, SHOWN_KEYS).map((e) => `${e.Key ?? '?'}${e.VersionId ? ` (version ${e.VersionId})` : ''}: ${e.Code ?? 'error'}`);
  const more = errors.length > SHOWN_KEYS ? `, and ${errors.length - SHOWN_KEYS} more` : '';
  return new StepError(
    'log-bucket',
    'OBJECTS_NOT_DELETED',
    `S3 refused to delete ${errors.length} object version${errors.length > 1 ? 's' : ''} in bucket ${Bucket}: ${shown.join('; ')}${more}`,
    {
      call: 'S3.DeleteObjects',
      hint:
        'versions under Object Lock (a retention period or a legal hold) cannot be deleted until it ends or is lifted; ' +
        'AccessDenied on other versions means the credentials lack s3:DeleteObjectVersion: grant it, then rerun `ssm-setup destroy --delete-logs`',
    },
  );
}

async function keyRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const kms = ctx.aws.get(KMSClient);
  const alias = ctx.settings.keyAlias;
  const meta = (await unlessMissing(kms.send(new DescribeKeyCommand({ KeyId: alias })), 'NotFoundException'))?.KeyMetadata;
  if (!meta?.KeyId || meta.KeyState === 'PendingDeletion') return [];
  if (!isOurs(await keyTags(kms, meta.KeyId))) return [];
  const KeyId = meta.KeyId;
  return [
    {
      step: 'kms-key',
      action: 'delete',
      resource: `KMS key ${alias}`,
      detail: `delete the alias; schedule the key for deletion in ${KEY_DELETION_DAYS} days (aws kms cancel-key-deletion undoes it)`,
      run: async () => {
        await kms.send(new DeleteAliasCommand({ AliasName: alias }));
        await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: KEY_DELETION_DAYS }));
      },
    },
  ];
}
