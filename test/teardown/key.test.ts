import type { ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consistency } from '../../src/aws/retry.js';
import type { StepContext } from '../../src/core/step.js';
import { PREFERENCES_DOCUMENT as Name } from '../../src/policies/preferences-document.js';
import { preferencesStep } from '../../src/steps/preferences/index.js';
import { converge } from '../helpers/aws.js';
import { ACCOUNT, makeContext, REGION } from '../helpers/fixtures.js';
import { readAll, type TeardownAccount, teardownAccount, teardownContext } from './fake-teardown.js';

const OURS = { ManagedBy: 'ssm-setup' };
const ALIAS = 'alias/ssm-session-manager';
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const GROUP = '/aws/ssm/session-logs';

let account: TeardownAccount;
let keyArn: string;
const timing = { ...consistency };
beforeEach(() => {
  account = teardownAccount();
  consistency.delayMs = 0;
  const id = account.kms.addKey({ tags: OURS, rotation: true });
  account.kms.aliases.set(ALIAS, id);
  keyArn = account.kms.keys.get(id)!.meta.Arn!;
});
afterEach(() => {
  account.restore();
  Object.assign(consistency, timing);
});

const sse = (KMSMasterKeyID: string): ServerSideEncryptionRule => ({
  ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID },
  BucketKeyEnabled: true,
});
/** destroy --delete-logs --cloudwatch-logs: the key's removal (or undefined) and why it was kept. */
async function keyTeardown() {
  const { removals, kept } = await readAll(await teardownContext({ cloudwatchLogs: true }, { deleteLogs: true }));
  return { removal: removals.find((r) => r.step === 'kms-key'), kept: kept.filter((k) => k.step === 'kms-key'), removals };
}
async function preferencesRun() {
  const ctx: StepContext = await makeContext();
  Object.assign(ctx.outputs, { kmsKeyArn: keyArn, bucketName: BUCKET });
  await converge(preferencesStep, ctx);
}

describe('destroy without --delete-logs', () => {
  it('names what stays of the audit trail, only what exists: nothing about a log group there is not', async () => {
    account.s3.addBucket(BUCKET, { tags: OURS, encryption: sse(keyArn) });
    const { removals, kept } = await readAll(await teardownContext({ cloudwatchLogs: true }, { deleteLogs: false }));
    expect(removals.filter((r) => ['kms-key', 'log-bucket', 'log-group'].includes(r.step))).toEqual([]);
    expect(kept.filter((k) => ['kms-key', 'log-bucket', 'log-group'].includes(k.step))).toEqual([
      { step: 'kms-key', resource: `KMS key ${ALIAS}`, why: expect.stringContaining('--delete-logs') },
      { step: 'log-bucket', resource: expect.stringContaining(BUCKET), why: expect.stringContaining('--delete-logs') },
    ]);
    account.logs.addGroup(GROUP, { kmsKeyId: keyArn, tags: OURS });
    const again = await readAll(await teardownContext({ cloudwatchLogs: true }, { deleteLogs: false }));
    expect(again.kept.map((k) => k.step)).toContain('log-group');
  });
});

describe('destroy --delete-logs never schedules the deletion of a key something still names', () => {
  it('an adopted bucket whose default encryption names the key (by ARN or alias): the key stays, and the plan says which bucket', async () => {
    for (const ref of [keyArn, ALIAS]) {
      account.s3.addBucket(BUCKET, { encryption: sse(ref) });
      const { removal, kept, removals } = await keyTeardown();
      expect(removal).toBeUndefined();
      expect(removals.some((r) => r.step === 'log-bucket')).toBe(false);
      expect(kept).toEqual([{ step: 'kms-key', resource: `KMS key ${ALIAS}`, why: expect.stringContaining(BUCKET) }]);
    }
  });

  it('our bucket and our log group go with it: the key is scheduled for deletion, after them', async () => {
    account.s3.addBucket(BUCKET, { tags: OURS, encryption: sse(keyArn) });
    account.logs.addGroup(GROUP, { kmsKeyId: keyArn, tags: OURS });
    const { removal, removals } = await keyTeardown();
    expect(removal).toBeDefined();
    expect(removals.map((r) => r.step)).toEqual(['log-group', 'log-bucket', 'kms-key']);
    const outcomes = [];
    for (const r of removals) outcomes.push(await r.run());
    const key = account.kms.keys.get('key-1')!.meta;
    expect(key.KeyState).toBe('PendingDeletion');
    expect(account.kms.aliases.has(ALIAS)).toBe(false);
    // The summary says when, with the real id and the date KMS answered, and how to undo it (not "removed").
    const day = key.DeletionDate!.toISOString().slice(0, 10);
    expect(outcomes).toEqual([
      undefined,
      undefined,
      { scheduled: `key ${key.KeyId} scheduled for deletion on ${day}; undo with aws kms cancel-key-deletion --key-id ${key.KeyId}` },
    ]);
    expect((await keyTeardown()).removals).toEqual([]);
  });

  it('a destroy stopped after scheduling the key: the rerun removes the alias left behind', async () => {
    const key = account.kms.keys.get('key-1')!;
    const DeletionDate = new Date(Date.UTC(2031, 4, 6));
    key.meta = { ...key.meta, KeyState: 'PendingDeletion', Enabled: false, DeletionDate };
    const { removals } = await keyTeardown();
    expect(removals.map((r) => [r.step, r.action, r.typed])).toEqual([['kms-key', 'delete', undefined]]);
    expect(await removals[0]!.run()).toEqual({ scheduled: expect.stringContaining(`key ${key.meta.KeyId} scheduled for deletion on 2031-05-06;`) });
    expect(account.kms.aliases.has(ALIAS)).toBe(false);
    expect((await keyTeardown()).removals).toEqual([]);
  });

  it('an adopted log group, or any other group of the region (past the first page), encrypted with the key: it stays', async () => {
    for (let i = 0; i < 120; i++) account.logs.addGroup(`/app/${String(i).padStart(3, '0')}`);
    account.logs.addGroup('/zz/audit', { kmsKeyId: keyArn });
    account.logs.addGroup(GROUP, { kmsKeyId: keyArn, tags: OURS });
    const { removal, kept, removals } = await keyTeardown();
    expect(removal).toBeUndefined();
    expect(removals.map((r) => r.step)).toEqual(['log-group']);
    expect(kept[0]?.why).toContain('/zz/audit');
    expect(kept[0]?.why).not.toContain(GROUP);
  });

  it('preferences that stay and name the key keep it; preferences destroy deletes do not', async () => {
    await preferencesRun();
    expect((await keyTeardown()).removal).toBeDefined();
    const mine = account.ssm.content(Name);
    const theirs = account.ssm.addVersion(Name, { ...mine, description: 'edited in the console', inputs: { ...mine.inputs, idleSessionTimeout: '45' } });
    account.ssm.setDefault(Name, Number(theirs));
    const { removal, kept } = await keyTeardown();
    expect(removal).toBeUndefined();
    expect(kept[0]?.why).toContain(Name);
  });
});
