import { describe, expect, it } from 'vitest';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';
import { A, B, BUCKET, check, errors, expectErrors, expectSection, GROUP, problems, refuse, row, USER_ARN, useWorld, world } from './harness.js';

// The account side the preferences depend on: a bucket of another account, and a document that
// no longer points at the key, bucket and log group the settings name.
useWorld();

describe('the bucket and the preferences against the rest', () => {
  it('a log bucket owned by another account (HeadBucket 403) turns the account red', async () => {
    world.bucket.foreign = true;
    const r = await check();
    expectErrors(r.account, [{ check: 'bucket', fix: 'ssm-setup run log-bucket --bucket <a bucket of this account>', detail: /belongs to another account/ }]);
    expect(problems(r.operator)).toEqual([]);
    for (const t of r.targets) expect(errors(t.findings)).toEqual([]);
  });

  it.each([
    [
      'bucket',
      { bucket: 'acme-other-session-logs' },
      `logs go to bucket ${BUCKET}, not acme-other-session-logs`,
      'ssm-setup run preferences --bucket acme-other-session-logs',
    ],
    [
      'log group',
      { cloudwatchLogs: true, logGroup: '/acme/sessions' },
      `logs stream to ${GROUP}, not /acme/sessions`,
      'ssm-setup run preferences --cloudwatch-logs --log-group /acme/sessions',
    ],
    [
      'key',
      { keyAlias: 'alias/acme-sessions' },
      /^sessions are encrypted with arn:aws:kms:.*, not alias\/acme-sessions$/,
      'ssm-setup run preferences --key-alias alias/acme-sessions',
    ],
  ])('the document’s %s differs from the one the settings name: the account is red, with the run that points it back', async (_what, flags, differs, fix) => {
    world.otherKeys = { 'alias/acme-sessions': `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-0000-4000-8000-000000000000` };
    const r = await check(flags);
    const found = r.account.find((f) => f.check === 'preferences-target')!;
    expect(found).toMatchObject({ status: 'error', fix });
    const detail = found.detail.replace(/^SSM-SessionManagerRunShell is not pointed at ours: /, '');
    if (typeof differs === 'string') expect(detail).toBe(differs);
    else expect(detail).toMatch(differs);
    expect(errors(r.account).map((f) => f.check)).toEqual(['preferences-target']);
    expect(errors(row(r, A).findings)).toEqual([]);
    expect(errors(row(r, B).findings)).toEqual([]);
  });

  it('given settings that agree: an ok line; none given: nothing to compare', async () => {
    const r = await check({ bucket: BUCKET, cloudwatchLogs: true, logGroup: GROUP });
    expect(r.account.find((f) => f.check === 'preferences-target')).toMatchObject({ status: 'ok' });
    expect((await check()).account.find((f) => f.check === 'preferences-target')).toBeUndefined();
  });
});

describe('the operator side', () => {
  it('without ssmmessages:OpenDataChannel on its own sessions (StartSession succeeds, the session then fails): the operator is red', () =>
    expectSection({
      name: 'no data channel',
      breakIt: (w) => (w.simulate = refuse(USER_ARN, 'ssmmessages:OpenDataChannel')),
      section: 'operator',
      errors: [
        {
          check: 'operator',
          fix: /^ssm-setup run operator-policy --operator-access restricted --operator-users alice \(or grant ssmmessages:OpenDataChannel on arn:aws:ssm:eu-west-1:123456789012:session\/AIDAALICE-/,
          detail: /^opening the data channel of its own sessions \(ssmmessages:OpenDataChannel\): not allowed/,
        },
      ],
    }));

  it('a key policy the caller may not read leaves the key findings standing instead of one "could not read"', async () => {
    world.key!.policyUnreadable = true;
    const r = await check();
    expect(r.account.find((f) => f.check === 'key')).toMatchObject({ status: 'ok' });
    expect(r.account.find((f) => f.check === 'key-policy')).toMatchObject({ status: 'warning' });
    expect(errors(r.account)).toEqual([]);
  });
});
