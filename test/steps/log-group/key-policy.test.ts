import { AssociateKmsKeyCommand, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kmsConsistency } from '../../../src/aws/retry.js';
import type { StepContext } from '../../../src/core/step.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { LOGS_STATEMENT_SID, sessionKeyPolicy } from '../../../src/policies/kms-key-policy.js';
import { parsePolicy } from '../../../src/policies/types.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { logGroupStep } from '../../../src/steps/log-group/index.js';
import { converge, kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { DEFAULT_KEY_POLICY, type FakeKms, fakeKms } from '../../helpers/fake-kms.js';
import { type FakeLogs, fakeLogs } from '../../helpers/fake-logs.js';
import { ACCOUNT, makeContext, REGION, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

// The key policy must admit logs.<region> before a log group uses the key, whichever steps run
// (fault 1), and CloudWatch Logs may not see a key change at once (fault 2).
const GROUP = '/aws/ssm/session-logs';
const ALIAS = 'alias/ssm-session-manager';
const ours = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
let kms: FakeKms;
let logs: FakeLogs;
let sts: ReturnType<typeof mockIdentity>;
const timing = { ...kmsConsistency };

beforeEach(() => {
  kms = fakeKms();
  logs = fakeLogs(kms);
  sts = mockIdentity();
  kmsConsistency.delayMs = 0;
});
afterEach(() => {
  logs.mock.restore();
  kms.mock.restore();
  sts.restore();
  Object.assign(kmsConsistency, timing);
});

/** The session key as `run kms-key` made it without --cloudwatch-logs. */
function keyWithoutLogs(policy = JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: false }))) {
  const id = kms.addKey({ rotation: true, tags: ours, policy });
  kms.aliases.set(ALIAS, id);
  return kms.keys.get(id)!;
}

const run = async (ids: string[], mode: 'plan' | 'apply' = 'apply') => {
  const io = new TestIo({ 'runner.apply': true });
  const { report } = await runSteps({
    command: 'run',
    mode,
    selected: STEPS.filter((e) => ids.includes(e.id)),
    catalog: STEPS,
    loaded: await settingsFrom({ cloudwatchLogs: true }),
    aws: testClients(),
    io,
  });
  return { report, io };
};
const writes = () => [...kms.writes(), ...logs.writes()];
const stepContext = async (over: Partial<StepContext> = {}): Promise<StepContext> => {
  const key = kms.key(ALIAS)!;
  return { ...(await makeContext({ cloudwatchLogs: true })), outputs: { kmsKeyId: key.meta.KeyId, kmsKeyArn: key.meta.Arn, kmsKeyAlias: ALIAS }, ...over };
};

describe('run log-group on a key made without CloudWatch Logs (kms-key only read)', () => {
  it('plans the key-policy change first, applies it before CreateLogGroup, and a rerun writes nothing', async () => {
    const key = keyWithoutLogs();
    const { report, io } = await run(['log-group']);
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
    expect(report.steps[0]!.changes.map((c) => c.resource)).toEqual([`key policy of ${ALIAS}`, `log group ${GROUP}`]);
    // Read once, by log-group: kms-key, only read for its ARN, does not read it.
    expect(kms.mock).toHaveReceivedCommandTimes(GetKeyPolicyCommand, 1);
    expect(writes().filter((w) => w !== 'CreateLogGroupCommand')).toEqual(['PutKeyPolicyCommand', 'PutRetentionPolicyCommand']);
    expect(kms.mock.commandCalls(PutKeyPolicyCommand)[0]!.calledBefore(logs.mock.commandCalls(CreateLogGroupCommand)[0]!)).toBe(true);
    // The policy just changed: CloudWatch Logs refused the key once, and the call was retried.
    expect(logs.mock).toHaveReceivedCommandTimes(CreateLogGroupCommand, 2);
    expect(io.lines.some((l) => l.includes('waiting for CloudWatch Logs'))).toBe(true);
    const policy = parsePolicy(key.policy)!;
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['EnableIamUserPermissions', LOGS_STATEMENT_SID]);
    expect(logs.groups.get(GROUP)!.kmsKeyId).toBe(key.meta.Arn);

    const before = writes().length;
    const again = await run(['log-group']);
    expect(again.report.steps[0]!.changes).toEqual([]);
    expect(writes()).toHaveLength(before);
  });

  it('an existing unencrypted group: key policy, then AssociateKmsKey', async () => {
    const key = keyWithoutLogs(DEFAULT_KEY_POLICY);
    logs.addGroup(GROUP, { retentionDays: 365 });
    const { state, changes } = await converge(logGroupStep, await stepContext());
    expect(kinds(changes)).toEqual(['key-policy', 'encrypt']);
    expect(state.keyPolicy).toBeDefined();
    expect(kms.mock).toHaveReceivedCommandWith(GetKeyPolicyCommand, { KeyId: key.meta.Arn, PolicyName: 'default' });
    expect(kms.mock).toHaveReceivedCommandWith(PutKeyPolicyCommand, { KeyId: key.meta.Arn, PolicyName: 'default' });
    expect(logs.mock).toHaveReceivedCommandTimes(AssociateKmsKeyCommand, 2);
    expect(kms.mock.commandCalls(PutKeyPolicyCommand)[0]!.calledBefore(logs.mock.commandCalls(AssociateKmsKeyCommand)[0]!)).toBe(true);
    expect(logs.groups.get(GROUP)!.kmsKeyId).toBe(key.meta.Arn);
  });

  it('keeps the statements of an adopted key policy, and adds only ours', async () => {
    const admins = { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' };
    const key = keyWithoutLogs(JSON.stringify({ Version: '2012-10-17', Id: 'team', Statement: [admins] }));
    await converge(logGroupStep, await stepContext());
    expect(parsePolicy(key.policy)).toEqual({ Version: '2012-10-17', Id: 'team', Statement: [admins, expect.objectContaining({ Sid: LOGS_STATEMENT_SID })] });
  });

  it('a key policy that already admits CloudWatch Logs: no key-policy change, no PutKeyPolicy', async () => {
    kms.aliases.set(
      ALIAS,
      kms.addKey({ rotation: true, policy: JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true })) }),
    );
    const { changes } = await converge(logGroupStep, await stepContext());
    expect(kinds(changes)).toEqual(['create-group']);
    expect(kms.mock).not.toHaveReceivedCommand(PutKeyPolicyCommand);
    // Nothing changed the key here: CloudWatch Logs was asked once.
    expect(logs.mock).toHaveReceivedCommandTimes(CreateLogGroupCommand, 1);
  });

  it('a key policy that denies CloudWatch Logs: KEY_POLICY_DENIES_LOGS with the key-policy fix, after a bounded wait', async () => {
    const deny = { Sid: 'NoLogs', Effect: 'Deny', Principal: { Service: `logs.${REGION}.amazonaws.com` }, Action: 'kms:*', Resource: '*' };
    const policy = JSON.parse(DEFAULT_KEY_POLICY) as { Statement: unknown[] };
    policy.Statement.push(deny);
    keyWithoutLogs(JSON.stringify(policy));
    Object.assign(kmsConsistency, { timeoutMs: 50, delayMs: 5 });
    const { report } = await run(['log-group']);
    expect(report.ok).toBe(false);
    expect(report.steps[0]!.error?.code).toBe('KEY_POLICY_DENIES_LOGS');
    expect(report.steps[0]!.error?.hint).toContain('ssm-setup run kms-key --cloudwatch-logs');
    expect(logs.groups.has(GROUP)).toBe(false);
  });
});

describe('kms-key in the same run owns the key policy', () => {
  it('log-group reads no key policy and plans no key-policy change', async () => {
    keyWithoutLogs();
    const ctx = await stepContext({ selected: new Set(['kms-key', 'log-group']) });
    const { state, changes } = await planned(logGroupStep, ctx);
    expect(state.keyPolicy).toBeUndefined();
    expect(kinds(changes)).toEqual(['create-group']);
    expect(kms.mock).not.toHaveReceivedCommand(GetKeyPolicyCommand);
  });

  it('kms-key adds the statement; log-group retries while CloudWatch Logs catches up (kmsKeyChanged)', async () => {
    keyWithoutLogs();
    const { report } = await run(['kms-key', 'log-group']);
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
    expect(report.steps.map((s) => s.changes.map((c) => c.resource))).toEqual([[`key policy of ${ALIAS}`], [`log group ${GROUP}`]]);
    expect(kms.mock).toHaveReceivedCommandTimes(PutKeyPolicyCommand, 1);
    expect(logs.mock).toHaveReceivedCommandTimes(CreateLogGroupCommand, 2);
    const before = writes().length;
    expect((await run(['kms-key', 'log-group'])).report.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(writes()).toHaveLength(before);
  });

  it('from nothing: a new key (seen late by KMS and by CloudWatch Logs) and its log group in one run', async () => {
    const { report } = await run(['kms-key', 'log-group']);
    expect(report.ok, JSON.stringify(report.steps)).toBe(true);
    const key = kms.key(ALIAS)!;
    expect(logs.groups.get(GROUP)!.kmsKeyId).toBe(key.meta.Arn);
    expect(parsePolicy(key.policy)!.Statement.map((s) => s.Sid)).toContain(LOGS_STATEMENT_SID);
  });

  it('without a key change in this run, a refusal of the key is not waited on', async () => {
    const key = keyWithoutLogs();
    const ctx = await stepContext({ selected: new Set(['kms-key', 'log-group']) });
    const error = await converge(logGroupStep, ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AccessDeniedException' });
    expect(logs.mock).toHaveReceivedCommandTimes(CreateLogGroupCommand, 1);
    expect(key.policy).not.toContain(LOGS_STATEMENT_SID);
  });
});
