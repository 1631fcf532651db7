import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
  type LifecycleRule,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryptionRule,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { unlessMissing } from '../../aws/errors.js';
import type { Settings } from '../../config/schema.js';
import type { ReadContext } from '../../core/step.js';
import { bucketArn, defaultBucketName } from '../../policies/log-bucket.js';
import { parsePolicy, type PolicyDocument } from '../../policies/types.js';
import { tagRecord } from '../../policies/tags.js';

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
  /** The name exists but is not usable here: another account's, or in another region. */
  | { readonly kind: 'unusable'; readonly name: string; readonly why: 'taken' | 'other-region'; readonly region?: string }
  | { readonly kind: 'present'; readonly bucket: BucketInfo; readonly prefix: string };

/** The bucket name of these settings: `--bucket`, or the contract's default for this account and region. */
export const bucketNameFor = (settings: Settings, account: string, region: string) =>
  settings.bucket ?? defaultBucketName(account, region);

/** The bucket of these settings as it is: absent, unusable here (and why), or present with its configuration. */
export async function readBucket(ctx: Pick<ReadContext, 'aws' | 'settings' | 'identity' | 'region'>): Promise<BucketState> {
  const s3 = ctx.aws.get(S3Client);
  const name = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const head = await headBucket(s3, name, ctx.region);
  if (head.status === 404) return { kind: 'absent', name };
  if (head.status === 403) return { kind: 'unusable', name, why: 'taken' };
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

/**
 * HeadBucket answers with a status code only (no error body): 200 ours, 403 someone else's,
 * 404 free, 301 in another region. S3 can also answer a client of another region 400 with the
 * bucket's region in `x-amz-bucket-region` (aws-sdk-js-v3#7304); that is "another region" too
 * (reported as 301), and a 400 without the header is not. The SDK gives no `BucketRegion` on
 * the error: the header is only on the raw response it keeps as `$response` (its own region
 * redirect middleware reads it there too).
 */
async function headBucket(s3: S3Client, Bucket: string, region: string): Promise<{ status: number; region?: string }> {
  try {
    const out = await s3.send(new HeadBucketCommand({ Bucket }));
    return { status: 200, region: out.BucketRegion };
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string | undefined> } };
    const status = e.$metadata?.httpStatusCode;
    const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'];
    if (status === 404 || status === 403 || status === 301) return { status, region: bucketRegion };
    if (status === 400 && bucketRegion && bucketRegion !== region) return { status: 301, region: bucketRegion };
    throw err;
  }
}
