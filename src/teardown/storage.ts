import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteAliasCommand, DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { keyTags } from '../steps/kms-key/read.js';
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { unlessMissing } from '../aws/errors.js';
import { bucketNameFor } from '../steps/log-bucket/read.js';
import { tagRecord } from '../policies/tags.js';
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
  return [{ step: 'log-group', action: 'delete', resource: `log group ${name}`, detail: 'delete it and its session logs', run: async () => void (await logs.send(new DeleteLogGroupCommand({ logGroupName: name }))) }];
}

async function bucketRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const s3 = ctx.aws.get(S3Client);
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const tags = await unlessMissing(s3.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchBucket', 'NoSuchTagSet', 'NoSuchTagSetError');
  if (!isOurs(tagRecord(tags?.TagSet))) return [];
  return [{
    step: 'log-bucket', action: 'delete', resource: `S3 bucket ${Bucket}`, detail: 'delete every object version and the bucket',
    run: async () => {
      // The TLS-only policy would refuse the deletes over a plain-HTTP endpoint; the bucket goes anyway.
      await s3.send(new DeleteBucketPolicyCommand({ Bucket }));
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 1000 }));
        const Objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
        if (!Objects.length) break;
        await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      }
      await s3.send(new DeleteBucketCommand({ Bucket }));
    },
  }];
}

async function keyRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const kms = ctx.aws.get(KMSClient);
  const alias = ctx.settings.keyAlias;
  const meta = (await unlessMissing(kms.send(new DescribeKeyCommand({ KeyId: alias })), 'NotFoundException'))?.KeyMetadata;
  if (!meta?.KeyId || meta.KeyState === 'PendingDeletion') return [];
  if (!isOurs(await keyTags(kms, meta.KeyId))) return [];
  const KeyId = meta.KeyId;
  return [{
    step: 'kms-key', action: 'delete', resource: `KMS key ${alias}`, detail: `delete the alias; schedule the key for deletion in ${KEY_DELETION_DAYS} days (aws kms cancel-key-deletion undoes it)`,
    run: async () => {
      await kms.send(new DeleteAliasCommand({ AliasName: alias }));
      await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: KEY_DELETION_DAYS }));
    },
  }];
}
