import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_TAG, type Settings } from '../../src/config/schema.js';
import { branch, byConditions, cfn, NO_VALUE, resolveConditions } from '../../src/policies/cfn-intrinsics.js';
import {
  CLOUDWATCH_AGENT_POLICY_NAME,
  cloudFormationTemplate,
  DESCRIPTION,
  exportProblems,
  KEY_ALIAS_TAG,
  ORIGINAL_DEFAULT_VERSION_TAG,
  PREFERENCES_FUNCTION_CODE,
} from '../../src/policies/cloudformation.js';
import { ec2TrustPolicy, instancePolicy } from '../../src/policies/instance-policy.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock, sessionLogsRule, sseKmsRule, tlsOnlyStatement } from '../../src/policies/log-bucket.js';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import { PREFERENCES_DOCUMENT, preferencesDocument } from '../../src/policies/preferences-document.js';
import { CLOUDWATCH_AGENT_POLICY } from '../../src/steps/instance-role/read.js';
import { ALIAS_TAG } from '../../src/steps/kms-key/read.js';
import { ORIGINAL_DEFAULT_TAG } from '../../src/steps/preferences/read.js';
import { toYaml } from '../../src/ui/yaml.js';
import { settingsFrom } from '../helpers/fixtures.js';

type Obj = Record<string, any>;

const defaults = async () => (await settingsFrom()).settings;
const templateOf = async (flags: Record<string, unknown> = {}) => cloudFormationTemplate((await settingsFrom(flags)).settings) as Obj;

/** The placeholders, spelled out here rather than taken from the module under test. */
const PARTITION = '${AWS::Partition}';
const ACCOUNT = '${AWS::AccountId}';
const REGION = '${AWS::Region}';
const KEY_ARN = '${SessionKey.Arn}';
const BUCKET = '${LogBucket}';
const PREFIX = '${S3Prefix}';

/** Every condition of the template, set one way. */
const conditionsOf = (t: Obj, holds: Record<string, boolean>) => Object.fromEntries(Object.keys(t.Conditions).map((c) => [c, holds[c] ?? false]));

/** A reference is what the template itself defines: pseudo parameters, parameters, resources. */
const referencesOf = (t: Obj) => (name: string) => name.startsWith('AWS::') || name in t.Parameters || name.split('.')[0]! in t.Resources;

/** What a value of the template is once CloudFormation knows the conditions. */
const resolved = (t: Obj, value: unknown, holds: Record<string, boolean>) => resolveConditions(value, conditionsOf(t, holds));

/** Every combination of true/false for these names. */
function combinations(names: readonly string[]): Record<string, boolean>[] {
  return names.reduce<Record<string, boolean>[]>((all, n) => all.flatMap((c) => [{ ...c, [n]: true }, { ...c, [n]: false }]), [{}]);
}

function walk(value: unknown, visit: (v: Obj) => void): void {
  if (Array.isArray(value)) value.forEach((v) => walk(v, visit));
  else if (value && typeof value === 'object') {
    visit(value as Obj);
    Object.values(value).forEach((v) => walk(v, visit));
  }
}

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
      OperatorUsers: '',
      OperatorGroups: '',
      IdleTimeout: 20,
      MaxSessionDuration: '',
      RunAsUser: '',
      ShellProfileLinux: '',
      ShellProfileWindows: '',
    });

    const p = (
      await templateOf({
        keyAlias: 'alias/sessions', bucket: 'my-logs', s3Prefix: 'logs/', logTransitionDays: '0', logExpirationDays: '30', logGroup: '/sessions',
        logRetentionDays: '30', instanceRole: 'R', instancePolicy: 'IP', operatorPolicy: 'OP', operatorAccess: 'full', operatorUsers: 'alice,bob',
        operatorGroups: 'ops', idleTimeout: '45', maxSessionDuration: '120', runAs: 'ec2-user', shellProfileLinux: 'exec bash', shellProfileWindows: 'cmd',
        cloudwatchAgent: false,
      })
    ).Parameters;
    expect(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, (v as Obj).Default]))).toMatchObject({
      KeyAlias: 'alias/sessions', BucketName: 'my-logs', S3Prefix: 'logs/', LogTransitionDays: 0, LogExpirationDays: 30,
      EnableCloudWatchLogs: 'true', // --log-group implies it
      LogGroupName: '/sessions', LogRetentionDays: 30, InstanceRoleName: 'R', InstancePolicyName: 'IP', OperatorPolicyName: 'OP',
      AttachCloudWatchAgentPolicy: 'false', OperatorAccess: 'full', OperatorUsers: 'alice,bob', OperatorGroups: 'ops', IdleTimeout: 45,
      MaxSessionDuration: '120', RunAsUser: 'ec2-user', ShellProfileLinux: 'exec bash', ShellProfileWindows: 'cmd',
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

describe('cloudFormationTemplate: every policy is the builder\'s, with references', () => {
  it('the key policy, with and without the CloudWatch Logs statement, in every partition', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const keyPolicy = t.Resources.SessionKey.Properties.KeyPolicy;
    for (const holds of combinations(['UseCloudWatchLogs', 'IsChinaPartition'])) {
      const partition = holds.IsChinaPartition ? 'aws-cn' : PARTITION;
      const expected = cfn(sessionKeyPolicy({ partition, account: ACCOUNT, region: REGION, cloudWatchLogs: holds.UseCloudWatchLogs! }), isRef);
      expect(resolved(t, keyPolicy, holds), JSON.stringify(holds)).toEqual(expected);
    }
    expect(resolved(t, keyPolicy, { UseCloudWatchLogs: true })).toMatchObject({
      Statement: [
        { Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } } },
        { Principal: { Service: { 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com' } } },
      ],
    });
    expect((resolved(t, keyPolicy, { UseCloudWatchLogs: true, IsChinaPartition: true }) as Obj).Statement[1].Principal.Service).toEqual({ 'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com.cn' });
  });

  it('the instance policy, scoped to the key, the bucket and prefix, and the log group when on', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const doc = t.Resources.InstancePolicy.Properties.PolicyDocument;
    const base = { partition: PARTITION, account: ACCOUNT, region: REGION, keyArn: KEY_ARN, bucketName: BUCKET, s3Prefix: PREFIX };
    expect(resolved(t, doc, { UseCloudWatchLogs: false })).toEqual(cfn(instancePolicy(base), isRef));
    const withLogs = cfn(instancePolicy({ ...base, logGroupArn: 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${SessionLogGroup}' }), isRef);
    expect(resolved(t, doc, { UseCloudWatchLogs: true })).toEqual(withLogs);
    expect(JSON.stringify(withLogs)).toContain('"Fn::Sub":"arn:${AWS::Partition}:s3:::${LogBucket}/${S3Prefix}*"');
    expect(JSON.stringify(withLogs)).toContain('"Fn::GetAtt":["SessionKey","Arn"]');
  });

  it('the operator policy, restricted and full, with IAM policy variables kept for IAM', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const doc = t.Resources.OperatorPolicy.Properties.PolicyDocument;
    for (const access of ['restricted', 'full'] as const) {
      const expected = cfn(operatorPolicy({ partition: PARTITION, account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access }), isRef);
      expect(resolved(t, doc, { FullOperatorAccess: access === 'full' })).toEqual(expected);
    }
    const restricted = resolved(t, doc, {}) as Obj;
    const byId = Object.fromEntries(restricted.Statement.map((s: Obj) => [s.Sid, s]));
    // In a Fn::Sub string ${!x} is how ${x} is written; outside one it stays as it is.
    expect(byId.OwnSessionsAsIamUser.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:session/${!aws:username}-*' });
    expect(byId.OwnSessionsAsRole.Condition.StringLike['ssm:resourceTag/aws:ssmmessages:session-id']).toBe('${aws:userid}');
  });

  it('the EC2 trust policy, in every partition', async () => {
    const t = await templateOf();
    const trust = t.Resources.InstanceRole.Properties.AssumeRolePolicyDocument;
    expect(resolved(t, trust, { IsChinaPartition: false })).toEqual(ec2TrustPolicy('aws'));
    expect(resolved(t, trust, { IsChinaPartition: true })).toEqual(ec2TrustPolicy('aws-cn'));
  });

  it('the bucket: TLS-only policy, SSE-KMS with the key and bucket key, public access blocked, versioning', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const bucket = t.Resources.LogBucket.Properties;
    expect(t.Resources.LogBucketPolicy.Properties).toEqual({
      Bucket: { Ref: 'LogBucket' },
      PolicyDocument: cfn({ Version: '2012-10-17', Statement: [tlsOnlyStatement(PARTITION, BUCKET)] }, isRef),
    });
    const rule = sseKmsRule(KEY_ARN);
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['SessionKey', 'Arn'] } }, BucketKeyEnabled: true },
    ]);
    expect(rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms');
    expect(bucket.PublicAccessBlockConfiguration).toEqual(fullPublicAccessBlock());
    expect(Object.values(bucket.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(resolved(t, bucket.BucketName, { HasBucketName: false })).toEqual({ 'Fn::Sub': 'ssm-session-logs-${AWS::AccountId}-${AWS::Region}' });
    expect(resolved(t, bucket.BucketName, { HasBucketName: true })).toEqual({ Ref: 'BucketName' });
  });

  it('the lifecycle rule: the builder\'s, in CloudFormation\'s names, for transition and expiry on or off', async () => {
    const t = await templateOf();
    const rules = t.Resources.LogBucket.Properties.LifecycleConfiguration.Rules;
    for (const holds of combinations(['HasLogTransition', 'HasLogExpiration'])) {
      // The builder with the parameters' values, 0 meaning off, translated by hand.
      const sdk = sessionLogsRule({ prefix: 'PREFIX', transitionDays: holds.HasLogTransition ? 11 : 0, expirationDays: holds.HasLogExpiration ? 22 : 0 });
      const expected: Obj = {
        Id: sdk.ID,
        Status: sdk.Status,
        Prefix: { Ref: 'S3Prefix' },
        ...(sdk.Transitions ? { Transitions: [{ TransitionInDays: { Ref: 'LogTransitionDays' }, StorageClass: 'GLACIER' }] } : {}),
        ...(sdk.Expiration ? { ExpirationInDays: { Ref: 'LogExpirationDays' }, NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'LogExpirationDays' } } } : {}),
        AbortIncompleteMultipartUpload: sdk.AbortIncompleteMultipartUpload,
      };
      expect(resolved(t, rules, holds), JSON.stringify(holds)).toEqual([expected]);
    }
  });

  it('the preferences document: the builder\'s for CloudWatch Logs and Run As on or off, booleans named for the function', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const props = t.Resources.SessionPreferences.Properties;
    for (const holds of combinations(['UseCloudWatchLogs', 'HasRunAs'])) {
      const expected = cfn(
        preferencesDocument({
          bucketName: BUCKET,
          s3Prefix: PREFIX,
          keyArn: KEY_ARN,
          logGroupName: holds.UseCloudWatchLogs ? '${SessionLogGroup}' : undefined,
          idleTimeout: '${IdleTimeout}' as unknown as number,
          maxSessionDuration: '${MaxSessionDuration}' as unknown as number,
          runAs: holds.HasRunAs ? '${RunAsUser}' : undefined,
          shellProfileLinux: '${ShellProfileLinux}',
          shellProfileWindows: '${ShellProfileWindows}',
        }),
        isRef,
      );
      expect(resolved(t, props.Document, holds), JSON.stringify(holds)).toEqual(expected);
    }
    const real = preferencesDocument({ bucketName: 'b', s3Prefix: '', keyArn: 'k', idleTimeout: 20, shellProfileLinux: '', shellProfileWindows: '' }).inputs as unknown as Obj;
    expect(props.BooleanFields).toEqual(Object.keys(real).filter((k) => typeof real[k] === 'boolean'));
    expect(props.BooleanFields).toEqual(['s3EncryptionEnabled', 'cloudWatchEncryptionEnabled', 'cloudWatchStreamingEnabled', 'runAsEnabled']);
    expect(props.ServiceToken).toEqual({ 'Fn::GetAtt': ['PreferencesFunction', 'Arn'] });
  });

  it('the function may write that one document only, and its own log stream', async () => {
    const t = await templateOf();
    const [docs, logs] = t.Resources.PreferencesFunctionRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(docs.Action.sort()).toEqual(['ssm:AddTagsToResource', 'ssm:CreateDocument', 'ssm:DescribeDocument', 'ssm:GetDocument', 'ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion']);
    expect(docs.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${PREFERENCES_DOCUMENT}` });
    expect(logs.Resource).toEqual({ 'Fn::GetAtt': ['PreferencesFunctionLogGroup', 'Arn'] });
    expect(t.Resources.PreferencesFunctionRole.Properties).not.toHaveProperty('RoleName'); // no name: no clash between regions
  });

  it('the instance role holds the instance policy, and the CloudWatch agent policy when wanted', async () => {
    const t = await templateOf();
    const arns = t.Resources.InstanceRole.Properties.ManagedPolicyArns;
    expect(resolved(t, arns, { AttachCloudWatchAgent: true })).toEqual([{ Ref: 'InstancePolicy' }, { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy' }]);
    expect(resolved(t, arns, { AttachCloudWatchAgent: false })).toEqual([{ Ref: 'InstancePolicy' }]);
    expect(t.Resources.InstanceProfile.Properties.Roles).toEqual([{ Ref: 'InstanceRole' }]);
  });
});

describe('cloudFormationTemplate: retention, conditions, names and tags', () => {
  it('keeps the key, its alias, the bucket, its policy and the log group when the stack goes (audit logs)', async () => {
    const t = await templateOf();
    const retained = Object.entries(t.Resources).filter(([, r]) => (r as Obj).DeletionPolicy === 'Retain' && (r as Obj).UpdateReplacePolicy === 'Retain').map(([id]) => id);
    expect(retained).toEqual(['SessionKey', 'SessionKeyAlias', 'LogBucket', 'LogBucketPolicy', 'SessionLogGroup']);
    for (const r of Object.values(t.Resources) as Obj[]) if (r.DeletionPolicy) expect(r.UpdateReplacePolicy).toBe(r.DeletionPolicy);
  });

  it('conditions: the log group on EnableCloudWatchLogs, IAM on CreateIamResources, and the rest on their parameters', async () => {
    const t = await templateOf();
    expect(t.Resources.SessionLogGroup.Condition).toBe('UseCloudWatchLogs');
    expect(t.Resources.SessionLogGroup.Properties).toMatchObject({ LogGroupName: { Ref: 'LogGroupName' }, KmsKeyId: { 'Fn::GetAtt': ['SessionKey', 'Arn'] }, RetentionInDays: { Ref: 'LogRetentionDays' } });
    for (const id of ['InstancePolicy', 'InstanceRole', 'InstanceProfile', 'OperatorPolicy']) expect(t.Resources[id].Condition, id).toBe('CreateIam');
    for (const id of ['SessionKey', 'LogBucket', 'PreferencesFunction', 'PreferencesFunctionRole', 'SessionPreferences']) expect(t.Resources[id].Condition, id).toBeUndefined();
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

  it('IAM names: the parameter, or with RegionalIamNames the parameter and the region', async () => {
    const t = await templateOf();
    const role = t.Resources.InstanceRole.Properties.RoleName;
    expect(resolved(t, role, { UseRegionalIamNames: false })).toEqual({ Ref: 'InstanceRoleName' });
    expect(resolved(t, role, { UseRegionalIamNames: true })).toEqual({ 'Fn::Sub': '${InstanceRoleName}-${AWS::Region}' });
    expect(t.Resources.InstanceProfile.Properties.InstanceProfileName).toEqual(role);
    expect(resolved(t, t.Resources.OperatorPolicy.Properties.ManagedPolicyName, { UseRegionalIamNames: true })).toEqual({ 'Fn::Sub': '${OperatorPolicyName}-${AWS::Region}' });
    expect(resolved(t, t.Resources.OperatorPolicy.Properties.Users, { HasOperatorUsers: true })).toEqual({ Ref: 'OperatorUsers' });
    expect(resolved(t, t.Resources.OperatorPolicy.Properties, { HasOperatorUsers: false })).not.toHaveProperty('Users');
  });

  it('tags what supports tags with ManagedBy=ssm-setup and the settings\' tags; the key also with its alias', async () => {
    const t = await templateOf({ tags: ['Team=ops', 'Env=prod'] });
    const expected = [{ Key: 'Team', Value: 'ops' }, { Key: 'Env', Value: 'prod' }, { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value }];
    for (const id of ['LogBucket', 'SessionLogGroup', 'InstanceRole', 'PreferencesFunctionRole', 'PreferencesFunctionLogGroup', 'PreferencesFunction']) {
      expect(t.Resources[id].Properties.Tags, id).toEqual(expected);
    }
    expect(t.Resources.SessionKey.Properties.Tags).toEqual([...expected, { Key: 'ssm-setup:alias', Value: { Ref: 'KeyAlias' } }]);
    expect(t.Resources.SessionPreferences.Properties.DocumentTags).toEqual({ Team: 'ops', Env: 'prod', ManagedBy: 'ssm-setup' });
  });

  it('repeats the steps\' names without importing them, and they agree', () => {
    expect(KEY_ALIAS_TAG).toBe(ALIAS_TAG);
    expect(ORIGINAL_DEFAULT_VERSION_TAG).toBe(ORIGINAL_DEFAULT_TAG);
    expect(CLOUDWATCH_AGENT_POLICY_NAME).toBe(CLOUDWATCH_AGENT_POLICY);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`'${ORIGINAL_DEFAULT_TAG}'`);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`tags.get('${MANAGED_BY_TAG.key}') != '${MANAGED_BY_TAG.value}'`);
    expect(PREFERENCES_FUNCTION_CODE).toContain(`NAME = '${PREFERENCES_DOCUMENT}'`);
  });

  it('keeps the inline function within the 4096 characters CloudFormation takes, and it leaves the document alone on Delete', async () => {
    expect(PREFERENCES_FUNCTION_CODE.length).toBeLessThanOrEqual(4096);
    expect(PREFERENCES_FUNCTION_CODE).toMatch(/if event\['RequestType'\] == 'Delete':\n\s+return send\(event, context, True/);
    const t = await templateOf();
    expect(t.Resources.PreferencesFunction.Properties.Code.ZipFile).toBe(PREFERENCES_FUNCTION_CODE);
  });

  it.skipIf(!hasPython())('the inline function is valid Python', () => {
    const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: PREFERENCES_FUNCTION_CODE, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('exportProblems', () => {
  it('accepts the defaults', async () => {
    expect(exportProblems(await defaults())).toEqual([]);
  });
  it('names shell profiles longer than a CloudFormation parameter takes, and tags AWS refuses', async () => {
    const s: Settings = { ...(await defaults()), shellProfileLinux: 'x'.repeat(4097), shellProfileWindows: 'é'.repeat(2048), tags: { ok: 'a b', 'Cost Center': 'a#b' } };
    expect(exportProblems(s)).toEqual([
      { key: 'shellProfileLinux', message: 'must be at most 4096 bytes in a CloudFormation parameter (got 4097)' },
      { key: 'tags', message: '"Cost Center=a#b": tags may hold only letters, digits, spaces and _ . : / = + - @' },
    ]);
  });
});

describe('cfn intrinsics', () => {
  const isRef = (n: string) => n.startsWith('AWS::') || ['Param', 'Res'].includes(n.split('.')[0]!);

  it('wraps strings with references in Fn::Sub, whole references in Ref or GetAtt, and leaves the rest', () => {
    expect(cfn('${Param}', isRef)).toEqual({ Ref: 'Param' });
    expect(cfn('${AWS::Region}', isRef)).toEqual({ Ref: 'AWS::Region' });
    expect(cfn('${Res.Arn}', isRef)).toEqual({ 'Fn::GetAtt': ['Res', 'Arn'] });
    expect(cfn('arn:${AWS::Partition}:s3:::${Res}/*', isRef)).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Res}/*' });
    expect(cfn('${Res}/${aws:username}', isRef)).toEqual({ 'Fn::Sub': '${Res}/${!aws:username}' });
    expect(cfn('${aws:userid}', isRef)).toBe('${aws:userid}');
    expect(cfn('plain', isRef)).toBe('plain');
    expect(cfn({ a: ['${Param}', 1, true, null], b: undefined, c: { Ref: 'Kept' } }, isRef)).toEqual({ a: [{ Ref: 'Param' }, 1, true, null], c: { Ref: 'Kept' } });
  });

  it('branch: Fn::If only where the two sides differ; NoValue for a member one side lacks', () => {
    expect(branch('C', { a: 1, b: [1, 2], c: 'x' }, { a: 1, b: [1, 3], d: 'y' })).toEqual({
      a: 1,
      b: [1, { 'Fn::If': ['C', 2, 3] }],
      c: { 'Fn::If': ['C', 'x', NO_VALUE] },
      d: { 'Fn::If': ['C', NO_VALUE, 'y'] },
    });
    expect(branch('C', [1], [1, 2])).toEqual({ 'Fn::If': ['C', [1], [1, 2]] });
    expect(branch('C', { Ref: 'A' }, { Ref: 'B' })).toEqual({ 'Fn::If': ['C', { Ref: 'A' }, { Ref: 'B' }] });
    expect(branch('C', 'same', 'same')).toBe('same');
  });

  it('byConditions and resolveConditions give back every combination', () => {
    const build = (on: Readonly<Record<string, boolean>>) => ({ x: on.A ? 'a' : '-', y: on.B ? ['b'] : [], z: 1, ...(on.A && on.B ? { both: true } : {}) });
    const joined = byConditions(['A', 'B'], build);
    for (const holds of combinations(['A', 'B'])) expect(resolveConditions(joined, holds)).toEqual(build(holds));
    expect(() => resolveConditions(joined, {})).toThrow(/no value for condition A/);
  });
});

describe('toYaml', () => {
  it('writes block mappings and sequences, two spaces deep', () => {
    expect(toYaml({ a: 1, b: [true, null, { c: 'x', d: [] }], e: {}, f: [[1, 2], 'z'], g: undefined })).toBe(
      ['a: 1', 'b:', '  - true', '  - null', '  - c: x', '    d: []', 'e: {}', 'f:', '  - - 1', '    - 2', '  - z', ''].join('\n'),
    );
    expect(toYaml([])).toBe('[]\n');
    expect(toYaml({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${LogBucket}/*' })).toBe('Fn::Sub: arn:${AWS::Partition}:s3:::${LogBucket}/*\n');
  });

  it('quotes strings a YAML reader would take for something else', () => {
    const line = (s: string) => toYaml({ k: s }).slice(3, -1);
    for (const plain of ['alias/ssm-session-manager', 'kms:*', 'a#b', 'Fn::GetAtt', 'é ü', '${AWS::Region}', 'x-1', "it's"]) expect(line(plain), plain).toBe(plain);
    const quoted: Record<string, string> = {
      '': "''", ' a': "' a'", 'a ': "'a '", true: "'true'", False: "'False'", yes: "'yes'", NO: "'NO'", on: "'on'", Off: "'Off'", y: "'y'",
      null: "'null'", '~': "'~'", '<<': "'<<'", '=': "'='", '0': "'0'", '007': "'007'", '1.5': "'1.5'", '-1': "'-1'", '.5': "'.5'",
      '.inf': "'.inf'", '-.Inf': "'-.Inf'", '.NaN': "'.NaN'", '1e3': "'1e3'", '0x1F': "'0x1F'", '2012-10-17': "'2012-10-17'", '12:30': "'12:30'",
      '- a': "'- a'", '*': "'*'", '&a': "'&a'", '!Sub x': "'!Sub x'", '|': "'|'", '>': "'>'", '%x': "'%x'", '@x': "'@x'", '`x': "'`x'",
      '{a}': "'{a}'", '[a]': "'[a]'", ',x': "',x'", '#x': "'#x'", '?x': "'?x'", 'a: b': "'a: b'", 'a #b': "'a #b'", 'a:': "'a:'",
      "'it'": "'''it'''", '"d"': `'"d"'`,
    };
    for (const [s, q] of Object.entries(quoted)) expect(line(s), JSON.stringify(s)).toBe(q);
    expect(line('tab\there')).toBe('"tab\\there"');
    expect(line('ctl\u0001\u0085\u2028\ufeff\u0090')).toBe('"ctl\\x01\\x85\\u2028\\uFEFF\\x90"');
    expect(line('a\r\nb')).toBe('"a\\r\\nb"');
  });

  it('writes multi-line text as a literal block, with the right chomping', () => {
    expect(toYaml({ k: 'one\n  two\n' })).toBe('k: |\n  one\n    two\n');
    expect(toYaml({ k: 'one\ntwo' })).toBe('k: |-\n  one\n  two\n');
    expect(toYaml({ k: 'one\n\ntwo\n\n' })).toBe('k: |+\n  one\n\n  two\n\n');
    expect(toYaml({ k: ['a\n\tb'] })).toBe('k:\n  - |-\n    a\n    \tb\n');
    // Not as a block: leading space or line break, trailing spaces, only line breaks.
    expect(toYaml({ k: ' a\nb' })).toBe('k: " a\\nb"\n');
    expect(toYaml({ k: '\na' })).toBe('k: "\\na"\n');
    expect(toYaml({ k: 'a\nb ' })).toBe('k: "a\\nb "\n');
    expect(toYaml({ k: '\n\n' })).toBe('k: "\\n\\n"\n');
  });

  it('writes numbers YAML 1.1 reads as numbers, and refuses what YAML cannot hold', () => {
    expect(toYaml({ a: 0, b: -1.5, c: 1e21, d: 1e-7 })).toBe('a: 0\nb: -1.5\nc: 1.0e+21\nd: 1.0e-7\n');
    expect(() => toYaml({ a: Number.NaN })).toThrow(/cannot write/);
  });

  const corpus = [
    '', ' a', 'a ', 'true', 'False', 'yes', 'NO', 'on', 'null', '~', '<<', '=', '0', '007', '1.5', '-1', '.5', '.inf', '-.inf', '.NaN', '1e3', '0x1F', '0o17', '1_000',
    '2012-10-17', '2001-12-14t21:59:43.10-05:00', '12:30', '190:20:30', '- a', '-a', '? x', ':x', 'a: b', 'a #b', 'a#b', 'a:', '#x', '&a', '*', '!tag', '|', '>', "'q'", '"d"',
    '%x', '@x', '`x', '{a}', '[a]', ',x', "it's", 'tab\there', 'ctrl\u0001', '\u0085nel', 'line\u2028sep', '\ufeffbom', 'é ü 日本', '😀', 'multi\nline', 'multi\nline\n',
    'multi\n\n', '\nleading', ' indented\nx', 'trailing \nx', 'x\ntrailing ', 'a\r\nb', '${AWS::Region}', 'Fn::Sub', 'arn:aws:s3:::b/*', 'a\n  b\n\tc\n', 'x\u0090y', 'back\\slash',
  ];

  it.skipIf(!hasPyYaml())('reads back exactly with PyYAML (as cfn-lint does): strings as keys and values, numbers, the whole template', async () => {
    const data = {
      values: corpus,
      keys: Object.fromEntries(corpus.map((s, i) => [s, i])),
      numbers: [0, 1, -1, 1.5, 1e21, 1e-7, 36500],
      nested: [[[]], [{}], [{ a: [{ b: [1] }] }], null, true, false],
      template: await templateOf({ cloudwatchLogs: true, runAs: 'ec2-user', shellProfileLinux: 'cd ${HOME}\necho "hi" \'there\'\n\tsudo -i\n', tags: ['Team=ops'] }),
    };
    expect(pyYamlLoad(toYaml(data))).toEqual(JSON.parse(JSON.stringify(data)));
  });
});

function hasPython(): boolean {
  const ok = spawnSync('python3', ['--version']).status === 0;
  if (!ok) console.warn('skipped: python3 is not on PATH');
  return ok;
}

function hasPyYaml(): boolean {
  const ok = spawnSync('python3', ['-c', 'import yaml']).status === 0;
  if (!ok) console.warn('skipped: python3 with PyYAML (pip install pyyaml; cfn-lint brings it) is not available');
  return ok;
}

function pyYamlLoad(text: string): unknown {
  const r = spawnSync('python3', ['-c', 'import json,sys,yaml; sys.stdout.write(json.dumps(yaml.safe_load(sys.stdin.buffer.read().decode("utf-8"))))'], { input: text, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`PyYAML could not read the YAML:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}
