import { resourceTagsFor, type Settings } from '../../config/schema.js';
import { PREFERENCES_DOCUMENT } from '../preferences-document.js';
import { ENDPOINT_CONDITIONS, ENDPOINT_PARAMETER_GROUP, ENDPOINT_PARAMETERS, endpointResources } from './endpoints.js';
import { iamResources } from './iam.js';
import { COND, getAtt, MAX_PARAMETER_BYTES, ORIGINAL_DEFAULT_VERSION_TAG, RES, ref } from './names.js';
import { CONDITIONS, PARAMETER_GROUPS, parameters } from './parameters.js';
import { preferencesResources } from './preferences.js';
import { storageResources } from './storage.js';

/**
 * `ssm-setup export cloudformation`: the same setup as a CloudFormation template, for
 * StackSets and many accounts. Pure. Every policy and the preferences document come from the
 * builders the steps use, given the placeholders of names.ts, so the template grants exactly
 * what the tool would create; where a setting decides the shape (CloudWatch Logs on or off, the
 * operator variant) each outcome is built and the two are joined with `Fn::If`.
 */

export {
  CLOUDWATCH_AGENT_POLICY_NAME,
  COND,
  isTemplateReference,
  KEY_ALIAS_TAG,
  MAX_PARAMETER_BYTES,
  ORIGINAL_DEFAULT_VERSION_TAG,
  PARAM,
  PLACEHOLDERS,
  RES,
} from './names.js';
export { PREFERENCES_FUNCTION_CODE } from './preferences-lambda.js';
export { cfnLifecycleRule } from './storage.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** The characters AWS allows in tag keys and values (IAM, KMS, S3, Logs, Lambda alike). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Settings the template cannot carry as they are; each names its setting key. */
export function exportProblems(settings: Settings): { key: keyof Settings; message: string }[] {
  const problems: { key: keyof Settings; message: string }[] = (['shellProfileLinux', 'shellProfileWindows'] as const)
    .filter((key) => bytes(settings[key]) > MAX_PARAMETER_BYTES)
    .map((key) => ({ key, message: `must be at most ${MAX_PARAMETER_BYTES} bytes in a CloudFormation parameter (got ${bytes(settings[key])})` }));
  for (const [k, v] of Object.entries(settings.resourceTags)) {
    if (!TAG_TEXT.test(k) || !TAG_TEXT.test(v)) {
      problems.push({ key: 'resourceTags', message: `${JSON.stringify(`${k}=${v}`)}: tags may hold only letters, digits, spaces and _ . : / = + - @` });
    }
  }
  return problems;
}

/** The template: parameters whose defaults are the given settings, the resources, the outputs. */
export function cloudFormationTemplate(settings: Settings): Record<string, unknown> {
  const tags = resourceTagsFor(settings);
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: DESCRIPTION,
    Metadata: { 'AWS::CloudFormation::Interface': { ParameterGroups: [...PARAMETER_GROUPS, ENDPOINT_PARAMETER_GROUP] } },
    Parameters: { ...parameters(settings), ...ENDPOINT_PARAMETERS },
    Conditions: { ...CONDITIONS, ...ENDPOINT_CONDITIONS },
    // The VPC endpoints only when EndpointVpcId is given (private subnets).
    Resources: { ...storageResources(tags), ...iamResources(tags), ...preferencesResources(tags), ...endpointResources(tags) },
    Outputs: outputs(),
  };
}

/** What the stack hands back: the names and ARNs to attach or associate by hand. */
function outputs(): Record<string, unknown> {
  return {
    SessionKeyArn: { Description: 'the KMS key of session data and logs', Value: getAtt(RES.key, 'Arn') },
    SessionKeyAlias: { Description: 'its alias', Value: ref(RES.alias) },
    LogBucketName: { Description: 'the S3 bucket of session logs', Value: ref(RES.bucket) },
    LogGroupName: { Condition: COND.cloudWatchLogs, Description: 'the CloudWatch Logs group of session logs', Value: ref(RES.logGroup) },
    InstancePolicyArn: { Condition: COND.createIam, Description: 'attach it to the roles of instances that already have one', Value: ref(RES.instancePolicy) },
    InstanceRoleName: { Condition: COND.createIam, Description: 'the role for instances that have none', Value: ref(RES.instanceRole) },
    InstanceProfileName: {
      Condition: COND.createIam,
      Description: 'associate it with instances that have no instance profile',
      Value: ref(RES.instanceProfile),
    },
    OperatorPolicyArn: { Condition: COND.createIam, Description: 'attach it to the users, groups or roles of operators', Value: ref(RES.operatorPolicy) },
    PreferencesDocumentVersion: {
      Description: `the default version of ${PREFERENCES_DOCUMENT} set by this stack`,
      Value: getAtt(RES.preferences, 'DocumentVersion'),
    },
  };
}

/** The stack's description: what it creates, what it keeps, and how it treats the existing preferences document. */
export const DESCRIPTION = [
  'ssm-setup: Session Manager for this account and region: a KMS key, an S3 bucket for session logs (encrypted, TLS only, lifecycle),',
  'an optional CloudWatch Logs group, the instance policy, role and instance profile, and the operator policy.',
  'The key, bucket and log group are kept when the stack is deleted (audit logs).',
  `${PREFERENCES_DOCUMENT}, the regional preferences document, exists in many accounts already and AWS::SSM::Document cannot adopt it,`,
  'so a Lambda-backed custom resource creates it, or updates it in place (a new version, made the default version) after recording',
  `the previous default version in the tag ${ORIGINAL_DEFAULT_VERSION_TAG}; deleting the stack leaves the document as it is.`,
  'IAM names are global: in several regions of one account use RegionalIamNames, or CreateIamResources=false in all regions but one.',
].join(' ');
