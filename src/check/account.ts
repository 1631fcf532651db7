import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, GetBucketPolicyCommand, GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { headBucket } from '../aws/buckets.js';
import { errorName, isAccessDenied, unlessDenied, unlessMissing } from '../aws/errors.js';
import type { ReadContext } from '../core/step.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { publicAccessGaps } from '../policies/log-bucket.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import { type PolicyDocument, parsePolicy } from '../policies/types.js';
import type { PreferencesState } from '../steps/preferences/read.js';
import { oursFindings } from './ours.js';
import { keyRootFinding } from './resource-policies.js';

/** What the preferences claim, resolved: the key's ARN, the bucket, the log group. */
export interface Claims {
  readonly inputs: Record<string, unknown>;
  readonly keyArn?: string;
  readonly bucket?: string;
  readonly prefix: string;
  readonly logGroup?: string;
  readonly bucketKeyArn?: string;
  /** The bucket's policy and the key's policy, when there is one and it could be read: a Deny there overrides IAM. */
  readonly bucketPolicy?: PolicyDocument;
  readonly keyPolicy?: PolicyDocument;
}

const isTrue = (v: unknown) => v === true || v === 'true';

/**
 * Account-level findings: the preferences document and what it points at (the key, the
 * bucket, the log group) agree with each other. Returns the findings and the resolved claims
 * the instance and operator checks need.
 */
export async function accountFindings(ctx: ReadContext, prefs: PreferencesState): Promise<{ findings: Finding[]; claims?: Claims }> {
  if (prefs.kind === 'absent') {
    return {
      findings: [error('preferences', `${PREFERENCES_DOCUMENT} does not exist: sessions run without logging or encryption`, 'ssm-setup run preferences')],
    };
  }
  const { doc } = prefs;
  const inputs = doc.defaultInputs ?? {};
  const findings: Finding[] = [
    doc.defaultVersion === doc.latestVersion
      ? ok('preferences', `${PREFERENCES_DOCUMENT} version ${doc.defaultVersion} is the default and the latest`)
      : warn('preferences', `default version ${doc.defaultVersion} lags the latest ${doc.latestVersion}`, 'ssm-setup run preferences'),
  ];
  const guard = async (check: string, what: () => Promise<Finding[]>) => {
    try {
      findings.push(...(await what()));
    } catch (err) {
      if (!isAccessDenied(err)) throw err;
      findings.push(warn(check, `could not read (${errorName(err)})`, 'grant the read permissions listed in the README'));
    }
  };
  let keyArn: string | undefined;
  let bucketKeyArn: string | undefined;
  let bucketPolicy: PolicyDocument | undefined;
  let keyPolicy: PolicyDocument | undefined;
  const kmsKeyId = typeof inputs.kmsKeyId === 'string' && inputs.kmsKeyId ? inputs.kmsKeyId : undefined;
  const logGroup = typeof inputs.cloudWatchLogGroupName === 'string' && inputs.cloudWatchLogGroupName ? inputs.cloudWatchLogGroupName : undefined;
  const bucket = typeof inputs.s3BucketName === 'string' && inputs.s3BucketName ? inputs.s3BucketName : undefined;

  if (kmsKeyId) {
    await guard('key', async () => {
      const kms = ctx.aws.get(KMSClient);
      const meta = (await unlessMissing(kms.send(new DescribeKeyCommand({ KeyId: kmsKeyId })), 'NotFoundException'))?.KeyMetadata;
      if (!meta) return [error('key', `the session key ${kmsKeyId} does not exist`, 'ssm-setup run kms-key preferences')];
      keyArn = meta.Arn;
      const out = [
        meta.KeyState === 'Enabled'
          ? ok('key', `key ${kmsKeyId} is enabled`)
          : error('key', `key ${kmsKeyId} is ${meta.KeyState}`, `aws kms enable-key --key-id ${meta.KeyId}`),
      ];
      // A key policy the credentials may not read leaves the key's other findings standing.
      const policy = parsePolicy((await unlessDenied(kms.send(new GetKeyPolicyCommand({ KeyId: meta.KeyId, PolicyName: 'default' }))))?.Policy);
      keyPolicy = policy;
      const root = keyRootFinding(ctx, { keyArn, keyPolicy });
      if (root) out.push(root);
      // Every key has a policy: none means the caller may not read it.
      if (!policy) out.push(warn('key-policy', `the key policy of ${kmsKeyId} could not be read (kms:GetKeyPolicy): its statements are not checked`));
      else if (logGroup && isTrue(inputs.cloudWatchEncryptionEnabled)) {
        const admits = policy?.Statement.some((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? '').includes(`logs.${ctx.region}.`));
        out.push(
          admits
            ? ok('key-policy', 'the key policy admits CloudWatch Logs')
            : error(
                'key-policy',
                'the key policy does not admit CloudWatch Logs, so the encrypted log group cannot be written',
                'ssm-setup run kms-key --cloudwatch-logs',
              ),
        );
      }
      return out;
    });
  }
  if (bucket) {
    await guard('bucket', async () => {
      const s3 = ctx.aws.get(S3Client);
      const head = await headBucket(s3, bucket, ctx.region);
      if (head.status === 404) return [error('bucket', `the log bucket ${bucket} does not exist: session uploads fail`, 'ssm-setup run log-bucket')];
      if (head.status === 301) {
        // Its settings can be read only through that region's endpoint.
        const where = head.region ? `--region ${head.region}` : 'its region';
        return [
          warn(
            'bucket',
            `the log bucket ${bucket} is in ${head.region ?? 'another region'}, not ${ctx.region}: its encryption and public access are not checked from here`,
            `ssm-setup check ${where}`,
          ),
        ];
      }
      if (head.status === 403)
        return [
          error(
            'bucket',
            `the log bucket ${bucket} belongs to another account or may not be read: session uploads may fail`,
            'ssm-setup run log-bucket --bucket <a bucket of this account>',
          ),
        ];
      const sse = (await unlessMissing(s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })), 'ServerSideEncryptionConfigurationNotFoundError'))
        ?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
      bucketKeyArn = sse?.SSEAlgorithm === 'aws:kms' ? sse.KMSMasterKeyID : undefined;
      const pab = (await unlessMissing(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'NoSuchPublicAccessBlockConfiguration'))
        ?.PublicAccessBlockConfiguration;
      const gaps = publicAccessGaps(pab);
      bucketPolicy = parsePolicy((await unlessDenied(unlessMissing(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'NoSuchBucketPolicy')))?.Policy);
      const claimed = isTrue(inputs.s3EncryptionEnabled);
      // The agent accepts only AES256 or aws:kms when the preferences claim encryption.
      const encrypted = sse?.SSEAlgorithm === 'AES256' || sse?.SSEAlgorithm === 'aws:kms';
      return [
        !claimed || encrypted
          ? ok('bucket-encryption', `bucket ${bucket}: ${sse?.SSEAlgorithm ?? 'no default encryption'}`)
          : error(
              'bucket-encryption',
              `the preferences require an encrypted bucket, but ${bucket} has ${sse?.SSEAlgorithm ?? 'no default encryption'}: sessions fail to start`,
              'ssm-setup run log-bucket',
            ),
        gaps.length
          ? warn('bucket-public-access', `public access not fully blocked on ${bucket} (${gaps.join(', ')} off)`, 'ssm-setup run log-bucket')
          : ok('bucket-public-access', 'public access blocked'),
      ];
    });
  }
  if (logGroup) {
    await guard('log-group', async () => {
      const groups = (await ctx.aws.get(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: logGroup }))).logGroups ?? [];
      const group = groups.find((g) => g.logGroupName === logGroup);
      if (!group)
        return [error('log-group', `log group ${logGroup} does not exist: the agent turns streaming off`, 'ssm-setup run log-group --cloudwatch-logs')];
      const claimed = isTrue(inputs.cloudWatchEncryptionEnabled);
      return [
        !claimed || group.kmsKeyId
          ? ok('log-group', `log group ${logGroup}${group.kmsKeyId ? ', encrypted' : ''}`)
          : error(
              'log-group',
              `the preferences require an encrypted log group, but ${logGroup} has no key: sessions fail`,
              'ssm-setup run log-group --cloudwatch-logs',
            ),
      ];
    });
  }
  await guard('preferences-target', () => oursFindings(ctx, inputs, keyArn));
  const prefix = typeof inputs.s3KeyPrefix === 'string' ? inputs.s3KeyPrefix : '';
  return { findings, claims: { inputs, keyArn, bucket, prefix, logGroup, bucketKeyArn, bucketPolicy, keyPolicy } };
}
