import { CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
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
import { bucketNameFor } from '../steps/log-bucket/read.js';
import { type BucketFate, keyTeardown, ourKey } from './key.js';
import { isOurs, type Kept, merge, type Removal, type Teardown, type TeardownContext } from './types.js';

/**
 * The audit trail (log group, bucket and its objects, key): only with --delete-logs, and only
 * what ssm-setup created. Each is confirmed by typing its name (the bucket's covers the log
 * group); the key goes last, and only when nothing that remains names it.
 */
export async function storageTeardown(ctx: TeardownContext, after: { readonly preferencesKey?: string } = {}): Promise<Teardown> {
  if (!ctx.deleteLogs) return keptWithoutDeleteLogs(ctx);
  const group = await logGroupRemoval(ctx);
  const bucket = await bucketRemoval(ctx, group.length > 0);
  // Typing the bucket's name covers the log group too: one name for the session logs.
  const logs = bucket.removals.length ? [...group.map(({ typed: _, ...r }) => r), ...bucket.removals] : group;
  const key = await keyTeardown(ctx, { bucket: bucket.state, groupGoes: group.length > 0, preferencesKey: after.preferencesKey });
  return merge({ removals: logs, kept: [] }, key);
}

/**
 * Without --delete-logs the audit trail stays: the plan names each part of it ssm-setup made,
 * and only those that exist (nothing about a log group there is not).
 */
async function keptWithoutDeleteLogs(ctx: TeardownContext): Promise<Teardown> {
  const why = 'the audit trail stays (--delete-logs removes it)';
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const [group, tags, key] = await Promise.all([ourLogGroup(ctx), bucketTags(ctx.aws.get(S3Client), Bucket, ctx.region), ourKey(ctx)]);
  const kept: Kept[] = [
    ...(key ? [{ step: 'kms-key', resource: `KMS key ${ctx.settings.keyAlias}`, why }] : []),
    ...(tags && isOurs(tagRecord(tags)) ? [{ step: 'log-bucket', resource: `S3 bucket ${Bucket} and its session logs`, why }] : []),
    ...(group ? [{ step: 'log-group', resource: `log group ${ctx.settings.logGroup}`, why }] : []),
  ];
  return { removals: [], kept };
}

/** The settings' log group when it exists and ssm-setup made it: its ARN. */
async function ourLogGroup(ctx: TeardownContext): Promise<string | undefined> {
  const logs = ctx.aws.get(CloudWatchLogsClient);
  const name = ctx.settings.logGroup;
  const group = ((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups ?? []).find((g) => g.logGroupName === name);
  const arn = group?.logGroupArn ?? group?.arn?.replace(/:\*$/, '');
  return arn && isOurs((await logs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags) ? arn : undefined;
}

async function logGroupRemoval(ctx: TeardownContext): Promise<Removal[]> {
  const logs = ctx.aws.get(CloudWatchLogsClient);
  const name = ctx.settings.logGroup;
  if (!(await ourLogGroup(ctx))) return [];
  return [
    {
      step: 'log-group',
      action: 'delete',
      resource: `log group ${name}`,
      detail: 'delete it and its session logs',
      typed: { id: 'destroy.confirm-log-group-name', name, what: `delete the log group ${name} and its session logs` },
      run: async () => void (await unlessMissing(logs.send(new DeleteLogGroupCommand({ logGroupName: name })), 'ResourceNotFoundException')),
    },
  ];
}

async function bucketRemoval(ctx: TeardownContext, withGroup: boolean): Promise<{ removals: Removal[]; state: BucketFate }> {
  const s3 = ctx.aws.get(S3Client);
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const tags = await bucketTags(s3, Bucket, ctx.region);
  if (!tags) return { removals: [], state: 'none' };
  if (!isOurs(tagRecord(tags))) return { removals: [], state: 'stays' };
  const also = withGroup ? ` (and the log group ${ctx.settings.logGroup})` : '';
  const held = await contents(s3, Bucket);
  const removal: Removal = {
    step: 'log-bucket',
    action: 'delete',
    resource: `S3 bucket ${Bucket}`,
    detail: held.versions ? `delete ${describeContents(held)} and the bucket` : 'delete the bucket (it holds no object)',
    typed: {
      id: 'destroy.confirm-bucket-name',
      name: Bucket,
      what: `delete the bucket ${Bucket} and ${held.versions ? `the ${describeContents(held)} in it` : 'every session log in it'}${also}`,
    },
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
  };
  return { removals: [removal], state: 'goes' };
}

/**
 * The bucket's tags (none: an empty list); undefined when there is no such bucket in this region
 * (init never makes one elsewhere, and a bucket elsewhere cannot use this region's key).
 */
async function bucketTags(s3: S3Client, Bucket: string, region: string): Promise<Tag[] | undefined> {
  try {
    return (await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? [];
  } catch (err) {
    if (['NoSuchTagSet', 'NoSuchTagSetError'].includes(errorName(err))) return [];
    if (errorName(err) === 'NoSuchBucket') return undefined;
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
  for await (const page of listingPages(s3, Bucket)) {
    const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key, VersionId: v.VersionId }));
    if (versions.length) yield versions;
  }
}

/** The object versions and delete markers the bucket holds, and the bytes of the versions: what the plan says will go. */
async function contents(s3: S3Client, Bucket: string): Promise<{ versions: number; bytes: number }> {
  let [versions, bytes] = [0, 0];
  for await (const page of listingPages(s3, Bucket)) {
    versions += (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
    bytes += (page.Versions ?? []).reduce((n, v) => n + (v.Size ?? 0), 0);
  }
  return { versions, bytes };
}

/** `1,234 object versions (5.6 MB)`: delete markers count as versions, of no size. */
export function describeContents({ versions, bytes }: { versions: number; bytes: number }): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  const power = bytes > 0 ? Math.min(Math.floor(Math.log10(bytes) / 3), units.length - 1) : 0;
  const size = power ? `${(bytes / 1000 ** power).toFixed(1)} ${units[power]}` : `${bytes} bytes`;
  return `${versions.toLocaleString('en-US')} object version${versions === 1 ? '' : 's'} (${size})`;
}

async function* listingPages(s3: S3Client, Bucket: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: DELETE_LIMIT, ...markers }));
    yield page;
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
