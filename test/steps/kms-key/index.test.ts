import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand, ListAliasesCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsConsistency } from '../../../src/aws/retry.js';
import { StepError } from '../../../src/base/errors.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { ROOT_STATEMENT_SID } from '../../../src/policies/kms-key-policy.js';
import { parsePolicy } from '../../../src/policies/types.js';
import { kmsKeyStep } from '../../../src/steps/kms-key/index.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { converge, kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { fakeKms } from '../../helpers/fake-kms.js';
import { ACCOUNT, makeContext, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const ALIAS = 'alias/ssm-session-manager';
const OURS = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
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

const run = async (flags: Record<string, unknown> = {}) => converge(kmsKeyStep, await makeContext(flags));
const planOnly = async (flags: Record<string, unknown> = {}) => (await planned(kmsKeyStep, await makeContext(flags))).changes;

describe('kms-key', () => {
  it('creates key, alias and rotation when nothing exists, tagged and with a root-controlled policy', async () => {
    const { changes, outputs } = await run({ tags: ['Team=infra'] });
    expect(kinds(changes)).toEqual(['create-key', 'create-alias', 'enable-rotation']);
    expect(kms.mock).toHaveReceivedCommandTimes(CreateKeyCommand, 1);
    const create = kms.mock.commandCalls(CreateKeyCommand)[0]!.args[0].input;
    expect(create.KeySpec).toBe('SYMMETRIC_DEFAULT');
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        { TagKey: 'ManagedBy', TagValue: 'ssm-setup' },
        { TagKey: 'Team', TagValue: 'infra' },
        { TagKey: ALIAS_TAG, TagValue: ALIAS },
      ]),
    );
    const policy = parsePolicy(create.Policy)!;
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Sid: ROOT_STATEMENT_SID, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*' }),
    ]);
    const keyId = outputs!.kmsKeyId!;
    expect(kms.mock).toHaveReceivedCommandWith(CreateAliasCommand, { AliasName: ALIAS, TargetKeyId: keyId });
    // EnableKeyRotation takes a key id, never the alias.
    expect(kms.mock).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: keyId });
    // kmsKeyChanged: the log group made right after retries while KMS catches up.
    expect(outputs).toEqual({ kmsKeyId: keyId, kmsKeyArn: expect.stringContaining(`:key/${keyId}`), kmsKeyAlias: ALIAS, kmsKeyChanged: true });
  });

  it('is idempotent: after apply the next plan is empty and a second run writes nothing', async () => {
    await run({ cloudwatchLogs: true, tags: ['Team=infra'] });
    const before = kms.writes().length;
    expect(before).toBeGreaterThan(0);
    const second = await run({ cloudwatchLogs: true, tags: ['Team=infra'] });
    expect(second.changes).toEqual([]);
    expect(kms.writes()).toHaveLength(before);
    expect(second.outputs?.kmsKeyAlias).toBe(ALIAS);
  });

  it('adopts an existing key with rotation on and no changes, without claiming it with tags', async () => {
    const id = kms.addKey({ rotation: true, tags: { Owner: 'someone' } });
    kms.aliases.set(ALIAS, id);
    expect(await planOnly({ tags: ['Team=infra'] })).toEqual([]);
    expect(kms.writes()).toEqual([]);
  });

  it('enables rotation on an adopted key where it is off, and nothing else', async () => {
    const id = kms.addKey({ rotation: false });
    kms.aliases.set(ALIAS, id);
    const { changes } = await run();
    expect(changes).toEqual([expect.objectContaining({ kind: 'enable-rotation', action: 'update', detail: 'disabled → enabled (yearly)' })]);
    expect(kms.writes()).toEqual(['EnableKeyRotationCommand']);
    expect(kms.mock).toHaveReceivedCommandWith(EnableKeyRotationCommand, { KeyId: id });
  });

  it('finishes an interrupted run: aliases the orphan key it left instead of creating a second one', async () => {
    kms.addKey({ tags: { ...OURS, ManagedBy: 'other' } }); // someone else's alias-less key
    kms.addKey({ tags: { ...OURS, [ALIAS_TAG]: 'alias/another' } });
    const orphan = kms.addKey({ tags: OURS, rotation: false });
    const { changes, outputs } = await run();
    expect(kinds(changes)).toEqual(['create-alias', 'enable-rotation']);
    expect(changes[0]!.detail).toContain(orphan);
    expect(kms.mock).not.toHaveReceivedCommand(CreateKeyCommand);
    expect(kms.aliases.get(ALIAS)).toBe(orphan);
    expect(outputs?.kmsKeyId).toBe(orphan);
  });

  it('ignores an orphan that is pending deletion and creates a new key', async () => {
    kms.addKey({ tags: OURS, KeyState: 'PendingDeletion', Enabled: false });
    expect(kinds(await planOnly())).toEqual(['create-key', 'create-alias', 'enable-rotation']);
  });

  it.each([
    ['Disabled', 'KEY_DISABLED', 'aws kms enable-key --key-id'],
    ['PendingDeletion', 'KEY_PENDING_DELETION', 'aws kms cancel-key-deletion --key-id'],
    ['PendingImport', 'KEY_NOT_ENABLED', 'wait for the key'],
  ] as const)('refuses a %s key (%s) with the command that fixes it, and writes nothing', async (KeyState, code, fix) => {
    const id = kms.addKey({ KeyState, Enabled: false });
    kms.aliases.set(ALIAS, id);
    const error = await planOnly().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe(code);
    expect((error as StepError).hint).toContain(fix);
    expect((error as StepError).stepId).toBe('kms-key');
    expect(kms.writes()).toEqual([]);
  });

  it('refuses an asymmetric key behind the alias', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    await expect(planOnly()).rejects.toMatchObject({ code: 'KEY_NOT_SYMMETRIC', stepId: 'kms-key' });
  });

  it('reads the key policy only when a log group needs it', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ rotation: true }));
    await planOnly();
    expect(kms.mock.calls().map((c) => (c.args[0] as object).constructor.name)).not.toContain('GetKeyPolicyCommand');
  });

  it('converges the tags of a key it created, never removing others', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ rotation: true, tags: { ...OURS, Extra: 'kept' } }));
    const { changes } = await run({ tags: ['Team=infra'] });
    expect(changes).toEqual([expect.objectContaining({ kind: 'tag-key', detail: 'set Team=infra' })]);
    expect(kms.mock).toHaveReceivedCommandTimes(TagResourceCommand, 1);
    expect(kms.keys.get(kms.aliases.get(ALIAS)!)!.tags).toMatchObject({ Extra: 'kept', Team: 'infra' });
  });

  it('passes AccessDenied through to the runner as a failed step with a permissions hint', async () => {
    // The alias list is the first read of a planned kms-key (it tells whether the alias exists).
    kms.mock.on(ListAliasesCommand).rejects({ name: 'AccessDeniedException', message: 'User is not authorized to perform: kms:ListAliases' });
    const sts = mockIdentity();
    const io = new TestIo();
    const { report } = await runSteps({
      command: 'run',
      mode: 'apply',
      selected: STEPS.slice(0, 1),
      catalog: STEPS,
      loaded: await settingsFrom(),
      aws: testClients(),
      io,
    });
    sts.restore();
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ id: 'kms-key', status: 'failed' });
    expect(report.steps[0]!.error?.code).toBe('ACCESS_DENIED');
    expect(report.steps[0]!.error!.hint).toContain('IAM permissions');
    expect(io.prompts).toEqual([]);
    expect(kms.writes()).toEqual([]);
  });
});

describe('kms-key wizard', () => {
  it('offers existing aliases beside creating the default, and answers by prompt id', async () => {
    kms.aliases.set('alias/team-key', kms.addKey());
    const io = new TestIo({ 'kms-key.alias': 'alias/team-key' });
    const ctx = await makeContext({}, io);
    expect(await kmsKeyStep.ask!(ctx)).toEqual({ keyAlias: 'alias/team-key' });
    expect(io.prompts).toEqual(['kms-key.alias']);
  });

  it('asks for a new alias name and validates it', async () => {
    const io = new TestIo({ 'kms-key.alias': '\u0000other', 'kms-key.alias-name': 'alias/aws/nope' });
    await expect(kmsKeyStep.ask!(await makeContext({}, io))).rejects.toThrow(/alias\/aws\//);
  });

  it('does not ask when --key-alias was given', async () => {
    const io = new TestIo({});
    expect(await kmsKeyStep.ask!(await makeContext({ keyAlias: 'alias/given' }, io))).toEqual({});
    expect(io.prompts).toEqual([]);
  });
});
