import { describe, expect, it } from 'vitest';
import { ec2TrustPolicy, type InstancePolicyInput, instancePolicy } from '../../src/policies/instance-policy.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { SIM_ACCOUNT as ACCOUNT, actionsOf, type SimRequest, simulate } from '../helpers/simulate.js';

const REGION = 'eu-west-1';
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-12ab-34cd-56ef-1234567890ab`;
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/ssm/session-logs`;
const OTHER_GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/billing`;
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const SESSION_LOG = 'alice-0123456789abcdef0.log';

const S3_ONLY: InstancePolicyInput = { partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY, bucketName: BUCKET, s3Prefix: 'session-logs/' };
const WITH_GROUP: InstancePolicyInput = { ...S3_ONLY, logGroupArn: GROUP };

/** The agent calls with the instance role's credentials. */
const AGENT = `arn:aws:sts::${ACCOUNT}:assumed-role/SSMInstanceRole/i-0123456789abcdef0`;
/**
 * KMS needs the key policy to allow as well: both keys have ssm-setup's key policy, which
 * delegates to IAM, so only the instance policy decides between them.
 */
const KEY_POLICY = sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true });
const decide = (policy: PolicyDocument, action: string, resource: string) =>
  simulate({ action, resource, principal: AGENT }, [policy], action.startsWith('kms:') ? KEY_POLICY : undefined);

describe('instancePolicy: the documents', () => {
  it('with S3 logging only', () => {
    expect(instancePolicy(S3_ONLY)).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": [
              "ssm:UpdateInstanceInformation",
              "ssmmessages:CreateControlChannel",
              "ssmmessages:CreateDataChannel",
              "ssmmessages:OpenControlChannel",
              "ssmmessages:OpenDataChannel",
            ],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "SessionManagerChannels",
          },
          {
            "Action": [
              "ssm:DescribeAssociation",
              "ssm:GetDeployablePatchSnapshotForInstance",
              "ssm:GetDocument",
              "ssm:DescribeDocument",
              "ssm:GetManifest",
              "ssm:GetParameter",
              "ssm:GetParameters",
              "ssm:ListAssociations",
              "ssm:ListInstanceAssociations",
              "ssm:PutInventory",
              "ssm:PutComplianceItems",
              "ssm:PutConfigurePackageResult",
              "ssm:UpdateAssociationStatus",
              "ssm:UpdateInstanceAssociationStatus",
              "ec2messages:AcknowledgeMessage",
              "ec2messages:DeleteMessage",
              "ec2messages:FailMessage",
              "ec2messages:GetEndpoint",
              "ec2messages:GetMessages",
              "ec2messages:SendReply",
            ],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "ManagedInstanceCore",
          },
          {
            "Action": [
              "kms:Decrypt",
              "kms:GenerateDataKey",
            ],
            "Effect": "Allow",
            "Resource": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "Sid": "SessionKey",
          },
          {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::ssm-session-logs-123456789012-eu-west-1/session-logs/*",
            "Sid": "SessionLogsToS3",
          },
          {
            "Action": "s3:GetEncryptionConfiguration",
            "Effect": "Allow",
            "Resource": "arn:aws:s3:::ssm-session-logs-123456789012-eu-west-1",
            "Sid": "SessionLogsBucketEncryption",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('with CloudWatch Logs streaming too: the same statements, then the group’s streams and the group lookup', () => {
    const policy = instancePolicy(WITH_GROUP);
    expect(policy.Statement.slice(0, 5)).toEqual(instancePolicy(S3_ONLY).Statement);
    expect(policy.Statement.slice(5)).toMatchInlineSnapshot(`
      [
        {
          "Action": [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
          ],
          "Effect": "Allow",
          "Resource": [
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/session-logs",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/ssm/session-logs:*",
          ],
          "Sid": "SessionLogsToCloudWatch",
        },
        {
          "Action": "logs:DescribeLogGroups",
          "Effect": "Allow",
          "Resource": "*",
          "Sid": "SessionLogsDescribeLogGroups",
        },
      ]
    `);
  });

  it('keeps the statement ids stable, unique, and adds the log statements only with a group', () => {
    const sids = (p: PolicyDocument) => p.Statement.map((s) => s.Sid);
    const base = ['SessionManagerChannels', 'ManagedInstanceCore', 'SessionKey', 'SessionLogsToS3', 'SessionLogsBucketEncryption'];
    expect(sids(instancePolicy(S3_ONLY))).toEqual(base);
    expect(sids(instancePolicy(WITH_GROUP))).toEqual([...base, 'SessionLogsToCloudWatch', 'SessionLogsDescribeLogGroups']);
    expect(new Set(sids(instancePolicy(WITH_GROUP))).size).toBe(base.length + 2);
  });

  it('uses the prefix exactly as given; an empty prefix means the whole bucket', () => {
    const s3 = (prefix: string) => instancePolicy({ ...S3_ONLY, s3Prefix: prefix }).Statement.find((s) => s.Sid === 'SessionLogsToS3')!.Resource;
    expect(s3('session-logs/')).toBe(`arn:aws:s3:::${BUCKET}/session-logs/*`);
    expect(s3('logs/ssm')).toBe(`arn:aws:s3:::${BUCKET}/logs/ssm*`);
    expect(s3('')).toBe(`arn:aws:s3:::${BUCKET}/*`);
  });

  it('does not double a trailing :* on the group ARN (as DescribeLogGroups’ arn field has it)', () => {
    expect(instancePolicy({ ...S3_ONLY, logGroupArn: `${GROUP}:*` })).toEqual(instancePolicy(WITH_GROUP));
  });

  it('builds every ARN in the caller’s partition', () => {
    const cnGroup = `arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:/aws/ssm/session-logs`;
    const cnKey = `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const policy = instancePolicy({ ...WITH_GROUP, partition: 'aws-cn', region: 'cn-north-1', keyArn: cnKey, logGroupArn: cnGroup });
    const scoped = policy.Statement.flatMap((s) => ([] as string[]).concat(s.Resource)).filter((r) => r !== '*');
    expect(scoped).toEqual([cnKey, `arn:aws-cn:s3:::${BUCKET}/session-logs/*`, `arn:aws-cn:s3:::${BUCKET}`, cnGroup, `${cnGroup}:*`]);
  });

  it('fits the 6,144-character limit of a managed policy with the longest names the settings allow', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html (white space not counted)
    const policy = instancePolicy({
      ...WITH_GROUP,
      bucketName: 'b'.repeat(63),
      s3Prefix: `${'p'.repeat(511)}/`,
      logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${'g'.repeat(512)}`,
    });
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(6144);
  });
});

describe('instancePolicy: what IAM allows the agent (iam-simulate)', () => {
  const policy = instancePolicy(WITH_GROUP);

  /** What the agent calls for sessions logged to S3 and CloudWatch Logs. */
  const NEEDED: [string, string][] = [
    ['ssm:UpdateInstanceInformation', INSTANCE],
    ['ssmmessages:CreateControlChannel', '*'],
    ['ssmmessages:CreateDataChannel', '*'],
    ['ssmmessages:OpenControlChannel', '*'],
    ['ssmmessages:OpenDataChannel', '*'],
    ['kms:Decrypt', KEY],
    ['kms:GenerateDataKey', KEY],
    ['s3:PutObject', `arn:aws:s3:::${BUCKET}/session-logs/${SESSION_LOG}`],
    ['s3:GetEncryptionConfiguration', `arn:aws:s3:::${BUCKET}`],
    ['logs:CreateLogStream', `${GROUP}:log-stream:alice-0123456789abcdef0`],
    ['logs:PutLogEvents', `${GROUP}:log-stream:alice-0123456789abcdef0`],
    ['logs:DescribeLogStreams', GROUP],
    ['logs:DescribeLogGroups', '*'],
  ];

  it.each(NEEDED)('allows %s on %s', async (action, resource) => {
    expect(await decide(policy, action, resource)).toBe('Allowed');
  });

  /** The rest of what is granted on `*` (Run Command and State Manager). */
  const unscoped = policy.Statement.filter((s) => s.Resource === '*')
    .flatMap((s) => ([] as string[]).concat(s.Action))
    .filter((a) => !NEEDED.some(([n]) => n === a));

  it.each(unscoped)('allows %s, granted on *, on *', async (action) => {
    expect(await decide(policy, action, '*')).toBe('Allowed');
  });

  it('has every action it grants covered by one of the checks above', () => {
    expect(new Set([...NEEDED.map(([a]) => a), ...unscoped])).toEqual(new Set(actionsOf(policy)));
  });

  it.each<[string, string, string]>([
    ['writing outside the prefix', 's3:PutObject', `arn:aws:s3:::${BUCKET}/other/${SESSION_LOG}`],
    ['writing beside the prefix', 's3:PutObject', `arn:aws:s3:::${BUCKET}/session-logs-old/${SESSION_LOG}`],
    ['writing into another bucket', 's3:PutObject', `arn:aws:s3:::another-bucket/session-logs/${SESSION_LOG}`],
    ['reading the logs back', 's3:GetObject', `arn:aws:s3:::${BUCKET}/session-logs/${SESSION_LOG}`],
    ['deleting a log', 's3:DeleteObject', `arn:aws:s3:::${BUCKET}/session-logs/${SESSION_LOG}`],
    ['reading another bucket’s encryption', 's3:GetEncryptionConfiguration', 'arn:aws:s3:::another-bucket'],
    ['decrypting with another key', 'kms:Decrypt', OTHER_KEY],
    ['generating data keys with another key', 'kms:GenerateDataKey', OTHER_KEY],
    ['writing into another group', 'logs:PutLogEvents', `${OTHER_GROUP}:log-stream:x`],
    ['creating streams in another group', 'logs:CreateLogStream', `${OTHER_GROUP}:log-stream:x`],
    ['creating log groups', 'logs:CreateLogGroup', GROUP],
  ])('denies %s', async (_what, action, resource) => {
    expect(await decide(policy, action, resource)).toBe('ImplicitlyDenied');
  });

  it('without a log group: S3 logging still allowed, no CloudWatch Logs action at all', async () => {
    const s3Only = instancePolicy(S3_ONLY);
    expect(await decide(s3Only, 's3:PutObject', `arn:aws:s3:::${BUCKET}/session-logs/${SESSION_LOG}`)).toBe('Allowed');
    for (const [action, resource] of NEEDED.filter(([a]) => a.startsWith('logs:'))) {
      expect(await decide(s3Only, action, resource), action).toBe('ImplicitlyDenied');
    }
  });

  it('with an empty prefix: anywhere in the bucket, still not in another one', async () => {
    const whole = instancePolicy({ ...S3_ONLY, s3Prefix: '' });
    expect(await decide(whole, 's3:PutObject', `arn:aws:s3:::${BUCKET}/${SESSION_LOG}`)).toBe('Allowed');
    expect(await decide(whole, 's3:PutObject', `arn:aws:s3:::another-bucket/${SESSION_LOG}`)).toBe('ImplicitlyDenied');
  });
});

describe('ec2TrustPolicy', () => {
  it('trusts EC2', () => {
    expect(ec2TrustPolicy('aws')).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {
              "Service": "ec2.amazonaws.com",
            },
            "Sid": "EC2AssumeRole",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('trusts ec2.amazonaws.com.cn in the China partition', () => {
    expect(ec2TrustPolicy('aws-cn')).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {
              "Service": "ec2.amazonaws.com.cn",
            },
            "Sid": "EC2AssumeRole",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('uses ec2.amazonaws.com in GovCloud', () => {
    expect(ec2TrustPolicy('aws-us-gov').Statement[0]!.Principal).toEqual({ Service: 'ec2.amazonaws.com' });
  });

  const assume = (partition: string, principal: string) => {
    const req: SimRequest = { action: 'sts:AssumeRole', resource: `arn:${partition}:iam::${ACCOUNT}:role/SSMInstanceRole`, principal };
    return simulate(req, [], ec2TrustPolicy(partition));
  };

  // iam-simulate takes only principals ending in amazonaws.com for services, so the China
  // principal is checked by the snapshot above alone.
  it('lets EC2 assume the role, and nobody else (iam-simulate)', async () => {
    expect(await assume('aws', 'ec2.amazonaws.com')).toBe('Allowed');
    expect(await assume('aws', 'ssm.amazonaws.com')).toBe('ImplicitlyDenied');
    expect(await assume('aws', `arn:aws:iam::${ACCOUNT}:user/alice`)).toBe('ImplicitlyDenied');
  });

  it('has no Resource, which IAM rejects in a trust policy', () => {
    for (const p of ['aws', 'aws-cn']) expect(ec2TrustPolicy(p).Statement[0]).not.toHaveProperty('Resource');
  });
});

describe('the simulate helper', () => {
  it('fails with iam-simulate’s errors when it cannot evaluate the request', async () => {
    const policy = instancePolicy(S3_ONLY);
    await expect(simulate({ action: 'ssm:StartSesion', resource: '*' }, [policy])).rejects.toThrow(/invalid\.action/);
    await expect(simulate({ action: 's3:PutObject', resource: KEY }, [policy])).rejects.toThrow(/no\.resource\.types/);
  });
});
