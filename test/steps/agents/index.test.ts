// moto (the local emulator) implements neither DescribeInstanceInformation nor associations nor
// ListCommandInvocations: the agents step is covered here with aws-sdk-client-mock and the
// stateful fake of test/helpers/fake-fleet.ts (its EC2 side, test/helpers/fake-ec2.ts, holds the
// subnets and AMIs the diagnosis of unmanaged targets reads, and a minimal IAM answers it).
// Timers are faked: polls, back-off and timeouts take no real time.
import { CreateTagsCommand, type Route } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { ListCommandInvocationsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTiming } from '../../../src/aws/fleet.js';
import { StepError } from '../../../src/base/errors.js';
import type { TargetInstance } from '../../../src/core/step.js';
import { type AgentsState, agentsStep, CW_AGENT_TAG } from '../../../src/steps/agents/index.js';
import { applyPlanned, converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeFleet, type FleetInstanceOptions, fakeFleet, settle } from '../../helpers/fake-fleet.js';
import { ACCOUNT, makeContext, REGION, settingsFrom } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const TIMING = { ...runTiming };
const UPDATE = 'AWS-UpdateSSMAgent';
const CW = 'AWS-ConfigureAWSPackage';
const FAILED = { status: 'Failed', details: 'Failed' } as const;
let fleet: FakeFleet;
let iam: AwsClientStub<IAMClient>;

const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};
const batches = (n: number) => Math.ceil(n / 50);
const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;

/** Where an unmanaged target lives, for the diagnosis reads: a public and a private subnet, two AMIs, two profiles. */
const HEALTHY: Partial<TargetInstance> = {
  profileArn: profileArn('good-profile'),
  vpcId: 'vpc-a',
  subnetId: 'subnet-public',
  imageId: 'ami-al2023',
  architecture: 'x86_64',
};
const IGW: Route = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  fleet = fakeFleet();
  fleet.world
    .addRouteTable('rtb-public', 'vpc-a', { subnets: ['subnet-public'], routes: [IGW] })
    .addRouteTable('rtb-private', 'vpc-a', { subnets: ['subnet-private'] })
    .addImage({ ImageId: 'ami-al2023', Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', Description: 'Amazon Linux 2023 AMI' });
  iam = mockClient(IAMClient);
  iam.rejects(Object.assign(new Error('IAM command not implemented'), { name: 'FakeNotImplemented' }));
  const roles: Record<string, string> = { 'good-profile': 'good-role', 'bare-profile': 'bare-role' };
  iam.on(GetInstanceProfileCommand).callsFake(async ({ InstanceProfileName }: { InstanceProfileName: string }) => {
    const role = roles[InstanceProfileName];
    if (!role) throw new NoSuchEntityException({ message: `Instance Profile ${InstanceProfileName} cannot be found.`, $metadata: {} });
    return { InstanceProfile: { InstanceProfileName, Roles: [{ RoleName: role }] } };
  });
  iam.on(ListAttachedRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({
    AttachedPolicies: RoleName === 'good-role' ? [{ PolicyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' }] : [],
  }));
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
});
afterEach(() => {
  fleet.restore();
  iam.restore();
  vi.useRealTimers();
  Object.assign(runTiming, TIMING);
});

/** read → plan → apply (the shared harness), with the fake timers moving on; the plan note too. */
async function run(flags: Record<string, unknown> = {}, targets: readonly TargetInstance[] = fleet.targets(), io = new TestIo()) {
  const ctx = await makeContext(flags, io, targets);
  const { state, changes, outputs } = await settle(converge(agentsStep, ctx), tick);
  return { state, changes, note: agentsStep.note?.(state as AgentsState, ctx), outputs, io };
}
/** The StepError apply ends with (RUN_COMMAND_FAILED), and the instance ids its message lists. */
async function failure(flags: Record<string, unknown> = {}) {
  const error = await run(flags).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StepError);
  const e = error as StepError;
  expect(e.stepId).toBe('agents');
  expect(e.code).toBe('RUN_COMMAND_FAILED');
  const lines = e.message
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
  return { error: e, lines, ids: lines.map((l) => l.split(':')[0]) };
}
const sentTo = (document: string) =>
  fleet.ssm
    .commandCalls(SendCommandCommand)
    .filter((c) => c.args[0].input.DocumentName === document)
    .flatMap((c) => c.args[0].input.InstanceIds!);
const tagged = () => [...fleet.instances.values()].filter((i) => i.tags[CW_AGENT_TAG] === 'installed').map((i) => i.id);

describe('agents', () => {
  it.each([0, 1, 50, 51, 500])('%i managed Online targets: calls by batches of 50, one poll call per command, a result per instance', async (n) => {
    const ids = fleet.addMany(n);
    const { changes, outputs, note } = await run();
    expect(kinds(changes)).toEqual(n ? ['update-agent', 'install-cloudwatch-agent'] : []);
    const calls = fleet.calls();
    expect(calls.DescribeInstanceInformation ?? 0).toBe(batches(n));
    expect(calls.SendCommand ?? 0).toBe(2 * batches(n));
    expect(sentTo(UPDATE)).toHaveLength(n);
    expect(sentTo(CW)).toHaveLength(n);
    expect(calls.ListCommandInvocations ?? 0).toBe(2 * 3 * batches(n)); // 3 polls per command
    expect(calls.GetCommandInvocation).toBeUndefined();
    expect(fleet.maxInFlight()).toBeLessThanOrEqual(runTiming.inFlight);
    expect(calls.CreateTags ?? 0).toBe(batches(n));
    for (const c of fleet.ec2.commandCalls(CreateTagsCommand)) {
      expect(c.args[0].input.Resources!.length).toBeLessThanOrEqual(50);
      expect(c.args[0].input.Tags).toEqual([{ Key: CW_AGENT_TAG, Value: 'installed' }]);
    }
    expect(tagged().sort()).toEqual([...ids].sort());
    if (n) expect(outputs).toEqual({ agentResults: Object.fromEntries(ids.map((id) => [id, 'agent updated, CloudWatch agent installed'])) });
    else expect(note).toBe('no target instances (--instance-ids or --tag)');
    if (n)
      expect(calls).toEqual({
        DescribeInstanceInformation: batches(n),
        SendCommand: 2 * batches(n),
        ListCommandInvocations: 6 * batches(n),
        CreateTags: batches(n),
      });
    else expect(calls).toEqual({});
  });

  it('a converged fleet: the rerun reads, plans no change and sends no command', async () => {
    fleet.addMany(120);
    await run();
    const before = fleet.calls();
    const { changes, outputs } = await run(); // the targets now carry the tag, the agents are the latest
    expect(changes).toEqual([]);
    expect(outputs).toEqual({});
    expect(fleet.calls()).toEqual({ ...before, DescribeInstanceInformation: before.DescribeInstanceInformation! + 3 });
  });

  it('skips the update where the agent is already the latest', async () => {
    const [old1, old2] = fleet.addMany(2);
    const current = fleet.add({ isLatest: true });
    const { changes, outputs } = await run({ cloudwatchAgent: false });
    expect(changes).toEqual([expect.objectContaining({ kind: 'update-agent', resource: 'SSM Agent on 2 instances' })]);
    expect(changes[0]!.detail).toContain(old1);
    expect(changes[0]!.detail).not.toContain(current);
    expect(sentTo(UPDATE)).toEqual([old1, old2]);
    expect(outputs?.agentResults).toEqual({ [old1!]: 'agent updated', [old2!]: 'agent updated' });
  });

  it('skips the CloudWatch install where the instance carries the tag; tags only where it succeeded', async () => {
    const done = fleet.add({ isLatest: true, tags: { [CW_AGENT_TAG]: 'installed' } });
    const ok = fleet.addMany(60, { isLatest: true });
    const broken = fleet.add({ isLatest: true, outcomes: { [CW]: FAILED } });
    const { ids } = await failure();
    expect(ids).toEqual([broken]);
    expect(sentTo(CW).sort()).toEqual([...ok, broken].sort());
    expect(sentTo(UPDATE)).toEqual([]);
    expect(tagged().sort()).toEqual([done, ...ok].sort());
    // The tag goes on after the install succeeded, 50 ids per call.
    expect(fleet.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources!.length)).toEqual([50, 10]);
    for (const id of ok) expect(fleet.instances.get(id)!.packages.has('AmazonCloudWatchAgent')).toBe(true);
  });

  it('mixed results: every instance finishes, then the step fails listing exactly the failed ones', async () => {
    const ok = fleet.addMany(115);
    const badUpdate = fleet.addMany(3, { outcomes: { [UPDATE]: FAILED } });
    const badCw = fleet.add({ outcomes: { [CW]: FAILED } });
    const slowCw = fleet.add({ outcomes: { [CW]: { status: 'TimedOut', details: 'Execution Timed Out' } }, finishAtPoll: 5 });
    const { error, lines, ids } = await failure();
    expect(ids.sort()).toEqual([...badUpdate, badCw, slowCw].sort());
    expect(error.code).toBe('RUN_COMMAND_FAILED');
    expect(lines).toContain(`${slowCw}: TimedOut (Execution Timed Out)`);
    expect(lines).toContain(`${badCw}: Failed`);
    expect(error.hint).toContain('ssm-setup run agents');
    // Nobody was left running, and the others are done.
    expect([...fleet.commands.values()].flatMap((c) => c.invocations).every((v) => v.status !== 'Pending' && v.status !== 'InProgress')).toBe(true);
    for (const id of ok) expect(fleet.instances.get(id)).toMatchObject({ isLatest: true, tags: { [CW_AGENT_TAG]: 'installed' } });
    // A failed update does not stop the CloudWatch install there.
    expect(tagged()).toEqual(expect.arrayContaining(badUpdate));
    expect(tagged()).not.toContain(badCw);
    // The report keeps what was done, instance by instance (--json), though the step failed.
    const results = (error as StepError).outputs?.agentResults as Record<string, string>;
    expect(results[ok[0]!]).toBe('agent updated, CloudWatch agent installed');
    expect(results[badCw]).toBe('agent updated, CloudWatch agent Failed');
    expect(Object.keys(results)).toHaveLength(120);
  });

  it('an instance that goes ConnectionLost mid-run is reported failed while the others succeed', async () => {
    const ok = fleet.addMany(59);
    const lost = fleet.add({ loseConnectionAtPoll: 1 });
    const { lines } = await failure({ cloudwatchAgent: false });
    expect(lines).toEqual([`${lost}: TimedOut (Delivery Timed Out)`]);
    for (const id of ok) expect(fleet.instances.get(id)!.isLatest).toBe(true);
  });

  it('an instance lost during the agent update fails alone: the CloudWatch install still reaches its batch mates', async () => {
    const ok = fleet.addMany(59);
    const lost = fleet.add({ loseConnectionAtPoll: 1 });
    const { ids } = await failure();
    expect(new Set(ids)).toEqual(new Set([lost]));
    expect(tagged().sort()).toEqual([...ok].sort());
  });

  it('the overall timeout marks the rest TimedOut and fails the step with them only', async () => {
    fleet.addMany(10);
    const stuck = fleet.addMany(2, { finishAtPoll: Infinity });
    const started = Date.now();
    const { lines } = await failure({ cloudwatchAgent: false });
    expect(lines.map((l) => l.split(':')[0])).toEqual(stuck);
    for (const l of lines) expect(l).toMatch(/: TimedOut \(still InProgress when ssm-setup stopped waiting \(command [0-9a-f-]{36}\)\)$/);
    expect(Date.now() - started).toBeLessThanOrEqual(runTiming.timeoutMs + runTiming.maxPollMs);
  });

  it('records the progress of each document', async () => {
    fleet.addMany(2);
    const { io } = await run();
    expect(io.lines.filter((l) => l.startsWith('progress:'))).toEqual([
      'progress: Updating SSM Agent: 0/2 done, 0 failed, 2 pending',
      'progress: Updating SSM Agent: 0/2 done, 0 failed, 2 pending',
      'progress: Updating SSM Agent: 2/2 done, 0 failed, 0 pending',
      'progress: Installing CloudWatch agent: 0/2 done, 0 failed, 2 pending',
      'progress: Installing CloudWatch agent: 0/2 done, 0 failed, 2 pending',
      'progress: Installing CloudWatch agent: 2/2 done, 0 failed, 0 pending',
    ]);
  });

  it('--no-agent-update sends only the CloudWatch install; --no-cloudwatch-agent only the update', async () => {
    fleet.addMany(3);
    expect(kinds((await run({ agentUpdate: false })).changes)).toEqual(['install-cloudwatch-agent']);
    expect(sentTo(UPDATE)).toEqual([]);
    fleet.restore();
    fleet = fakeFleet();
    fleet.addMany(3);
    expect(kinds((await run({ cloudwatchAgent: false })).changes)).toEqual(['update-agent']);
    expect(sentTo(CW)).toEqual([]);
    expect(fleet.count('CreateTags')).toBe(0);
  });

  it('skip() only when both the agent update and the CloudWatch agent are off', async () => {
    expect(agentsStep.skip!((await settingsFrom({ agentUpdate: false, cloudwatchAgent: false })).settings)).toBe('agent update and CloudWatch agent both off');
    expect(agentsStep.skip!((await settingsFrom({ agentUpdate: false })).settings)).toBeUndefined();
    expect(agentsStep.skip!((await settingsFrom({ cloudwatchAgent: false })).settings)).toBeUndefined();
    expect(agentsStep.skip!((await settingsFrom({})).settings)).toBeUndefined();
  });
});

describe("agents: instances at EC2's 50-tag limit (issue 13, item 10)", () => {
  /** `n` tags of someone else's. */
  const tagsOf = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v']));
  const CW_INSTALL = { action: ['Install'], name: ['AmazonCloudWatchAgent'] };
  const DAY = 86_400_000;

  it('one instance at the limit: installed once, the others still tagged, the run does not fail, the rerun sends nothing', async () => {
    const ok = fleet.addMany(60, { isLatest: true });
    const full = fleet.add({ isLatest: true, tags: tagsOf(50) });
    // `aws:` tags do not count: 49 of its own leave room for the marker.
    const roomy = fleet.add({ isLatest: true, tags: { ...tagsOf(49), ...tagsOf(3, 'aws:cloudformation:') } });
    const { outputs } = await run();
    expect(sentTo(CW).sort()).toEqual([...ok, full, roomy].sort());
    expect(tagged().sort()).toEqual([...ok, roomy].sort());
    expect(fleet.instances.get(full)!.packages.has('AmazonCloudWatchAgent')).toBe(true);
    expect(Object.keys(fleet.instances.get(full)!.tags)).toHaveLength(50);
    expect(outputs?.agentResults?.[full]).toBe('CloudWatch agent installed');
    // The instance at the limit is left out of the CreateTags calls, 50 ids per call.
    const tagCalls = fleet.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources!);
    expect(tagCalls.map((r) => r.length)).toEqual([50, 11]);
    expect(tagCalls.flat()).not.toContain(full);

    const lookups = () => fleet.ssm.commandCalls(ListCommandInvocationsCommand).filter((c) => !c.args[0].input.CommandId);
    const before = lookups().length;
    const again = await run();
    expect(again.changes).toEqual([]);
    expect(sentTo(CW)).toHaveLength(62);
    expect(again.note).toContain(full);
    expect(again.note).toMatch(/50-tag limit/);
    // Remembered from its Run Command history: one ListCommandInvocations for it, by instance.
    expect(
      lookups()
        .slice(before)
        .map((c) => c.args[0].input),
    ).toEqual([
      {
        InstanceId: full,
        Filters: [
          { key: 'DocumentName', value: CW },
          { key: 'Status', value: 'Success' },
        ],
        MaxResults: 50,
      },
    ]);
    expect((await run()).changes).toEqual([]);
  });

  it('an instance that reaches the limit between the read and the tagging: its batch mates are tagged all the same', async () => {
    const ok = fleet.addMany(30, { isLatest: true });
    const late = fleet.add({ isLatest: true, tags: tagsOf(49) });
    const ctx = await makeContext({}, new TestIo(), fleet.targets());
    const plan = await planned(agentsStep, ctx);
    fleet.instances.get(late)!.tags.Late = 'yes'; // someone tags it meanwhile
    await settle(applyPlanned(agentsStep, ctx, plan), tick);
    expect(tagged().sort()).toEqual([...ok].sort());
    expect(fleet.instances.get(late)!.packages.has('AmazonCloudWatchAgent')).toBe(true);
    // And the next run finds its install in the history.
    const again = await run();
    expect(again.changes).toEqual([]);
  });

  it('the history counts a successful Install of AmazonCloudWatchAgent by anyone; not another package, a failure or one older than 30 days', async () => {
    const [mine, other, failed, old, none] = Array.from({ length: 5 }, () => fleet.add({ isLatest: true, tags: tagsOf(50) }));
    fleet.addCommand({ document: CW, parameters: { ...CW_INSTALL, version: ['latest'] }, instanceIds: [mine!], agoMs: 10 * DAY });
    fleet.addCommand({ document: CW, parameters: { action: ['Install'], name: ['AWSCodeDeployAgent'] }, instanceIds: [other!], agoMs: DAY });
    fleet.addCommand({ document: CW, parameters: CW_INSTALL, instanceIds: [failed!], status: 'Failed', agoMs: DAY });
    fleet.addCommand({ document: CW, parameters: CW_INSTALL, instanceIds: [old!], agoMs: 31 * DAY });
    const { changes } = await run({ agentUpdate: false });
    expect(changes).toEqual([expect.objectContaining({ kind: 'install-cloudwatch-agent', resource: 'CloudWatch agent on 4 instances' })]);
    expect(sentTo(CW).sort()).toEqual([other, failed, old, none].sort());
    expect(fleet.count('CreateTags')).toBe(0);
    expect((await run({ agentUpdate: false })).changes).toEqual([]);
  });
});

describe('agents: targets Run Command cannot reach', () => {
  const rpm = `https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest/linux_amd64/amazon-ssm-agent.rpm`;
  const cases: [string, FleetInstanceOptions, RegExp, string][] = [
    ['stopped', { managed: false, target: { ...HEALTHY, state: 'stopped' } }, /^the instance is stopped$/, 'aws ec2 start-instances --instance-ids'],
    [
      'without an instance profile',
      { managed: false, target: { ...HEALTHY, profileArn: undefined } },
      /^no instance profile/,
      'ssm-setup run instance-role --instance-ids',
    ],
    [
      'whose role lacks the rights',
      { managed: false, target: { ...HEALTHY, profileArn: profileArn('bare-profile') } },
      /^the role bare-role lacks the rights/,
      'aws iam attach-role-policy --role-name bare-role',
    ],
    [
      'in a private subnet without endpoints',
      { managed: false, target: { ...HEALTHY, subnetId: 'subnet-private' } },
      /^no route to the SSM endpoints/,
      'aws ec2 create-vpc-endpoint --vpc-id vpc-a',
    ],
    [
      'on RHEL, which has no agent',
      { managed: false, target: { ...HEALTHY, platform: 'Red Hat Enterprise Linux' } },
      /^the SSM Agent is not installed: Red Hat/,
      `sudo dnf install -y ${rpm}`,
    ],
    [
      'managed but ConnectionLost',
      { pingStatus: 'ConnectionLost', target: HEALTHY },
      /^the agent is not running or cannot register$/,
      'sudo systemctl status amazon-ssm-agent',
    ],
  ];

  it.each(cases)('an instance %s: diagnosed in the plan note, left alone, and the run does not fail', async (_, opts, cause, fix) => {
    const ok = fleet.addMany(2);
    const odd = fleet.add(opts);
    const { changes, note, outputs } = await run();
    expect(changes.map((c) => c.resource)).toEqual(['SSM Agent on 2 instances', 'CloudWatch agent on 2 instances']);
    expect(note).toMatch(/^1 of 3 targets cannot be reached by Run Command \(left alone\):\n/);
    const [, line, ...fixes] = note!.split('\n');
    expect(line!.trim()).toMatch(new RegExp(`^${odd}: `));
    expect(line!.trim().slice(`${odd}: `.length)).toMatch(cause);
    expect(fixes.join('\n')).toContain(fix);
    expect(sentTo(UPDATE)).toEqual(ok);
    expect(sentTo(CW)).toEqual(ok);
    expect(outputs?.agentResults).toEqual(Object.fromEntries(ok.map((id) => [id, 'agent updated, CloudWatch agent installed'])));
    expect(Object.keys(outputs?.unmanaged ?? {})).toEqual([odd]);
    expect(outputs!.unmanaged![odd]!.split(' → ')[0]).toMatch(cause);
  });

  it('only unreachable targets: no change, the diagnoses in the note and the outputs, no command', async () => {
    const a = fleet.add({ managed: false, target: { ...HEALTHY, state: 'stopped' } });
    const b = fleet.add({ managed: false, target: { ...HEALTHY, profileArn: undefined } });
    const { changes, note, outputs } = await run();
    expect(changes).toEqual([]);
    expect(note).toContain(`${a}: the instance is stopped`);
    expect(note).toContain(`${b}: no instance profile`);
    expect(Object.keys(outputs?.unmanaged ?? {})).toEqual([a, b]);
    expect(fleet.count('SendCommand')).toBe(0);
  });

  it('names the instance in the note when it has a Name', async () => {
    const id = fleet.add({ managed: false, target: { ...HEALTHY, name: 'web-1', state: 'stopped' } });
    const { note } = await run();
    expect(note).toContain(`${id} (web-1): the instance is stopped`);
  });
});
