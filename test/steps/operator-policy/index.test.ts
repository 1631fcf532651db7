import {
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  ListGroupsCommand,
  ListUsersCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UsageError } from '../../../src/base/errors.js';
import { exitCodeFor } from '../../../src/cli/exit-codes.js';
import type { CheckboxRequest, SelectRequest } from '../../../src/core/io.js';
import type { StepContext } from '../../../src/core/step.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { operatorPolicy } from '../../../src/policies/operator-policy.js';
import { type PolicyDocument, parsePolicy } from '../../../src/policies/types.js';
import { operatorPolicyStep } from '../../../src/steps/operator-policy/index.js';
import { converge, kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { fakeIam } from '../../helpers/fake-iam.js';
import { fakeKms } from '../../helpers/fake-kms.js';
import { ACCOUNT, makeContext, REGION, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const POLICY = 'SSMSessionManagerOperatorPolicy';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${POLICY}`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_POLICY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

const expected = (access: 'restricted' | 'full' = 'restricted'): PolicyDocument =>
  operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access });

/** The same JSON with every object's keys in reverse order, as IAM may hand a document back. */
const reordered = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(reordered);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reordered(x)]),
    );
  return v;
};

let fake: ReturnType<typeof fakeIam>;
beforeEach(() => {
  fake = fakeIam();
});
afterEach(() => fake.restore());

/** A context as the runner builds it after kms-key ran. */
async function context(flags: Record<string, unknown> = {}, opts: { io?: TestIo; keyKnown?: boolean } = {}): Promise<StepContext> {
  const ctx = await makeContext(flags, opts.io);
  return { ...ctx, outputs: opts.keyKnown === false ? {} : { kmsKeyArn: KEY_ARN } };
}

const readAndPlan = (ctx: StepContext) => planned(operatorPolicyStep, ctx);
const run = (ctx: StepContext) => converge(operatorPolicyStep, ctx);
const detachLike = (writes: string[]) => writes.filter((w) => /Detach|Delete(?!PolicyVersion)|Remove|Put.*Policy/.test(w));

describe('operator-policy', () => {
  it('absent: creates the restricted policy, tagged ManagedBy, and says it is attached to nobody', async () => {
    const ctx = await context({ tags: ['Team=infra'] });
    const { state, changes, outputs } = await run(ctx);

    expect(changes).toEqual([expect.objectContaining({ kind: 'create-policy', action: 'create', resource: `IAM policy ${POLICY}` })]);
    expect(changes[0]!.detail).toContain('restricted');
    expect(fake.writes()).toEqual(['CreatePolicyCommand']);
    const create = fake.iam.commandCalls(CreatePolicyCommand)[0]!.args[0].input;
    expect(create.PolicyName).toBe(POLICY);
    const doc = parsePolicy(create.PolicyDocument)!;
    expect(doc).toEqual(expected('restricted'));
    expect(doc.Statement.map((s) => s.Sid)).toEqual([
      'StartSessionOnInstances',
      'SessionStatus',
      'ReadPreferences',
      'OwnSessionsAsIamUser',
      'OwnSessionsAsRole',
      'SessionKey',
    ]);
    expect(doc.Statement.find((s) => s.Sid === 'SessionKey')!.Resource).toBe(KEY_ARN);
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );
    expect(outputs).toEqual({ operatorPolicyArn: POLICY_ARN });
    expect(operatorPolicyStep.note!(state, ctx)).toContain('attached to no user or group');
  });

  it('--operator-access full: creates the broad variant, with the key statement', async () => {
    await run(await context({ operatorAccess: 'full' }));
    const doc = parsePolicy(fake.iam.commandCalls(CreatePolicyCommand)[0]!.args[0].input.PolicyDocument)!;
    expect(doc).toEqual(expected('full'));
    expect(doc.Statement.map((s) => s.Sid)).toEqual(['SessionsOnAllInstances', 'OwnSessionsAsIamUser', 'OwnSessionsAsRole', 'SessionKey']);
  });

  it('unchanged (URL-encoded, keys in another order): no change, no write', async () => {
    const stored = JSON.stringify(reordered(expected()));
    expect(stored).not.toBe(JSON.stringify(expected()));
    fake.addPolicy(POLICY, [stored]);
    const { state, changes } = await readAndPlan(await context());
    expect(changes).toEqual([]);
    expect(operatorPolicyStep.outputs(state)).toEqual({ operatorPolicyArn: POLICY_ARN });
    expect(fake.writes()).toEqual([]);
  });

  it('switching restricted → full on a policy with five versions: deletes the oldest non-default one, then adds the new default', async () => {
    fake.addPolicy(POLICY, [expected('restricted'), expected('restricted'), expected('restricted'), expected('restricted'), expected('restricted')], {
      defaultVersion: 'v1',
    });
    const { changes } = await run(await context({ operatorAccess: 'full' }));

    expect(kinds(changes)).toEqual(['update-policy']);
    expect(fake.writes()).toEqual(['DeletePolicyVersionCommand', 'CreatePolicyVersionCommand']);
    expect(fake.iam).toHaveReceivedCommandWith(DeletePolicyVersionCommand, { PolicyArn: POLICY_ARN, VersionId: 'v2' });
    expect(fake.iam).toHaveReceivedCommandWith(CreatePolicyVersionCommand, { PolicyArn: POLICY_ARN, SetAsDefault: true });
    expect(fake.defaultDocument(POLICY)).toEqual(expected('full'));
  });

  it('attaches the policy to the users and groups that lack it, keeping what they have, never detaching anything', async () => {
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', [OTHER_POLICY]);
    fake.addUser('bob');
    fake.addGroup('ops', [OTHER_POLICY]);
    const { changes, outputs } = await run(await context({ operatorUsers: ['alice', 'bob'], operatorGroups: ['ops'] }));

    expect(changes.map((c) => [c.kind, c.subject, c.resource])).toEqual([
      ['attach', 'user:alice', 'IAM user alice'],
      ['attach', 'user:bob', 'IAM user bob'],
      ['attach', 'group:ops', 'IAM group ops'],
    ]);
    expect(fake.writes()).toEqual(['AttachUserPolicyCommand', 'AttachUserPolicyCommand', 'AttachGroupPolicyCommand']);
    expect(fake.iam).toHaveReceivedCommandWith(AttachUserPolicyCommand, { UserName: 'alice', PolicyArn: POLICY_ARN });
    expect(fake.iam).toHaveReceivedCommandWith(AttachUserPolicyCommand, { UserName: 'bob', PolicyArn: POLICY_ARN });
    expect(fake.iam).toHaveReceivedCommandWith(AttachGroupPolicyCommand, { GroupName: 'ops', PolicyArn: POLICY_ARN });
    expect([...fake.users.get('alice')!.attached].sort()).toEqual([OTHER_POLICY, POLICY_ARN].sort());
    expect([...fake.groups.get('ops')!.attached].sort()).toEqual([OTHER_POLICY, POLICY_ARN].sort());
    expect(detachLike(fake.writes())).toEqual([]);
    expect(outputs).toEqual({ operatorPolicyArn: POLICY_ARN });
  });

  it('a new policy and a user in one run: created first, then attached', async () => {
    fake.addUser('alice');
    const { changes } = await run(await context({ operatorUsers: ['alice'] }));
    expect(kinds(changes)).toEqual(['create-policy', 'attach']);
    expect(fake.writes()).toEqual(['CreatePolicyCommand', 'AttachUserPolicyCommand']);
    expect(fake.users.get('alice')!.attached.has(POLICY_ARN)).toBe(true);
  });

  it('already attached: nothing to do; others the operator dropped from the flags are not detached', async () => {
    fake.addPolicy(POLICY, [expected()]);
    fake.addUser('alice', [POLICY_ARN]);
    fake.addUser('carol', [POLICY_ARN]); // attached earlier, no longer listed
    fake.addGroup('ops', [POLICY_ARN]);
    const ctx = await context({ operatorUsers: ['alice'], operatorGroups: ['ops'] });
    const { state, changes } = await readAndPlan(ctx);
    expect(changes).toEqual([]);
    // Only the unlogged-sessions remark (test/steps/operator-policy/unlogged.test.ts) is left.
    expect(operatorPolicyStep.note!(state, ctx)).not.toContain('attached to no user or group');
    expect(fake.writes()).toEqual([]);
    expect(fake.users.get('carol')!.attached.has(POLICY_ARN)).toBe(true);
  });

  it('is idempotent: apply, then the next plan is empty and nothing more is written', async () => {
    fake.addUser('alice');
    fake.addGroup('ops');
    const flags = { operatorUsers: ['alice'], operatorGroups: ['ops'], operatorAccess: 'full' };
    await run(await context(flags));
    const writes = fake.writes();
    const again = await run(await context(flags));
    expect(again.changes).toEqual([]);
    expect(fake.writes()).toEqual(writes);
    expect(again.outputs).toEqual({ operatorPolicyArn: POLICY_ARN });
  });

  it('unknown users or groups: a UsageError (exit 2) naming every unknown one, and no write', async () => {
    fake.addUser('alice');
    fake.addGroup('ops');
    const ctx = await context({ operatorUsers: ['alice', 'bob', 'Alice'], operatorGroups: ['ops', 'ghosts'] });
    const error = await readAndPlan(ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'UNKNOWN_PRINCIPAL' });
    expect(exitCodeFor(error)).toBe(2);
    // The message must name the flags, and which principals it did not find (case-sensitive).
    const message = (error as UsageError).message;
    expect(message).toContain('--operator-users');
    expect(message).toContain('--operator-groups');
    expect(message).toContain('user bob');
    expect(message).toContain('user Alice'); // names are case-sensitive
    expect(message).toContain('group ghosts');
    expect(message).not.toMatch(/user alice\b/);
    expect(message).not.toMatch(/group ops\b/);
    expect(fake.writes()).toEqual([]);
  });

  it('an unknown user stops the run with exit 2 before anything is written', async () => {
    const kms = fakeKms();
    const sts = mockIdentity();
    try {
      kms.aliases.set('alias/ssm-session-manager', kms.addKey({ rotation: true }));
      const io = new TestIo({ 'runner.apply': true });
      const running = runSteps({
        command: 'run',
        mode: 'apply',
        selected: STEPS.filter((s) => s.id === 'operator-policy'),
        catalog: STEPS,
        loaded: await settingsFrom({ operatorUsers: ['ghost'] }),
        aws: testClients(),
        io,
      });
      const error = await running.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(exitCodeFor(error)).toBe(2);
      expect((error as UsageError).code).toBe('UNKNOWN_PRINCIPAL');
      expect(fake.writes()).toEqual([]);
      expect(kms.writes()).toEqual([]);
    } finally {
      sts.restore();
      kms.mock.restore();
    }
  });

  it('apply without the key ARN is a StepError naming kms-key, before any write', async () => {
    const ctx = await context({}, { keyKnown: false });
    const { state, changes } = await readAndPlan(ctx);
    expect(changes.length).toBeGreaterThan(0);
    const error = await operatorPolicyStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).stepId).toBe('operator-policy');
    expect((error as StepError).code).toBe('KEY_UNKNOWN');
    expect((error as StepError).hint).toContain('kms-key');
    expect(fake.writes()).toEqual([]);
  });
});

/** Records what the wizard offered. */
class RecordingIo extends TestIo {
  readonly selects: SelectRequest<unknown>[] = [];
  readonly checkboxes: CheckboxRequest<unknown>[] = [];
  override async select<T>(req: SelectRequest<T>) {
    this.selects.push(req as SelectRequest<unknown>);
    return super.select(req);
  }
  override async checkbox<T>(req: CheckboxRequest<T>) {
    this.checkboxes.push(req as CheckboxRequest<unknown>);
    return super.checkbox(req);
  }
}

describe('operator-policy wizard', () => {
  it('asks the access, then the users, then the groups of the account, by prompt id', async () => {
    fake.addUser('alice');
    fake.addUser('bob');
    fake.addGroup('ops');
    const io = new RecordingIo({ 'operator-policy.access': 'full', 'operator-policy.users': ['bob'], 'operator-policy.groups': ['ops'] });
    expect(await operatorPolicyStep.ask!(await makeContext({}, io))).toEqual({ operatorAccess: 'full', operatorUsers: ['bob'], operatorGroups: ['ops'] });
    expect(io.prompts).toEqual(['operator-policy.access', 'operator-policy.users', 'operator-policy.groups']);
    expect(io.selects[0]!.choices.map((c) => c.value)).toEqual(['restricted', 'full']);
    expect(io.selects[0]!.default).toBe('restricted');
    expect(io.checkboxes.map((c) => c.choices.map((x) => x.value))).toEqual([['alice', 'bob'], ['ops']]);
    expect(io.checkboxes.map((c) => c.default)).toEqual([[], []]);
    expect(fake.writes()).toEqual([]);
  });

  it('skips a list when the account has none of that kind', async () => {
    fake.addUser('alice');
    const io = new RecordingIo({ 'operator-policy.access': 'restricted', 'operator-policy.users': [] });
    expect(await operatorPolicyStep.ask!(await makeContext({}, io))).toEqual({ operatorAccess: 'restricted', operatorUsers: [] });
    expect(io.prompts).toEqual(['operator-policy.access', 'operator-policy.users']);
    expect(fake.iam).toHaveReceivedCommand(ListGroupsCommand);
  });

  it('asks nothing and lists nothing when the flags were given', async () => {
    fake.addUser('alice');
    fake.addGroup('ops');
    const io = new RecordingIo({});
    const ctx = await makeContext({ operatorAccess: 'full', operatorUsers: ['alice'], operatorGroups: ['ops'] }, io);
    expect(await operatorPolicyStep.ask!(ctx)).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(fake.iam).not.toHaveReceivedCommand(ListUsersCommand);
    expect(fake.iam).not.toHaveReceivedCommand(ListGroupsCommand);
  });

  it('asks only what was not given', async () => {
    fake.addUser('alice');
    fake.addGroup('ops');
    const io = new RecordingIo({ 'operator-policy.groups': ['ops'] });
    const ctx = await makeContext({ operatorAccess: 'restricted', operatorUsers: ['alice'] }, io);
    expect(await operatorPolicyStep.ask!(ctx)).toEqual({ operatorGroups: ['ops'] });
    expect(io.prompts).toEqual(['operator-policy.groups']);
    expect(fake.iam).not.toHaveReceivedCommand(ListUsersCommand);
  });
});
