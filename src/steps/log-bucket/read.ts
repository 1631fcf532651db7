import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  type PublicAccessBlockConfiguration,
  paginateListBuckets,
  S3Client,
  type ServerSideEncryptionRule,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { headBucket } from '../../aws/buckets.js';
import { isAccessDenied, unlessMissing } from '../../aws/errors.js';
import type { Settings } from '../../config/schema.js';
import type { ReadContext } from '../../core/step.js';
import { bucketArn, defaultBucketName } from '../../policies/log-bucket.js';
import { tagRecord } from '../../policies/tags.js';
import { type PolicyDocument, parsePolicy } from '../../policies/types.js';

export interface BucketInfo {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly publicAccess?: PublicAccessBlockConfiguration;
  readonly encryption?: ServerSideEncryptionRule;
  readonly policy?: PolicyDocument;
  readonly rules: readonly LifecycleRule[];
  /** The lifecycle's `TransitionDefaultMinimumObjectSize`: a PUT without it resets it to S3's default. */
  readonly transitionMinimumSize?: TransitionDefaultMinimumObjectSize;
  /** `Enabled`, `Suspended`, or undefined when never turned on. */
  readonly versioning?: string;
}

export type BucketState =
  | { readonly kind: 'absent'; readonly name: string }
  /**
   * The name exists but is not usable here: another account's (`taken`; `unsure` when the
   * account's own buckets could not be listed to tell), ours but not readable with these
   * credentials (`denied`), or in another region. `source` is where the name came from.
   */
  | {
      readonly kind: 'unusable';
      readonly name: string;
      readonly why: 'taken' | 'denied' | 'other-region';
      readonly region?: string;
      readonly source?: string;
      readonly unsure?: boolean;
    }
  | { readonly kind: 'present'; readonly bucket: BucketInfo; readonly prefix: string };

/** The bucket name of these settings: `--bucket`, or the contract's default for this account and region. */
export const bucketNameFor = (settings: Settings, account: string, region: string) => settings.bucket ?? defaultBucketName(account, region);

/** The bucket of these settings as it is: absent, unusable here (and why), or present with its configuration. */
export async function readBucket(
  ctx: Pick<ReadContext, 'aws' | 'settings' | 'identity' | 'region'> & Partial<Pick<ReadContext, 'sources'>>,
): Promise<BucketState> {
  const s3 = ctx.aws.get(S3Client);
  const name = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const head = await headBucket(s3, name, ctx.region);
  if (head.status === 404) return { kind: 'absent', name };
  if (head.status === 403) {
    // HeadBucket answers 403 for another account's bucket and for ours without s3:ListBucket alike.
    const owned = await listsAsOwn(s3, name);
    const source = ctx.sources?.bucket;
    return { kind: 'unusable', name, why: owned ? 'denied' : 'taken', ...(source ? { source } : {}), ...(owned === undefined ? { unsure: true } : {}) };
  }
  if (head.status === 301 || (head.region && head.region !== ctx.region)) return { kind: 'unusable', name, why: 'other-region', region: head.region };

  const Bucket = name;
  const [tags, publicAccess, encryption, policy, rules, versioning] = await Promise.all([
    unlessMissing(s3.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 'NoSuchTagSetError'),
    unlessMissing(s3.send(new GetPublicAccessBlockCommand({ Bucket })), 'NoSuchPublicAccessBlockConfiguration'),
    unlessMissing(s3.send(new GetBucketEncryptionCommand({ Bucket })), 'ServerSideEncryptionConfigurationNotFoundError'),
    unlessMissing(s3.send(new GetBucketPolicyCommand({ Bucket })), 'NoSuchBucketPolicy'),
    unlessMissing(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })), 'NoSuchLifecycleConfiguration'),
    s3.send(new GetBucketVersioningCommand({ Bucket })),
  ]);
  return {
    kind: 'present',
    prefix: ctx.settings.s3Prefix,
    bucket: {
      name,
      arn: bucketArn(ctx.identity.partition, name),
      tags: tagRecord(tags?.TagSet),
      publicAccess: publicAccess?.PublicAccessBlockConfiguration,
      encryption: encryption?.ServerSideEncryptionConfiguration?.Rules?.[0],
      policy: parsePolicy(policy?.Policy),
      rules: rules?.Rules ?? [],
      ...(rules?.TransitionDefaultMinimumObjectSize ? { transitionMinimumSize: rules.TransitionDefaultMinimumObjectSize } : {}),
      versioning: versioning.Status,
    },
  };
}

/** Whether ListBuckets lists the bucket among the account's own; undefined when the account's buckets may not be listed. */
async function listsAsOwn(s3: S3Client, name: string): Promise<boolean | undefined> {
  try {
    for await (const page of paginateListBuckets({ client: s3 }, { Prefix: name })) {
      if (page.Buckets?.some((b) => b.Name === name)) return true;
    }
    return false;
  } catch (err) {
    if (isAccessDenied(err)) return undefined;
    throw err;
  }
}
