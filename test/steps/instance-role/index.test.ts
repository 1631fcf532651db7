import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DisassociateIamInstanceProfileCommand,
  type Instance,
  ReplaceIamInstanceProfileAssociationCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyVersionCommand,
  GetPolicyVersionCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWriteCall } from '../../../src/aws/calls.js';
import { consistency } from '../../../src/aws/retry.js';
import { StepError } from '../../../src/base/errors.js';
import type { CheckboxRequest, SelectRequest } from '../../../src/core/io.js';
import type { StepContext, TargetInstance } from '../../../src/core/step.js';
import { instancePolicy } from '../../../src/policies/instance-policy.js';
import { type PolicyDocument, parsePolicy } from '../../../src/policies/types.js';
import { instanceRoleStep } from '../../../src/steps/instance-role/index.js';
import { desiredInstancePolicy, instanceRoleNote } from '../../../src/steps/instance-role/plan.js';
import { converge, kinds } from '../../helpers/aws.js';
import { callOrder, ec2Error, type FakeEc2 } from '../../helpers/fake-ec2.js';
import { type FakeIam, profileArnOf } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { iamAndEc2Each } from '../../helpers/iam-ec2.js';
import { TestIo } from '../../helpers/test-io.js';

const POLICY = 'SSMSessionManagerInstancePolicy';
const POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${POLICY}`;
const ROLE = 'SSMSessionManagerInstanceRole';
const CW_ARN = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-0000-0000-0000-000000000000`;
// Not the default name: proves the policy is scoped to the bucket the log-bucket step published.
const BUCKET = 'team-session-logs';
const PROFILE_NOT_VISIBLE = 'Value (SSMSessionManagerInstanceRole) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name';

const APP = 'i-0aaaaaaaaaaaaaaa1';
const BARE = 'i-0bbbbbbbbbbbbbbb2';
const OTHER = 'i-0ccccccccccccccc3';

/** The instance policy these tests expect, built from the pure function with explicit inputs. */
const expectedPolicy = (keyArn = KEY_ARN): PolicyDocument =>
  instancePolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn, bucketName: BUCKET, s3Prefix: 'session-logs/' });

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

let fake: FakeIam;
let ec2: FakeEc2;
iamAndEc2Each((iam, e) => {
  fake = iam;
  ec2 = e;
});

/** A running instance in the EC2 world (replaced if there), as ctx.targets() resolves it. */
const target = (id: string, opts: { profile?: string; name?: string; tags?: Record<string, string> } = {}): TargetInstance => {
  ec2.addInstance(
    { InstanceId: id, ...(opts.profile ? { IamInstanceProfile: { Arn: profileArnOf(opts.profile) } } : {}) },
    { tags: { ...(opts.name ? { Name: opts.name } : {}), ...opts.tags } },
  );
  return ec2.targets([id])[0]!;
};

/** A context as the runner builds it after kms-key and log-bucket ran. */
async function context(
  targets: readonly TargetInstance[] = [],
  flags: Record<string, unknown> = {},
  opts: { io?: TestIo; keyKnown?: boolean } = {},
): Promise<StepContext> {
  const ctx = await makeContext(flags, opts.io, targets);
  return { ...ctx, outputs: opts.keyKnown === false ? { bucketName: BUCKET } : { kmsKeyArn: KEY_ARN, bucketName: BUCKET } };
}

async function readAndPlan(ctx: StepContext) {
  const state = await instanceRoleStep.read(ctx);
  return { state, changes: instanceRoleStep.plan(state, ctx) };
}

/** Every IAM and EC2 call, in order; the write calls among them. */
const calls = () => callOrder(fake.iam, ec2.ec2);
const writes = () => calls().filter(isWriteCall);

describe('instance-role: the managed instance policy', () => {
  it('absent: creates it with the document for these settings, tagged ManagedBy', async () => {
    const ctx = await context([], { tags: ['Team=infra'] });
    const { state, changes, outputs } = await converge(instanceRoleStep, ctx);

    expect(state.policy).toEqual({ kind: 'absent', name: POLICY, arn: POLICY_ARN });
    expect(changes).toEqual([expect.objectContaining({ kind: 'create-policy', action: 'create', resource: `IAM policy ${POLICY}` })]);
    expect(writes()).toEqual(['CreatePolicyCommand']);
    const create = fake.iam.commandCalls(CreatePolicyCommand)[0]!.args[0].input;
    expect(create.PolicyName).toBe(POLICY);
    expect(parsePolicy(create.PolicyDocument)).toEqual(expectedPolicy());
    expect(parsePolicy(create.PolicyDocument)).toEqual(desiredInstancePolicy(ctx));
    expect(create.Tags).toHaveLength(2);
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );
    // Scoped to the key and bucket of this run.
    const doc = parsePolicy(create.PolicyDocument)!;
    expect(doc.Statement.find((s) => s.Sid === 'SessionKey')!.Resource).toBe(KEY_ARN);
    expect(doc.Statement.find((s) => s.Sid === 'SessionLogsToS3')!.Resource).toBe(`arn:aws:s3:::${BUCKET}/session-logs/*`);
    expect(outputs).toEqual({ instancePolicyArn: POLICY_ARN, instanceRoles: [], instanceProfiles: {} });
    expect(fake.policies.get(POLICY_ARN)!.tags).toEqual({ ManagedBy: 'ssm-setup', Team: 'infra' });
  });

  it('unchanged: the same document, URL-encoded and in another key order, plans nothing and writes nothing', async () => {
    const stored = JSON.stringify(reordered(expectedPolicy()));
    expect(stored).not.toBe(JSON.stringify(expectedPolicy())); // the test means something
    fake.addPolicy(POLICY, [stored]);
    const ctx = await context();
    const { state, changes } = await readAndPlan(ctx);

    // IAM's answer really was URL-encoded.
    const answer = await fake.iam.commandCalls(GetPolicyVersionCommand)[0]!.returnValue;
    expect(answer.PolicyVersion!.Document).toMatch(/^%7B/);
    expect(changes).toEqual([]);
    expect(state.policy.kind).toBe('present');
    expect(instanceRoleStep.outputs(state)).toEqual({ instancePolicyArn: POLICY_ARN, instanceRoles: [], instanceProfiles: {} });
    expect(writes()).toEqual([]);
  });

  it('reads the default version, not the newest one', async () => {
    fake.addPolicy(POLICY, [expectedPolicy(), expectedPolicy(OTHER_KEY_ARN)], { defaultVersion: 'v1' });
    expect((await readAndPlan(await context())).changes).toEqual([]);
  });

  it.each([
    ['the newest version is the default', 'v5', 'v1'],
    ['the oldest version is the default (rolled back)', 'v1', 'v2'],
    ['a middle version is the default', 'v3', 'v1'],
  ])('changed, five versions, %s: deletes the oldest non-default version first, then adds the new default', async (_, defaultVersion, deleted) => {
    const old = expectedPolicy(OTHER_KEY_ARN);
    fake.addPolicy(POLICY, [old, old, old, old, old], { defaultVersion });
    const ctx = await context();
    const { changes } = await converge(instanceRoleStep, ctx);

    expect(changes).toEqual([expect.objectContaining({ kind: 'update-policy', action: 'update', resource: `IAM policy ${POLICY}` })]);
    expect(changes[0]!.detail).toContain('changed SessionKey');
    // Checked, not discovered through LimitExceeded: the delete comes first and the create succeeds at once.
    expect(writes()).toEqual(['DeletePolicyVersionCommand', 'CreatePolicyVersionCommand']);
    expect(fake.iam).toHaveReceivedCommandWith(DeletePolicyVersionCommand, { PolicyArn: POLICY_ARN, VersionId: deleted });
    expect(fake.iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 1);
    const create = fake.iam.commandCalls(CreatePolicyVersionCommand)[0]!.args[0].input;
    expect(create.SetAsDefault).toBe(true);
    expect(parsePolicy(create.PolicyDocument)).toEqual(expectedPolicy());

    const p = fake.policies.get(POLICY_ARN)!;
    expect(p.versions.map((v) => v.id)).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].filter((v) => v !== deleted));
    expect(p.defaultVersion).toBe('v6');
    expect(fake.defaultDocument(POLICY)).toEqual(expectedPolicy());
  });

  it('changed, fewer than five versions: adds the new default version and deletes nothing', async () => {
    fake.addPolicy(POLICY, [expectedPolicy(OTHER_KEY_ARN), expectedPolicy(OTHER_KEY_ARN)]);
    const { changes } = await converge(instanceRoleStep, await context());

    expect(kinds(changes)).toEqual(['update-policy']);
    expect(writes()).toEqual(['CreatePolicyVersionCommand']);
    expect(fake.iam).not.toHaveReceivedCommand(DeletePolicyVersionCommand);
    expect(fake.iam).toHaveReceivedCommandWith(CreatePolicyVersionCommand, { PolicyArn: POLICY_ARN, SetAsDefault: true });
    expect(fake.policies.get(POLICY_ARN)!.versions).toHaveLength(3);
    expect(fake.defaultDocument(POLICY)).toEqual(expectedPolicy());
  });

  it('names the statements that differ in the plan', async () => {
    const current = expectedPolicy();
    const drifted: PolicyDocument = {
      ...current,
      Statement: [
        ...current.Statement.filter((s) => s.Sid !== 'SessionLogsBucketEncryption'),
        { Sid: 'Extra', Effect: 'Allow', Action: 's3:*', Resource: '*' },
      ],
    };
    fake.addPolicy(POLICY, [drifted]);
    const { changes } = await readAndPlan(await context());
    expect(changes[0]!.detail).toBe('new default version: added SessionLogsBucketEncryption; removed Extra');
  });
});

describe('instance-role: roles, profiles and instances', () => {
  /** Our policy already in place, so that each test shows only the instance side. */
  beforeEach(() => {
    fake.addPolicy(POLICY, [expectedPolicy()]);
  });

  it('instance with a profile whose role lacks the policies: attaches ours and the CloudWatch agent’s to that role, creates nothing, never replaces the profile', async () => {
    fake.addRole('AppRole', ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    fake.addProfile('AppProfile', ['AppRole']);
    const ctx = await context([target(APP, { profile: 'AppProfile', name: 'app-1' })]);
    const { changes, outputs } = await converge(instanceRoleStep, ctx);

    expect(changes).toEqual([
      {
        kind: 'attach',
        subject: 'AppRole',
        action: 'update',
        resource: 'IAM role AppRole',
        detail: `attach ${POLICY}, CloudWatchAgentServerPolicy (used by ${APP})`,
      },
    ]);
    expect(writes()).toEqual(['AttachRolePolicyCommand', 'AttachRolePolicyCommand']);
    expect(fake.iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: 'AppRole', PolicyArn: POLICY_ARN });
    expect(fake.iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: 'AppRole', PolicyArn: CW_ARN });
    expect([...fake.roles.get('AppRole')!.attached].sort()).toEqual([CW_ARN, 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', POLICY_ARN].sort());
    expect([...fake.roles.keys()]).toEqual(['AppRole']);
    expect([...fake.profiles.keys()]).toEqual(['AppProfile']);
    expect(ec2.ec2).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
    expect(ec2.ec2).not.toHaveReceivedCommand(ReplaceIamInstanceProfileAssociationCommand);
    expect(ec2.ec2).not.toHaveReceivedCommand(DisassociateIamInstanceProfileCommand);
    expect(ec2.writes()).toEqual([]);
    expect(outputs).toEqual({ instancePolicyArn: POLICY_ARN, instanceRoles: ['AppRole'], instanceProfiles: { [APP]: 'AppProfile' } });
  });

  it('attaches only what is missing, once per role however many instances share it', async () => {
    fake.addRole('AppRole', [CW_ARN]);
    fake.addProfile('AppProfile', ['AppRole']);
    const ctx = await context([target(APP, { profile: 'AppProfile' }), target(OTHER, { profile: 'AppProfile' })]);
    const { changes } = await converge(instanceRoleStep, ctx);

    expect(changes).toEqual([expect.objectContaining({ kind: 'attach', subject: 'AppRole', detail: `attach ${POLICY} (used by ${APP}, ${OTHER})` })]);
    expect(writes()).toEqual(['AttachRolePolicyCommand']);
    expect(fake.iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: 'AppRole', PolicyArn: POLICY_ARN });
  });

  it('--no-cloudwatch-agent: attaches only our policy', async () => {
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
    const { changes } = await converge(instanceRoleStep, await context([target(APP, { profile: 'AppProfile' })], { cloudwatchAgent: false }));

    expect(changes).toEqual([expect.objectContaining({ kind: 'attach', detail: `attach ${POLICY} (used by ${APP})` })]);
    expect(writes()).toEqual(['AttachRolePolicyCommand']);
    expect([...fake.roles.get('AppRole')!.attached]).toEqual([POLICY_ARN]);
  });

  it('a role that already has everything: no change', async () => {
    fake.addRole('AppRole', [POLICY_ARN, CW_ARN]);
    fake.addProfile('AppProfile', ['AppRole']);
    const { state, changes } = await readAndPlan(await context([target(APP, { profile: 'AppProfile' })]));
    expect(changes).toEqual([]);
    expect(instanceRoleStep.outputs(state)).toEqual({ instancePolicyArn: POLICY_ARN, instanceRoles: ['AppRole'], instanceProfiles: { [APP]: 'AppProfile' } });
    expect(writes()).toEqual([]);
  });

  it('instance without a profile: creates the role trusted by EC2, attaches, creates the profile with the role, associates it', async () => {
    const ctx = await context([target(BARE, { name: 'app-2' })], { tags: ['Team=infra'] });
    const { changes, outputs } = await converge(instanceRoleStep, ctx);

    expect(kinds(changes)).toEqual(['create-role', 'create-profile', 'associate']);
    expect(changes[2]).toMatchObject({ subject: BARE, resource: `instance ${BARE} (app-2)` });
    // The role and the profile at once (names only), then what names them (waves.test.ts: the round trips).
    const all = writes();
    expect(all.slice(0, 2).sort()).toEqual(['CreateInstanceProfileCommand', 'CreateRoleCommand']);
    expect(all.slice(2, 5).sort()).toEqual(['AddRoleToInstanceProfileCommand', 'AttachRolePolicyCommand', 'AttachRolePolicyCommand']);
    expect(all.slice(5)).toEqual(['AssociateIamInstanceProfileCommand', 'CreateTagsCommand']);
    const create = fake.iam.commandCalls(CreateRoleCommand)[0]!.args[0].input;
    expect(create.RoleName).toBe(ROLE);
    expect(JSON.parse(create.AssumeRolePolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'EC2AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );
    expect([...fake.roles.get(ROLE)!.attached].sort()).toEqual([CW_ARN, POLICY_ARN].sort());
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
    expect(fake.profiles.get(ROLE)!.tags).toEqual({ ManagedBy: 'ssm-setup', Team: 'infra' });
    expect(ec2.ec2).toHaveReceivedCommandWith(AssociateIamInstanceProfileCommand, { InstanceId: BARE, IamInstanceProfile: { Name: ROLE } });
    expect(ec2.associationOf(BARE)!.profileArn).toBe(profileArnOf(ROLE));
    expect(outputs).toEqual({ instancePolicyArn: POLICY_ARN, instanceRoles: [ROLE], instanceProfiles: { [BARE]: ROLE }, justAssociated: [BARE] });
  });

  it('a new policy and a bare instance in one run: the policy exists before it is attached', async () => {
    fake.policies.clear();
    const { changes } = await converge(instanceRoleStep, await context([target(BARE)]));
    expect(kinds(changes)).toEqual(['create-policy', 'create-role', 'create-profile', 'associate']);
    const all = writes();
    expect(all.slice(0, 3).sort()).toEqual(['CreateInstanceProfileCommand', 'CreatePolicyCommand', 'CreateRoleCommand']);
    expect(all.indexOf('AttachRolePolicyCommand')).toBeGreaterThan(all.indexOf('CreatePolicyCommand'));
    expect(fake.roles.get(ROLE)!.attached.has(POLICY_ARN)).toBe(true);
  });

  describe('while EC2 does not see the new profile yet', () => {
    const saved = { ...consistency };
    beforeEach(() => {
      consistency.delayMs = 0;
    });
    afterEach(() => {
      Object.assign(consistency, saved);
    });

    it('retries the association until EC2 accepts it, with progress', async () => {
      ec2.failNext(AssociateIamInstanceProfileCommand, ec2Error('InvalidParameterValue', PROFILE_NOT_VISIBLE), 2);
      const io = new TestIo();
      const ctx = await context([target(BARE)], {}, { io });
      await converge(instanceRoleStep, ctx);

      expect(ec2.ec2).toHaveReceivedCommandTimes(AssociateIamInstanceProfileCommand, 3);
      const waits = io.lines.filter((l) => l.includes(`waiting for EC2 to see instance profile ${ROLE}`));
      expect(waits).toHaveLength(2);
      expect(ec2.associationOf(BARE)!.profileArn).toBe(profileArnOf(ROLE));
    });

    it.each([
      ['access denied', ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')],
      ['an existing association', ec2Error('IncorrectState', `There is an existing association for instance ${BARE}`)],
      ['a bad instance id', ec2Error('InvalidParameterValue', `Value (${BARE}) for parameter instanceId is invalid.`)],
    ])('fails at once on an error that waiting does not fix: %s', async (_, error) => {
      ec2.failNext(AssociateIamInstanceProfileCommand, error);
      const io = new TestIo();
      const ctx = await context([target(BARE)], {}, { io });
      const { state, changes } = await readAndPlan(ctx);

      await expect(instanceRoleStep.apply(ctx, state, changes)).rejects.toBe(error);
      expect(ec2.ec2).toHaveReceivedCommandTimes(AssociateIamInstanceProfileCommand, 1);
      expect(io.lines.filter((l) => l.includes('waiting for EC2'))).toEqual([]);
      expect(ec2.associationOf(BARE)).toBeUndefined();
    });

    it('gives up when the next wait would pass the deadline', async () => {
      Object.assign(consistency, { timeoutMs: 1_000, delayMs: 2_000 });
      ec2.failNext(AssociateIamInstanceProfileCommand, ec2Error('InvalidParameterValue', PROFILE_NOT_VISIBLE), 5);
      const ctx = await context([target(BARE)]);
      const { state, changes } = await readAndPlan(ctx);
      await expect(instanceRoleStep.apply(ctx, state, changes)).rejects.toMatchObject({ name: 'InvalidParameterValue' });
      expect(ec2.ec2).toHaveReceivedCommandTimes(AssociateIamInstanceProfileCommand, 1);
    });
  });

  it('our profile already holding another role: StepError, nothing written', async () => {
    fake.addRole('SomeoneElsesRole');
    fake.addProfile(ROLE, ['SomeoneElsesRole']);
    const ctx = await context([target(BARE)]);
    const error = await readAndPlan(ctx).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).stepId).toBe('instance-role');
    expect((error as StepError).code).toBe('PROFILE_HOLDS_OTHER_ROLE');
    expect((error as StepError).hint).toContain('--instance-role');
    expect(writes()).toEqual([]);
  });

  it('our profile left without a role (an interrupted run): adds the role, does not create the profile again', async () => {
    fake.addRole(ROLE, [POLICY_ARN, CW_ARN]);
    fake.addProfile(ROLE);
    const { changes } = await converge(instanceRoleStep, await context([target(BARE)]));

    expect(kinds(changes)).toEqual(['add-role', 'associate']);
    expect(writes()).toEqual(['AddRoleToInstanceProfileCommand', 'AssociateIamInstanceProfileCommand', 'CreateTagsCommand']);
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
  });

  it('our role exists without the policies: attaches them, and reuses the role and profile', async () => {
    fake.addRole(ROLE);
    fake.addProfile(ROLE, [ROLE]);
    const { changes } = await converge(instanceRoleStep, await context([target(BARE)]));

    expect(changes.map((c) => [c.kind, c.subject])).toEqual([
      ['attach', ROLE],
      ['associate', BARE],
    ]);
    expect(writes()).toEqual(['AttachRolePolicyCommand', 'AttachRolePolicyCommand', 'AssociateIamInstanceProfileCommand', 'CreateTagsCommand']);
  });

  it('an instance whose association is still `associating` is not associated again', async () => {
    fake.addRole(ROLE, [POLICY_ARN, CW_ARN]);
    fake.addProfile(ROLE, [ROLE]);
    const bare = target(BARE);
    ec2.addAssociation(BARE, profileArnOf(ROLE), 'associating');
    const { state, changes } = await readAndPlan(await context([bare]));

    expect(changes).toEqual([]);
    expect(state.associating.get(BARE)).toBe(profileArnOf(ROLE));
    expect(instanceRoleStep.outputs(state)?.instanceProfiles).toEqual({ [BARE]: ROLE });
    expect(ec2.ec2).not.toHaveReceivedCommand(AssociateIamInstanceProfileCommand);
    expect(writes()).toEqual([]);
  });

  it('looks for associations in progress 50 instances per call, only for instances without a profile', async () => {
    fake.addRole('AppRole', [POLICY_ARN, CW_ARN]);
    fake.addProfile('AppProfile', ['AppRole']);
    const bare = Array.from({ length: 60 }, (_, n) => target(`i-${(n + 1).toString(16).padStart(17, '0')}`));
    ec2.addAssociation(bare[55]!.id, profileArnOf('AppProfile'), 'associating');
    const { changes } = await readAndPlan(await context([target(APP, { profile: 'AppProfile' }), ...bare]));

    const calls = ec2.ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand).map((c) => c.args[0].input.Filters!);
    const ids = calls.map((filters) => filters.find((f) => f.Name === 'instance-id')!.Values!);
    expect(ids.map((v) => v.length)).toEqual([50, 10]);
    expect(ids.flat().sort()).toEqual(bare.map((t) => t.id).sort());
    const associated = changes.filter((c) => c.kind === 'associate').map((c) => c.subject);
    expect(associated).toHaveLength(59);
    expect(associated).not.toContain(bare[55]!.id);
  });

  it('a disassociated (old) association does not count: the instance gets ours', async () => {
    const bare = target(BARE);
    ec2.addAssociation(BARE, profileArnOf('OldProfile'), 'disassociated');
    const { changes } = await converge(instanceRoleStep, await context([bare]));
    expect(kinds(changes)).toEqual(['create-role', 'create-profile', 'associate']);
    expect(ec2.associationOf(BARE)!.profileArn).toBe(profileArnOf(ROLE));
  });

  it('a profile with no role is left alone, with a note', async () => {
    fake.addProfile('EmptyProfile');
    const ctx = await context([target(APP, { profile: 'EmptyProfile' })]);
    const { state, changes } = await readAndPlan(ctx);

    expect(changes).toEqual([]);
    const note = instanceRoleStep.note!(state, ctx);
    expect(note).toBe(instanceRoleNote(state));
    expect(note).toBe('instance profile EmptyProfile has no role: its instances are left alone');
    expect(ec2.ec2.calls()).toEqual([]);
    expect(writes()).toEqual([]);
  });

  it('no targets: manages only the policy, reads no instance, and says so', async () => {
    fake.policies.clear();
    const ctx = await context([]);
    const { state, changes } = await readAndPlan(ctx);

    expect(kinds(changes)).toEqual(['create-policy']);
    expect(instanceRoleStep.note!(state, ctx)).toContain('no target instances');
    expect(ec2.ec2.calls()).toEqual([]);
    expect(calls()).toEqual(['GetPolicyCommand']);
  });

  it('apply without the key ARN is a StepError naming kms-key, before any write', async () => {
    fake.policies.clear();
    const ctx = await context([target(BARE)], {}, { keyKnown: false });
    const { state, changes } = await readAndPlan(ctx);
    expect(changes.length).toBeGreaterThan(0);

    const error = await instanceRoleStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).stepId).toBe('instance-role');
    expect((error as StepError).code).toBe('KEY_UNKNOWN');
    expect((error as StepError).hint).toContain('ssm-setup run kms-key');
    expect(writes()).toEqual([]);
  });
});

describe('instance-role: converging a mixed fleet', () => {
  const fleet = () => [target(APP, { profile: 'AppProfile', name: 'app-1' }), target(BARE, { name: 'app-2' })];
  beforeEach(() => {
    fake.addRole('AppRole');
    fake.addProfile('AppProfile', ['AppRole']);
  });

  it('publishes the policy ARN, the roles that got it and each instance’s profile', async () => {
    const { changes, outputs } = await converge(instanceRoleStep, await context(fleet()));
    expect(kinds(changes)).toEqual(['create-policy', 'create-role', 'attach', 'create-profile', 'associate']);
    expect(outputs).toEqual({
      instancePolicyArn: POLICY_ARN,
      instanceRoles: ['AppRole', ROLE],
      instanceProfiles: { [APP]: 'AppProfile', [BARE]: ROLE },
      justAssociated: [BARE],
    });
  });

  it('is idempotent: once DescribeInstances shows the new profile, the plan is empty, no further write, the same outputs', async () => {
    const first = await converge(instanceRoleStep, await context(fleet()));
    const before = writes();
    expect(before.length).toBeGreaterThan(0);

    // What DescribeInstances answers once the association is done: the bare instance has our profile.
    ec2.completeAssociations();
    const again = await converge(instanceRoleStep, await context(ec2.targets([APP, BARE])));
    expect(again.state).toMatchObject({ associating: new Map() });
    expect(ec2.targets([BARE])[0]!.profileArn).toBe(profileArnOf(ROLE));
    expect(again.changes).toEqual([]);
    expect(writes()).toEqual(before);
    // The same outputs, but for the instance just associated by the first run (it is settled now).
    const { justAssociated, ...settled } = first.outputs as typeof first.outputs & { justAssociated?: string[] };
    expect(justAssociated).toEqual([BARE]);
    expect(again.outputs).toEqual(settled);
  });

  it('is idempotent while the association is still in progress', async () => {
    await converge(instanceRoleStep, await context(fleet()));
    const before = writes();
    const again = await readAndPlan(await context(fleet()));
    expect(again.changes).toEqual([]);
    expect(writes()).toEqual(before);
    expect(instanceRoleStep.outputs(again.state)?.instanceProfiles).toEqual({ [APP]: 'AppProfile', [BARE]: ROLE });
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

const ALL = '\u0000all';
const PICK = '\u0000pick';
const NONE = '\u0000none';

describe('instance-role wizard (target selection)', () => {
  const instance = (InstanceId: string, tags: Record<string, string>, over: Partial<Instance> = {}) =>
    ec2.addInstance({ InstanceId, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })), ...over });
  /** The region's instances; a terminated one is never offered. */
  const region = () => {
    instance(APP, { Name: 'app-1', Env: 'demo' }, { IamInstanceProfile: { Arn: profileArnOf('AppProfile') } });
    instance(BARE, { Name: 'app-2', Env: 'demo' });
    instance(OTHER, { Name: 'db-1', Env: 'prod' }, { State: { Name: 'stopped', Code: 80 } });
    instance('i-0ddddddddddddddd4', { Name: 'old', Env: 'demo' }, { State: { Name: 'terminated', Code: 48 } });
  };

  it('offers all instances, then a shortcut for every tag (the most common first); choosing one answers --tag', async () => {
    region();
    const io = new RecordingIo({ 'targets.mode': 'Env=demo' });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({ tag: ['Env=demo'] });
    expect(io.prompts).toEqual(['targets.mode']);
    const values = io.selects[0]!.choices.map((c) => c.value);
    expect(values).toEqual([ALL, 'Env=demo', 'Env=prod', PICK, NONE]); // never Name
    expect(io.selects[0]!.choices[0]!.label).toContain('All 3 instances');
    expect(io.selects[0]!.message).toContain('3 in');
  });

  it('"all instances" answers --instance-ids with every live instance of the region', async () => {
    region();
    const io = new RecordingIo({ 'targets.mode': ALL });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({ instanceIds: [APP, BARE, OTHER] });
    expect(io.prompts).toEqual(['targets.mode']);
  });

  it('lists the instances to pick from; the picked ones answer --instance-ids', async () => {
    region();
    const io = new RecordingIo({ 'targets.mode': PICK, 'targets.instances': [APP, OTHER] });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({ instanceIds: [APP, OTHER] });
    expect(io.prompts).toEqual(['targets.mode', 'targets.instances']);
    const choices = io.checkboxes[0]!.choices;
    expect(choices.map((c) => c.value)).toEqual([APP, BARE, OTHER]);
    expect(choices[0]!.label).toMatch(/app-1.*i-0aaaaaaaaaaaaaaa1.*running.*Linux\/UNIX.*profile AppProfile/);
    expect(choices[1]!.label).toContain('no profile');
    expect(choices[2]!.label).toContain('stopped');
  });

  it('picking no instance from the list is confirmed: yes answers nothing', async () => {
    region();
    const io = new RecordingIo({ 'targets.mode': PICK, 'targets.instances': [], 'targets.confirm-none': true });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({});
    expect(io.prompts).toEqual(['targets.mode', 'targets.instances', 'targets.confirm-none']);
  });

  it('picking no instance, then No (the default) to skipping: the list is asked again', async () => {
    region();
    const picks: string[][] = [[], [BARE]];
    const io = new (class extends RecordingIo {
      override async checkbox<T>(req: CheckboxRequest<T>) {
        await super.checkbox(req);
        return picks.shift() as T[];
      }
    })({ 'targets.mode': PICK, 'targets.instances': [], 'targets.confirm-none': false });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({ instanceIds: [BARE] });
    expect(io.prompts).toEqual(['targets.mode', 'targets.instances', 'targets.confirm-none', 'targets.instances']);
  });

  it('"none for now" answers nothing', async () => {
    region();
    const io = new RecordingIo({ 'targets.mode': NONE });
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({});
    expect(io.prompts).toEqual(['targets.mode']);
  });

  it('asks only for live instances of the region', async () => {
    region();
    await instanceRoleStep.ask!(await makeContext({}, new RecordingIo({ 'targets.mode': NONE })));
    const filters = ec2.ec2.commandCalls(DescribeInstancesCommand)[0]!.args[0].input.Filters;
    expect(filters).toEqual([{ Name: 'instance-state-name', Values: expect.arrayContaining(['running', 'stopped']) }]);
    expect(filters![0]!.Values).not.toContain('terminated');
  });

  it.each([
    ['--instance-ids', { instanceIds: [APP] }],
    ['--tag', { tag: ['Env=demo'] }],
  ])('asks nothing and lists nothing when %s was given', async (_, flags) => {
    region();
    const io = new RecordingIo({});
    expect(await instanceRoleStep.ask!(await makeContext(flags, io))).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(ec2.ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
  });

  it('says so and asks nothing when the region has no instance', async () => {
    const io = new RecordingIo({});
    expect(await instanceRoleStep.ask!(await makeContext({}, io))).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(io.lines.join('\n')).toMatch(/No running or stopped instances in eu-west-1/);
  });
});
