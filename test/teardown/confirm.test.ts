import type { ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/base/errors.js';
import { confirmTeardown } from '../../src/teardown/index.js';
import { ACCOUNT, REGION } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';
import { readAll, type TeardownAccount, teardownAccount, teardownContext } from './fake-teardown.js';

const OURS = { ManagedBy: 'ssm-setup' };
const ALIAS = 'alias/ssm-session-manager';
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const GROUP = '/aws/ssm/session-logs';

let account: TeardownAccount;
let keyArn: string;
beforeEach(() => {
  account = teardownAccount();
  const id = account.kms.addKey({ tags: OURS });
  account.kms.aliases.set(ALIAS, id);
  keyArn = account.kms.keys.get(id)!.meta.Arn!;
  account.logs.addGroup(GROUP, { kmsKeyId: keyArn, tags: OURS });
});
afterEach(() => account.restore());

const sse = (KMSMasterKeyID: string): ServerSideEncryptionRule => ({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID } });
/** destroy --delete-logs --cloudwatch-logs, read, then confirmed through `io`. */
async function confirmWith(io: TestIo, yes = false) {
  const { removals } = await readAll(await teardownContext({ cloudwatchLogs: true }, { deleteLogs: true }));
  await confirmTeardown(io, removals, { yes });
  return removals;
}

describe('destroy --delete-logs: the operator types the names of what goes for good', () => {
  it('the bucket’s name for the session logs (the log group with them), then the key’s alias', async () => {
    account.s3.addBucket(BUCKET, { tags: OURS, encryption: sse(keyArn) });
    const io = new TestIo({ 'destroy.confirm': true, 'destroy.confirm-bucket-name': BUCKET, 'destroy.confirm-key-alias': ALIAS });
    await confirmWith(io);
    expect(io.prompts).toEqual(['destroy.confirm', 'destroy.confirm-bucket-name', 'destroy.confirm-key-alias']);
  });

  it('another name is refused; an empty one declines it all (DECLINED)', async () => {
    account.s3.addBucket(BUCKET, { tags: OURS, encryption: sse(keyArn) });
    await expect(confirmWith(new TestIo({ 'destroy.confirm': true, 'destroy.confirm-bucket-name': 'ssm-session-logs' }))).rejects.toThrow(/rejected/);
    const io = new TestIo({ 'destroy.confirm': true, 'destroy.confirm-bucket-name': BUCKET, 'destroy.confirm-key-alias': '' });
    const error = await confirmWith(io).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error).toMatchObject({ code: 'DECLINED' });
  });

  it('an adopted bucket names the key: the log group is typed by its own name, and the key is not asked about (it stays)', async () => {
    account.s3.addBucket(BUCKET, { encryption: sse(keyArn) });
    const io = new TestIo({ 'destroy.confirm': true, 'destroy.confirm-log-group-name': GROUP });
    const removals = await confirmWith(io);
    expect(io.prompts).toEqual(['destroy.confirm', 'destroy.confirm-log-group-name']);
    expect(removals.map((r) => r.step)).toEqual(['log-group']);
  });

  it('--yes (with --force): one confirmation, nothing typed', async () => {
    account.s3.addBucket(BUCKET, { tags: OURS, encryption: sse(keyArn) });
    const io = new TestIo({ 'destroy.confirm': true }, { interactive: false });
    await confirmWith(io, true);
    expect(io.prompts).toEqual(['destroy.confirm']);
  });
});
