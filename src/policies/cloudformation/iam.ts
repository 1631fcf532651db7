import { ec2TrustPolicy, instancePolicy } from '../instance-policy.js';
import { operatorPolicy } from '../operator-policy.js';
import { tagList } from '../tags.js';
import { branch, byConditions, NO_VALUE } from './intrinsics.js';
import { CLOUDWATCH_AGENT_POLICY_NAME, COND, PARAM, PLACEHOLDERS, RES, ref, sub } from './names.js';
import { DENY_UNLOGGED } from './parameters.js';

/** A named IAM resource: `<name>` or, with RegionalIamNames, `<name>-<region>`. */
const iamName = (param: string) => branch(COND.regionalIamNames, { 'Fn::Sub': `\${${param}}-\${AWS::Region}` }, ref(param));

/**
 * The instance policy, role and instance profile, and the operator policy; all on
 * CreateIamResources, since IAM is global and one account may run the stack in many regions.
 */
export function iamResources(tags: Record<string, string>): Record<string, unknown> {
  const P = PLACEHOLDERS;
  const roleName = iamName(PARAM.instanceRoleName);
  return {
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
        PolicyDocument: byConditions([COND.fullOperatorAccess, DENY_UNLOGGED.cond], (on) =>
          sub(
            operatorPolicy({
              partition: P.partition,
              account: P.account,
              region: P.region,
              keyArn: P.keyArn,
              access: on[COND.fullOperatorAccess] ? 'full' : 'restricted',
              denyUnlogged: on[DENY_UNLOGGED.cond],
            }),
          ),
        ),
        Users: { 'Fn::If': [COND.hasOperatorUsers, ref(PARAM.operatorUsers), NO_VALUE] },
        Groups: { 'Fn::If': [COND.hasOperatorGroups, ref(PARAM.operatorGroups), NO_VALUE] },
      },
    },
  };
}
