import {
  AssociateKmsKeyCommand,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  type LogGroup,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { StepError } from '../../../src/base/errors.js';
import type { SelectRequest } from '../../../src/core/io.js';
import type { StepContext } from '../../../src/core/step.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { sessionKeyPolicy } from '../../../src/policies/kms-key-policy.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { logGroupStep } from '../../../src/steps/log-group/index.js';
import { kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { type FakeKms, fakeKms } from '../../helpers/fake-kms.js';
import { type FakeLogs, fakeLogs, groupArnOf } from '../../helpers/fake-logs.js';
import { ACCOUNT, makeContext, REGION, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const GROUP = '/aws/ssm/session-logs';
const GROUP_ARN = groupArnOf(GROUP);
const ALIAS = 'alias/ssm-session-manager';
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-0000-0000-0000-000000000000`;
const OURS = { ManagedBy: 'ssm-setup' };

let kms: FakeKms;
let logs: FakeLogs;
/** The session key, whose policy admits CloudWatch Logs (key-policy.test.ts covers one that does not). */
let KEY_ID: string;
let KEY_ARN: string;
beforeEach(() => {
  kms = fakeKms();
  logs = fakeLogs(kms);
  KEY_ID = kms.addKey({
    rotation: true,
    policy: JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true })),
  });
  kms.aliases.set(ALIAS, KEY_ID);
  KEY_ARN = kms.keys.get(KEY_ID)!.meta.Arn!;
});
afterEach(() => {
  logs.mock.restore();
  kms.mock.restore();
});

/** A group as DescribeLogGroups returns it: `arn` with the `:*` suffix, `logGroupArn` without. */
const described = (name: string, over: Partial<LogGroup> = {}): LogGroup => ({
  logGroupName: name,
  arn: `${groupArnOf(name)}:*`,
  logGroupArn: groupArnOf(name),
  creationTime: 1,
  storedBytes: 0,
  ...over,
});

async function context(flags: Record<string, unknown> = { cloudwatchLogs: true }, opts: { keyKnown?: boolean; io?: TestIo } = {}): Promise<StepContext> {
  const ctx = await makeContext(flags, opts.io);
  return { ...ctx, outputs: opts.keyKnown === false ? {} : { kmsKeyId: KEY_ID, kmsKeyArn: KEY_ARN, kmsKeyAlias: ALIAS } };
}

const readAndPlan = (ctx: StepContext) => planned(logGroupStep, ctx);
const writes = () => logs.writes();

describe('log-group', () => {
  it('is skipped while CloudWatch Logs is off, naming the flag that turns it on', async () => {
    const off = (await settingsFrom()).settings;
    expect(off.cloudwatchLogs).toBe(false);
    expect(logGroupStep.skip!(off)).toContain('--cloudwatch-logs');
    expect(logGroupStep.skip!((await settingsFrom({ cloudwatchLogs: true })).settings)).toBeUndefined();
    expect(logGroupStep.skip!((await settingsFrom({ logGroup: '/team/logs' })).settings)).toBeUndefined(); // --log-group implies it
  });

  it('absent: creates the group encrypted with the key ARN and tagged, then sets the retention', async () => {
    const ctx = await context({ cloudwatchLogs: true, tags: ['Team=infra'] });
    const { state, changes } = await readAndPlan(ctx);
    expect(state).toMatchObject({ kind: 'absent', name: GROUP });
    expect(logs.mock).toHaveReceivedCommandWith(DescribeLogGroupsCommand, { logGroupNamePrefix: GROUP });
    expect(changes).toEqual([expect.objectContaining({ kind: 'create-group', action: 'create', resource: `log group ${GROUP}` })]);
    expect(changes[0]!.detail).toContain(`encrypted with ${ALIAS}`);
    expect(changes[0]!.detail).toContain('retention 365 days');
    expect(changes[0]!.detail).not.toContain('new key');
    expect(logGroupStep.outputs(state)).toBeUndefined();

    const outputs = await logGroupStep.apply(ctx, state, changes);
    expect(writes()).toEqual(['CreateLogGroupCommand', 'PutRetentionPolicyCommand']);
    expect(logs.mock.commandCalls(CreateLogGroupCommand)[0]!.args[0].input).toEqual({
      logGroupName: GROUP,
      kmsKeyId: KEY_ARN,
      tags: { ManagedBy: 'ssm-setup', Team: 'infra' },
    });
    expect(logs.mock.commandCalls(PutRetentionPolicyCommand)[0]!.args[0].input).toEqual({ logGroupName: GROUP, retentionInDays: 365 });
    expect(outputs).toEqual({ logGroupName: GROUP, logGroupArn: GROUP_ARN });
    expect(logs.groups.get(GROUP)).toMatchObject({ kmsKeyId: KEY_ARN, retentionDays: 365, tags: { ManagedBy: 'ssm-setup', Team: 'infra' } });
    expect((await readAndPlan(ctx)).changes).toEqual([]);
  });

  it('absent, with --log-group and --log-retention-days: uses them', async () => {
    const ctx = await context({ logGroup: '/team/ssm', logRetentionDays: 30 });
    const { state, changes } = await readAndPlan(ctx);
    const outputs = await logGroupStep.apply(ctx, state, changes);
    expect(logs.mock).toHaveReceivedCommandWith(CreateLogGroupCommand, { logGroupName: '/team/ssm', kmsKeyId: KEY_ARN });
    expect(logs.mock).toHaveReceivedCommandWith(PutRetentionPolicyCommand, { logGroupName: '/team/ssm', retentionInDays: 30 });
    expect(outputs).toEqual({ logGroupName: '/team/ssm', logGroupArn: groupArnOf('/team/ssm') });
  });

  it('present without a key: AssociateKmsKey only', async () => {
    // moto does not implement AssociateKmsKey, so the end-to-end tests cannot reach this path: it is covered only here.
    logs.addGroup(GROUP, { retentionDays: 365, tags: OURS });
    const ctx = await context();
    const { state, changes } = await readAndPlan(ctx);
    expect(changes).toEqual([expect.objectContaining({ kind: 'encrypt', action: 'update', resource: `encryption of log group ${GROUP}` })]);
    expect(changes[0]!.detail).toBe(`none → ${ALIAS}`);
    const outputs = await logGroupStep.apply(ctx, state, changes);
    expect(writes()).toEqual(['AssociateKmsKeyCommand']);
    expect(logs.mock.commandCalls(AssociateKmsKeyCommand)[0]!.args[0].input).toEqual({ logGroupName: GROUP, kmsKeyId: KEY_ARN });
    expect(outputs).toEqual({ logGroupName: GROUP, logGroupArn: GROUP_ARN });
  });

  it('present with another key: AssociateKmsKey with ours, the plan naming the other one', async () => {
    logs.addGroup(GROUP, { retentionDays: 365, kmsKeyId: OTHER_KEY_ARN, tags: OURS });
    const ctx = await context();
    const { state, changes } = await readAndPlan(ctx);
    expect(kinds(changes)).toEqual(['encrypt']);
    expect(changes[0]!.detail).toBe(`${OTHER_KEY_ARN} → ${ALIAS}`);
    await logGroupStep.apply(ctx, state, changes);
    expect(writes()).toEqual(['AssociateKmsKeyCommand']);
    expect(logs.groups.get(GROUP)!.kmsKeyId).toBe(KEY_ARN);
  });

  it.each<[string, number | undefined, string]>([
    ['another retention', 30, '30 → 365 days'],
    ['no retention (never expire)', undefined, 'never expire → 365 days'],
  ])('present with %s: PutRetentionPolicy only', async (_what, retentionDays, detail) => {
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays, tags: OURS });
    const ctx = await context();
    const { state, changes } = await readAndPlan(ctx);
    expect(changes).toEqual([expect.objectContaining({ kind: 'retention', action: 'update', detail })]);
    await logGroupStep.apply(ctx, state, changes);
    expect(writes()).toEqual(['PutRetentionPolicyCommand']);
    expect(logs.mock.commandCalls(PutRetentionPolicyCommand)[0]!.args[0].input).toEqual({ logGroupName: GROUP, retentionInDays: 365 });
  });

  it('converged: no change, no write, outputs with the ARN without its :* suffix', async () => {
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays: 365, tags: OURS });
    const { state, changes } = await readAndPlan(await context());
    expect(changes).toEqual([]);
    expect(logGroupStep.outputs(state)).toEqual({ logGroupName: GROUP, logGroupArn: GROUP_ARN });
    expect(logs.mock).toHaveReceivedCommandWith(ListTagsForResourceCommand, { resourceArn: GROUP_ARN });
    expect(writes()).toEqual([]);
    expect(kms.writes()).toEqual([]);
  });

  it('takes the ARN from `arn` without its :* suffix when logGroupArn is missing', async () => {
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays: 365, tags: OURS });
    logs.mock
      .on(DescribeLogGroupsCommand)
      .resolves({ logGroups: [{ ...described(GROUP, { kmsKeyId: KEY_ARN, retentionInDays: 365 }), logGroupArn: undefined }] });
    const { state } = await readAndPlan(await context());
    expect(logGroupStep.outputs(state)).toEqual({ logGroupName: GROUP, logGroupArn: GROUP_ARN });
  });

  it('the key is created in this run (ARN not yet known): the plan says "the new key", and no key policy is read', async () => {
    const absent = await readAndPlan(await context(undefined, { keyKnown: false }));
    expect(absent.changes[0]!.detail).toContain(`encrypted with the new key ${ALIAS}`);
    logs.addGroup(GROUP, { retentionDays: 365, tags: OURS });
    const present = await readAndPlan(await context(undefined, { keyKnown: false }));
    expect(present.changes).toEqual([expect.objectContaining({ kind: 'encrypt', detail: `none → the new key ${ALIAS}` })]);
    expect(kms.mock).not.toHaveReceivedCommand(GetKeyPolicyCommand);
  });

  it('apply without a key ARN: a StepError naming kms-key, and nothing written', async () => {
    const ctx = await context(undefined, { keyKnown: false });
    const { state, changes } = await readAndPlan(ctx);
    const error = await logGroupStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).stepId).toBe('log-group');
    expect((error as StepError).code).toBe('KEY_UNKNOWN');
    expect((error as StepError).hint).toContain('kms-key');
    expect(writes()).toEqual([]);
  });

  it('a managed group missing a --tags tag gets TagResource on its ARN', async () => {
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays: 365, tags: { ManagedBy: 'ssm-setup', Owner: 'ops' } });
    const ctx = await context({ cloudwatchLogs: true, tags: ['Team=infra'] });
    const { state, changes } = await readAndPlan(ctx);
    expect(changes).toEqual([expect.objectContaining({ kind: 'tags', detail: 'set Team=infra' })]);
    await logGroupStep.apply(ctx, state, changes);
    expect(writes()).toEqual(['TagResourceCommand']);
    // TagResource adds tags; it never removes the others (Owner stays).
    expect(logs.mock.commandCalls(TagResourceCommand)[0]!.args[0].input).toEqual({ resourceArn: GROUP_ARN, tags: { Team: 'infra', ManagedBy: 'ssm-setup' } });
    expect(logs.groups.get(GROUP)!.tags).toEqual({ ManagedBy: 'ssm-setup', Owner: 'ops', Team: 'infra' });
  });

  it.each<[string, Record<string, string>]>([
    ['with foreign tags', { Owner: 'ops' }],
    ['without tags', {}],
  ])('an adopted group (%s) is never tagged', async (_what, tags) => {
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays: 30, tags });
    const ctx = await context({ cloudwatchLogs: true, tags: ['Team=infra'] });
    const { state, changes } = await readAndPlan(ctx);
    expect(kinds(changes)).toEqual(['retention']);
    await logGroupStep.apply(ctx, state, changes);
    expect(logs.mock).not.toHaveReceivedCommand(TagResourceCommand);
    expect(writes()).toEqual(['PutRetentionPolicyCommand']);
  });

  describe('DescribeLogGroups pagination', () => {
    it('finds the exact name on page 2, and does not take a group that merely starts with the name for it', async () => {
      logs.addGroup(GROUP, { tags: OURS });
      logs.mock.on(DescribeLogGroupsCommand).callsFake(async (input: { logGroupNamePrefix?: string; nextToken?: string }) => {
        expect(input.logGroupNamePrefix).toBe(GROUP);
        return input.nextToken === 'page-2'
          ? {
              logGroups: [
                described(`${GROUP}-old`, { kmsKeyId: KEY_ARN, retentionInDays: 365 }),
                described(GROUP, { kmsKeyId: OTHER_KEY_ARN, retentionInDays: 30 }),
              ],
            }
          : { logGroups: [described(`${GROUP}-archive`, { kmsKeyId: KEY_ARN, retentionInDays: 365 })], nextToken: 'page-2' };
      });
      const { state, changes } = await readAndPlan(await context());
      expect(logs.mock).toHaveReceivedCommandTimes(DescribeLogGroupsCommand, 2);
      expect(state).toMatchObject({ kind: 'present', group: { name: GROUP, arn: GROUP_ARN, kmsKeyId: OTHER_KEY_ARN, retentionDays: 30 } });
      expect(kinds(changes)).toEqual(['encrypt', 'retention']);
      expect(logs.mock).toHaveReceivedCommandWith(ListTagsForResourceCommand, { resourceArn: GROUP_ARN });
    });

    it('is absent when only groups with a longer name exist, on several pages', async () => {
      logs.mock.restore();
      logs = fakeLogs(kms, { pageSize: 1 });
      logs.addGroup(`${GROUP}-old`);
      logs.addGroup(`${GROUP}/team`);
      logs.addGroup('/other/app');
      const { state, changes } = await readAndPlan(await context());
      expect(state).toMatchObject({ kind: 'absent', name: GROUP });
      expect(kinds(changes)).toEqual(['create-group']);
      expect(logs.mock).toHaveReceivedCommandTimes(DescribeLogGroupsCommand, 2);
      expect(logs.mock).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    });
  });

  it('in a run, a converged group plans no change while kms-key has a pending change of its own', async () => {
    // Regression: the runner once published a step's outputs only when it had no change, so
    // the key ARN was unknown here and an AssociateKmsKey was planned for a group already on it.
    const sts = mockIdentity();
    onTestFinished(() => sts.restore());
    kms.keys.get(KEY_ID)!.tags = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
    logs.addGroup(GROUP, { kmsKeyId: KEY_ARN, retentionDays: 365, tags: { ManagedBy: 'ssm-setup', Team: 'infra' } });
    const { report } = await runSteps({
      command: 'plan',
      mode: 'plan',
      selected: STEPS.filter((e) => e.id === 'kms-key' || e.id === 'log-group'),
      catalog: STEPS,
      loaded: await settingsFrom({ cloudwatchLogs: true, tags: ['Team=infra'] }),
      aws: testClients(),
      io: new TestIo(),
    });
    expect(report.steps.map((r) => r.id)).toEqual(['kms-key', 'log-group']);
    expect(report.steps[0]!.changes.map((c) => c.detail)).toEqual(['set Team=infra']);
    expect(report.steps[1]!.changes).toEqual([]);
    expect(report.steps[1]!.status).toBe('unchanged');
  });

  it('passes AccessDenied from DescribeLogGroups through', async () => {
    logs.mock
      .on(DescribeLogGroupsCommand)
      .rejects({ name: 'AccessDeniedException', message: 'not authorized to perform: logs:DescribeLogGroups', $metadata: { httpStatusCode: 400 } });
    await expect(logGroupStep.read(await context())).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

/** TestIo that also keeps the select requests, to see the choices offered. */
class RecordingIo extends TestIo {
  readonly selects: SelectRequest<unknown>[] = [];
  override async select<T>(req: SelectRequest<T>) {
    this.selects.push(req as SelectRequest<unknown>);
    return super.select(req);
  }
}

describe('log-group wizard', () => {
  it('"no" to CloudWatch Logs: { cloudwatchLogs: false } and no other prompt', async () => {
    logs.addGroup('/team/sessions');
    const io = new TestIo({ 'log-group.enable': false });
    expect(await logGroupStep.ask!(await context({}, { io }))).toEqual({ cloudwatchLogs: false });
    expect(io.prompts).toEqual(['log-group.enable']);
    expect(logs.mock).not.toHaveReceivedCommand(DescribeLogGroupsCommand);
  });

  it('"yes": asks for the group, offering the existing ones, and for the retention', async () => {
    logs.addGroup('/team/sessions');
    logs.addGroup('/other/app');
    const io = new RecordingIo({ 'log-group.enable': true, 'log-group.name': '/team/sessions', 'log-group.retention': 90 });
    expect(await logGroupStep.ask!(await context({}, { io }))).toEqual({ cloudwatchLogs: true, logGroup: '/team/sessions', logRetentionDays: 90 });
    expect(io.prompts).toEqual(['log-group.enable', 'log-group.name', 'log-group.retention']);
    const [name, retention] = io.selects;
    expect(name!.choices.map((c) => c.value)).toEqual(expect.arrayContaining([GROUP, '/team/sessions', '/other/app']));
    expect(name!.choices[0]!.value).toBe(GROUP);
    expect(name!.default).toBe(GROUP);
    expect(retention!.default).toBe(365);
    expect(retention!.choices.map((c) => c.value)).toContain(90);
    expect(retention!.choices.map((c) => c.value)).not.toContain(100);
  });

  it('"yes" with --log-retention-days given: asks for the group only', async () => {
    const io = new TestIo({ 'log-group.enable': true, 'log-group.name': GROUP });
    expect(await logGroupStep.ask!(await context({ logRetentionDays: 30 }, { io }))).toEqual({ cloudwatchLogs: true, logGroup: GROUP });
    expect(io.prompts).toEqual(['log-group.enable', 'log-group.name']);
  });

  it('asks nothing when CloudWatch Logs was turned off by a flag', async () => {
    const io = new TestIo({});
    expect(await logGroupStep.ask!(await context({ cloudwatchLogs: false }, { io }))).toEqual({});
    expect(io.prompts).toEqual([]);
  });
});
