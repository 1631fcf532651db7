import { describe, expect, it } from 'vitest';
import { LOGS_STATEMENT_SID, ROOT_STATEMENT_SID, sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { mergeStatement, type PolicyDocument, type PolicyStatement, parsePolicy } from '../../src/policies/types.js';

const ACCOUNT = '123456789012';
const INPUT = { partition: 'aws', account: ACCOUNT, region: 'eu-west-1' };

const ROOT = {
  Sid: 'EnableIamUserPermissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
};

describe('sessionKeyPolicy', () => {
  it('without a log group: only the account root statement', () => {
    expect(sessionKeyPolicy({ ...INPUT, cloudWatchLogs: false })).toEqual({ Version: '2012-10-17', Id: 'ssm-setup-session-key', Statement: [ROOT] });
    expect(ROOT_STATEMENT_SID).toBe(ROOT.Sid);
  });

  it('with a log group: also the regional CloudWatch Logs principal, scoped to this account’s log groups', () => {
    const policy = sessionKeyPolicy({ ...INPUT, cloudWatchLogs: true });
    expect(policy.Statement).toEqual([
      ROOT,
      {
        Sid: LOGS_STATEMENT_SID,
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        Resource: '*',
        Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:*` } },
      },
    ]);
  });

  it('in the China partition: amazonaws.com.cn and aws-cn ARNs', () => {
    const policy = sessionKeyPolicy({ partition: 'aws-cn', account: ACCOUNT, region: 'cn-north-1', cloudWatchLogs: true });
    expect(policy.Statement[0]!.Principal).toEqual({ AWS: `arn:aws-cn:iam::${ACCOUNT}:root` });
    expect(policy.Statement[1]!.Principal).toEqual({ Service: 'logs.cn-north-1.amazonaws.com.cn' });
    expect(policy.Statement[1]!.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws-cn:logs:cn-north-1:${ACCOUNT}:log-group:*` } });
  });

  it('in GovCloud: amazonaws.com with aws-us-gov ARNs', () => {
    const policy = sessionKeyPolicy({ partition: 'aws-us-gov', account: ACCOUNT, region: 'us-gov-west-1', cloudWatchLogs: true });
    expect(policy.Statement[1]!.Principal).toEqual({ Service: 'logs.us-gov-west-1.amazonaws.com' });
    expect(policy.Statement[0]!.Principal).toEqual({ AWS: `arn:aws-us-gov:iam::${ACCOUNT}:root` });
  });
});

describe('mergeStatement', () => {
  const admins: PolicyStatement = { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Admin` }, Action: 'kms:*', Resource: '*' };
  const users: PolicyStatement = {
    Sid: 'Users',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/App` },
    Action: ['kms:Decrypt'],
    Resource: '*',
  };
  const logs = sessionKeyPolicy({ ...INPUT, cloudWatchLogs: true }).Statement[1]!;
  const base: PolicyDocument = { Version: '2012-10-17', Id: 'custom', Statement: [admins, users] };

  it('adds a missing statement after the others, which it keeps as they are', () => {
    const merged = mergeStatement(base, logs)!;
    expect(merged).toEqual({ Version: '2012-10-17', Id: 'custom', Statement: [admins, users, logs] });
    expect(base.Statement).toEqual([admins, users]); // the input is not mutated
  });

  it('replaces a different statement of the same Sid in place', () => {
    const stale = { ...logs, Principal: { Service: 'logs.us-east-1.amazonaws.com' } };
    const merged = mergeStatement({ ...base, Statement: [admins, stale, users] }, logs)!;
    expect(merged.Statement).toEqual([admins, logs, users]);
  });

  it('is undefined when the statement is present, even with its keys in another order', () => {
    expect(mergeStatement({ ...base, Statement: [admins, logs, users] }, logs)).toBeUndefined();
    const reordered = JSON.parse(
      JSON.stringify({
        Condition: logs.Condition,
        Resource: logs.Resource,
        Action: logs.Action,
        Principal: logs.Principal,
        Effect: logs.Effect,
        Sid: logs.Sid,
      }),
    ) as PolicyStatement;
    expect(mergeStatement({ ...base, Statement: [reordered] }, logs)).toBeUndefined();
  });
});

describe('parsePolicy', () => {
  const policy: PolicyDocument = { Version: '2012-10-17', Statement: [ROOT as PolicyStatement] };

  it('parses plain JSON, also with leading white space', () => {
    expect(parsePolicy(JSON.stringify(policy))).toEqual(policy);
    expect(parsePolicy(`\n  ${JSON.stringify(policy, null, 2)}`)).toEqual(policy);
  });

  it('parses URL-encoded JSON, as IAM returns it', () => {
    const encoded = encodeURIComponent(JSON.stringify(policy));
    expect(encoded.startsWith('%7B')).toBe(true);
    expect(parsePolicy(encoded)).toEqual(policy);
  });

  it('turns a single statement object into a list', () => {
    expect(parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: ROOT }))).toEqual(policy);
  });

  it('is undefined for no policy', () => {
    expect(parsePolicy(undefined)).toBeUndefined();
    expect(parsePolicy('')).toBeUndefined();
  });
});
