// Issue 13 item 1: a CreateKey whose answer is lost must not make a second key. The fake KMS
// carries the call out and loses the answer; a client that retries (the SDK's default) sends it
// again, as the SDK would (test/helpers/lost-answer.ts), so these tests show what the code sends.
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsConsistency } from '../../../src/aws/retry.js';
import { kmsKeyStep } from '../../../src/steps/kms-key/index.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { fakeKms } from '../../helpers/fake-kms.js';
import { makeContext } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const ALIAS = 'alias/ssm-session-manager';
const OURS = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
let kms: ReturnType<typeof fakeKms>;
const timing = { ...kmsConsistency };

beforeEach(() => {
  kms = fakeKms(); // eventual consistency on: a new key is not listed, nor named, at once
  Object.assign(kmsConsistency, { timeoutMs: 1_000, delayMs: 0 });
});
afterEach(() => {
  kms.mock.restore();
  Object.assign(kmsConsistency, timing);
});

describe('kms-key: a CreateKey whose answer is lost', () => {
  it('makes one key, not two: CreateKey is sent without automatic retries, the key it made is found and gets the alias', async () => {
    kms.loseAnswerOnce(CreateKeyCommand);
    const io = new TestIo();
    const ctx = await makeContext({}, io);
    const { changes, outputs } = await converge(kmsKeyStep, ctx);
    expect(kinds(changes)).toEqual(['create-key', 'create-alias', 'enable-rotation']);
    const ours = kms.keysTagged(OURS);
    expect(ours).toHaveLength(1);
    expect(kms.attempts(CreateKeyCommand)).toBe(1);
    expect(kms.mock.commandCalls(CreateKeyCommand)[0]!.thisValue).toBe(ctx.aws.once(KMSClient));
    expect(kms.aliases.get(ALIAS)).toBe(ours[0]!.meta.KeyId);
    expect(ours[0]!.rotation).toBe(true);
    expect(outputs).toMatchObject({ kmsKeyId: ours[0]!.meta.KeyId, kmsKeyArn: ours[0]!.meta.Arn, kmsKeyChanged: true });
    expect(io.lines.some((l) => l.includes(ours[0]!.meta.KeyId!))).toBe(true);

    // Converged: the next plan is empty and a rerun writes nothing.
    const writes = kms.writes().length;
    expect((await planned(kmsKeyStep, await makeContext())).changes).toEqual([]);
    expect(kms.writes()).toHaveLength(writes);
  });

  it('a 500 after the key was made: the same, the key is adopted', async () => {
    kms.loseAnswerOnce(CreateKeyCommand, { as: '500' });
    await converge(kmsKeyStep, await makeContext());
    expect(kms.keysTagged(OURS)).toHaveLength(1);
    expect(kms.aliases.get(ALIAS)).toBe(kms.keysTagged(OURS)[0]!.meta.KeyId);
  });

  it('an ambiguous failure that made nothing: no key is found, CreateKey is sent once more, still without retries', async () => {
    kms.loseAnswerOnce(CreateKeyCommand, { carriedOut: false });
    await converge(kmsKeyStep, await makeContext());
    expect(kms.keysTagged(OURS)).toHaveLength(1);
    expect(kms.mock).toHaveReceivedCommandTimes(CreateKeyCommand, 2);
    expect(kms.attempts(CreateKeyCommand)).toBe(2);
    expect(kms.mock.commandCalls(CreateKeyCommand).every((c) => c.thisValue === kms.mock.commandCalls(CreateKeyCommand)[0]!.thisValue)).toBe(true);
  });

  it('two ambiguous failures and nothing found: LOST_ANSWER, no key, no alias; a rerun creates the key', async () => {
    kms.loseAnswerOnce(CreateKeyCommand, { carriedOut: false, times: 2 });
    await expect(converge(kmsKeyStep, await makeContext())).rejects.toMatchObject({ code: 'LOST_ANSWER', stepId: 'kms-key', call: 'KMS.CreateKey' });
    expect(kms.keys.size).toBe(0);
    expect(kms.mock).not.toHaveReceivedCommand(CreateAliasCommand);
    await converge(kmsKeyStep, await makeContext());
    expect(kms.keysTagged(OURS)).toHaveLength(1);
  });

  it('a second lost answer after the first found nothing: the second key is found and adopted, one key in all', async () => {
    kms.loseAnswerOnce(CreateKeyCommand, { carriedOut: false });
    kms.loseAnswerOnce(CreateKeyCommand);
    await converge(kmsKeyStep, await makeContext());
    expect(kms.keysTagged(OURS)).toHaveLength(1);
    expect(kms.aliases.get(ALIAS)).toBe(kms.keysTagged(OURS)[0]!.meta.KeyId);
  });

  it('a failure that is not ambiguous (a validation error) is passed on at once, with no search', async () => {
    kms.mock
      .on(CreateKeyCommand)
      .rejectsOnce(Object.assign(new Error('bad tag'), { name: 'TagException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(converge(kmsKeyStep, await makeContext())).rejects.toMatchObject({ name: 'TagException' });
    expect(kms.keys.size).toBe(0);
  });
});

describe('kms-key: a CreateAlias whose answer is lost', () => {
  beforeEach(() => {
    // KMS sees the new key at once here, so that the lost answer is the one of the CreateAlias that worked.
    kms.mock.restore();
    kms = fakeKms({ consistency: false });
  });

  it('the SDK retry meets AlreadyExists for an alias that now names our key: done', async () => {
    kms.loseAnswerOnce(CreateAliasCommand);
    const { outputs } = await converge(kmsKeyStep, await makeContext());
    expect(kms.aliases.get(ALIAS)).toBe(outputs?.kmsKeyId);
    expect(kms.key(ALIAS)!.rotation).toBe(true);
  });

  it('an alias that names another key is not ours to take: AlreadyExists is passed on', async () => {
    const other = kms.addKey();
    kms.mock.on(CreateAliasCommand).callsFakeOnce(async () => {
      kms.aliases.set(ALIAS, other); // another writer, between our read and our CreateAlias
      throw Object.assign(new Error('exists'), { name: 'AlreadyExistsException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    });
    await expect(converge(kmsKeyStep, await makeContext())).rejects.toMatchObject({ name: 'AlreadyExistsException' });
  });
});
