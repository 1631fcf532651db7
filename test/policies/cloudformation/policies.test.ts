import { describe, expect, it } from 'vitest';
import { cfn } from '../../../src/policies/cloudformation/intrinsics.js';
import { ec2TrustPolicy, instancePolicy } from '../../../src/policies/instance-policy.js';
import { sessionKeyPolicy } from '../../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock, sessionLogsRule, sseKmsRule, tlsOnlyStatement } from '../../../src/policies/log-bucket.js';
import { operatorPolicy } from '../../../src/policies/operator-policy.js';
import { PREFERENCES_DOCUMENT, preferencesDocument } from '../../../src/policies/preferences-document.js';
import { ACCOUNT, BUCKET, combinations, KEY_ARN, type Obj, PARTITION, PREFIX, REGION, referencesOf, resolved, templateOf } from './helpers.js';

describe("cloudFormationTemplate: every policy is the builder's, with references", () => {
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
    expect((resolved(t, keyPolicy, { UseCloudWatchLogs: true, IsChinaPartition: true }) as Obj).Statement[1].Principal.Service).toEqual({
      'Fn::Sub': 'logs.${AWS::Region}.amazonaws.com.cn',
    });
  });

  it('the instance policy, scoped to the key, the bucket and prefix, and the log group when on', async () => {
    const t = await templateOf();
    const isRef = referencesOf(t);
    const doc = t.Resources.InstancePolicy.Properties.PolicyDocument;
    const base = { partition: PARTITION, account: ACCOUNT, region: REGION, keyArn: KEY_ARN, bucketName: BUCKET, s3Prefix: PREFIX };
    expect(resolved(t, doc, { UseCloudWatchLogs: false })).toEqual(cfn(instancePolicy(base), isRef));
    const withLogs = cfn(
      instancePolicy({ ...base, logGroupArn: 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${SessionLogGroup}' }),
      isRef,
    );
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
    expect(byId.OwnSessionsAsIamUser.Resource).toEqual([
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:session/${!aws:username}-*' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:session/${!aws:userid}-*' },
    ]);
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

  it("the lifecycle rule: the builder's, in CloudFormation's names, for transition and expiry on or off", async () => {
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
        ...(sdk.Expiration
          ? { ExpirationInDays: { Ref: 'LogExpirationDays' }, NoncurrentVersionExpiration: { NoncurrentDays: { Ref: 'LogExpirationDays' } } }
          : {}),
        AbortIncompleteMultipartUpload: sdk.AbortIncompleteMultipartUpload,
      };
      expect(resolved(t, rules, holds), JSON.stringify(holds)).toEqual([expected]);
    }
  });

  it("the preferences document: the builder's for CloudWatch Logs and Run As on or off, booleans named for the function", async () => {
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
    const real = preferencesDocument({ bucketName: 'b', s3Prefix: '', keyArn: 'k', idleTimeout: 20, shellProfileLinux: '', shellProfileWindows: '' })
      .inputs as unknown as Obj;
    expect(props.BooleanFields).toEqual(Object.keys(real).filter((k) => typeof real[k] === 'boolean'));
    expect(props.BooleanFields).toEqual(['s3EncryptionEnabled', 'cloudWatchEncryptionEnabled', 'cloudWatchStreamingEnabled', 'runAsEnabled']);
    expect(props.ServiceToken).toEqual({ 'Fn::GetAtt': ['PreferencesFunction', 'Arn'] });
  });

  it('the function may write that one document only, and its own log stream', async () => {
    const t = await templateOf();
    const [docs, logs] = t.Resources.PreferencesFunctionRole.Properties.Policies[0].PolicyDocument.Statement;
    expect(docs.Action.sort()).toEqual([
      'ssm:AddTagsToResource',
      'ssm:CreateDocument',
      'ssm:DescribeDocument',
      'ssm:GetDocument',
      'ssm:UpdateDocument',
      'ssm:UpdateDocumentDefaultVersion',
    ]);
    expect(docs.Resource).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${PREFERENCES_DOCUMENT}` });
    expect(logs.Resource).toEqual({ 'Fn::GetAtt': ['PreferencesFunctionLogGroup', 'Arn'] });
    expect(t.Resources.PreferencesFunctionRole.Properties).not.toHaveProperty('RoleName'); // no name: no clash between regions
  });

  it('the instance role holds the instance policy, and the CloudWatch agent policy when wanted', async () => {
    const t = await templateOf();
    const arns = t.Resources.InstanceRole.Properties.ManagedPolicyArns;
    expect(resolved(t, arns, { AttachCloudWatchAgent: true })).toEqual([
      { Ref: 'InstancePolicy' },
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy' },
    ]);
    expect(resolved(t, arns, { AttachCloudWatchAgent: false })).toEqual([{ Ref: 'InstancePolicy' }]);
    expect(t.Resources.InstanceProfile.Properties.Roles).toEqual([{ Ref: 'InstanceRole' }]);
  });
});
