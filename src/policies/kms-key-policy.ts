import { mergeStatement, type PolicyDocument, type PolicyStatement } from './types.js';

export interface KeyPolicyInput {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
  /** Add the CloudWatch Logs statement (a log group encrypted with this key is configured). */
  readonly cloudWatchLogs: boolean;
}

export const ROOT_STATEMENT_SID = 'EnableIamUserPermissions';
export const LOGS_STATEMENT_SID = 'AllowCloudWatchLogsForSessionLogGroups';

/** `amazonaws.com`, or `amazonaws.com.cn` in the China partition. */
const dnsSuffix = (partition: string) => (partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com');

/**
 * The account root holds `kms:*`, which keeps the account in control of the key and delegates
 * its use to IAM policies (the operator's kms:GenerateDataKey and the instance role's
 * kms:Decrypt are granted there). It also satisfies KMS's lockout safety check.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
 */
export function rootStatement(input: Pick<KeyPolicyInput, 'partition' | 'account'>): PolicyStatement {
  return {
    Sid: ROOT_STATEMENT_SID,
    Effect: 'Allow',
    Principal: { AWS: `arn:${input.partition}:iam::${input.account}:root` },
    Action: 'kms:*',
    Resource: '*',
  };
}

/**
 * CloudWatch Logs encrypts a log group only when the key policy itself admits the regional
 * service principal; IAM policies cannot grant it. Scoped to this account's log groups.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function cloudWatchLogsStatement(input: Omit<KeyPolicyInput, 'cloudWatchLogs'>): PolicyStatement {
  return {
    Sid: LOGS_STATEMENT_SID,
    Effect: 'Allow',
    Principal: { Service: `logs.${input.region}.${dnsSuffix(input.partition)}` },
    Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    Resource: '*',
    Condition: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${input.partition}:logs:${input.region}:${input.account}:log-group:*` },
    },
  };
}

/** The key policy of a key ssm-setup creates. */
export function sessionKeyPolicy(input: KeyPolicyInput): PolicyDocument {
  return {
    Version: '2012-10-17',
    Id: 'ssm-setup-session-key',
    Statement: [rootStatement(input), ...(input.cloudWatchLogs ? [cloudWatchLogsStatement(input)] : [])],
  };
}

/** KMS refuses a key policy document over 32 KB (PutKeyPolicy, CreateKey). */
export const KEY_POLICY_MAX_BYTES = 32 * 1024;

/** The size KMS counts for a policy document, in bytes (UTF-8). */
export const policyBytes = (policy: PolicyDocument): number => new TextEncoder().encode(JSON.stringify(policy)).length;

/**
 * `policy` with the CloudWatch Logs statement merged in by Sid (every other statement kept as
 * it is), or undefined when it already holds that statement. Adding an Allow never weakens
 * the lockout safety check: whoever could manage the key before still can.
 */
export function withCloudWatchLogs(policy: PolicyDocument, input: Omit<KeyPolicyInput, 'cloudWatchLogs'>): PolicyDocument | undefined {
  return mergeStatement(policy, cloudWatchLogsStatement(input));
}
