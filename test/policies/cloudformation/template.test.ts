import { describe, expect, it } from 'vitest';
import { MANAGED_BY_TAG, type Settings } from '../../../src/config/schema.js';
import {
  CLOUDWATCH_AGENT_POLICY_NAME,
  DESCRIPTION,
  exportProblems,
  KEY_ALIAS_TAG,
  ORIGINAL_DEFAULT_VERSION_TAG,
  PREFERENCES_FUNCTION_CODE,
} from '../../../src/policies/cloudformation/index.js';
import { PREFERENCES_DOCUMENT } from '../../../src/policies/preferences-document.js';
import { CLOUDWATCH_AGENT_POLICY } from '../../../src/steps/instance-role/read.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { ORIGINAL_DEFAULT_TAG } from '../../../src/steps/preferences/read.js';
import { defaults, type Obj, referencesOf, resolved, templateOf, walk } from './helpers.js';

describe('cloudFormationTemplate: structure', () => {
  it('has the key, alias, bucket and policy, log group, IAM resources and the preferences custom resource', async () => {
    const t = await templateOf();
    expect(t.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(Object.fromEntries(Object.entries(t.Resources).map(([id, r]) => [id, (r as Obj).Type]))).toEqual({
      SessionKey: 'AWS::KMS::Key',
      SessionKeyAlias: 'AWS::KMS::Alias',
      LogBucket: 'AWS::S3::Bucket',
      LogBucketPolicy: 'AWS::S3::BucketPolicy',
      SessionLogGroup: 'AWS::Logs::LogGroup',
      InstancePolicy: 'AWS::IAM::ManagedPolicy',
      InstanceRole: 'AWS::IAM::Role',
      InstanceProfile: 'AWS::IAM::InstanceProfile',
      OperatorPolicy: 'AWS::IAM::ManagedPolicy',
      PreferencesFunctionRole: 'AWS::IAM::Role',
      PreferencesFunctionLogGroup: 'AWS::Logs::LogGroup',
      PreferencesFunction: 'AWS::Lambda::Function',
      SessionPreferences: 'Custom::SessionManagerPreferences',
      EndpointSecurityGroup: 'AWS::EC2::SecurityGroup',
      SsmEndpoint: 'AWS::EC2::VPCEndpoint',
      SsmmessagesEndpoint: 'AWS::EC2::VPCEndpoint',
      Ec2messagesEndpoint: 'AWS::EC2::VPCEndpoint',
      KmsEndpoint: 'AWS::EC2::VPCEndpoint',
      LogsEndpoint: 'AWS::EC2::VPCEndpoint',
      S3GatewayEndpoint: 'AWS::EC2::VPCEndpoint',
    });
    expect(Object.values(t.Resources).some((r) => (r as Obj).Type === 'AWS::SSM::Document')).toBe(false);
  });

  it('takes every parameter default from the settings', async () => {
    const d = (await templateOf()).Parameters;
    expect(Object.fromEntries(Object.entries(d).map(([k, p]) => [k, (p as Obj).Default]))).toEqual({
      KeyAlias: 'alias/ssm-session-manager',
      BucketName: '',
      S3Prefix: 'session-logs/',
      LogTransitionDays: 90,
      LogExpirationDays: 365,
      EnableCloudWatchLogs: 'false',
      LogGroupName: '/aws/ssm/session-logs',
      LogRetentionDays: 365,
      CreateIamResources: 'true',
      RegionalIamNames: 'false',
      InstanceRoleName: 'SSMSessionManagerInstanceRole',
      InstancePolicyName: 'SSMSessionManagerInstancePolicy',
      AttachCloudWatchAgentPolicy: 'true',
      OperatorPolicyName: 'SSMSessionManagerOperatorPolicy',
      OperatorAccess: 'restricted',
      DenyUnloggedSessions: 'false',
      OperatorUsers: '',
      OperatorGroups: '',
      IdleTimeout: 20,
      MaxSessionDuration: '',
      RunAsUser: '',
      ShellProfileLinux: '',
      ShellProfileWindows: '',
      EndpointVpcId: '',
      EndpointVpcCidr: '10.0.0.0/8',
      EndpointSubnetIds: '',
      EndpointRouteTableIds: '',
      EndpointEc2Messages: 'true',
    });

    const p = (
      await templateOf({
        keyAlias: 'alias/sessions',
        bucket: 'my-logs',
        s3Prefix: 'logs/',
        logTransitionDays: '0',
        logExpirationDays: '30',
        logGroup: '/sessions',
        logRetentionDays: '30',
        instanceRole: 'R',
        instancePolicy: 'IP',
        operatorPolicy: 'OP',
        operatorAccess: 'full',
        operatorUsers: 'alice,bob',
        operatorGroups: 'ops',
        idleTimeout: '45',
        maxSessionDuration: '120',
        runAs: 'ec2-user',
        shellProfileLinux: 'exec bash',
        shellProfileWindows: 'cmd',
        cloudwatchAgent: false,
      })
    ).Parameters;
    expect(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (v as Obj).Default]))).toMatchObject({
      KeyAlias: 'alias/sessions',
      BucketName: 'my-logs',
      S3Prefix: 'logs/',
      LogTransitionDays: 0,
      LogExpirationDays: 30,
      EnableCloudWatchLogs: 'true', // --log-group implies it
      LogGroupName: '/sessions',
      LogRetentionDays: 30,
      InstanceRoleName: 'R',
      InstancePolicyName: 'IP',
      OperatorPolicyName: 'OP',
      AttachCloudWatchAgentPolicy: 'false',
      OperatorAccess: 'full',
      OperatorUsers: 'alice,bob',
      OperatorGroups: 'ops',
      IdleTimeout: 45,
      MaxSessionDuration: '120',
      RunAsUser: 'ec2-user',
      ShellProfileLinux: 'exec bash',
      ShellProfileWindows: 'cmd',
    });
  });

  it('constrains parameters as the settings schema does', async () => {
    const p = (await templateOf()).Parameters;
    const matches = (name: string, value: string) => new RegExp(p[name].AllowedPattern).test(value);
    expect(matches('KeyAlias', 'alias/ssm-session-manager')).toBe(true);
    expect(matches('KeyAlias', 'alias/aws/ssm')).toBe(false);
    expect(matches('BucketName', '')).toBe(true);
    expect(matches('BucketName', 'Bad_Name')).toBe(false);
    expect(matches('RunAsUser', '')).toBe(true);
    expect(matches('RunAsUser', 'ec2-user')).toBe(true);
    expect(matches('RunAsUser', 'root')).toBe(false);
    expect(matches('RunAsUser', 'rooter')).toBe(true);
    for (const ok of ['', '1', '60', '999', '1399', '1440']) expect(matches('MaxSessionDuration', ok), ok).toBe(true);
    for (const bad of ['0', '1441', '2000', '01', 'x']) expect(matches('MaxSessionDuration', bad), bad).toBe(false);
    expect(p.OperatorAccess.AllowedValues).toEqual(['restricted', 'full']);
    expect(p.LogRetentionDays.AllowedValues).toContain(365);
    expect(p.IdleTimeout).toMatchObject({ Type: 'Number', MinValue: 1, MaxValue: 60 });
  });

  it('references only what it defines: every Ref, GetAtt, ${…} of Fn::Sub and condition', async () => {
    for (const t of [await templateOf(), await templateOf({ cloudwatchLogs: true, runAs: 'ec2-user', operatorAccess: 'full' })]) {
      const isRef = referencesOf(t);
      const seen = { refs: 0, subs: 0, ifs: 0 };
      walk(t.Resources, (o) => {
        if (typeof o.Ref === 'string') {
          seen.refs++;
          expect(isRef(o.Ref), o.Ref).toBe(true);
        }
        if (o['Fn::GetAtt']) expect(o['Fn::GetAtt'][0] in t.Resources, String(o['Fn::GetAtt'])).toBe(true);
        if (typeof o['Fn::Sub'] === 'string') {
          seen.subs++;
          for (const [, name] of (o['Fn::Sub'] as string).matchAll(/\$\{([^!}][^}]*)\}/g)) expect(isRef(name!), name).toBe(true);
        }
        if (o['Fn::If']) {
          seen.ifs++;
          expect(o['Fn::If'][0] in t.Conditions, o['Fn::If'][0]).toBe(true);
        }
      });
      for (const r of Object.values(t.Resources) as Obj[]) if (r.Condition) expect(r.Condition in t.Conditions).toBe(true);
      for (const o of Object.values(t.Outputs) as Obj[]) if (o.Condition) expect(o.Condition in t.Conditions).toBe(true);
      expect(seen.refs && seen.subs && seen.ifs).toBeGreaterThan(0);
    }
  });

  it('explains in its description how the existing preferences document is handled, within 1024 characters', async () => {
    const t = await templateOf();
    expect(t.Description).toBe(DESCRIPTION);
    expect(DESCRIPTION.length).toBeLessThanOrEqual(1024);
    expect(DESCRIPTION).toMatch(/SSM-SessionManagerRunShell.*exists.*custom resource.*updates it in place.*default version.*leaves the document/);
  });
});

describe('cloudFormationTemplate: retention, conditions, names and tags', () => {
  it('keeps the key, its alias, the bucket, its policy and the log group when the stack goes (audit logs)', async () => {
    const t = await templateOf();
    const retained = Object.entries(t.Resources)
      .filter(([, r]) => (r as Obj).DeletionPolicy === 'Retain' && (r as Obj).UpdateReplacePolicy === 'Retain')
      .map(([id]) => id);
    expect(retained).toEqual(['SessionKey', 'SessionKeyAlias', 'LogBucket', 'LogBucketPolicy', 'SessionLogGroup']);
    for (const r of Object.values(t.Resources) as Obj[]) if (r.DeletionPolicy) expect(r.UpdateReplacePolicy).toBe(r.DeletionPolicy);
  });

  it('conditions: the log group on EnableCloudWatchLogs, IAM on CreateIamResources, and the rest on their parameters', async () => {
    const t = await templateOf();
    expect(t.Resources.SessionLogGroup.Condition).toBe('UseCloudWatchLogs');
    expect(t.Resources.SessionLogGroup.Properties).toMatchObject({
      LogGroupName: { Ref: 'LogGroupName' },
      KmsKeyId: { 'Fn::GetAtt': ['SessionKey', 'Arn'] },
      RetentionInDays: { Ref: 'LogRetentionDays' },
    });
    for (const id of ['InstancePolicy', 'InstanceRole', 'InstanceProfile', 'OperatorPolicy']) expect(t.Resources[id].Condition, id).toBe('CreateIam');
    for (const id of ['SessionKey', 'LogBucket', 'PreferencesFunction', 'PreferencesFunctionRole', 'SessionPreferences'])
      expect(t.Resources[id].Condition, id).toBeUndefined();
    expect(t.Conditions).toMatchObject({
      UseCloudWatchLogs: { 'Fn::Equals': [{ Ref: 'EnableCloudWatchLogs' }, 'true'] },
      CreateIam: { 'Fn::Equals': [{ Ref: 'CreateIamResources' }, 'true'] },
      HasBucketName: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'BucketName' }, ''] }] },
      HasLogTransition: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'LogTransitionDays' }, '0'] }] },
      FullOperatorAccess: { 'Fn::Equals': [{ Ref: 'OperatorAccess' }, 'full'] },
      IsChinaPartition: { 'Fn::Equals': [{ Ref: 'AWS::Partition' }, 'aws-cn'] },
    });
    expect(t.Outputs.LogGroupName.Condition).toBe('UseCloudWatchLogs');
    expect(t.Outputs.InstanceProfileName.Condition).toBe('CreateIam');
    // Every condition is used somewhere (cfn-lint warns about unused ones).
    const text = JSON.stringify({ Resources: t.Resources, Outputs: t.Outputs });
    for (const c of Object.keys(t.Conditions)) expect(text, c).toMatch(new RegExp(`"${c}"`));
  });

  it('the optional VPC endpoints: only with EndpointVpcId, private DNS, 443 from the VPC CIDR, the S3 gateway on the route tables', async () => {
    const t = await templateOf();
    expect(t.Conditions.CreateVpcEndpoints).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'EndpointVpcId' }, ''] }] });
    expect(t.Resources.SsmEndpoint).toMatchObject({
      Condition: 'CreateVpcEndpoints',
      Properties: {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: { Ref: 'EndpointSubnetIds' },
        SecurityGroupIds: [{ Ref: 'EndpointSecurityGroup' }],
      },
    });
    expect(t.Resources.LogsEndpoint.Condition).toBe('CreateLogsEndpoint');
    expect(t.Resources.EndpointSecurityGroup.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: { Ref: 'EndpointVpcCidr' } }),
    ]);
    expect(t.Resources.S3GatewayEndpoint).toMatchObject({
      Condition: 'CreateS3GatewayEndpoint',
      Properties: { VpcEndpointType: 'Gateway', RouteTableIds: { Ref: 'EndpointRouteTableIds' } },
    });
  });

  it('IAM names: the parameter, or with RegionalIamNames the parameter and the region', async () => {
    const t = await templateOf();
    const role = t.Resources.InstanceRole.Properties.RoleName;
    expect(resolved(t, role, { UseRegionalIamNames: false })).toEqual({ Ref: 'InstanceRoleName' });
    expect(resolved(t, role, { UseRegionalIamNames: true })).toEqual({ 'Fn::Sub': '${InstanceRoleName}-${AWS::Region}' });
    expect(t.Resources.InstanceProfile.Properties.InstanceProfileName).toEqual(role);
    expect(resolved(t, t.Resources.OperatorPolicy.Properties.ManagedPolicyName, { UseRegionalIamNames: true })).toEqual({
      'Fn::Sub': '${OperatorPolicyName}-${AWS::Region}',
    });
    expect(resolved(t, t.Resources.OperatorPolicy.Properties.Users, { HasOperatorUsers: true })).toEqual({ Ref: 'OperatorUsers' });
    expect(resolved(t, t.Resources.OperatorPolicy.Properties, { HasOperatorUsers: false })).not.toHaveProperty('Users');
  });

  it("tags what supports tags with ManagedBy=ssm-setup and the settings' tags; the key also with its alias", async () => {
    const t = await templateOf({ tags: ['Team=ops', 'Env=prod'] });
    const expected = [
      { Key: 'Team', Value: 'ops' },
      { Key: 'Env', Value: 'prod' },
      { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
    ];
    for (const id of ['LogBucket', 'SessionLogGroup', 'InstanceRole', 'PreferencesFunctionRole', 'PreferencesFunctionLogGroup', 'PreferencesFunction']) {
      expect(t.Resources[id].Properties.Tags, id).toEqual(expected);
    }
    expect(t.Resources.SessionKey.Properties.Tags).toEqual([...expected, { Key: 'ssm-setup:alias', Value: { Ref: 'KeyAlias' } }]);
    expect(t.Resources.SessionPreferences.Properties.DocumentTags).toEqual({ Team: 'ops', Env: 'prod', ManagedBy: 'ssm-setup' });
  });

  it("repeats the steps' names without importing them, and they agree", () => {
    expect(KEY_ALIAS_TAG).toBe(ALIAS_TAG);
    expect(ORIGINAL_DEFAULT_VERSION_TAG).toBe(ORIGINAL_DEFAULT_TAG);
    expect(CLOUDWATCH_AGENT_POLICY_NAME).toBe(CLOUDWATCH_AGENT_POLICY);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`'${ORIGINAL_DEFAULT_TAG}'`);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`tags.get('${MANAGED_BY_TAG.key}') != '${MANAGED_BY_TAG.value}'`);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`NAME = '${PREFERENCES_DOCUMENT}'`);
  });
});

describe('exportProblems', () => {
  it('accepts the defaults', async () => {
    expect(exportProblems(await defaults())).toEqual([]);
  });
  it('names shell profiles longer than a CloudFormation parameter takes, and tags AWS refuses', async () => {
    const s: Settings = {
      ...(await defaults()),
      shellProfileLinux: 'x'.repeat(4097),
      shellProfileWindows: 'é'.repeat(2048),
      resourceTags: { ok: 'a b', 'Cost Center': 'a#b' },
    };
    expect(exportProblems(s)).toEqual([
      { key: 'shellProfileLinux', message: 'must be at most 4096 bytes in a CloudFormation parameter (got 4097)' },
      { key: 'resourceTags', message: '"Cost Center=a#b": tags may hold only letters, digits, spaces and _ . : / = + - @' },
    ]);
  });
});
