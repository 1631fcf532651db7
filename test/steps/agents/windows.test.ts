// IsLatestVersion does not say whether a Windows node runs the latest agent (the SSM model's own
// words): the fake fleet reports false for Windows whatever the version, as SSM does, and the
// agents step must decide from the version itself.
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runTiming } from '../../../src/aws/fleet.js';
import { agentsStep } from '../../../src/steps/agents/index.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeFleet, fakeFleet, settle } from '../../helpers/fake-fleet.js';
import { makeContext } from '../../helpers/fixtures.js';

const LATEST = '3.3.1802.0';
const TIMING = { ...runTiming };
let fleet: FakeFleet;

const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};
const windows = (agentVersion: string) =>
  fleet.add({
    platformType: 'Windows',
    platformName: 'Microsoft Windows Server 2022 Datacenter',
    agentVersion,
    tags: { 'ssm-setup:cloudwatch-agent': 'installed' },
  });
const linux = (agentVersion = LATEST) => fleet.add({ agentVersion, isLatest: agentVersion === LATEST, tags: { 'ssm-setup:cloudwatch-agent': 'installed' } });
const sentTo = () => fleet.ssm.commandCalls(SendCommandCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  fleet = fakeFleet({ latestAgentVersion: LATEST });
});
afterEach(() => {
  fleet.restore();
  vi.useRealTimers();
  Object.assign(runTiming, TIMING);
});

describe('agents on Windows', () => {
  it('a converged Windows fleet (same version as the latest Linux agent) plans nothing, on every run', async () => {
    linux();
    windows(LATEST);
    windows(LATEST);
    const ctx = await makeContext({}, undefined, fleet.targets());
    expect((await planned(agentsStep, ctx)).changes).toEqual([]);
    expect((await planned(agentsStep, ctx)).changes).toEqual([]);
  });

  it('updates a Windows agent older than the latest version SSM reports on a Linux node, and only that one', async () => {
    linux();
    const old = windows('3.2.2016.0');
    windows(LATEST);
    const ctx = await makeContext({ cloudwatchAgent: false }, undefined, fleet.targets());
    const { changes } = await settle(converge(agentsStep, ctx), tick);
    expect(kinds(changes)).toEqual(['update-agent']);
    expect(sentTo()).toEqual([old]);
    // After the update the fleet is converged: the rerun plans nothing.
    expect((await planned(agentsStep, ctx)).changes).toEqual([]);
  });

  it('with no Linux reference, a Windows agent is updated only when older than what the chosen features need', async () => {
    const tooOld = windows('2.3.444.0'); // before KMS session encryption (2.3.539.0)
    windows('3.2.2016.0');
    const ctx = await makeContext({ cloudwatchAgent: false }, undefined, fleet.targets());
    const { changes } = await planned(agentsStep, ctx);
    expect(kinds(changes)).toEqual(['update-agent']);
    expect(changes[0]!.detail).toContain(tooOld);
    expect(changes[0]!.resource).toBe('SSM Agent on 1 instance');
  });

  it('a Windows node whose agent version is unknown is not updated blindly on every run', async () => {
    fleet.add({ platformType: 'Windows', agentVersion: '', tags: { 'ssm-setup:cloudwatch-agent': 'installed' } });
    const ctx = await makeContext({ cloudwatchAgent: false }, undefined, fleet.targets());
    expect((await planned(agentsStep, ctx)).changes).toEqual([]);
  });
});
