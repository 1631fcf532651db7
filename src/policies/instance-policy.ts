import { bucketArn } from './log-bucket.js';
import type { PolicyDocument, PolicyStatement } from './types.js';

export interface InstancePolicyInput {
  partition: string;
  account: string;
  region: string;
  /** The session key, which is also the log bucket's SSE-KMS key. */
  keyArn: string;
  bucketName: string;
  /** Key prefix of the session logs, exactly as in the preferences (`session-logs/`, or empty). */
  s3Prefix: string;
  /** Only when CloudWatch Logs streaming is on: the group ARN, without a trailing `:*`. */
  logGroupArn?: string;
}

/**
 * What the agent needs for Session Manager itself: register the instance and open the control
 * and data channels. The ssmmessages actions support no resource types, so `*` is the only
 * form; ssm:UpdateInstanceInformation is kept with them on `*`, as in AWS's minimal
 * Session Manager policy and in AmazonSSMManagedInstanceCore.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_ssmmessages.html
 */
function channelsStatement(): PolicyStatement {
  return {
    Sid: 'SessionManagerChannels',
    Effect: 'Allow',
    Action: [
      'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
    ],
    Resource: '*',
  };
}

/**
 * The rest of AmazonSSMManagedInstanceCore (v2), so that Run Command and State Manager work on
 * instances whose only policy is this one (ssm-setup itself updates agents and installs the
 * CloudWatch agent through Run Command). Copied as AWS grants it, on `*`: note that this lets
 * the instance read every SSM parameter of the account (ssm:GetParameter/GetParameters).
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html
 */
function managedInstanceCoreStatement(): PolicyStatement {
  return {
    Sid: 'ManagedInstanceCore',
    Effect: 'Allow',
    Action: [
      'ssm:DescribeAssociation',
      'ssm:GetDeployablePatchSnapshotForInstance',
      'ssm:GetDocument',
      'ssm:DescribeDocument',
      'ssm:GetManifest',
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ssm:ListAssociations',
      'ssm:ListInstanceAssociations',
      'ssm:PutInventory',
      'ssm:PutComplianceItems',
      'ssm:PutConfigurePackageResult',
      'ssm:UpdateAssociationStatus',
      'ssm:UpdateInstanceAssociationStatus',
      'ec2messages:AcknowledgeMessage',
      'ec2messages:DeleteMessage',
      'ec2messages:FailMessage',
      'ec2messages:GetEndpoint',
      'ec2messages:GetMessages',
      'ec2messages:SendReply',
    ],
    Resource: '*',
  };
}

/**
 * One statement for both uses of the key, which are on the same key ARN:
 * - kms:Decrypt: the agent decrypts the session data key that the operator's plugin generated.
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/session-preferences-enable-encryption.html
 * - kms:GenerateDataKey (and kms:Decrypt for multipart uploads): S3 calls KMS as the uploader
 *   when the agent writes a log into the bucket, whose default encryption is SSE-KMS with this key.
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 */
function sessionKeyStatement(keyArn: string): PolicyStatement {
  return { Sid: 'SessionKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn };
}

/**
 * Session logs go under the prefix only. The prefix is used as given: `session-logs/` gives
 * `bucket/session-logs/*`, an empty prefix the whole bucket (`bucket/*`).
 */
function logsToS3Statement(partition: string, bucket: string, prefix: string): PolicyStatement {
  return { Sid: 'SessionLogsToS3', Effect: 'Allow', Action: 's3:PutObject', Resource: `${bucketArn(partition, bucket)}/${prefix}*` };
}

/**
 * Before each upload the agent reads the bucket's default encryption (GetBucketEncryption) to
 * choose the SSE headers; without this sessions fail with "unable to validate encryption".
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
 */
function bucketEncryptionStatement(partition: string, bucket: string): PolicyStatement {
  return { Sid: 'SessionLogsBucketEncryption', Effect: 'Allow', Action: 's3:GetEncryptionConfiguration', Resource: bucketArn(partition, bucket) };
}

/**
 * Streaming to the log group. The Service Authorization Reference gives CreateLogStream and
 * PutLogEvents the log-stream type (`<group ARN>:log-stream:<name>`, matched by `<group ARN>:*`)
 * and DescribeLogStreams the log-group type (the bare group ARN), so both forms are listed.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
 */
function logsToCloudWatchStatement(groupArn: string): PolicyStatement {
  return {
    Sid: 'SessionLogsToCloudWatch',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
    Resource: [groupArn, `${groupArn}:*`],
  };
}

/**
 * The agent looks the group up (and checks its encryption) with DescribeLogGroups, which has no
 * resource type in the Service Authorization Reference: only `*` works (AWS evaluates it on
 * `log-group::log-stream:`, which no group ARN matches).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
 */
function describeLogGroupsStatement(): PolicyStatement {
  return { Sid: 'SessionLogsDescribeLogGroups', Effect: 'Allow', Action: 'logs:DescribeLogGroups', Resource: '*' };
}

/**
 * The managed policy attached to instance roles (runbook step 4): Session Manager, the Run
 * Command/State Manager core, the session key, and the log destinations of the chosen settings,
 * each scoped to the real key, bucket, prefix and log group where AWS allows it.
 */
export function instancePolicy(input: InstancePolicyInput): PolicyDocument {
  const group = input.logGroupArn?.replace(/:\*$/, '');
  return {
    Version: '2012-10-17',
    Statement: [
      channelsStatement(),
      managedInstanceCoreStatement(),
      sessionKeyStatement(input.keyArn),
      logsToS3Statement(input.partition, input.bucketName, input.s3Prefix),
      bucketEncryptionStatement(input.partition, input.bucketName),
      ...(group ? [logsToCloudWatchStatement(group), describeLogGroupsStatement()] : []),
    ],
  };
}

/** A trust policy: like a permissions policy, but with a Principal and no Resource (IAM rejects one). */
export interface TrustPolicyDocument {
  Version: '2012-10-17';
  Statement: Omit<PolicyStatement, 'Resource'>[];
}

/**
 * Lets EC2 assume the role for the instances it is attached to through an instance profile.
 * In the China partition the EC2 service principal is `ec2.amazonaws.com.cn`.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
 * https://docs.amazonaws.cn/en_us/aws/latest/userguide/iam.html
 */
export function ec2TrustPolicy(partition: string): TrustPolicyDocument {
  const service = partition === 'aws-cn' ? 'ec2.amazonaws.com.cn' : 'ec2.amazonaws.com';
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'EC2AssumeRole', Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  };
}
