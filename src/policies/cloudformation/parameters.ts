import { LOG_RETENTION_DAYS, type Settings } from '../../config/schema.js';
import { PREFERENCES_DOCUMENT } from '../preferences-document.js';
import { CLOUDWATCH_AGENT_POLICY_NAME, COND, MAX_PARAMETER_BYTES, PARAM, ref } from './names.js';

const yesNo = (b: boolean) => (b ? 'true' : 'false');

/**
 * `--deny-unlogged-sessions` in the template: its parameter and the condition the operator policy
 * is built on (names.ts holds the others; these stay beside the one parameter that uses them).
 */
export const DENY_UNLOGGED = { param: 'DenyUnloggedSessions', cond: 'DenyUnloggedSessionDocuments' } as const;

/** The template's parameters, constrained as the settings schema is, with the settings as defaults. */
export function parameters(s: Settings): Record<string, Record<string, unknown>> {
  const text = (Default: string, Description: string, more: Record<string, unknown> = {}) => ({ Type: 'String', Default, Description, ...more });
  const number = (Default: number, Description: string, more: Record<string, unknown> = {}) => ({ Type: 'Number', Default, Description, ...more });
  const flag = (Default: boolean, Description: string) => ({ Type: 'String', Default: yesNo(Default), AllowedValues: ['true', 'false'], Description });
  const list = (Default: readonly string[], Description: string) => ({ Type: 'CommaDelimitedList', Default: Default.join(','), Description });
  const iam = (max: number) => ({ AllowedPattern: `^[\\w+=,.@-]{1,${max}}$`, ConstraintDescription: `1 to ${max} characters of letters, digits and +=,.@_-` });
  return {
    [PARAM.keyAlias]: text(s.keyAlias, 'KMS key alias (--key-alias)', {
      AllowedPattern: '^alias/(?!aws/)[A-Za-z0-9/_-]+$',
      MaxLength: 256,
      ConstraintDescription: 'alias/ followed by letters, digits, /, _ or -; not alias/aws/',
    }),
    [PARAM.bucketName]: text(
      s.bucket ?? '',
      'S3 bucket for session logs (--bucket); empty: ssm-session-logs-<account>-<region>, which keeps names unique across the accounts and regions of a StackSet',
      {
        AllowedPattern: '^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
        ConstraintDescription: 'empty, or an S3 bucket name',
      },
    ),
    [PARAM.s3Prefix]: text(s.s3Prefix, 'key prefix of session logs (--s3-prefix)', { AllowedPattern: "^[A-Za-z0-9!_.*'()/=-]*$", MaxLength: 512 }),
    [PARAM.logTransitionDays]: number(s.logTransitionDays, 'days before logs move to Glacier Flexible Retrieval, 0 = never (--log-transition-days)', {
      MinValue: 0,
      MaxValue: 36500,
    }),
    [PARAM.logExpirationDays]: number(s.logExpirationDays, 'days before logs expire, 0 = never; more than the transition days (--log-expiration-days)', {
      MinValue: 0,
      MaxValue: 36500,
    }),
    [PARAM.enableCloudWatchLogs]: flag(s.cloudwatchLogs, 'also stream session logs to a CloudWatch Logs group (--cloudwatch-logs)'),
    [PARAM.logGroupName]: text(s.logGroup, 'CloudWatch Logs group, when EnableCloudWatchLogs is true (--log-group)', {
      AllowedPattern: '^[.\\-_/#A-Za-z0-9]{1,512}$',
    }),
    [PARAM.logRetentionDays]: number(s.logRetentionDays, 'log group retention in days (--log-retention-days)', { AllowedValues: [...LOG_RETENTION_DAYS] }),
    [PARAM.createIamResources]: flag(
      true,
      'create the IAM policies, role and instance profile; IAM is global, so in several regions of one account set false in all but one (or use RegionalIamNames)',
    ),
    [PARAM.regionalIamNames]: flag(false, 'append -<region> to the IAM names, so that every region of an account gets its own policies and role'),
    [PARAM.instanceRoleName]: text(s.instanceRole, 'role and instance profile for instances that have none (--instance-role)', iam(64)),
    [PARAM.instancePolicyName]: text(s.instancePolicy, 'managed policy for instance roles (--instance-policy)', iam(128)),
    [PARAM.attachCloudWatchAgentPolicy]: flag(s.cloudwatchAgent, `attach ${CLOUDWATCH_AGENT_POLICY_NAME} to the instance role (--no-cloudwatch-agent: false)`),
    [PARAM.operatorPolicyName]: text(s.operatorPolicy, 'managed policy for operators (--operator-policy)', iam(128)),
    [PARAM.operatorAccess]: text(s.operatorAccess, 'operator policy variant (--operator-access)', { AllowedValues: ['restricted', 'full'] }),
    [DENY_UNLOGGED.param]: flag(
      s.denyUnloggedSessions,
      'operators may not start SSH or port-forwarding sessions, which Session Manager never content-logs (--deny-unlogged-sessions)',
    ),
    [PARAM.operatorUsers]: list(s.operatorUsers, 'IAM users that get the operator policy; they must exist in every account (--operator-users)'),
    [PARAM.operatorGroups]: list(s.operatorGroups, 'IAM groups that get the operator policy; they must exist in every account (--operator-groups)'),
    [PARAM.idleTimeout]: number(s.idleTimeout, 'idle session timeout in minutes (--idle-timeout)', { MinValue: 1, MaxValue: 60 }),
    [PARAM.maxSessionDuration]: text(
      s.maxSessionDuration === undefined ? '' : String(s.maxSessionDuration),
      'maximum session duration in minutes, 1 to 1440; empty: none (--max-session-duration)',
      {
        AllowedPattern: '^$|^([1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)$',
        ConstraintDescription: 'empty, or 1 to 1440',
      },
    ),
    [PARAM.runAsUser]: text(s.runAs ?? '', 'OS user of sessions instead of ssm-user; empty: Run As off (--run-as; root is refused)', {
      AllowedPattern: '^(?!root$)([a-z_][a-z0-9_-]{0,31})?$',
      ConstraintDescription: 'empty, or a Linux user name other than root',
    }),
    [PARAM.shellProfileLinux]: text(s.shellProfileLinux, 'commands run at the start of Linux sessions (--shell-profile-linux)', {
      MaxLength: MAX_PARAMETER_BYTES,
    }),
    [PARAM.shellProfileWindows]: text(s.shellProfileWindows, 'commands run at the start of Windows sessions (--shell-profile-windows)', {
      MaxLength: MAX_PARAMETER_BYTES,
    }),
  };
}

const equals = (a: unknown, b: unknown) => ({ 'Fn::Equals': [a, b] });
const not = (c: unknown) => ({ 'Fn::Not': [c] });

/** The template's conditions, each decided by a parameter. */
export const CONDITIONS = {
  [COND.cloudWatchLogs]: equals(ref(PARAM.enableCloudWatchLogs), 'true'),
  [COND.hasBucketName]: not(equals(ref(PARAM.bucketName), '')),
  [COND.hasTransition]: not(equals(ref(PARAM.logTransitionDays), '0')),
  [COND.hasExpiration]: not(equals(ref(PARAM.logExpirationDays), '0')),
  [COND.createIam]: equals(ref(PARAM.createIamResources), 'true'),
  [COND.regionalIamNames]: equals(ref(PARAM.regionalIamNames), 'true'),
  [COND.cloudWatchAgent]: equals(ref(PARAM.attachCloudWatchAgentPolicy), 'true'),
  [COND.fullOperatorAccess]: equals(ref(PARAM.operatorAccess), 'full'),
  [DENY_UNLOGGED.cond]: equals(ref(DENY_UNLOGGED.param), 'true'),
  [COND.hasOperatorUsers]: not(equals({ 'Fn::Join': ['', ref(PARAM.operatorUsers)] }, '')),
  [COND.hasOperatorGroups]: not(equals({ 'Fn::Join': ['', ref(PARAM.operatorGroups)] }, '')),
  [COND.hasRunAs]: not(equals(ref(PARAM.runAsUser), '')),
  // The builders name a few service principals differently in China (amazonaws.com.cn).
  [COND.china]: equals(ref('AWS::Partition'), 'aws-cn'),
};

/** How the console groups the parameters (AWS::CloudFormation::Interface). */
export const PARAMETER_GROUPS = [
  {
    Label: { default: 'Key and log storage' },
    Parameters: [
      PARAM.keyAlias,
      PARAM.bucketName,
      PARAM.s3Prefix,
      PARAM.logTransitionDays,
      PARAM.logExpirationDays,
      PARAM.enableCloudWatchLogs,
      PARAM.logGroupName,
      PARAM.logRetentionDays,
    ],
  },
  {
    Label: { default: 'IAM (global: see CreateIamResources)' },
    Parameters: [
      PARAM.createIamResources,
      PARAM.regionalIamNames,
      PARAM.instanceRoleName,
      PARAM.instancePolicyName,
      PARAM.attachCloudWatchAgentPolicy,
      PARAM.operatorPolicyName,
      PARAM.operatorAccess,
      DENY_UNLOGGED.param,
      PARAM.operatorUsers,
      PARAM.operatorGroups,
    ],
  },
  {
    Label: { default: `Session preferences (${PREFERENCES_DOCUMENT})` },
    Parameters: [PARAM.idleTimeout, PARAM.maxSessionDuration, PARAM.runAsUser, PARAM.shellProfileLinux, PARAM.shellProfileWindows],
  },
];
