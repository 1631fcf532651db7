import type { LifecycleRule, PublicAccessBlockConfiguration, ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { isSameKey, type KeyRef } from './kms-ref.js';
import type { PolicyDocument, PolicyStatement } from './types.js';

export const TLS_STATEMENT_SID = 'DenyInsecureTransport';
export const LIFECYCLE_RULE_ID = 'ssm-setup-session-logs';
/** Incomplete multipart uploads of session logs are garbage after a week. */
export const ABORT_MULTIPART_DAYS = 7;

export const bucketArn = (partition: string, bucket: string) => `arn:${partition}:s3:::${bucket}`;

/** Default bucket name of the contract; unique per account and region. */
export const defaultBucketName = (account: string, region: string) => `ssm-session-logs-${account}-${region}`;

export const PUBLIC_ACCESS_FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

export const fullPublicAccessBlock = (): PublicAccessBlockConfiguration => Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((f) => [f, true]));

/** The public-access flags that are not on. */
export const publicAccessGaps = (current: PublicAccessBlockConfiguration | undefined) => PUBLIC_ACCESS_FLAGS.filter((f) => current?.[f] !== true);

/**
 * Deny every request to the bucket that does not use TLS.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit
 */
export function tlsOnlyStatement(partition: string, bucket: string): PolicyStatement {
  const arn = bucketArn(partition, bucket);
  return {
    Sid: TLS_STATEMENT_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [arn, `${arn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** True when some statement already denies non-TLS requests for everything (whatever its Sid). */
export function hasTlsDeny(policy: PolicyDocument | undefined): boolean {
  return (policy?.Statement ?? []).some((s) => {
    const principalAll = s.Principal === '*' || (typeof s.Principal === 'object' && s.Principal.AWS === '*');
    const actions = ([] as string[]).concat(s.Action);
    const secure = s.Condition?.Bool?.['aws:SecureTransport'] as unknown;
    return s.Effect === 'Deny' && principalAll && actions.includes('s3:*') && String(secure) === 'false';
  });
}

/** The bucket policy with the TLS statement added, other statements kept; undefined when none is needed. */
export function withTlsDeny(policy: PolicyDocument | undefined, partition: string, bucket: string): PolicyDocument | undefined {
  if (hasTlsDeny(policy)) return undefined;
  const base: PolicyDocument = policy ?? { Version: '2012-10-17', Statement: [] };
  return { ...base, Statement: [...base.Statement.filter((s) => s.Sid !== TLS_STATEMENT_SID), tlsOnlyStatement(partition, bucket)] };
}

export interface LifecycleDays {
  readonly prefix: string;
  /** 0 = no transition. */
  readonly transitionDays: number;
  /** 0 = never expire. */
  readonly expirationDays: number;
}

/**
 * The session-log rule: Glacier Flexible Retrieval (`GLACIER`) after the transition days,
 * expiry after the expiration days (noncurrent versions too, as versioning is on), and
 * incomplete multipart uploads aborted.
 */
export function sessionLogsRule(d: LifecycleDays): LifecycleRule {
  return {
    ID: LIFECYCLE_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: d.prefix },
    ...(d.transitionDays ? { Transitions: [{ Days: d.transitionDays, StorageClass: 'GLACIER' }] } : {}),
    ...(d.expirationDays ? { Expiration: { Days: d.expirationDays }, NoncurrentVersionExpiration: { NoncurrentDays: d.expirationDays } } : {}),
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_MULTIPART_DAYS },
  };
}

/** What our rule does, in the terms of the plan, read from any rule AWS returns. */
export function describeRule(rule: LifecycleRule | undefined): string {
  if (!rule) return 'none';
  const glacier = rule.Transitions?.find((t) => t.StorageClass === 'GLACIER')?.Days;
  const parts = [
    `prefix ${JSON.stringify(rule.Filter?.Prefix ?? rule.Prefix ?? '')}`,
    glacier ? `Glacier after ${glacier} days` : 'no transition',
    rule.Expiration?.Days ? `expire after ${rule.Expiration.Days} days` : 'never expire',
  ];
  if (rule.NoncurrentVersionExpiration?.NoncurrentDays) parts.push(`old versions after ${rule.NoncurrentVersionExpiration.NoncurrentDays} days`);
  if (rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation)
    parts.push(`abort uploads after ${rule.AbortIncompleteMultipartUpload.DaysAfterInitiation} days`);
  if (rule.Status !== 'Enabled') parts.push(`status ${rule.Status}`);
  return parts.join(', ');
}

/**
 * All rules with ours in place of any rule of the same ID; the other rules are kept as they
 * are. Undefined when our rule is already there as desired.
 */
export function withSessionLogsRule(rules: readonly LifecycleRule[], d: LifecycleDays): LifecycleRule[] | undefined {
  const desired = sessionLogsRule(d);
  const current = rules.find((r) => r.ID === LIFECYCLE_RULE_ID);
  if (current && describeRule(current) === describeRule(desired)) return undefined;
  return [...rules.filter((r) => r.ID !== LIFECYCLE_RULE_ID), desired];
}

/**
 * How the default encryption differs from SSE-KMS with our key and the bucket key, as a plan
 * line; undefined when it matches. `keyArn` undefined means the key is created in this run.
 */
export function encryptionDrift(rule: ServerSideEncryptionRule | undefined, key: KeyRef): string | undefined {
  const target = `SSE-KMS with ${key.alias} (bucket key on)`;
  const sse = rule?.ApplyServerSideEncryptionByDefault;
  if (!sse) return `none → ${target}`;
  if (sse.SSEAlgorithm !== 'aws:kms') return `${sse.SSEAlgorithm === 'AES256' ? 'SSE-S3' : sse.SSEAlgorithm} → ${target}`;
  const current = sse.KMSMasterKeyID ?? '';
  if (!isSameKey(current, key)) return `SSE-KMS with ${current || 'the AWS managed key'} → ${target}`;
  if (rule.BucketKeyEnabled !== true) return 'bucket key off → on (fewer KMS requests)';
  return undefined;
}

export const sseKmsRule = (keyArn: string): ServerSideEncryptionRule => ({
  ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
  BucketKeyEnabled: true,
});
