import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock } from '../../src/policies/log-bucket.js';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';
import {
  A,
  BUCKET,
  check,
  checks,
  expectAllOk,
  expectErrors,
  expectSection,
  GROUP,
  GROUP_ARN,
  KEY_ARN,
  KEY_ID,
  kms,
  row,
  type SectionCase,
  s3,
  sdkError,
  useWorld,
  world,
} from './harness.js';

// The account section: the preferences and what they point at (key, bucket, log group).
useWorld();

const ACCOUNT_CASES: readonly SectionCase[] = [
  {
    name: 'the bucket has no default encryption, while the preferences claim it',
    breakIt: (w) => delete w.bucket.sse,
    section: 'account',
    errors: [
      {
        check: 'bucket-encryption',
        fix: 'ssm-setup run log-bucket',
        detail: `the preferences require an encrypted bucket, but ${BUCKET} has no default encryption: sessions fail to start`,
      },
    ],
  },
  ...([301, 400] as const).map(
    (status): SectionCase => ({
      name: `the bucket is in another region (HeadBucket ${status} with x-amz-bucket-region): a warning naming it, not a crash`,
      breakIt: (w) => (w.bucket.elsewhere = { region: 'us-west-2', status }),
      section: 'account',
      errors: [],
      warnings: [
        {
          check: 'bucket',
          fix: 'ssm-setup check --region us-west-2',
          detail: `the log bucket ${BUCKET} is in us-west-2, not ${REGION}: its encryption and public access are not checked from here`,
        },
      ],
    }),
  ),
  {
    name: 'the bucket is encrypted with aws:kms:dsse, which the agent does not take',
    breakIt: (w) => (w.bucket.sse = { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: KEY_ARN }),
    section: 'account',
    errors: [{ check: 'bucket-encryption', fix: 'ssm-setup run log-bucket', detail: /has aws:kms:dsse: sessions fail to start$/ }],
  },
  {
    name: 'the key is disabled',
    breakIt: (w) => (w.key!.state = 'Disabled'),
    section: 'account',
    errors: [{ check: 'key', fix: `aws kms enable-key --key-id ${KEY_ID}`, detail: `key ${KEY_ARN} is Disabled` }],
  },
  {
    name: 'the key policy does not admit CloudWatch Logs while the log group is encrypted',
    breakIt: (w) => (w.key!.policy = sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: false })),
    section: 'account',
    errors: [{ check: 'key-policy', fix: 'ssm-setup run kms-key --cloudwatch-logs' }],
  },
  {
    name: 'the log group is not encrypted, while the preferences claim it',
    breakIt: (w) => (w.logGroups = [{ logGroupName: GROUP, arn: `${GROUP_ARN}:*` }]),
    section: 'account',
    errors: [
      {
        check: 'log-group',
        fix: 'ssm-setup run log-group --cloudwatch-logs',
        detail: `the preferences require an encrypted log group, but ${GROUP} has no key: sessions fail`,
      },
    ],
  },
  {
    name: 'the log group does not exist',
    breakIt: (w) => (w.logGroups = [{ logGroupName: `${GROUP}-other`, kmsKeyId: KEY_ARN }]),
    section: 'account',
    errors: [{ check: 'log-group', fix: 'ssm-setup run log-group --cloudwatch-logs', detail: /does not exist/ }],
  },
  {
    name: 'the bucket does not exist',
    breakIt: (w) => (w.bucket.exists = false),
    section: 'account',
    errors: [{ check: 'bucket', fix: 'ssm-setup run log-bucket', detail: `the log bucket ${BUCKET} does not exist: session uploads fail` }],
  },
  {
    name: 'the preferences default version lags the latest: a warning, not an error',
    breakIt: (w) => (w.prefs = { ...w.prefs!, defaultVersion: '2', latestVersion: '3' }),
    section: 'account',
    errors: [],
    warnings: [{ check: 'preferences', fix: 'ssm-setup run preferences', detail: 'default version 2 lags the latest 3' }],
  },
  {
    name: 'public access is not fully blocked on the bucket: a warning',
    breakIt: (w) => (w.bucket.pab = { ...fullPublicAccessBlock(), BlockPublicPolicy: false }),
    section: 'account',
    errors: [],
    warnings: [{ check: 'bucket-public-access', fix: 'ssm-setup run log-bucket', detail: /BlockPublicPolicy off/ }],
  },
];

describe('each single broken link of the account turns that section to error, with the fix', () => {
  it.each(ACCOUNT_CASES)('$name', expectSection);

  it('a bucket with AES256 is fine, and then the role needs no data key of a bucket key', async () => {
    world.bucket.sse = { SSEAlgorithm: 'AES256' };
    const r = await check();
    expectAllOk(r);
    expect(row(r, A).findings.map((f) => f.detail)).not.toContain('kms:GenerateDataKey on the bucket key');
  });

  it('without a preferences document: an error with its fix, and no rights of a key or bucket are required', async () => {
    delete world.prefs;
    const r = await check();
    expectErrors(r.account, [{ check: 'preferences', fix: 'ssm-setup run preferences', detail: /SSM-SessionManagerRunShell does not exist/ }]);
    expect(
      row(r, A)
        .findings.filter((f) => f.check === 'role-rights')
        .map((f) => f.detail),
    ).toEqual(['session channels (ssmmessages, ssm:UpdateInstanceInformation)']);
    expect(kms.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('account reads that are denied', () => {
  it('a warning naming the error, with what to grant; the other resources are still checked', async () => {
    kms.on(DescribeKeyCommand).rejects(sdkError('AccessDeniedException', 'not authorized to perform kms:DescribeKey', 400));
    const r = await check();
    expect(r.account.find((f) => f.check === 'key')).toEqual({
      check: 'key',
      status: 'warning',
      detail: 'could not read (AccessDeniedException)',
      fix: 'grant the read permissions listed in the README',
    });
    expect(checks(r.account)).toEqual(['preferences', 'key', 'bucket-encryption', 'bucket-public-access', 'log-group']);
  });
});
