import { MANAGED_BY_TAG, resourceTagsFor, LOG_RETENTION_DAYS, type Settings } from '../config/schema.js';
import { branch, byConditions, cfn, NO_VALUE, placeholder } from './cfn-intrinsics.js';
import { instancePolicy, ec2TrustPolicy } from './instance-policy.js';
import { sessionKeyPolicy } from './kms-key-policy.js';
import { defaultBucketName, fullPublicAccessBlock, sessionLogsRule, sseKmsRule, tlsOnlyStatement } from './log-bucket.js';
import { operatorPolicy } from './operator-policy.js';
import { PREFERENCES_DOCUMENT, preferencesDocument } from './preferences-document.js';

/**
 * `ssm-setup export cloudformation`: the same setup as a CloudFormation template, for
 * StackSets and many accounts. Pure. Every policy and the preferences document come from the
 * builders the steps use, given the placeholders below, so the template grants exactly what
 * the tool would create; where a setting decides the shape (CloudWatch Logs on or off, the
 * operator variant) each outcome is built and the two are joined with `Fn::If`.
 */

/** Parameters, as the template names them. */
export const PARAM = {
  keyAlias: 'KeyAlias',
  bucketName: 'BucketName',
  s3Prefix: 'S3Prefix',
  logTransitionDays: 'LogTransitionDays',
  logExpirationDays: 'LogExpirationDays',
  enableCloudWatchLogs: 'EnableCloudWatchLogs',
  logGroupName: 'LogGroupName',
  logRetentionDays: 'LogRetentionDays',
  createIamResources: 'CreateIamResources',
  regionalIamNames: 'RegionalIamNames',
  instanceRoleName: 'InstanceRoleName',
  instancePolicyName: 'InstancePolicyName',
  attachCloudWatchAgentPolicy: 'AttachCloudWatchAgentPolicy',
  operatorPolicyName: 'OperatorPolicyName',
  operatorAccess: 'OperatorAccess',
  operatorUsers: 'OperatorUsers',
  operatorGroups: 'OperatorGroups',
  idleTimeout: 'IdleTimeout',
  maxSessionDuration: 'MaxSessionDuration',
  runAsUser: 'RunAsUser',
  shellProfileLinux: 'ShellProfileLinux',
  shellProfileWindows: 'ShellProfileWindows',
} as const;

/** Logical ids of the resources. */
export const RES = {
  key: 'SessionKey',
  alias: 'SessionKeyAlias',
  bucket: 'LogBucket',
  bucketPolicy: 'LogBucketPolicy',
  logGroup: 'SessionLogGroup',
  instancePolicy: 'InstancePolicy',
  instanceRole: 'InstanceRole',
  instanceProfile: 'InstanceProfile',
  operatorPolicy: 'OperatorPolicy',
  functionRole: 'PreferencesFunctionRole',
  functionLogGroup: 'PreferencesFunctionLogGroup',
  function: 'PreferencesFunction',
  preferences: 'SessionPreferences',
} as const;

export const COND = {
  cloudWatchLogs: 'UseCloudWatchLogs',
  hasBucketName: 'HasBucketName',
  hasTransition: 'HasLogTransition',
  hasExpiration: 'HasLogExpiration',
  createIam: 'CreateIam',
  regionalIamNames: 'UseRegionalIamNames',
  cloudWatchAgent: 'AttachCloudWatchAgent',
  fullOperatorAccess: 'FullOperatorAccess',
  hasOperatorUsers: 'HasOperatorUsers',
  hasOperatorGroups: 'HasOperatorGroups',
  hasRunAs: 'HasRunAs',
  china: 'IsChinaPartition',
} as const;

/** What the builders are given in place of concrete values; `cfn()` turns them into references. */
export const PLACEHOLDERS = {
  partition: '${AWS::Partition}',
  account: '${AWS::AccountId}',
  region: '${AWS::Region}',
  keyArn: `\${${RES.key}.Arn}`,
  bucket: `\${${RES.bucket}}`,
  s3Prefix: `\${${PARAM.s3Prefix}}`,
  logGroupName: `\${${RES.logGroup}}`,
  logGroupArn: `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${RES.logGroup}}`,
  logTransitionDays: `\${${PARAM.logTransitionDays}}`,
  logExpirationDays: `\${${PARAM.logExpirationDays}}`,
  idleTimeout: `\${${PARAM.idleTimeout}}`,
  maxSessionDuration: `\${${PARAM.maxSessionDuration}}`,
  runAs: `\${${PARAM.runAsUser}}`,
  shellProfileLinux: `\${${PARAM.shellProfileLinux}}`,
  shellProfileWindows: `\${${PARAM.shellProfileWindows}}`,
  instancePolicyArn: `\${${RES.instancePolicy}}`,
} as const;

/**
 * Names the steps define next to AWS SDK code (src/steps/*-state.ts), repeated here so that
 * this module stays free of the SDK; test/policies/cloudformation.test.ts checks they agree.
 */
export const KEY_ALIAS_TAG = 'ssm-setup:alias';
export const ORIGINAL_DEFAULT_VERSION_TAG = 'ssm-setup:original-default-version';
export const CLOUDWATCH_AGENT_POLICY_NAME = 'CloudWatchAgentServerPolicy';

/** CloudFormation takes parameter values of at most 4,096 bytes. */
export const MAX_PARAMETER_BYTES = 4096;

const PARAM_NAMES = new Set<string>(Object.values(PARAM));
const RES_NAMES = new Set<string>(Object.values(RES));

/** True for the names a `${…}` of this template may reference: pseudo parameters, parameters, resources (`.Attr`). */
export const isTemplateReference = (name: string): boolean =>
  name.startsWith('AWS::') || PARAM_NAMES.has(name) || RES_NAMES.has(name.split('.')[0]!);

const sub = (value: unknown) => cfn(value, isTemplateReference);
const ref = (name: string) => ({ Ref: name });
const getAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });
const retained = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } as const;
const yesNo = (b: boolean) => (b ? 'true' : 'false');
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The characters AWS allows in tag keys and values (IAM, KMS, S3, Logs, Lambda alike). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Settings the template cannot carry as they are; each names its setting key. */
export function exportProblems(settings: Settings): { key: keyof Settings; message: string }[] {
  const problems: { key: keyof Settings; message: string }[] = (['shellProfileLinux', 'shellProfileWindows'] as const)
    .filter((key) => bytes(settings[key]) > MAX_PARAMETER_BYTES)
    .map((key) => ({ key, message: `must be at most ${MAX_PARAMETER_BYTES} bytes in a CloudFormation parameter (got ${bytes(settings[key])})` }));
  for (const [k, v] of Object.entries(settings.tags)) {
    if (!TAG_TEXT.test(k) || !TAG_TEXT.test(v)) {
      problems.push({ key: 'tags', message: `${JSON.stringify(`${k}=${v}`)}: tags may hold only letters, digits, spaces and _ . : / = + - @` });
    }
  }
  return problems;
}

/** The template: parameters whose defaults are the given settings, the resources, the outputs. */
export function cloudFormationTemplate(settings: Settings): Record<string, unknown> {
  const tags = resourceTagsFor(settings);
  const P = PLACEHOLDERS;
  /** A named IAM resource: `<name>` or, with RegionalIamNames, `<name>-<region>`. */
  const iamName = (param: string) => branch(COND.regionalIamNames, { 'Fn::Sub': `\${${param}}-\${AWS::Region}` }, ref(param));
  const roleName = iamName(PARAM.instanceRoleName);

  const preferences = byConditions([COND.cloudWatchLogs, COND.hasRunAs], (on) =>
    sub(
      preferencesDocument({
        bucketName: P.bucket,
        s3Prefix: P.s3Prefix,
        keyArn: P.keyArn,
        logGroupName: on[COND.cloudWatchLogs] ? P.logGroupName : undefined,
        idleTimeout: placeholder<number>(P.idleTimeout),
        // Empty parameter, empty field: the same as the builder's "none".
        maxSessionDuration: placeholder<number>(P.maxSessionDuration),
        runAs: on[COND.hasRunAs] ? P.runAs : undefined,
        shellProfileLinux: P.shellProfileLinux,
        shellProfileWindows: P.shellProfileWindows,
      }),
    ),
  );

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: DESCRIPTION,
    Metadata: { 'AWS::CloudFormation::Interface': { ParameterGroups: PARAMETER_GROUPS } },
    Parameters: parameters(settings),
    Conditions: CONDITIONS,
    Resources: {
      [RES.key]: {
        Type: 'AWS::KMS::Key',
        ...retained,
        Properties: {
          Description: { 'Fn::Sub': `Session Manager session data and logs (ssm-setup, \${${PARAM.keyAlias}})` },
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          EnableKeyRotation: true,
          KeyPolicy: byConditions([COND.cloudWatchLogs, COND.china], (on) =>
            sub(sessionKeyPolicy({ partition: on[COND.china] ? 'aws-cn' : P.partition, account: P.account, region: P.region, cloudWatchLogs: on[COND.cloudWatchLogs]! })),
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
      [RES.instancePolicy]: {
        Type: 'AWS::IAM::ManagedPolicy',
        Condition: COND.createIam,
        Properties: {
          ManagedPolicyName: iamName(PARAM.instancePolicyName),
          Description: 'Session Manager rights for EC2 instances (ssm-setup)',
          PolicyDocument: byConditions([COND.cloudWatchLogs], (on) =>
            sub(
              instancePolicy({
                partition: P.partition,
                account: P.account,
                region: P.region,
                keyArn: P.keyArn,
                bucketName: P.bucket,
                s3Prefix: P.s3Prefix,
                logGroupArn: on[COND.cloudWatchLogs] ? P.logGroupArn : undefined,
              }),
            ),
          ),
        },
      },
      [RES.instanceRole]: {
        Type: 'AWS::IAM::Role',
        Condition: COND.createIam,
        Properties: {
          RoleName: roleName,
          Description: 'EC2 instances managed by Session Manager (ssm-setup)',
          AssumeRolePolicyDocument: byConditions([COND.china], (on) => sub(ec2TrustPolicy(on[COND.china] ? 'aws-cn' : P.partition))),
          ManagedPolicyArns: byConditions([COND.cloudWatchAgent], (on) =>
            sub([P.instancePolicyArn, ...(on[COND.cloudWatchAgent] ? [`arn:${P.partition}:iam::aws:policy/${CLOUDWATCH_AGENT_POLICY_NAME}`] : [])]),
          ),
          Tags: tagList(tags),
        },
      },
      [RES.instanceProfile]: {
        Type: 'AWS::IAM::InstanceProfile',
        Condition: COND.createIam,
        Properties: { InstanceProfileName: roleName, Roles: [ref(RES.instanceRole)] },
      },
      [RES.operatorPolicy]: {
        Type: 'AWS::IAM::ManagedPolicy',
        Condition: COND.createIam,
        Properties: {
          ManagedPolicyName: iamName(PARAM.operatorPolicyName),
          Description: 'Session Manager rights for operators (ssm-setup)',
          PolicyDocument: byConditions([COND.fullOperatorAccess], (on) =>
            sub(operatorPolicy({ partition: P.partition, account: P.account, region: P.region, keyArn: P.keyArn, access: on[COND.fullOperatorAccess] ? 'full' : 'restricted' })),
          ),
          Users: { 'Fn::If': [COND.hasOperatorUsers, ref(PARAM.operatorUsers), NO_VALUE] },
          Groups: { 'Fn::If': [COND.hasOperatorGroups, ref(PARAM.operatorGroups), NO_VALUE] },
        },
      },
      ...preferencesResources(preferences, tags),
    },
    Outputs: {
      SessionKeyArn: { Description: 'the KMS key of session data and logs', Value: getAtt(RES.key, 'Arn') },
      SessionKeyAlias: { Description: 'its alias', Value: ref(RES.alias) },
      LogBucketName: { Description: 'the S3 bucket of session logs', Value: ref(RES.bucket) },
      LogGroupName: { Condition: COND.cloudWatchLogs, Description: 'the CloudWatch Logs group of session logs', Value: ref(RES.logGroup) },
      InstancePolicyArn: { Condition: COND.createIam, Description: 'attach it to the roles of instances that already have one', Value: ref(RES.instancePolicy) },
      InstanceRoleName: { Condition: COND.createIam, Description: 'the role for instances that have none', Value: ref(RES.instanceRole) },
      InstanceProfileName: { Condition: COND.createIam, Description: 'associate it with instances that have no instance profile', Value: ref(RES.instanceProfile) },
      OperatorPolicyArn: { Condition: COND.createIam, Description: 'attach it to the users, groups or roles of operators', Value: ref(RES.operatorPolicy) },
      PreferencesDocumentVersion: { Description: `the default version of ${PREFERENCES_DOCUMENT} set by this stack`, Value: getAtt(RES.preferences, 'DocumentVersion') },
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
  const rule = sessionLogsRule({ prefix: PLACEHOLDERS.s3Prefix, transitionDays: placeholder<number>(transitionDays), expirationDays: placeholder<number>(expirationDays) });
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

function parameters(s: Settings): Record<string, Record<string, unknown>> {
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
    [PARAM.bucketName]: text(s.bucket ?? '', 'S3 bucket for session logs (--bucket); empty: ssm-session-logs-<account>-<region>, which keeps names unique across the accounts and regions of a StackSet', {
      AllowedPattern: '^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      ConstraintDescription: 'empty, or an S3 bucket name',
    }),
    [PARAM.s3Prefix]: text(s.s3Prefix, 'key prefix of session logs (--s3-prefix)', { AllowedPattern: "^[A-Za-z0-9!_.*'()/=-]*$", MaxLength: 512 }),
    [PARAM.logTransitionDays]: number(s.logTransitionDays, 'days before logs move to Glacier Flexible Retrieval, 0 = never (--log-transition-days)', { MinValue: 0, MaxValue: 36500 }),
    [PARAM.logExpirationDays]: number(s.logExpirationDays, 'days before logs expire, 0 = never; more than the transition days (--log-expiration-days)', { MinValue: 0, MaxValue: 36500 }),
    [PARAM.enableCloudWatchLogs]: flag(s.cloudwatchLogs, 'also stream session logs to a CloudWatch Logs group (--cloudwatch-logs)'),
    [PARAM.logGroupName]: text(s.logGroup, 'CloudWatch Logs group, when EnableCloudWatchLogs is true (--log-group)', { AllowedPattern: '^[.\\-_/#A-Za-z0-9]{1,512}$' }),
    [PARAM.logRetentionDays]: number(s.logRetentionDays, 'log group retention in days (--log-retention-days)', { AllowedValues: [...LOG_RETENTION_DAYS] }),
    [PARAM.createIamResources]: flag(true, 'create the IAM policies, role and instance profile; IAM is global, so in several regions of one account set false in all but one (or use RegionalIamNames)'),
    [PARAM.regionalIamNames]: flag(false, 'append -<region> to the IAM names, so that every region of an account gets its own policies and role'),
    [PARAM.instanceRoleName]: text(s.instanceRole, 'role and instance profile for instances that have none (--instance-role)', iam(64)),
    [PARAM.instancePolicyName]: text(s.instancePolicy, 'managed policy for instance roles (--instance-policy)', iam(128)),
    [PARAM.attachCloudWatchAgentPolicy]: flag(s.cloudwatchAgent, `attach ${CLOUDWATCH_AGENT_POLICY_NAME} to the instance role (--no-cloudwatch-agent: false)`),
    [PARAM.operatorPolicyName]: text(s.operatorPolicy, 'managed policy for operators (--operator-policy)', iam(128)),
    [PARAM.operatorAccess]: text(s.operatorAccess, 'operator policy variant (--operator-access)', { AllowedValues: ['restricted', 'full'] }),
    [PARAM.operatorUsers]: list(s.operatorUsers, 'IAM users that get the operator policy; they must exist in every account (--operator-users)'),
    [PARAM.operatorGroups]: list(s.operatorGroups, 'IAM groups that get the operator policy; they must exist in every account (--operator-groups)'),
    [PARAM.idleTimeout]: number(s.idleTimeout, 'idle session timeout in minutes (--idle-timeout)', { MinValue: 1, MaxValue: 60 }),
    [PARAM.maxSessionDuration]: text(s.maxSessionDuration === undefined ? '' : String(s.maxSessionDuration), 'maximum session duration in minutes, 1 to 1440; empty: none (--max-session-duration)', {
      AllowedPattern: '^$|^([1-9][0-9]{0,2}|1[0-3][0-9]{2}|14[0-3][0-9]|1440)$',
      ConstraintDescription: 'empty, or 1 to 1440',
    }),
    [PARAM.runAsUser]: text(s.runAs ?? '', 'OS user of sessions instead of ssm-user; empty: Run As off (--run-as; root is refused)', {
      AllowedPattern: '^(?!root$)([a-z_][a-z0-9_-]{0,31})?$',
      ConstraintDescription: 'empty, or a Linux user name other than root',
    }),
    [PARAM.shellProfileLinux]: text(s.shellProfileLinux, 'commands run at the start of Linux sessions (--shell-profile-linux)', { MaxLength: MAX_PARAMETER_BYTES }),
    [PARAM.shellProfileWindows]: text(s.shellProfileWindows, 'commands run at the start of Windows sessions (--shell-profile-windows)', { MaxLength: MAX_PARAMETER_BYTES }),
  };
}

const equals = (a: unknown, b: unknown) => ({ 'Fn::Equals': [a, b] });
const not = (c: unknown) => ({ 'Fn::Not': [c] });
const CONDITIONS = {
  [COND.cloudWatchLogs]: equals(ref(PARAM.enableCloudWatchLogs), 'true'),
  [COND.hasBucketName]: not(equals(ref(PARAM.bucketName), '')),
  [COND.hasTransition]: not(equals(ref(PARAM.logTransitionDays), '0')),
  [COND.hasExpiration]: not(equals(ref(PARAM.logExpirationDays), '0')),
  [COND.createIam]: equals(ref(PARAM.createIamResources), 'true'),
  [COND.regionalIamNames]: equals(ref(PARAM.regionalIamNames), 'true'),
  [COND.cloudWatchAgent]: equals(ref(PARAM.attachCloudWatchAgentPolicy), 'true'),
  [COND.fullOperatorAccess]: equals(ref(PARAM.operatorAccess), 'full'),
  [COND.hasOperatorUsers]: not(equals({ 'Fn::Join': ['', ref(PARAM.operatorUsers)] }, '')),
  [COND.hasOperatorGroups]: not(equals({ 'Fn::Join': ['', ref(PARAM.operatorGroups)] }, '')),
  [COND.hasRunAs]: not(equals(ref(PARAM.runAsUser), '')),
  // The builders name a few service principals differently in China (amazonaws.com.cn).
  [COND.china]: equals(ref('AWS::Partition'), 'aws-cn'),
};

const PARAMETER_GROUPS = [
  { Label: { default: 'Key and log storage' }, Parameters: [PARAM.keyAlias, PARAM.bucketName, PARAM.s3Prefix, PARAM.logTransitionDays, PARAM.logExpirationDays, PARAM.enableCloudWatchLogs, PARAM.logGroupName, PARAM.logRetentionDays] },
  { Label: { default: 'IAM (global: see CreateIamResources)' }, Parameters: [PARAM.createIamResources, PARAM.regionalIamNames, PARAM.instanceRoleName, PARAM.instancePolicyName, PARAM.attachCloudWatchAgentPolicy, PARAM.operatorPolicyName, PARAM.operatorAccess, PARAM.operatorUsers, PARAM.operatorGroups] },
  { Label: { default: `Session preferences (${PREFERENCES_DOCUMENT})` }, Parameters: [PARAM.idleTimeout, PARAM.maxSessionDuration, PARAM.runAsUser, PARAM.shellProfileLinux, PARAM.shellProfileWindows] },
];

export const DESCRIPTION = [
  'ssm-setup: Session Manager for this account and region: a KMS key, an S3 bucket for session logs (encrypted, TLS only, lifecycle),',
  'an optional CloudWatch Logs group, the instance policy, role and instance profile, and the operator policy.',
  'The key, bucket and log group are kept when the stack is deleted (audit logs).',
  `${PREFERENCES_DOCUMENT}, the regional preferences document, exists in many accounts already and AWS::SSM::Document cannot adopt it,`,
  'so a Lambda-backed custom resource creates it, or updates it in place (a new version, made the default version) after recording',
  `the previous default version in the tag ${ORIGINAL_DEFAULT_VERSION_TAG}; deleting the stack leaves the document as it is.`,
  'IAM names are global: in several regions of one account use RegionalIamNames, or CreateIamResources=false in all regions but one.',
].join(' ');

/**
 * The custom resource's function (Python, inline). It receives the document as built above;
 * CloudFormation hands custom resources every scalar as a string, so the fields the builder
 * makes booleans are named in BooleanFields and turned back into JSON booleans.
 * Create or Update: create the document, or record the previous default version (once, on a
 * document ssm-setup did not create), write a new version unless the default already holds
 * this content, wait until it is Active and make it the default. Delete: nothing.
 */
export const PREFERENCES_FUNCTION_CODE = `import json, time, urllib.request
import boto3
from botocore.exceptions import ClientError

NAME = '${PREFERENCES_DOCUMENT}'
ORIGINAL = '${ORIGINAL_DEFAULT_VERSION_TAG}'
ssm = boto3.client('ssm')


def send(event, context, ok, reason, data=None):
    body = json.dumps({
        'Status': 'SUCCESS' if ok else 'FAILED',
        'Reason': (reason or 'see ' + context.log_stream_name)[:1000],
        'PhysicalResourceId': NAME,
        'StackId': event['StackId'],
        'RequestId': event['RequestId'],
        'LogicalResourceId': event['LogicalResourceId'],
        'Data': data or {},
    }).encode()
    request = urllib.request.Request(event['ResponseURL'], data=body, method='PUT', headers={'Content-Type': ''})
    urllib.request.urlopen(request, timeout=30)


def content(version=None):
    args = {'Name': NAME, 'DocumentVersion': version} if version else {'Name': NAME}
    return json.loads(ssm.get_document(**args)['Content'])


def apply(props):
    doc = props['Document']
    for field in props['BooleanFields']:
        doc['inputs'][field] = str(doc['inputs'][field]).lower() == 'true'
    text = json.dumps(doc, indent=2)
    try:
        current = ssm.describe_document(Name=NAME)['Document']
    except ClientError as e:
        if e.response['Error']['Code'] != 'InvalidDocument':
            raise
        tags = [{'Key': k, 'Value': v} for k, v in props.get('DocumentTags', {}).items()]
        out = ssm.create_document(Name=NAME, Content=text, DocumentType='Session', DocumentFormat='JSON', Tags=tags)
        return out['DocumentDescription']['DocumentVersion']
    tags = {t['Key']: t['Value'] for t in current.get('Tags', [])}
    if tags.get('${MANAGED_BY_TAG.key}') != '${MANAGED_BY_TAG.value}' and ORIGINAL not in tags:
        ssm.add_tags_to_resource(ResourceType='Document', ResourceId=NAME, Tags=[{'Key': ORIGINAL, 'Value': current['DefaultVersion']}])
    if content() == doc:
        return current['DefaultVersion']
    try:
        out = ssm.update_document(Name=NAME, Content=text, DocumentVersion='$LATEST', DocumentFormat='JSON')
        version = out['DocumentDescription']['DocumentVersion']
    except ClientError as e:
        if e.response['Error']['Code'] != 'DuplicateDocumentContent':
            raise
        latest = int(current['LatestVersion'])
        same = [str(v) for v in range(latest, max(0, latest - 25), -1) if content(str(v)) == doc]
        if not same:
            raise
        version = same[0]
    for _ in range(30):
        if ssm.describe_document(Name=NAME)['Document']['Status'] == 'Active':
            break
        time.sleep(2)
    ssm.update_document_default_version(Name=NAME, DocumentVersion=version)
    return version


def handler(event, context):
    try:
        if event['RequestType'] == 'Delete':
            return send(event, context, True, NAME + ' is left as it is')
        send(event, context, True, '', {'DocumentVersion': apply(event['ResourceProperties'])})
    except Exception as e:
        print(repr(e))
        send(event, context, False, '%s: %s' % (type(e).__name__, e))
`;
import { tagList } from './tags.js';

/** The function, its role (this one document only) and log group, and the custom resource. */
function preferencesResources(document: unknown, tags: Record<string, string>): Record<string, unknown> {
  const P = PLACEHOLDERS;
  const inputs: Record<string, unknown> = { ...preferencesDocument({ bucketName: '', s3Prefix: '', keyArn: '', idleTimeout: 1, shellProfileLinux: '', shellProfileWindows: '' }).inputs };
  const booleanFields = Object.keys(inputs).filter((k) => typeof inputs[k] === 'boolean');
  return {
    [RES.functionRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Writes the Session Manager preferences document ${PREFERENCES_DOCUMENT} (ssm-setup)`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: 'preferences-document',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'PreferencesDocument',
                  Effect: 'Allow',
                  Action: ['ssm:CreateDocument', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion', 'ssm:DescribeDocument', 'ssm:GetDocument', 'ssm:AddTagsToResource'],
                  Resource: sub(`arn:${P.partition}:ssm:${P.region}:${P.account}:document/${PREFERENCES_DOCUMENT}`),
                },
                { Sid: 'FunctionLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(RES.functionLogGroup, 'Arn') },
              ],
            },
          },
        ],
        Tags: tagList(tags),
      },
    },
    [RES.functionLogGroup]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30, Tags: tagList(tags) },
    },
    [RES.function]: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Description: `Creates or updates ${PREFERENCES_DOCUMENT} and sets its default version (ssm-setup)`,
        Runtime: 'python3.12',
        Handler: 'index.handler',
        Timeout: 120,
        MemorySize: 128,
        Role: getAtt(RES.functionRole, 'Arn'),
        LoggingConfig: { LogGroup: ref(RES.functionLogGroup) },
        Code: { ZipFile: PREFERENCES_FUNCTION_CODE },
        Tags: tagList(tags),
      },
    },
    [RES.preferences]: {
      Type: 'Custom::SessionManagerPreferences',
      Properties: {
        ServiceToken: getAtt(RES.function, 'Arn'),
        ServiceTimeout: 300,
        Document: document,
        BooleanFields: booleanFields,
        DocumentTags: tags,
      },
    },
  };
}
