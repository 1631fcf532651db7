import { sessionKeyPolicy } from '../kms-key-policy.js';
import { defaultBucketName, fullPublicAccessBlock, sessionLogsRule, sseKmsRule, tlsOnlyStatement } from '../log-bucket.js';
import { tagList } from '../tags.js';
import { byConditions, placeholder } from './intrinsics.js';
import { COND, getAtt, KEY_ALIAS_TAG, PARAM, PLACEHOLDERS, RES, ref, retained, sub } from './names.js';

/**
 * The KMS key and its alias, the log bucket and its policy, and the optional CloudWatch Logs
 * group: everything that holds session data, all kept when the stack is deleted (audit logs).
 */
export function storageResources(tags: Record<string, string>): Record<string, unknown> {
  const P = PLACEHOLDERS;
  return {
    [RES.key]: {
      Type: 'AWS::KMS::Key',
      ...retained,
      Properties: {
        Description: { 'Fn::Sub': `Session Manager session data and logs (ssm-setup, \${${PARAM.keyAlias}})` },
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        EnableKeyRotation: true,
        KeyPolicy: byConditions([COND.cloudWatchLogs, COND.china], (on) =>
          sub(
            sessionKeyPolicy({
              partition: on[COND.china] ? 'aws-cn' : P.partition,
              account: P.account,
              region: P.region,
              cloudWatchLogs: on[COND.cloudWatchLogs]!,
            }),
          ),
        ),
        Tags: tagList({ ...tags, [KEY_ALIAS_TAG]: ref(PARAM.keyAlias) }),
      },
    },
    [RES.alias]: {
      Type: 'AWS::KMS::Alias',
      ...retained,
      Properties: { AliasName: ref(PARAM.keyAlias), TargetKeyId: ref(RES.key) },
    },
    [RES.bucket]: {
      Type: 'AWS::S3::Bucket',
      ...retained,
      Properties: {
        BucketName: { 'Fn::If': [COND.hasBucketName, ref(PARAM.bucketName), sub(defaultBucketName(P.account, P.region))] },
        BucketEncryption: { ServerSideEncryptionConfiguration: [sub(cfnEncryptionRule(P.keyArn))] },
        PublicAccessBlockConfiguration: fullPublicAccessBlock(),
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            byConditions([COND.hasTransition, COND.hasExpiration], (on) =>
              sub(cfnLifecycleRule(on[COND.hasTransition] ? P.logTransitionDays : '', on[COND.hasExpiration] ? P.logExpirationDays : '')),
            ),
          ],
        },
        Tags: tagList(tags),
      },
    },
    [RES.bucketPolicy]: {
      Type: 'AWS::S3::BucketPolicy',
      // Kept with the bucket it guards.
      ...retained,
      Properties: {
        Bucket: ref(RES.bucket),
        PolicyDocument: sub({ Version: '2012-10-17', Statement: [tlsOnlyStatement(P.partition, P.bucket)] }),
      },
    },
    [RES.logGroup]: {
      Type: 'AWS::Logs::LogGroup',
      Condition: COND.cloudWatchLogs,
      ...retained,
      Properties: {
        LogGroupName: ref(PARAM.logGroupName),
        KmsKeyId: getAtt(RES.key, 'Arn'),
        RetentionInDays: ref(PARAM.logRetentionDays),
        Tags: tagList(tags),
      },
    },
  };
}

/** The builder's SSE-KMS rule in CloudFormation's property names. */
function cfnEncryptionRule(keyArn: string) {
  const rule = sseKmsRule(keyArn);
  return { ServerSideEncryptionByDefault: rule.ApplyServerSideEncryptionByDefault, BucketKeyEnabled: rule.BucketKeyEnabled };
}

/**
 * The builder's lifecycle rule (S3 API shape) in CloudFormation's: `Id`, `Prefix`,
 * `TransitionInDays`, `ExpirationInDays`. Days are placeholders, or '' for "off" (the builder
 * leaves the action out, as it does for 0).
 */
export function cfnLifecycleRule(transitionDays: string, expirationDays: string) {
  const rule = sessionLogsRule({
    prefix: PLACEHOLDERS.s3Prefix,
    transitionDays: placeholder<number>(transitionDays),
    expirationDays: placeholder<number>(expirationDays),
  });
  return {
    Id: rule.ID,
    Status: rule.Status,
    Prefix: rule.Filter?.Prefix,
    Transitions: rule.Transitions?.map((t) => ({ TransitionInDays: t.Days, StorageClass: t.StorageClass })),
    ExpirationInDays: rule.Expiration?.Days,
    NoncurrentVersionExpiration: rule.NoncurrentVersionExpiration,
    AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload,
  };
}
