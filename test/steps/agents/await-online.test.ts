import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onlineWait } from '../../../src/steps/agents/await-online.js';
import { agentsStep } from '../../../src/steps/agents/index.js';
import { applyPlanned, kinds, planned } from '../../helpers/aws.js';
import { type FakeFleet, fakeFleet, settle } from '../../helpers/fake-fleet.js';
import { makeContext } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

// After the vpc-endpoints step opens a way to Systems Manager, `agents` waits (bounded) for the
// targets behind it to come Online, then updates or installs what they lack.
const TIMING = { ...onlineWait };
let fleet: FakeFleet;
let id: string;
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  fleet = fakeFleet();
  fleet.world.addVpc('vpc-p').addSubnet('subnet-p', 'vpc-p');
  id = fleet.add({ managed: false, agentVersion: '3.2.2016.0', target: { vpcId: 'vpc-p', subnetId: 'subnet-p', privateIp: '10.0.0.5' } });
  Object.assign(onlineWait, { timeoutMs: 60_000, delayMs: 10_000 });
});
afterEach(() => {
  fleet.restore();
  Object.assign(onlineWait, TIMING);
  vi.useRealTimers();
});

const context = async () => {
  const ctx = await makeContext({ instanceIds: [id] }, new TestIo(), fleet.targets([id]));
  Object.assign(ctx.outputs, { endpointTargets: [id] });
  return ctx;
};

describe('agents after new VPC endpoints', () => {
  it('plans the wait for a target the endpoints are for, then updates it once it is Online', async () => {
    const ctx = await context();
    const plan = await planned(agentsStep, ctx);
    expect(kinds(plan.changes)).toEqual(['await-online']);
    expect(plan.changes[0]!.detail).toContain('wait up to 1 min');
    // The agent registers a little later, through the new endpoints.
    setTimeout(() => Object.assign(fleet.instances.get(id)!, { managed: true, pingStatus: 'Online' }), 15_000);
    const out = await settle(applyPlanned(agentsStep, ctx, plan), tick);
    expect(fleet.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.DocumentName)).toEqual(['AWS-UpdateSSMAgent', 'AWS-ConfigureAWSPackage']);
    expect(out!.agentResults![id]).toBe('agent updated, CloudWatch agent installed');
  });

  it('stops waiting after the bound: the target is reported, nothing is sent, the step does not fail', async () => {
    const ctx = await context();
    const plan = await planned(agentsStep, ctx);
    const started = Date.now();
    const out = await settle(applyPlanned(agentsStep, ctx, plan), tick);
    expect(Date.now() - started).toBeLessThanOrEqual(onlineWait.timeoutMs);
    expect(fleet.ssm.commandCalls(SendCommandCommand)).toEqual([]);
    expect(out!.agentResults![id]).toMatch(/^not Online yet through the VPC endpoints/);
  });

  it('plans no wait without endpoints made for the target', async () => {
    const ctx = await makeContext({ instanceIds: [id] }, new TestIo(), fleet.targets([id]));
    expect((await planned(agentsStep, ctx)).changes).toEqual([]);
  });
});
