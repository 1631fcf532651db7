// moto (the local emulator) implements neither DescribeInstanceInformation nor associations nor
// ListCommandInvocations: the fleet path is covered here with aws-sdk-client-mock and the
// stateful fake of test/helpers/fake-fleet.ts. Timers are faked: the polls' back-off and the
// overall timeout take no real time.
import { DescribeInstanceInformationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CommandSpec, managedInventory, runOnFleet, runTiming } from '../../src/aws/fleet.js';
import { onceTiming, sendOnce } from '../../src/aws/lost-answers.js';
import { INSTALL_CW_AGENT, UPDATE_AGENT } from '../../src/steps/agents/index.js';
import { type FakeFleet, fakeFleet, settle } from '../helpers/fake-fleet.js';
import { testClients } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';

const TIMING = { ...runTiming };
let fleet: FakeFleet;

/** Moves fake time to the next timer, or lets real I/O happen when no timer is pending. */
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};
const batches = (n: number) => Math.ceil(n / 50);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  fleet = fakeFleet();
});
afterEach(() => {
  fleet.restore();
  vi.useRealTimers();
  Object.assign(runTiming, TIMING);
});

async function run(ids: readonly string[], spec: CommandSpec = UPDATE_AGENT, io = new TestIo()) {
  const started = Date.now();
  const results = await settle(runOnFleet(testClients(), io, spec, ids), tick);
  return { results, io, elapsedMs: Date.now() - started, byId: new Map(results.map((r) => [r.instanceId, r])) };
}

describe('managedInventory', () => {
  it.each([0, 1, 50, 51, 500])('%i targets: one DescribeInstanceInformation per 50 ids, 50 per page', async (n) => {
    const ids = fleet.addMany(n);
    const found = await managedInventory(testClients(), ids);
    expect(found.size).toBe(n);
    expect(fleet.count('DescribeInstanceInformation')).toBe(batches(n));
    expect(fleet.calls()).toEqual(n ? { DescribeInstanceInformation: batches(n) } : {});
    const inputs = fleet.ssm.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
    for (const input of inputs) {
      expect(input.Filters).toEqual([{ Key: 'InstanceIds', Values: expect.any(Array) }]);
      expect(input.Filters![0]!.Values!.length).toBeLessThanOrEqual(50);
      expect(input.MaxResults).toBe(50);
    }
    expect(inputs.flatMap((i) => i.Filters![0]!.Values!)).toEqual(ids);
  });

  it('follows NextToken when the service returns short pages', async () => {
    fleet.restore();
    fleet = fakeFleet({ describePageCap: 20 });
    const ids = fleet.addMany(120);
    const found = await managedInventory(testClients(), ids);
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    // Batches of 50, 50 and 20 ids: 3 + 3 + 1 pages.
    expect(fleet.count('DescribeInstanceInformation')).toBe(7);
  });

  it('gives ping status, agent version, whether it is the latest and the platform; unmanaged ids are absent', async () => {
    const online = fleet.add({ isLatest: true, platformType: 'MacOS', platformName: 'macOS' });
    const lost = fleet.add({ pingStatus: 'ConnectionLost', agentVersion: '3.1.0.0' });
    const unmanaged = fleet.add({ managed: false });
    const found = await managedInventory(testClients(), [online, lost, unmanaged]);
    expect(found.get(online)).toEqual({
      instanceId: online,
      pingStatus: 'Online',
      agentVersion: fleet.latest,
      isLatest: true,
      platformType: 'MacOS',
      platformName: 'macOS',
    });
    expect(found.get(lost)).toMatchObject({ pingStatus: 'ConnectionLost', agentVersion: '3.1.0.0', isLatest: false, platformType: 'Linux' });
    expect(found.has(unmanaged)).toBe(false);
  });
});

describe('runOnFleet', () => {
  it.each([0, 1, 50, 51, 500])('%i instances: ceil(n/50) SendCommand, one ListCommandInvocations per command and poll, none per instance', async (n) => {
    const ids = fleet.addMany(n);
    const { results } = await run(ids);
    expect(results).toHaveLength(n);
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    const sends = fleet.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
    expect(sends).toHaveLength(batches(n));
    for (const s of sends) expect(s.InstanceIds!.length).toBeLessThanOrEqual(50);
    expect(sends.flatMap((s) => s.InstanceIds!).sort()).toEqual([...ids].sort());
    // Each command ends on its third poll (Pending, InProgress, Success): 3 list calls per command.
    expect(fleet.count('ListCommandInvocations')).toBe(3 * batches(n));
    expect(fleet.count('GetCommandInvocation')).toBe(0);
    for (const c of fleet.ssm.commandCalls(ListCommandInvocationsCommand)) expect(c.args[0].input).toMatchObject({ MaxResults: 50 });
    expect([...fleet.instances.values()].every((i) => i.isLatest)).toBe(true);
  });

  it('sends the document, its parameters, a delivery timeout and a comment', async () => {
    await run(fleet.addMany(2), INSTALL_CW_AGENT);
    expect(fleet.ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'AWS-ConfigureAWSPackage',
      Parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] },
      TimeoutSeconds: 600,
      // With this run's mark, by which a command whose answer was lost is found in the history.
      Comment: expect.stringMatching(/^ssm-setup: Installing CloudWatch agent \([0-9a-f]{8}\)$/),
    });
    expect([...fleet.instances.values()].every((i) => i.packages.has('AmazonCloudWatchAgent'))).toBe(true);
  });

  it('keeps at most runTiming.inFlight commands in flight', async () => {
    await run(fleet.addMany(500));
    expect(fleet.commands.size).toBe(10);
    expect(fleet.maxInFlight()).toBe(runTiming.inFlight);

    fleet.restore();
    fleet = fakeFleet();
    runTiming.inFlight = 2;
    await run(fleet.addMany(500));
    expect(fleet.maxInFlight()).toBe(2);
  });

  it('backs off between polls of a command: 2 s, doubling, at most 15 s', async () => {
    const [id] = fleet.addMany(1, { finishAtPoll: 7 });
    await run([id!]);
    const [cmd] = fleet.commands.values();
    const gaps = cmd!.polls.map((t, i) => t - (i ? cmd!.polls[i - 1]! : cmd!.sentAt));
    expect(gaps).toEqual([2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 15_000]);
  });

  it('follows NextToken of ListCommandInvocations within one poll', async () => {
    fleet.restore();
    fleet = fakeFleet({ invocationPageCap: 20 });
    const ids = fleet.addMany(50);
    const { results } = await run(ids);
    expect(results.filter((r) => r.status === 'Success')).toHaveLength(50);
    expect(fleet.count('ListCommandInvocations')).toBe(3 * 3); // 3 polls of 3 pages
    expect(fleet.commands.values().next().value!.polls).toHaveLength(3);
  });

  it('mixed results: every instance finishes; failures carry their status and detail', async () => {
    const ids = fleet.addMany(120);
    const failed = fleet.add({ outcomes: { 'AWS-UpdateSSMAgent': { status: 'Failed', details: 'Failed' } }, finishAtPoll: 2 });
    const slow = fleet.add({ outcomes: { 'AWS-UpdateSSMAgent': { status: 'TimedOut', details: 'Execution Timed Out' } }, finishAtPoll: 5 });
    const { results, byId } = await run([...ids, failed, slow]);
    expect(results).toHaveLength(122);
    expect(results.filter((r) => r.status === 'Success')).toHaveLength(120);
    expect(byId.get(failed)).toEqual({ instanceId: failed, status: 'Failed' });
    expect(byId.get(slow)).toEqual({ instanceId: slow, status: 'TimedOut', detail: 'Execution Timed Out' });
    expect([...fleet.commands.values()].flatMap((c) => c.invocations).every((v) => ['Success', 'Failed', 'TimedOut'].includes(v.status))).toBe(true);
  });

  it('an instance that goes ConnectionLost mid-run times out on delivery; the others succeed', async () => {
    const ids = fleet.addMany(59);
    const lost = fleet.add({ loseConnectionAtPoll: 1 });
    const { byId, elapsedMs } = await run([...ids, lost]);
    expect(ids.every((id) => byId.get(id)!.status === 'Success')).toBe(true);
    // Delayed while SSM retries, then Delivery Timed Out after SendCommand's TimeoutSeconds (600).
    expect(byId.get(lost)).toEqual({ instanceId: lost, status: 'TimedOut', detail: 'Delivery Timed Out' });
    expect(elapsedMs).toBeGreaterThanOrEqual(600_000);
    expect(elapsedMs).toBeLessThan(runTiming.timeoutMs);
    expect(fleet.instances.get(lost)!.pingStatus).toBe('ConnectionLost');
  });

  it('an instance that dropped off before SendCommand fails alone: its 49 batch mates still run', async () => {
    const ids = fleet.addMany(50);
    fleet.lose(ids[10]!); // between the inventory and the command
    const { byId } = await run(ids);
    expect(byId.get(ids[10]!)!.status).not.toBe('Success');
    expect(byId.get(ids[10]!)!.detail).toContain('InvalidInstanceId');
    expect(ids.filter((id) => byId.get(id)!.status === 'Success')).toHaveLength(49);
  });

  it('the overall timeout marks what is still running TimedOut, and says how it was left', async () => {
    const ids = fleet.addMany(60);
    const stuck = fleet.addMany(3, { finishAtPoll: Infinity });
    const { byId, elapsedMs } = await run([...ids, ...stuck]);
    expect(ids.every((id) => byId.get(id)!.status === 'Success')).toBe(true);
    for (const id of stuck) {
      expect(byId.get(id)!.status).toBe('TimedOut');
      expect(byId.get(id)!.detail).toMatch(/^still InProgress when ssm-setup stopped waiting \(command [0-9a-f-]{36}\)$/);
    }
    expect(elapsedMs).toBeLessThanOrEqual(runTiming.timeoutMs + runTiming.maxPollMs);
    expect(elapsedMs).toBeGreaterThan(runTiming.timeoutMs - 2 * runTiming.maxPollMs);
  });

  it('a shorter runTiming.timeoutMs is honoured', async () => {
    runTiming.timeoutMs = 60_000;
    const [id] = fleet.addMany(1, { finishAtPoll: Infinity });
    const { byId, elapsedMs } = await run([id!]);
    expect(byId.get(id!)!.status).toBe('TimedOut');
    expect(elapsedMs).toBeLessThanOrEqual(60_000 + runTiming.maxPollMs);
  });

  it('reports live counts: done, failed and pending', async () => {
    const ok = fleet.addMany(2);
    const bad = fleet.add({ outcomes: { 'AWS-UpdateSSMAgent': { status: 'Failed', details: 'Failed' } }, finishAtPoll: 2 });
    const { io } = await run([...ok, bad]);
    expect(io.lines).toEqual([
      'progress: Updating SSM Agent: 0/3 done, 0 failed, 3 pending',
      'progress: Updating SSM Agent: 0/3 done, 1 failed, 2 pending',
      'progress: Updating SSM Agent: 2/3 done, 1 failed, 0 pending',
    ]);
  });
});

describe('runOnFleet: a SendCommand whose answer is lost (issue 13, item 2)', () => {
  const sends = () => fleet.ssm.commandCalls(SendCommandCommand);

  it.each(['500', 'reset'] as const)('lost (%s) after it was carried out: found in the history and adopted, one command only', async (as) => {
    const ids = fleet.addMany(120);
    fleet.loseAnswer(SendCommandCommand, { as });
    const sentAt = Date.now();
    const { results } = await run(ids);
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    expect(fleet.commands.size).toBe(3);
    expect(sends()).toHaveLength(3);
    // Sent through the client without retries: the SDK did not resend it blindly.
    expect(await sends()[0]!.thisValue.config.maxAttempts()).toBe(1);
    expect(fleet.attempts(SendCommandCommand)).toBe(3);
    // Looked for by document, from before the send, and matched by comment and instance ids.
    const [look] = fleet.ssm.commandCalls(ListCommandsCommand).map((c) => c.args[0].input);
    expect(look!.Filters).toEqual([
      { key: 'DocumentName', value: 'AWS-UpdateSSMAgent' },
      { key: 'InvokedAfter', value: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
    ]);
    expect(Date.parse(look!.Filters![1]!.value!)).toBeLessThanOrEqual(sentAt);
    const lost = [...fleet.commands.values()][0]!;
    expect(lost.polls.length).toBeGreaterThan(0);
    expect(lost.invocations.every((v) => v.status === 'Success')).toBe(true);
  });

  it('another command of the same document and instances in the window is not taken for ours', async () => {
    const ids = fleet.addMany(2);
    fleet.addCommand({ document: 'AWS-UpdateSSMAgent', instanceIds: ids, comment: 'ssm-setup: Updating SSM Agent', status: 'Failed', agoMs: 1_000 });
    fleet.loseAnswer(SendCommandCommand, { carriedOut: false });
    const { results } = await run(ids);
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    expect(sends()).toHaveLength(2);
    expect(fleet.commands.size).toBe(2);
  });

  it('failed on its way (nothing made): not in the history, so sent once more', async () => {
    const ids = fleet.addMany(3);
    fleet.loseAnswer(SendCommandCommand, { carriedOut: false });
    const { results } = await run(ids);
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    expect(sends()).toHaveLength(2);
    expect(fleet.commands.size).toBe(1);
    expect(fleet.count('ListCommands')).toBe(1);
  });

  it('lost twice and never made: that batch fails (LOST_ANSWER in its detail), the others run', async () => {
    runTiming.inFlight = 1; // the first batch meets both losses
    const ids = fleet.addMany(60);
    fleet.loseAnswer(SendCommandCommand, { carriedOut: false, times: 2 });
    const { byId } = await run(ids);
    expect(fleet.commands.size).toBe(1);
    const failed = ids.filter((id) => byId.get(id)!.status === 'Failed');
    expect(failed).toHaveLength(50);
    expect(byId.get(failed[0]!)!.detail).toContain('LOST_ANSWER');
    expect(ids.filter((id) => byId.get(id)!.status === 'Success')).toHaveLength(10);
  });
});

describe('sendOnce', () => {
  const lost = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  const refused = Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  /** A send answering each of `answers` in turn (an Error is thrown), and its call count. */
  const sender = (...answers: (string | Error)[]) => {
    let n = 0;
    const send = async () => {
      const a = answers[n++]!;
      if (a instanceof Error) throw a;
      return a;
    };
    return { send, calls: () => n };
  };

  it('a lost answer: looked for, and what was found is the result (not sent again)', async () => {
    const s = sender(lost, 'second');
    expect(await sendOnce(s.send, async () => 'found')).toBe('found');
    expect(s.calls()).toBe(1);
  });

  it('a lost answer and nothing found: sent again once; lost again and not found: the error', async () => {
    const s = sender(lost, 'second');
    expect(await sendOnce(s.send, async () => undefined)).toBe('second');
    const t = sender(lost, lost, 'third');
    await expect(sendOnce(t.send, async () => undefined)).rejects.toBe(lost);
    expect(t.calls()).toBe(2);
  });

  it('a refusal is thrown at once, without a look; a throttled send is sent again after a pause', async () => {
    const s = sender(refused);
    let looked = 0;
    await expect(
      sendOnce(s.send, async () => {
        looked++;
        return 'x';
      }),
    ).rejects.toBe(refused);
    expect(looked).toBe(0);
    const t = sender(throttled, throttled, 'ok');
    const started = Date.now();
    expect(
      await settle(
        sendOnce(t.send, async () => undefined),
        tick,
      ),
    ).toBe('ok');
    expect(Date.now() - started).toBe(onceTiming.throttleDelayMs * 3);
  });
});
