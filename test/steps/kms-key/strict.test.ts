import {
  CreateAliasCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  PutKeyPolicyCommand,
  TagResourceCommand,
  UnsupportedOperationException,
} from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsConsistency } from '../../../src/aws/retry.js';
import { LOGS_STATEMENT_SID } from '../../../src/policies/kms-key-policy.js';
import { parsePolicy } from '../../../src/policies/types.js';
import { kmsKeyStep } from '../../../src/steps/kms-key/index.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { applyPlanned, converge, kinds, planned } from '../../helpers/aws.js';
import { DEFAULT_KEY_POLICY, fakeKms } from '../../helpers/fake-kms.js';
import { ACCOUNT, makeContext, REGION, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

// Each rule of the strict fake is checked against the step here; index.test.ts has the basics.
const ALIAS = 'alias/ssm-session-manager';
const OURS = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
const PRIMARY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/mrk-1234abcd`;
let kms: ReturnType<typeof fakeKms>;
const timing = { ...kmsConsistency };

beforeEach(() => {
  kms = fakeKms();
  kmsConsistency.delayMs = 0;
});
afterEach(() => {
  kms.mock.restore();
  Object.assign(kmsConsistency, timing);
});

const adopt = (o: Parameters<typeof kms.addKey>[0] = {}) => {
  const id = kms.addKey({ rotation: false, ...o });
  kms.aliases.set(ALIAS, id);
  return id;
};

describe('kms-key: a new key is not visible at once (KMS eventual consistency)', () => {
  it('CreateAlias and EnableKeyRotation retry while KMS does not see the new key, saying so', async () => {
    const io = new TestIo();
    const { changes, outputs } = await converge(kmsKeyStep, await makeContext({}, io));
    expect(kinds(changes)).toEqual(['create-key', 'create-alias', 'enable-rotation']);
    // The first call naming the key got NotFoundException and was sent again.
    expect(kms.mock).toHaveReceivedCommandTimes(CreateAliasCommand, 2);
    expect(kms.mock).toHaveReceivedCommandTimes(EnableKeyRotationCommand, 1);
    expect(io.lines.filter((l) => l.includes('waiting for KMS'))).toHaveLength(1);
    expect(kms.key(ALIAS)!.rotation).toBe(true);
    expect(outputs?.kmsKeyChanged).toBe(true);
  });

  it('gives up within its budget: the NotFoundException reaches the runner', async () => {
    Object.assign(kmsConsistency, { timeoutMs: 0, delayMs: 1 });
    await expect(converge(kmsKeyStep, await makeContext())).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(kms.mock).toHaveReceivedCommandTimes(CreateAliasCommand, 1);
  });

  it('does not retry NotFoundException on a key it did not just create', async () => {
    const id = adopt();
    const ctx = await makeContext();
    const plan = await planned(kmsKeyStep, ctx);
    kms.keys.get(id)!.unseen = true; // as if KMS lost sight of it: the error is real here
    await expect(applyPlanned(kmsKeyStep, ctx, plan)).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(kms.mock).toHaveReceivedCommandTimes(EnableKeyRotationCommand, 1);
  });

  it('publishes kmsKeyChanged after a key-policy change, and not after a rotation change only', async () => {
    adopt({ rotation: true });
    expect((await converge(kmsKeyStep, await makeContext({ cloudwatchLogs: true }))).outputs?.kmsKeyChanged).toBe(true);
    kms.aliases.set(ALIAS, kms.addKey({ rotation: false }));
    expect((await converge(kmsKeyStep, await makeContext())).outputs).not.toHaveProperty('kmsKeyChanged');
  });
});

describe('kms-key: keys whose rotation KMS cannot turn on', () => {
  it.each([
    ['imported key material', { Origin: 'EXTERNAL' as const }, /imported/],
    ['a CloudHSM key store', { Origin: 'AWS_CLOUDHSM' as const, CustomKeyStoreId: 'cks-1234567890abcdef0' }, /custom key store \(cks-1234567890abcdef0\)/],
    ['an external key store', { Origin: 'EXTERNAL_KEY_STORE' as const, CustomKeyStoreId: 'cks-0fedcba987654321' }, /custom key store/],
    [
      'a multi-Region replica',
      { MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' as const, PrimaryKey: { Arn: PRIMARY_ARN, Region: 'us-east-1' } } },
      new RegExp(`primary key ${PRIMARY_ARN}`),
    ],
  ])('adopting a key with %s: no rotation change, a note that says why, and a rerun writes nothing', async (_what, meta, why) => {
    adopt(meta);
    const { changes, note } = await converge(kmsKeyStep, await makeContext());
    expect(changes).toEqual([]);
    expect(note).toMatch(why);
    expect(note).toMatch(/rotation/);
    expect(kms.writes()).toEqual([]);
  });

  it('a replica whose rotation status KMS will not give (UnsupportedOperationException): the read does not fail', async () => {
    adopt({ MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: PRIMARY_ARN, Region: 'us-east-1' } } });
    kms.mock.on(GetKeyRotationStatusCommand).rejects(new UnsupportedOperationException({ message: 'not valid for this operation', $metadata: {} }));
    const { changes, note } = await planned(kmsKeyStep, await makeContext());
    expect(changes).toEqual([]);
    expect(note).toContain(PRIMARY_ARN);
  });

  it('a multi-Region primary key does rotate: rotation is planned and turned on', async () => {
    adopt({
      MultiRegion: true,
      MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-1` } },
    });
    const { changes, note } = await converge(kmsKeyStep, await makeContext());
    expect(kinds(changes)).toEqual(['enable-rotation']);
    expect(note).toBeUndefined();
  });

  it('the fake refuses EnableKeyRotation for such keys, as KMS does', async () => {
    const id = adopt({ Origin: 'EXTERNAL' });
    await expect(
      testClients()
        .get(KMSClient)
        .send(new EnableKeyRotationCommand({ KeyId: id })),
    ).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
  });
});

describe('kms-key: request shapes KMS refuses', () => {
  it('adds the CloudWatch Logs statement to an existing key policy, keeping its other statements', async () => {
    // The caller is the Admin role the policy names: KMS's lockout check accepts the new policy.
    kms.mock.restore();
    kms = fakeKms({ caller: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice` });
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'Admins', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/Admin' }, Action: 'kms:*', Resource: '*' }],
    });
    kms.aliases.set(ALIAS, kms.addKey({ rotation: true, policy }));
    const { changes } = await converge(kmsKeyStep, await makeContext({ cloudwatchLogs: true }));
    expect(kinds(changes)).toEqual(['key-policy']);
    const put = parsePolicy(kms.mock.commandCalls(PutKeyPolicyCommand)[0]!.args[0].input.Policy)!;
    expect(put.Statement.map((s) => s.Sid)).toEqual(['Admins', LOGS_STATEMENT_SID]);
    const logs = put.Statement[1]!;
    expect(logs.Principal).toEqual({ Service: 'logs.eu-west-1.amazonaws.com' });
    expect(logs.Condition).toEqual({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:*` } });
    expect(kms.mock.commandCalls(PutKeyPolicyCommand)[0]!.args[0].input.PolicyName).toBe('default');
  });

  it('a key policy that would pass 32 KB with the CloudWatch Logs statement is refused in the plan, before any write', async () => {
    // Fill the policy to within 300 bytes of the limit: KMS takes it, but not with our statement (~450 bytes).
    const policy = JSON.parse(DEFAULT_KEY_POLICY) as { Statement: unknown[] };
    for (let i = 0; JSON.stringify(policy).length < 32 * 1024 - 300; i++) {
      policy.Statement.push({ Sid: `S${i}`, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/R${i}` }, Action: 'kms:Decrypt', Resource: '*' });
    }
    const text = JSON.stringify(policy);
    expect(text.length).toBeLessThan(32 * 1024);
    adopt({ rotation: true, policy: text });
    await expect(converge(kmsKeyStep, await makeContext({ cloudwatchLogs: true }))).rejects.toMatchObject({
      code: 'KEY_POLICY_DENIES_LOGS',
      stepId: 'kms-key',
    });
    expect(kms.writes()).toEqual([]);
  });

  it('--tags that leave no room for ManagedBy and the alias tag on the key (KMS allows 50): exit-2 error before any write', async () => {
    const tags = Array.from({ length: 49 }, (_, i) => `T${i}=v`);
    // Refused by the settings (load) or by the plan: either way before any write.
    await expect(makeContext({ tags }).then((ctx) => planned(kmsKeyStep, ctx))).rejects.toMatchObject({ code: 'INVALID_SETTINGS', name: 'UsageError' });
    expect(kms.writes()).toEqual([]);
  });

  it('48 --tags still fit: the key is created with 50', async () => {
    const tags = Array.from({ length: 48 }, (_, i) => `T${i}=v`);
    await converge(kmsKeyStep, await makeContext({ tags }));
    expect(Object.keys(kms.key(ALIAS)!.tags)).toHaveLength(50);
  });

  it('our key that already has other tags: the missing ones are refused when they would pass 50', async () => {
    const extra = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`Old${i}`, 'v']));
    adopt({ rotation: true, tags: { ...OURS, ...extra } });
    await expect(planned(kmsKeyStep, await makeContext({ tags: ['Team=infra'] }))).rejects.toMatchObject({ code: 'INVALID_SETTINGS' });
    expect(kms.mock).not.toHaveReceivedCommand(TagResourceCommand);
  });
});

describe('kms-key: pagination', () => {
  it('finds the orphan whose tags run onto a second ListResourceTags page (tags AWS sets do not count toward 50)', async () => {
    const aws = { 'aws:cloudformation:stack-name': 's', 'aws:cloudformation:stack-id': 'i', 'aws:cloudformation:logical-id': 'l' };
    const filler = Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`T${i}`, 'v']));
    const orphan = kms.addKey({ rotation: true, tags: { ...aws, ...filler, ...OURS } });
    const { changes } = await converge(kmsKeyStep, await makeContext());
    expect(kinds(changes)).toEqual(['create-alias']);
    expect(kms.mock).not.toHaveReceivedCommand(CreateKeyCommand);
    expect(kms.aliases.get(ALIAS)).toBe(orphan);
  });

  it('follows ListAliases and ListKeys pages when looking for the orphan, and in the wizard', async () => {
    kms.mock.restore();
    kms = fakeKms({ pageSize: 1 });
    for (let i = 0; i < 3; i++) kms.aliases.set(`alias/team-${i}`, kms.addKey());
    const orphan = kms.addKey({ rotation: true, tags: OURS });
    expect(kinds((await planned(kmsKeyStep, await makeContext())).changes)).toEqual(['create-alias']);
    expect((await planned(kmsKeyStep, await makeContext())).state).toMatchObject({ kind: 'orphan', key: { id: orphan } });
    const io = new TestIo({ 'kms-key.alias': 'alias/team-2' });
    expect(await kmsKeyStep.ask!(await makeContext({}, io))).toEqual({ keyAlias: 'alias/team-2' });
  });
});

describe('the strict fake KMS', () => {
  const kmsClient = () => testClients().get(KMSClient);

  it.each([
    ['not JSON', '{"Version":'],
    ['over 32 KB', JSON.stringify({ ...JSON.parse(DEFAULT_KEY_POLICY), Id: 'x'.repeat(33 * 1024) })],
    [
      'a policy that locks the caller out',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Other` }, Action: 'kms:*', Resource: '*' }],
      }),
    ],
  ])('PutKeyPolicy and CreateKey refuse %s', async (_what, Policy) => {
    const id = adopt();
    await expect(kmsClient().send(new PutKeyPolicyCommand({ KeyId: id, PolicyName: 'default', Policy }))).rejects.toThrow();
    await expect(kmsClient().send(new CreateKeyCommand({ Policy }))).rejects.toThrow();
    expect(kms.keys.get(id)!.policy).toBe(DEFAULT_KEY_POLICY);
    expect(kms.keys.size).toBe(1);
  });

  it('the lockout check names MalformedPolicyDocumentException, and is skipped with BypassPolicyLockoutSafetyCheck', async () => {
    const id = adopt();
    const Policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    await expect(kmsClient().send(new PutKeyPolicyCommand({ KeyId: id, Policy }))).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    await kmsClient().send(new PutKeyPolicyCommand({ KeyId: id, Policy, BypassPolicyLockoutSafetyCheck: true }));
  });

  it.each([
    ['an aws: tag', [{ TagKey: 'aws:owner', TagValue: 'x' }]],
    ['a 51st tag', Array.from({ length: 51 }, (_, i) => ({ TagKey: `K${i}`, TagValue: 'v' }))],
  ])('TagResource and CreateKey refuse %s with TagException', async (_what, Tags) => {
    const id = adopt();
    await expect(kmsClient().send(new TagResourceCommand({ KeyId: id, Tags }))).rejects.toMatchObject({ name: 'TagException' });
    await expect(kmsClient().send(new CreateKeyCommand({ Tags }))).rejects.toMatchObject({ name: 'TagException' });
  });

  it('knows only the policy named default', async () => {
    const id = adopt();
    await expect(kmsClient().send(new GetKeyPolicyCommand({ KeyId: id, PolicyName: 'other' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(kmsClient().send(new PutKeyPolicyCommand({ KeyId: id, PolicyName: 'other', Policy: DEFAULT_KEY_POLICY }))).rejects.toMatchObject({
      name: 'NotFoundException',
    });
  });
});
