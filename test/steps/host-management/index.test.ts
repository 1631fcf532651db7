// moto (the local emulator) implements neither DescribeInstanceInformation nor associations nor
// ListCommandInvocations: the host-management step is covered here with aws-sdk-client-mock, the
// stateful associations and service setting of test/helpers/fake-fleet.ts, and a few IAM role
// calls for the DHMC role.
import {
  AttachRolePolicyCommand,
  type AttachRolePolicyCommandInput,
  CreateRoleCommand,
  type CreateRoleCommandInput,
  EntityAlreadyExistsException,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { CreateAssociationCommand, UpdateAssociationCommand, UpdateServiceSettingCommand } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWriteCall } from '../../../src/aws/calls.js';
import type { TargetInstance } from '../../../src/core/step.js';
import { hostManagementStep } from '../../../src/steps/host-management/index.js';
import { converge, kinds } from '../../helpers/aws.js';
import { type FakeFleet, type FakeFleetOptions, fakeFleet } from '../../helpers/fake-fleet.js';
import { ACCOUNT, makeContext, REGION, settingsFrom } from '../../helpers/fixtures.js';

const AGENT = 'ssm-setup-UpdateSSMAgent';
const INVENTORY = 'ssm-setup-SoftwareInventory';
const CWAGENT = 'ssm-setup-UpdateCloudWatchAgent';
const INVENTORY_PARAMS = Object.fromEntries(
  ['applications', 'awsComponents', 'networkConfig', 'instanceDetailedInformation', 'services', 'windowsUpdates', 'windowsRoles', 'customInventory'].map(
    (k) => [k, ['Enabled']],
  ),
);
const CW_PARAMS = { action: ['Install'], name: ['AmazonCloudWatchAgent'] };
const DHMC_ROLE = 'AWSSystemsManagerDefaultEC2InstanceManagementRole';
const DHMC_POLICY_ARN = 'arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy';
const DHMC_SETTING = `arn:aws:ssm:${REGION}:${ACCOUNT}:servicesetting/ssm/managed-instance/default-ec2-instance-management-role`;
const DHMC_PATH = '/ssm/managed-instance/default-ec2-instance-management-role';

let fleet: FakeFleet;
let iam: AwsClientStub<IAMClient>;
/** IAM roles by name: path, trust policy, attached policy ARNs. */
let roles: Map<string, { path: string; trust: unknown; attached: Set<string> }>;

function reset(opts: FakeFleetOptions = {}) {
  fleet?.restore();
  fleet = fakeFleet(opts);
}

beforeEach(() => {
  reset();
  roles = new Map();
  iam = mockClient(IAMClient);
  iam.rejects(Object.assign(new Error('IAM command not implemented'), { name: 'FakeNotImplemented' }));
  const role = (RoleName: string | undefined) => {
    const r = roles.get(RoleName ?? '');
    if (!r) throw new NoSuchEntityException({ message: `The role with name ${RoleName} cannot be found.`, $metadata: {} });
    return r;
  };
  iam.on(GetRoleCommand).callsFake(async ({ RoleName }: { RoleName: string }) => {
    const r = role(RoleName);
    return {
      Role: {
        RoleName,
        Path: r.path,
        Arn: `arn:aws:iam::${ACCOUNT}:role${r.path}${RoleName}`,
        RoleId: 'AROAX',
        CreateDate: new Date(),
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(r.trust)),
      },
    };
  });
  iam.on(CreateRoleCommand).callsFake(async (i: CreateRoleCommandInput) => {
    if (roles.has(i.RoleName!)) throw new EntityAlreadyExistsException({ message: `Role with name ${i.RoleName} already exists.`, $metadata: {} });
    roles.set(i.RoleName!, { path: i.Path ?? '/', trust: JSON.parse(i.AssumeRolePolicyDocument!), attached: new Set() });
    return {
      Role: {
        RoleName: i.RoleName!,
        Path: i.Path ?? '/',
        Arn: `arn:aws:iam::${ACCOUNT}:role${i.Path ?? '/'}${i.RoleName}`,
        RoleId: 'AROAX',
        CreateDate: new Date(),
      },
    };
  });
  iam.on(AttachRolePolicyCommand).callsFake(async (i: AttachRolePolicyCommandInput) => {
    role(i.RoleName).attached.add(i.PolicyArn!);
    return {};
  });
  iam.on(ListAttachedRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({
    AttachedPolicies: [...role(RoleName).attached].map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
    IsTruncated: false,
  }));
});
afterEach(() => {
  fleet.restore();
  iam.restore();
});

/** read → plan → apply, as the runner does it, on these targets. */
const run = async (flags: Record<string, unknown> = {}, targets: readonly TargetInstance[] = fleet.targets()) =>
  converge(hostManagementStep, await makeContext(flags, undefined, targets));
const ops = () => [...fleet.ssm.calls(), ...iam.calls()].map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
const writes = () => ops().filter(isWriteCall);
const created = () => fleet.ssm.commandCalls(CreateAssociationCommand).map((c) => c.args[0].input);
const idsTarget = (ids: readonly string[]) => [{ Key: 'InstanceIds', Values: [...ids] }];
/** The tag that makes an association ssm-setup's. */
const OURS = { tags: { ManagedBy: 'ssm-setup' } };
/** The three associations as ssm-setup wants them for these targets. */
const desired = (ids: readonly string[]) => [
  { Name: 'AWS-UpdateSSMAgent', AssociationName: AGENT, Targets: idsTarget(ids), ScheduleExpression: 'rate(14 days)' },
  {
    Name: 'AWS-GatherSoftwareInventory',
    AssociationName: INVENTORY,
    Targets: idsTarget(ids),
    ScheduleExpression: 'rate(30 minutes)',
    Parameters: INVENTORY_PARAMS,
  },
  { Name: 'AWS-ConfigureAWSPackage', AssociationName: CWAGENT, Targets: idsTarget(ids), ScheduleExpression: 'rate(30 days)', Parameters: CW_PARAMS },
];

describe('host-management associations', () => {
  it('absent: creates the three associations with document, schedule, parameters, targets and tags; the rerun writes nothing', async () => {
    const ids = fleet.addMany(3);
    const { changes, outputs } = await run({ tags: ['Team=infra'] });
    expect(changes.map((c) => [c.kind, c.subject])).toEqual([
      ['create-association', AGENT],
      ['create-association', INVENTORY],
      ['create-association', CWAGENT],
    ]);
    expect(changes[1]!.detail).toBe('AWS-GatherSoftwareInventory, rate(30 minutes), 3 instances');
    const tags = [
      { Key: 'Team', Value: 'infra' },
      { Key: 'ManagedBy', Value: 'ssm-setup' },
    ];
    expect(created()).toEqual([
      { ...desired(ids)[0], Parameters: {}, Tags: tags },
      { ...desired(ids)[1], Tags: tags },
      { ...desired(ids)[2], Tags: tags },
    ]);
    expect(outputs).toEqual({ associations: [AGENT, INVENTORY, CWAGENT] });

    const before = writes().length;
    const again = await run({ tags: ['Team=infra'] });
    expect(again.changes).toEqual([]);
    expect(again.outputs).toEqual({ associations: [AGENT, INVENTORY, CWAGENT] });
    expect(writes()).toHaveLength(before);
    for (const name of [AGENT, INVENTORY, CWAGENT]) expect(fleet.named(name)).toHaveLength(1);
  });

  it('equal: no change and no write call', async () => {
    const ids = fleet.addMany(2);
    for (const a of desired(ids)) fleet.addAssociation({ ...a, ...OURS });
    const { changes, outputs } = await run();
    expect(changes).toEqual([]);
    expect(outputs).toEqual({ associations: [AGENT, INVENTORY, CWAGENT] });
    expect(writes()).toEqual([]);
    // The list lacks the parameters: each one found is described.
    expect(ops().filter((o) => o === 'DescribeAssociation')).toHaveLength(3);
  });

  it('drifted: UpdateAssociation with the full desired state, after which nothing differs', async () => {
    const ids = fleet.addMany(2);
    const [agent, inventory, cw] = desired(ids);
    const agentId = fleet.addAssociation({ ...agent!, ScheduleExpression: 'rate(7 days)', ...OURS });
    const inventoryId = fleet.addAssociation({ ...inventory!, Parameters: { ...INVENTORY_PARAMS, applications: ['Disabled'] }, ...OURS });
    const cwId = fleet.addAssociation({ ...cw!, Targets: idsTarget(ids.slice(0, 1)), ...OURS });
    const { changes } = await run();
    expect(changes.map((c) => [c.kind, c.subject])).toEqual([
      ['update-association', AGENT],
      ['update-association', INVENTORY],
      ['update-association', CWAGENT],
    ]);
    expect(changes[0]!.detail).toMatch(/^schedule differ → /);
    expect(changes[1]!.detail).toMatch(/^parameters differ → /);
    expect(changes[2]!.detail).toMatch(/^targets differ → /);
    const updates = fleet.ssm.commandCalls(UpdateAssociationCommand).map((c) => c.args[0].input);
    expect(updates).toEqual([
      { AssociationId: agentId, ...agent!, Parameters: {} },
      { AssociationId: inventoryId, ...inventory! },
      { AssociationId: cwId, ...cw! },
    ]);
    expect(created()).toEqual([]);
    // The fake drops what UpdateAssociation is not sent: converged only if all of it went.
    expect((await run()).changes).toEqual([]);
  });

  it('a changed document is drift too', async () => {
    const ids = fleet.addMany(1);
    fleet.addAssociation({ ...desired(ids)[0]!, Name: 'AWS-ConfigureAWSPackage', Parameters: CW_PARAMS, ...OURS });
    const { changes } = await run({ cloudwatchAgent: false });
    expect(changes[0]).toMatchObject({ kind: 'update-association', subject: AGENT, detail: expect.stringMatching(/^document, parameters differ → /) });
  });

  it('finds its associations by name across pages (empty pages included), never creating a second one', async () => {
    reset({ associationPageSize: 2 });
    const ids = fleet.addMany(3);
    for (let i = 0; i < 7; i++)
      fleet.addAssociation({
        Name: 'AWS-GatherSoftwareInventory',
        AssociationName: `someone-else-${i}`,
        Targets: idsTarget(ids),
        ScheduleExpression: 'rate(1 day)',
      });
    // A stale second copy whose name starts with the first one's: not the first one.
    fleet.addAssociation({ ...desired(ids)[0]!, AssociationName: `${AGENT}-2`, ...OURS });
    const inventoryId = fleet.addAssociation({ ...desired(ids)[1]!, ...OURS });
    const cwId = fleet.addAssociation({ ...desired(ids)[2]!, ScheduleExpression: 'rate(20 days)', ...OURS });
    const { changes } = await run();
    expect(changes.map((c) => [c.kind, c.subject])).toEqual([
      ['create-association', AGENT],
      ['update-association', CWAGENT],
    ]);
    expect(created().map((c) => c.AssociationName)).toEqual([AGENT]);
    expect(fleet.ssm.commandCalls(UpdateAssociationCommand)[0]!.args[0].input.AssociationId).toBe(cwId);
    expect(fleet.associations.get(inventoryId)!.AssociationVersion).toBe('1');

    expect((await run()).changes).toEqual([]);
    for (const name of [AGENT, INVENTORY, CWAGENT, `${AGENT}-2`]) expect(fleet.named(name)).toHaveLength(1);
  });

  it('targets the --tag filters when the instances were chosen by tag', async () => {
    fleet.addMany(3, { tags: { Env: 'prod', Team: 'web' } });
    await run({ tag: ['Env=prod', 'Team=web'] });
    const targets = [
      { Key: 'tag:Env', Values: ['prod'] },
      { Key: 'tag:Team', Values: ['web'] },
    ];
    expect(created().map((c) => [c.AssociationName, c.Targets])).toEqual([
      [AGENT, targets],
      [INVENTORY, targets],
      [CWAGENT, targets],
    ]);
  });

  it('instance ids by 50 per association copy: 120 targets make copies x, x-2 and x-3', async () => {
    const ids = fleet.addMany(120);
    const { outputs } = await run();
    const names = [AGENT, `${AGENT}-2`, `${AGENT}-3`, INVENTORY, `${INVENTORY}-2`, `${INVENTORY}-3`, CWAGENT, `${CWAGENT}-2`, `${CWAGENT}-3`];
    expect(created().map((c) => c.AssociationName)).toEqual(names);
    expect(outputs).toEqual({ associations: names });
    for (const doc of ['AWS-UpdateSSMAgent', 'AWS-GatherSoftwareInventory', 'AWS-ConfigureAWSPackage']) {
      const copies = created()
        .filter((c) => c.Name === doc)
        .map((c) => c.Targets!);
      expect(copies.map((t) => t[0]!.Values!.length)).toEqual([50, 50, 20]);
      expect(copies.flatMap((t) => t[0]!.Values!)).toEqual(ids);
    }
    expect((await run()).changes).toEqual([]);
  });

  it('--no-cloudwatch-agent and --no-agent-update drop their associations', async () => {
    fleet.addMany(1);
    expect((await run({ cloudwatchAgent: false })).changes.map((c) => c.subject)).toEqual([AGENT, INVENTORY]);
    reset();
    fleet.addMany(1);
    expect((await run({ agentUpdate: false })).changes.map((c) => c.subject)).toEqual([INVENTORY, CWAGENT]);
    expect(created().map((c) => c.AssociationName)).toEqual([INVENTORY, CWAGENT]);
  });

  it('skip() with --no-host-management only', async () => {
    expect(hostManagementStep.skip!((await settingsFrom({ hostManagement: false })).settings)).toBe('off (--no-host-management)');
    expect(hostManagementStep.skip!((await settingsFrom({})).settings)).toBeUndefined();
  });

  it('no targets: nothing to do, no call, and a note', async () => {
    const { changes, note, outputs } = await run({}, []);
    expect(changes).toEqual([]);
    expect(note).toBe('no target instances (--instance-ids or --tag): no association made');
    expect(outputs).toEqual({ associations: [] });
    expect(ops()).toEqual([]);
  });

  it('without --dhmc the service setting and the DHMC role are not read', async () => {
    fleet.addMany(1);
    await run();
    expect(ops().filter((o) => /ServiceSetting|Role/.test(o))).toEqual([]);
  });
});

describe('host-management: lost answers and duplicates (issue 13, item 2)', () => {
  const NAMES = [AGENT, INVENTORY, CWAGENT];

  it.each(['500', 'reset'] as const)(
    'a CreateAssociation whose answer is lost (%s) is not sent blindly again: exactly one association each, and the rerun plans nothing',
    async (as) => {
      fleet.addMany(2);
      fleet.loseAnswer(CreateAssociationCommand, { as });
      const { outputs } = await run();
      expect(outputs).toEqual({ associations: NAMES });
      for (const name of NAMES) expect(fleet.named(name)).toHaveLength(1);
      // Sent once through the client without retries, then looked for by name, not sent again.
      const sends = fleet.ssm.commandCalls(CreateAssociationCommand);
      expect(sends.map((c) => c.args[0].input.AssociationName)).toEqual(NAMES);
      expect(await sends[0]!.thisValue.config.maxAttempts()).toBe(1);
      expect(fleet.attempts(CreateAssociationCommand)).toBe(3);
      const before = writes().length;
      expect((await run()).changes).toEqual([]);
      expect(writes()).toHaveLength(before);
    },
  );

  it('a CreateAssociation that failed on its way (nothing made) is looked for, then sent once more', async () => {
    fleet.addMany(1);
    fleet.loseAnswer(CreateAssociationCommand, { carriedOut: false });
    await run();
    expect(created().map((c) => c.AssociationName)).toEqual([AGENT, AGENT, INVENTORY, CWAGENT]);
    for (const name of NAMES) expect(fleet.named(name)).toHaveLength(1);
  });

  it('lost twice and not found: LOST_ANSWER, and nothing duplicated', async () => {
    fleet.addMany(1);
    fleet.loseAnswer(CreateAssociationCommand, { carriedOut: false, times: 2 });
    const error = await run().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'LOST_ANSWER', stepId: 'host-management', call: 'SSM.CreateAssociation' });
    expect(fleet.named(AGENT)).toHaveLength(0);
  });

  it('duplicates of ours are healed: the newest is kept (and updated if it drifted), the others deleted, the rerun plans nothing', async () => {
    const ids = fleet.addMany(2);
    const [agent, inventory, cw] = desired(ids);
    const day = (n: number) => new Date(Date.UTC(2026, 0, n));
    const oldest = fleet.addAssociation({ ...agent!, ...OURS, date: day(1) });
    const newest = fleet.addAssociation({ ...agent!, ScheduleExpression: 'rate(7 days)', ...OURS, date: day(3) });
    const middle = fleet.addAssociation({ ...agent!, ...OURS, date: day(2) });
    fleet.addAssociation({ ...inventory!, ...OURS });
    const cwKept = fleet.addAssociation({ ...cw!, ...OURS, date: day(5) });
    const cwOld = fleet.addAssociation({ ...cw!, ...OURS, date: day(4) });
    const { changes } = await run();
    const reason = 'duplicate left by a lost CreateAssociation answer or a concurrent run';
    expect(changes.map((c) => [c.kind, c.action, c.subject])).toEqual([
      ['update-association', 'update', AGENT],
      ['delete-association', 'delete', middle],
      ['delete-association', 'delete', oldest],
      ['delete-association', 'delete', cwOld],
    ]);
    for (const c of changes.filter((x) => x.kind === 'delete-association')) expect(c.detail).toContain(reason);
    expect(fleet.ssm.commandCalls(UpdateAssociationCommand)[0]!.args[0].input.AssociationId).toBe(newest);
    expect(fleet.named(AGENT).map((a) => a.AssociationId)).toEqual([newest]);
    expect(fleet.named(CWAGENT).map((a) => a.AssociationId)).toEqual([cwKept]);
    expect(created()).toEqual([]);
    expect((await run()).changes).toEqual([]);
  });

  it('one named like ours but not tagged ManagedBy=ssm-setup is never changed or deleted: ours is made beside it, and the note says so', async () => {
    const ids = fleet.addMany(2);
    const [agent, inventory, cw] = desired(ids);
    const foreign = fleet.addAssociation({ ...agent!, ScheduleExpression: 'rate(7 days)', tags: { ManagedBy: 'someone-else' } });
    const foreignCopy = fleet.addAssociation({ ...agent! });
    fleet.addAssociation({ ...inventory!, ...OURS });
    fleet.addAssociation({ ...cw!, ...OURS });
    const { changes, note } = await run();
    expect(changes.map((c) => [c.kind, c.subject])).toEqual([['create-association', AGENT]]);
    expect(note).toContain(`${foreign}`);
    expect(note).toContain(`${foreignCopy}`);
    expect(note).toMatch(/not tagged ManagedBy=ssm-setup/);
    expect(fleet.ssm.commandCalls(UpdateAssociationCommand)).toEqual([]);
    expect(fleet.associations.get(foreign)).toMatchObject({ ScheduleExpression: 'rate(7 days)', AssociationVersion: '1' });
    expect(fleet.named(AGENT)).toHaveLength(3);
    expect(fleet.named(AGENT).filter((a) => a.tags.ManagedBy === 'ssm-setup')).toHaveLength(1);
    const again = await run();
    expect(again.changes).toEqual([]);
    expect(fleet.named(AGENT)).toHaveLength(3);
  });
});

describe('host-management --dhmc', () => {
  it('role absent: creates it under /service-role/ trusted by ssm.amazonaws.com, attaches the managed policy, turns the setting on', async () => {
    fleet.addMany(1);
    const { changes } = await run({ dhmc: true, tags: ['Team=infra'] });
    expect(kinds(changes.filter((c) => c.kind.startsWith('dhmc')))).toEqual(['dhmc-role', 'dhmc-setting']);
    expect(changes.find((c) => c.kind === 'dhmc-setting')!.detail).toMatch(/^\$None → on/);
    const role = iam.commandCalls(CreateRoleCommand)[0]!.args[0].input;
    expect(role).toMatchObject({ RoleName: DHMC_ROLE, Path: '/service-role/' });
    expect(JSON.parse(role.AssumeRolePolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ssm.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(role.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );
    expect(iam).toHaveReceivedCommandWith(AttachRolePolicyCommand, { RoleName: DHMC_ROLE, PolicyArn: DHMC_POLICY_ARN });
    expect(fleet.ssm).toHaveReceivedCommandWith(UpdateServiceSettingCommand, { SettingId: DHMC_SETTING, SettingValue: `service-role/${DHMC_ROLE}` });
    expect(fleet.settings.get(DHMC_PATH)).toBe(`service-role/${DHMC_ROLE}`);

    const before = writes().length;
    const again = await run({ dhmc: true, tags: ['Team=infra'] });
    expect(again.changes).toEqual([]);
    expect(again.note).toBe('Default Host Management Configuration is already on');
    expect(writes()).toHaveLength(before);
  });

  it('role there without the policy: attaches it only', async () => {
    roles.set(DHMC_ROLE, { path: '/service-role/', trust: {}, attached: new Set() });
    fleet.settings.set(DHMC_PATH, `service-role/${DHMC_ROLE}`);
    const { changes } = await run({ dhmc: true }, []);
    expect(kinds(changes)).toEqual(['dhmc-policy']);
    expect(iam).not.toHaveReceivedCommand(CreateRoleCommand);
    expect(roles.get(DHMC_ROLE)!.attached).toEqual(new Set([DHMC_POLICY_ARN]));
    expect(fleet.ssm).not.toHaveReceivedCommand(UpdateServiceSettingCommand);
  });

  it('a setting pointing at another role is set to ours', async () => {
    roles.set(DHMC_ROLE, { path: '/service-role/', trust: {}, attached: new Set([DHMC_POLICY_ARN]) });
    fleet.settings.set(DHMC_PATH, 'service-role/SomeoneElsesRole');
    const { changes } = await run({ dhmc: true }, []);
    expect(changes).toEqual([expect.objectContaining({ kind: 'dhmc-setting', detail: expect.stringMatching(/^service-role\/SomeoneElsesRole → on/) })]);
    expect(fleet.settings.get(DHMC_PATH)).toBe(`service-role/${DHMC_ROLE}`);
  });

  it('already on: no change, no write, and the note says so', async () => {
    roles.set(DHMC_ROLE, { path: '/service-role/', trust: {}, attached: new Set([DHMC_POLICY_ARN]) });
    fleet.settings.set(DHMC_PATH, `service-role/${DHMC_ROLE}`);
    const ids = fleet.addMany(2);
    for (const a of desired(ids)) fleet.addAssociation({ ...a, ...OURS });
    const { changes, note } = await run({ dhmc: true });
    expect(changes).toEqual([]);
    expect(note).toBe('Default Host Management Configuration is already on');
    expect(writes()).toEqual([]);
  });
});
