import type { LifecycleRule, ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  encryptionDrift,
  hasTlsDeny,
  LIFECYCLE_RULE_ID,
  publicAccessGaps,
  sessionLogsRule,
  TLS_STATEMENT_SID,
  tlsOnlyStatement,
  withSessionLogsRule,
  withTlsDeny,
} from '../../src/policies/log-bucket.js';
import type { PolicyDocument, PolicyStatement } from '../../src/policies/types.js';

const BUCKET = 'ssm-session-logs-123456789012-eu-west-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`;
const ALIAS = 'alias/ssm-session-manager';
const KEY = { arn: KEY_ARN, id: KEY_ID, alias: ALIAS };
const TARGET = `SSE-KMS with ${ALIAS} (bucket key on)`;

/** The statement of aws-reference.md §3, written out by hand. */
const TLS_STATEMENT = {
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};

const FOREIGN: PolicyStatement[] = [
  {
    Sid: 'AllowAuditRead',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::123456789012:role/Audit' },
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  },
  { Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
];
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

describe('tlsOnlyStatement', () => {
  it('denies every S3 action on the bucket and its objects without TLS', () => {
    expect(tlsOnlyStatement('aws', BUCKET)).toEqual(TLS_STATEMENT);
    expect(TLS_STATEMENT_SID).toBe('DenyInsecureTransport');
  });

  it.each([['aws-cn'], ['aws-us-gov']])('uses the partition %s in the resource ARNs', (partition) => {
    expect(tlsOnlyStatement(partition, 'b-1').Resource).toEqual([`arn:${partition}:s3:::b-1`, `arn:${partition}:s3:::b-1/*`]);
  });
});

describe('hasTlsDeny', () => {
  it('is false without a policy or without statements', () => {
    expect(hasTlsDeny(undefined)).toBe(false);
    expect(hasTlsDeny(doc())).toBe(false);
    expect(hasTlsDeny(doc(...FOREIGN))).toBe(false);
  });

  it('recognises our own statement', () => {
    expect(hasTlsDeny(doc(...FOREIGN, tlsOnlyStatement('aws', BUCKET)))).toBe(true);
  });

  it('recognises an equivalent deny under another Sid, with Principal {AWS: "*"}, a list of actions and a boolean false', () => {
    const equivalent = {
      Sid: 'EnforceTLS',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:*'],
      Resource: [`arn:aws:s3:::${BUCKET}/*`, `arn:aws:s3:::${BUCKET}`],
      Condition: { Bool: { 'aws:SecureTransport': false } },
    } as unknown as PolicyStatement; // AWS keeps the JSON boolean someone wrote
    expect(hasTlsDeny(doc(FOREIGN[0]!, equivalent))).toBe(true);
  });

  it('recognises an equivalent deny without a Sid', () => {
    const { Sid: _sid, ...noSid } = tlsOnlyStatement('aws', BUCKET);
    expect(hasTlsDeny(doc(noSid))).toBe(true);
  });

  it('does not take an Allow for it', () => {
    expect(hasTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Effect: 'Allow' }))).toBe(false);
  });

  it('does not take a deny scoped to one principal for it', () => {
    expect(hasTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Principal: { AWS: 'arn:aws:iam::123456789012:role/App' } }))).toBe(false);
  });

  it('does not take a deny of some actions only, or one that denies TLS requests, for it', () => {
    expect(hasTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Action: ['s3:GetObject'] }))).toBe(false);
    expect(hasTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Condition: { Bool: { 'aws:SecureTransport': 'true' } } }))).toBe(false);
    expect(hasTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Condition: undefined }))).toBe(false);
  });
});

describe('withTlsDeny', () => {
  it('makes a whole policy when the bucket has none', () => {
    expect(withTlsDeny(undefined, 'aws', BUCKET)).toEqual({ Version: '2012-10-17', Statement: [TLS_STATEMENT] });
  });

  it('keeps the other statements, in order, and appends the TLS statement', () => {
    const policy = { ...doc(...FOREIGN), Id: 'team-policy' };
    const merged = withTlsDeny(policy, 'aws', BUCKET)!;
    expect(merged).toEqual({ Version: '2012-10-17', Id: 'team-policy', Statement: [...FOREIGN, TLS_STATEMENT] });
    expect(policy.Statement).toHaveLength(2); // the input is not mutated
  });

  it('is undefined when the policy already denies non-TLS requests, under any Sid', () => {
    expect(withTlsDeny(doc(...FOREIGN, tlsOnlyStatement('aws', BUCKET)), 'aws', BUCKET)).toBeUndefined();
    expect(withTlsDeny(doc({ ...tlsOnlyStatement('aws', BUCKET), Sid: 'Other' }), 'aws', BUCKET)).toBeUndefined();
  });

  it('replaces a broken statement of our Sid instead of adding a second one', () => {
    const broken: PolicyStatement = { ...tlsOnlyStatement('aws', BUCKET), Effect: 'Allow' };
    const merged = withTlsDeny(doc(FOREIGN[0]!, broken), 'aws', BUCKET)!;
    expect(merged.Statement).toEqual([FOREIGN[0], TLS_STATEMENT]);
  });
});

const DAYS = { prefix: 'session-logs/', transitionDays: 90, expirationDays: 365 };
/** Our rule as S3 returns it for the default settings. */
const OUR_RULE: LifecycleRule = {
  ID: 'ssm-setup-session-logs',
  Status: 'Enabled',
  Filter: { Prefix: 'session-logs/' },
  Transitions: [{ Days: 90, StorageClass: 'GLACIER' }],
  Expiration: { Days: 365 },
  NoncurrentVersionExpiration: { NoncurrentDays: 365 },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
};

describe('sessionLogsRule', () => {
  it('transitions to Glacier Flexible Retrieval, expires current and old versions, and aborts uploads', () => {
    expect(LIFECYCLE_RULE_ID).toBe('ssm-setup-session-logs');
    expect(sessionLogsRule(DAYS)).toEqual(OUR_RULE);
  });

  it('has no transition when the transition days are 0', () => {
    const rule = sessionLogsRule({ ...DAYS, transitionDays: 0 });
    expect(rule).not.toHaveProperty('Transitions');
    expect(rule.Expiration).toEqual({ Days: 365 });
    expect(rule.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 365 });
  });

  it('never expires when the expiration days are 0', () => {
    const rule = sessionLogsRule({ ...DAYS, expirationDays: 0 });
    expect(rule.Transitions).toEqual([{ Days: 90, StorageClass: 'GLACIER' }]);
    expect(rule).not.toHaveProperty('Expiration');
    expect(rule).not.toHaveProperty('NoncurrentVersionExpiration');
  });

  it('with both 0 still aborts incomplete uploads under the prefix', () => {
    expect(sessionLogsRule({ prefix: 'logs/x/', transitionDays: 0, expirationDays: 0 })).toEqual({
      ID: 'ssm-setup-session-logs',
      Status: 'Enabled',
      Filter: { Prefix: 'logs/x/' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
  });

  it('uses the given day counts', () => {
    const rule = sessionLogsRule({ prefix: '', transitionDays: 30, expirationDays: 400 });
    expect(rule.Transitions).toEqual([{ Days: 30, StorageClass: 'GLACIER' }]);
    expect(rule.Expiration).toEqual({ Days: 400 });
    expect(rule.Filter).toEqual({ Prefix: '' });
  });
});

describe('withSessionLogsRule', () => {
  const archive: LifecycleRule = {
    ID: 'archive',
    Status: 'Enabled',
    Filter: { Prefix: 'archive/' },
    Transitions: [{ Days: 30, StorageClass: 'DEEP_ARCHIVE' }],
  };
  const tmp: LifecycleRule = { ID: 'tmp', Status: 'Disabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } };

  it('adds our rule to no rules', () => {
    expect(withSessionLogsRule([], DAYS)).toEqual([OUR_RULE]);
  });

  it('keeps foreign rules untouched and in order, and adds ours after them', () => {
    const merged = withSessionLogsRule([archive, tmp], DAYS)!;
    expect(merged).toEqual([archive, tmp, OUR_RULE]);
    expect(merged[0]).toBe(archive);
    expect(merged[1]).toBe(tmp);
  });

  it('replaces ours by ID, keeping the foreign rules around it', () => {
    const old: LifecycleRule = { ...OUR_RULE, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] };
    const merged = withSessionLogsRule([archive, old, tmp], DAYS)!;
    expect(merged).toEqual([archive, tmp, OUR_RULE]);
    expect(merged.filter((r) => r.ID === LIFECYCLE_RULE_ID)).toHaveLength(1);
  });

  it('is undefined when our rule is there as desired, whatever the other rules', () => {
    expect(withSessionLogsRule([OUR_RULE], DAYS)).toBeUndefined();
    expect(withSessionLogsRule([archive, { ...OUR_RULE }, tmp], DAYS)).toBeUndefined();
    expect(
      withSessionLogsRule([sessionLogsRule({ ...DAYS, transitionDays: 0, expirationDays: 0 })], { ...DAYS, transitionDays: 0, expirationDays: 0 }),
    ).toBeUndefined();
  });

  it.each<[string, LifecycleRule]>([
    ['prefix', { ...OUR_RULE, Filter: { Prefix: 'other/' } }],
    ['transition days', { ...OUR_RULE, Transitions: [{ Days: 60, StorageClass: 'GLACIER' }] }],
    ['transition storage class', { ...OUR_RULE, Transitions: [{ Days: 90, StorageClass: 'DEEP_ARCHIVE' }] }],
    ['no transition', { ...OUR_RULE, Transitions: undefined }],
    ['expiration days', { ...OUR_RULE, Expiration: { Days: 730 } }],
    ['old-version expiration days', { ...OUR_RULE, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }],
    ['no multipart abort', { ...OUR_RULE, AbortIncompleteMultipartUpload: undefined }],
    ['disabled status', { ...OUR_RULE, Status: 'Disabled' }],
  ])('detects a changed %s', (_what, current) => {
    expect(withSessionLogsRule([current], DAYS)).toEqual([OUR_RULE]);
  });

  it('detects that the settings turned expiry off while the bucket still expires', () => {
    expect(withSessionLogsRule([OUR_RULE], { ...DAYS, expirationDays: 0 })).toEqual([sessionLogsRule({ ...DAYS, expirationDays: 0 })]);
  });
});

describe('encryptionDrift', () => {
  /** SSE-KMS with `KMSMasterKeyID`; the bucket key on unless given (`null`: S3 leaves the field out). */
  const kms = (KMSMasterKeyID: string | undefined, bucketKey: boolean | null = true): ServerSideEncryptionRule => ({
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', ...(KMSMasterKeyID ? { KMSMasterKeyID } : {}) },
    ...(bucketKey === null ? {} : { BucketKeyEnabled: bucketKey }),
  });

  it('reports no default encryption', () => {
    expect(encryptionDrift(undefined, KEY)).toBe(`none → ${TARGET}`);
    expect(encryptionDrift({}, KEY)).toBe(`none → ${TARGET}`);
  });

  it('reports SSE-S3 (AES256)', () => {
    expect(encryptionDrift({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }, KEY)).toBe(`SSE-S3 → ${TARGET}`);
  });

  it('reports DSSE-KMS, which the agent refuses', () => {
    expect(
      encryptionDrift({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: KEY_ARN }, BucketKeyEnabled: true }, KEY),
    ).toBe(`aws:kms:dsse → ${TARGET}`);
  });

  it('reports SSE-KMS with another key, naming it', () => {
    const other = 'arn:aws:kms:eu-west-1:123456789012:key/ffffffff-0000-0000-0000-000000000000';
    expect(encryptionDrift(kms(other), KEY)).toBe(`SSE-KMS with ${other} → ${TARGET}`);
    expect(encryptionDrift(kms('alias/another'), KEY)).toBe(`SSE-KMS with alias/another → ${TARGET}`);
    expect(encryptionDrift(kms('arn:aws:kms:eu-west-1:123456789012:alias/another'), KEY)).toContain('alias/another →');
  });

  it('reports SSE-KMS with the AWS managed key (no key id)', () => {
    expect(encryptionDrift(kms(undefined), KEY)).toBe(`SSE-KMS with the AWS managed key → ${TARGET}`);
  });

  it.each([
    ['key ARN', KEY_ARN],
    ['key id', KEY_ID],
    ['alias name', ALIAS],
    ['alias ARN', `arn:aws:kms:eu-west-1:123456789012:${ALIAS}`],
  ])('accepts our key given by its %s', (_how, id) => {
    expect(encryptionDrift(kms(id), KEY)).toBeUndefined();
  });

  it.each([[false], [null]])('reports the bucket key off (BucketKeyEnabled %s) on our key', (enabled) => {
    expect(encryptionDrift(kms(KEY_ARN, enabled), KEY)).toBe('bucket key off → on (fewer KMS requests)');
  });

  it('reports a change when the key is created in this run (its ARN is unknown), even for our alias', () => {
    const unknown = { alias: ALIAS };
    expect(encryptionDrift(kms(ALIAS), unknown)).toBe(`SSE-KMS with ${ALIAS} → ${TARGET}`);
    expect(encryptionDrift(undefined, unknown)).toBe(`none → ${TARGET}`);
  });
});

describe('publicAccessGaps', () => {
  it('names all four flags when there is no block', () => {
    expect(publicAccessGaps(undefined)).toEqual(['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets']);
    expect(publicAccessGaps({})).toHaveLength(4);
  });

  it('names the flags that are off or missing', () => {
    expect(publicAccessGaps({ BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true })).toEqual([
      'IgnorePublicAcls',
      'RestrictPublicBuckets',
    ]);
  });

  it('is empty when all four are on', () => {
    expect(publicAccessGaps({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true })).toEqual([]);
  });
});
