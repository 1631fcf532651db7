import { describe, expect, it } from 'vitest';
import { resourceDecision } from '../../src/policies/evaluate.js';
import { cloudWatchLogsStatement, rootStatement, sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { tlsOnlyStatement } from '../../src/policies/log-bucket.js';
import type { PolicyDocument, PolicyStatement } from '../../src/policies/types.js';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';
import {
  A,
  B,
  BUCKET,
  check,
  errors,
  expectErrors,
  expectSection,
  KEY_ARN,
  KEY_ID,
  PREFIX,
  problems,
  roleArn,
  row,
  USER_ARN,
  useWorld,
  type World,
  world,
} from './harness.js';

// A Deny in the bucket policy or the key policy overrides whatever IAM grants: the simulation of
// the role's (or the operator's) identity policies cannot see it.
useWorld();

const quoted = (doc: PolicyDocument) => `'${JSON.stringify(doc)}'`;
const tls = tlsOnlyStatement('aws', BUCKET);
const bucketDeny = (Action: string, Resource: string, principal = roleArn('app-1-role')): PolicyStatement => ({
  Sid: 'NoRoleWrites',
  Effect: 'Deny',
  Principal: { AWS: principal },
  Action,
  Resource,
});
const keyPolicy = () => sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true });
const withKeyDeny = (w: World, statement: PolicyStatement) => (w.key!.policy = { ...keyPolicy(), Statement: [...keyPolicy().Statement, statement] });

describe('a Deny in the bucket policy turns exactly the role’s targets red, with the put-bucket-policy that takes it out', () => {
  it.each([
    ['s3:PutObject under the prefix', 's3:PutObject', `arn:aws:s3:::${BUCKET}/${PREFIX}*`],
    ['s3:GetEncryptionConfiguration on the bucket', 's3:GetEncryptionConfiguration', `arn:aws:s3:::${BUCKET}`],
  ])('%s', async (_name, action, resource) => {
    world.bucket.policy = { Version: '2012-10-17', Statement: [tls, bucketDeny(action, resource)] };
    const r = await check();
    expectErrors(row(r, A).findings, [
      {
        check: 'bucket-policy',
        fix: `aws s3api put-bucket-policy --bucket ${BUCKET} --policy ${quoted({ Version: '2012-10-17', Statement: [tls] })} --region ${REGION}`,
        detail: `the bucket policy of ${BUCKET} denies ${action} to role app-1-role (statement NoRoleWrites): session logs cannot be uploaded`,
      },
    ]);
    expect(row(r, A).ready).toBe(false);
    expect(problems(row(r, B).findings)).toEqual([]);
    expect(errors([...r.account, ...r.operator])).toEqual([]);
  });

  it('the only statement: the fix deletes the policy; a Deny for every principal of the account names both rows', async () => {
    world.bucket.policy = { Version: '2012-10-17', Statement: [bucketDeny('s3:*', `arn:aws:s3:::${BUCKET}/*`, ACCOUNT)] };
    const r = await check();
    for (const id of [A, B]) {
      expectErrors(row(r, id).findings, [{ check: 'bucket-policy', fix: `aws s3api delete-bucket-policy --bucket ${BUCKET} --region ${REGION}` }]);
    }
  });

  it('the TLS-only statement (a Deny on aws:SecureTransport false) does not count: the agent speaks TLS', async () => {
    const r = await check();
    expect(row(r, A).findings.find((f) => f.check === 'bucket-policy')).toMatchObject({ status: 'ok' });
  });

  it('a Deny for everyone but an admin role (ArnNotLike aws:PrincipalArn) is decided: the role is denied', async () => {
    const exceptAdmin: PolicyStatement = {
      ...bucketDeny('s3:PutObject', `arn:aws:s3:::${BUCKET}/*`),
      Principal: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': roleArn('admin') } },
    };
    world.bucket.policy = { Version: '2012-10-17', Statement: [tls, exceptAdmin] };
    const r = await check();
    for (const id of [A, B]) expect(errors(row(r, id).findings).map((f) => f.check)).toEqual(['bucket-policy']);
  });

  it('a Deny under a condition the check cannot evaluate is a warning, not an error', async () => {
    const conditional = {
      ...bucketDeny('s3:PutObject', `arn:aws:s3:::${BUCKET}/*`),
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    };
    world.bucket.policy = { Version: '2012-10-17', Statement: [tls, conditional] };
    const r = await check();
    expect(errors(row(r, A).findings)).toEqual([]);
    expect(row(r, A).findings.find((f) => f.check === 'bucket-policy')).toMatchObject({ status: 'warning', detail: expect.stringContaining('may deny') });
  });
});

describe('the key policy', () => {
  it('a Deny of kms:Decrypt for the instance role turns that row red, with the put-key-policy without it', async () => {
    withKeyDeny(world, { Sid: 'NoDecrypt', Effect: 'Deny', Principal: { AWS: roleArn('app-1-role') }, Action: 'kms:Decrypt', Resource: '*' });
    const r = await check();
    expectErrors(row(r, A).findings, [
      {
        check: 'key-policy',
        fix: `aws kms put-key-policy --key-id ${KEY_ID} --policy-name default --policy ${quoted(keyPolicy())} --region ${REGION}`,
        detail: 'the key policy denies kms:Decrypt to app-1-role (statement NoDecrypt): sessions cannot be encrypted',
      },
    ]);
    expect(problems(row(r, B).findings)).toEqual([]);
    expect(errors([...r.account, ...r.operator])).toEqual([]);
  });

  it('a Deny of kms:GenerateDataKey for the operator turns the operator section red', () =>
    expectSection({
      name: 'operator key deny',
      breakIt: (w) => withKeyDeny(w, { Sid: 'NoDataKeys', Effect: 'Deny', Principal: { AWS: USER_ARN }, Action: 'kms:GenerateDataKey*', Resource: '*' }),
      section: 'operator',
      errors: [
        {
          check: 'key-policy',
          fix: `aws kms put-key-policy --key-id ${KEY_ID} --policy-name default --policy ${quoted(keyPolicy())} --region ${REGION}`,
          detail: 'the key policy denies kms:GenerateDataKey to alice (statement NoDataKeys): sessions cannot be encrypted',
        },
      ],
    }));

  it('without the account-root statement IAM cannot grant the key: the account is red, with the policy that puts it back', () => {
    const logsOnly: PolicyDocument = { Version: '2012-10-17', Statement: [cloudWatchLogsStatement({ partition: 'aws', account: ACCOUNT, region: REGION })] };
    return expectSection({
      name: 'no root statement',
      breakIt: (w) => (w.key!.policy = logsOnly),
      section: 'account',
      errors: [
        {
          check: 'key-root',
          fix: `aws kms put-key-policy --key-id ${KEY_ID} --policy-name default --policy ${quoted({ ...logsOnly, Statement: [rootStatement({ partition: 'aws', account: ACCOUNT }), ...logsOnly.Statement] })} --region ${REGION}`,
          detail: /^the key policy has no statement for the account root \(arn:aws:iam::123456789012:root\) allowing kms:Decrypt and kms:GenerateDataKey/,
        },
      ],
    });
  });
});

describe('resourceDecision (pure)', () => {
  const req = { principal: roleArn('r'), account: ACCOUNT, partition: 'aws', action: 'kms:Decrypt', resource: KEY_ARN };
  const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

  it('an Allow of the account root lets IAM grant; a Deny with NotPrincipal applies to everyone else', () => {
    expect(resourceDecision(doc(rootStatement({ partition: 'aws', account: ACCOUNT })), req).decision).toBe('allowed');
    const notMe = { Effect: 'Deny', NotPrincipal: { AWS: roleArn('other') }, Action: 'kms:*', Resource: '*' } as unknown as PolicyStatement;
    expect(resourceDecision(doc(rootStatement({ partition: 'aws', account: ACCOUNT }), notMe), req).decision).toBe('denied');
    expect(resourceDecision(doc(notMe), { ...req, principal: roleArn('other') }).decision).toBe('implicit-deny');
  });

  it('conditions on known keys are evaluated, on unknown keys undecidable', () => {
    const deny = (Condition: PolicyStatement['Condition']): PolicyStatement => ({ Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition });
    expect(resourceDecision(doc(deny({ Bool: { 'aws:SecureTransport': 'false' } })), { ...req, context: { 'aws:SecureTransport': 'true' } }).decision).toBe(
      'implicit-deny',
    );
    expect(resourceDecision(doc(deny({ StringEquals: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' } })), req).decision).toBe('conditional');
  });
});
