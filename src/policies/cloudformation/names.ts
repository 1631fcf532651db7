import { cfn } from './intrinsics.js';

/**
 * The names the template is built from: its parameters, resources and conditions, the
 * placeholders handed to the policy builders, and the few helpers every resource group uses.
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

/** Conditions, as the template names them (defined in parameters.ts). */
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
 * this module stays free of the SDK; test/policies/cloudformation/template.test.ts checks they agree.
 */
export const KEY_ALIAS_TAG = 'ssm-setup:alias';
export const ORIGINAL_DEFAULT_VERSION_TAG = 'ssm-setup:original-default-version';
export const CLOUDWATCH_AGENT_POLICY_NAME = 'CloudWatchAgentServerPolicy';

/** CloudFormation takes parameter values of at most 4,096 bytes. */
export const MAX_PARAMETER_BYTES = 4096;

const PARAM_NAMES = new Set<string>(Object.values(PARAM));
const RES_NAMES = new Set<string>(Object.values(RES));

/** True for the names a `${…}` of this template may reference: pseudo parameters, parameters, resources (`.Attr`). */
export const isTemplateReference = (name: string): boolean => name.startsWith('AWS::') || PARAM_NAMES.has(name) || RES_NAMES.has(name.split('.')[0]!);

/** A builder's output with this template's placeholders turned into references. */
export const sub = (value: unknown) => cfn(value, isTemplateReference);
/** `{ Ref: name }`. */
export const ref = (name: string) => ({ Ref: name });
/** `{ Fn::GetAtt: [resource, attribute] }`. */
export const getAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });
/** Kept when the stack is deleted or the resource replaced. */
export const retained = { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } as const;
