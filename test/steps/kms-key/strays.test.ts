// Issue 13 item 1, the rerun: a key that a lost CreateKey answer left without its alias (the SDK's
// retry made a second key, which got the alias) is found, and its deletion is planned when
// nothing of the setup names it; kept, with the reason in the note, when something does or
// when that cannot be made sure. The whole account is faked: the bucket, the log group and the
// preferences are read to make sure.
import { ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsConsistency } from '../../../src/aws/retry.js';
import { PREFERENCES_DOCUMENT } from '../../../src/policies/preferences-document.js';
import { kmsKeyStep } from '../../../src/steps/kms-key/index.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeAccount, fakeAccount } from '../../helpers/fake-account.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';

const ALIAS = 'alias/ssm-session-manager';
const OURS = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const GROUP = '/aws/ssm/session-logs';
let account: FakeAccount;
const timing = { ...kmsConsistency };

beforeEach(() => {
  account = fakeAccount();
  kmsConsistency.delayMs = 0;
});
afterEach(() => {
  account.restore();
  Object.assign(kmsConsistency, timing);
});

/** The state the lost answer left: our first key without an alias, our second key behind it. */
function twoKeys(): { stray: string; kept: string } {
  const stray = account.kms.addKey({ tags: OURS, rotation: true });
  const kept = account.kms.addKey({ tags: OURS, rotation: true });
  account.kms.aliases.set(ALIAS, kept);
  return { stray, kept };
}
const arnOf = (id: string) => account.kms.key(id)!.meta.Arn!;
const kmsRule = (KMSMasterKeyID: string) => ({
  ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID },
  BucketKeyEnabled: true,
});

describe('kms-key: a key left without its alias by a lost CreateKey answer', () => {
  it('a rerun plans its deletion (30 days), says why, schedules it, and then plans nothing', async () => {
    const { stray, kept } = twoKeys();
    account.s3.addBucket(BUCKET, { encryption: kmsRule(arnOf(kept)) });
    const { changes } = await converge(kmsKeyStep, await makeContext());
    expect(kinds(changes)).toEqual(['delete-stray']);
    expect(changes[0]).toMatchObject({ action: 'delete', subject: stray, resource: `KMS key ${stray}` });
    expect(changes[0]!.detail).toContain('30 days');
    expect(changes[0]!.detail).toContain('lost CreateKey answer');
    expect(changes[0]!.risk).toBeUndefined();
    expect(account.kms.mock).toHaveReceivedCommandWith(ScheduleKeyDeletionCommand, { KeyId: stray, PendingWindowInDays: 30 });
    expect(account.kms.key(stray)!.meta.KeyState).toBe('PendingDeletion');
    expect(account.kms.key(kept)!.meta.KeyState).toBe('Enabled');

    const writes = account.writes().length;
    const again = await planned(kmsKeyStep, await makeContext());
    expect(again.changes).toEqual([]);
    expect(again.note).toBeUndefined();
    expect(account.writes()).toHaveLength(writes);
  });

  it('a lost ScheduleKeyDeletion answer: the retry meets KMSInvalidState for a key now pending deletion, which is done', async () => {
    const { stray } = twoKeys();
    account.kms.loseAnswerOnce(ScheduleKeyDeletionCommand);
    await converge(kmsKeyStep, await makeContext());
    expect(account.kms.key(stray)!.meta.KeyState).toBe('PendingDeletion');
  });

  it.each([
    [
      'the bucket encryption',
      () => account.s3.addBucket(BUCKET, { encryption: kmsRule(arnOf(account.kms.keysTagged(OURS)[0]!.meta.KeyId!)) }),
      `bucket ${BUCKET}`,
    ],
    ['the log group', () => account.logs.addGroup(GROUP, { kmsKeyId: arnOf(account.kms.keysTagged(OURS)[0]!.meta.KeyId!) }), `log group ${GROUP}`],
    [
      'the preferences',
      () => account.ssm.seed(PREFERENCES_DOCUMENT, [{ schemaVersion: '1.0', inputs: { kmsKeyId: account.kms.keysTagged(OURS)[0]!.meta.KeyId } }]),
      'the Session Manager preferences',
    ],
  ])('kept when %s names it: no deletion, the note says what uses it', async (_what, seed, user) => {
    const { stray } = twoKeys();
    seed();
    const { changes, note } = await planned(kmsKeyStep, await makeContext());
    expect(changes).toEqual([]);
    expect(note).toContain(stray);
    expect(note).toContain(user);
  });

  it('kept when a read to make sure fails (the bucket encryption denied): the note says so, with the command to remove it', async () => {
    account.restore();
    account = fakeAccount({ s3: { deny: ['s3:GetEncryptionConfiguration'] } });
    const { stray } = twoKeys();
    const { changes, note } = await planned(kmsKeyStep, await makeContext());
    expect(changes).toEqual([]);
    expect(note).toContain(stray);
    expect(note).toContain('could not be made sure');
    expect(note).toContain(`aws kms schedule-key-deletion --key-id ${stray}`);
  });

  it('not when the alias names a key ssm-setup did not create: no alias-less key is looked at', async () => {
    const stray = account.kms.addKey({ tags: OURS });
    account.kms.aliases.set(ALIAS, account.kms.addKey({ rotation: true }));
    const { changes } = await planned(kmsKeyStep, await makeContext());
    expect(changes).toEqual([]);
    expect(account.kms.key(stray)!.meta.KeyState).toBe('Enabled');
    // The key lists go out with DescribeKey (one round trip for our own key); the tags of the
    // alias-less key are never read: only the aliased key's.
    expect(account.calls().filter((c) => c === 'KMS.ListResourceTags')).toHaveLength(1);
  });

  it('only our keys for this alias that are Enabled: a disabled one, another alias’s, someone else’s are left alone', async () => {
    twoKeys();
    account.kms.keysTagged(OURS)[0]!.meta.KeyState = 'Disabled';
    account.kms.addKey({ tags: { ...OURS, [ALIAS_TAG]: 'alias/other' } });
    account.kms.addKey({ tags: { ...OURS, ManagedBy: 'someone' } });
    expect((await planned(kmsKeyStep, await makeContext())).changes).toEqual([]);
  });

  it('no alias at all and two of our keys: the first gets the alias, the other’s deletion is planned, in one run', async () => {
    const first = account.kms.addKey({ tags: OURS, rotation: true });
    const second = account.kms.addKey({ tags: OURS, rotation: true });
    const { changes } = await converge(kmsKeyStep, await makeContext());
    expect(kinds(changes)).toEqual(['create-alias', 'delete-stray']);
    expect(account.kms.aliases.get(ALIAS)).toBe(first);
    expect(account.kms.key(second)!.meta.KeyState).toBe('PendingDeletion');
    expect((await planned(kmsKeyStep, await makeContext())).changes).toEqual([]);
  });

  it('`run log-group` reads kms-key only for its ARN: no search for strays', async () => {
    twoKeys();
    const ctx = { ...(await makeContext()), selected: new Set(['log-group']) };
    await kmsKeyStep.read(ctx);
    expect(account.calls()).not.toContain('KMS.ListKeys');
  });
});
