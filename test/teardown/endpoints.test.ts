import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpointGroupName } from '../../src/policies/vpc-endpoints.js';
import { vpcEndpointsStep } from '../../src/steps/vpc-endpoints/index.js';
import { endpointsTeardown, groupDeleteWait } from '../../src/teardown/endpoints.js';
import { converge } from '../helpers/aws.js';
import { makeContext, REGION } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';
import { readAll, type TeardownAccount, teardownAccount, teardownContext } from './fake-teardown.js';

const VPC = 'vpc-private';
const timing = { ...groupDeleteWait };
let account: TeardownAccount;
let ids: string[];

beforeEach(async () => {
  account = teardownAccount({ fleet: { ec2: { endpoints: { eniLag: 2 } } } });
  groupDeleteWait.delayMs = 1;
  const w = account.ec2;
  w.addVpc(VPC).addSubnet('subnet-a', VPC).addSubnet('subnet-c', VPC);
  w.setZone('subnet-c', `${REGION}b`);
  ids = [
    account.fleet.add({ managed: false, target: { vpcId: VPC, subnetId: 'subnet-a', privateIp: '10.0.1.1' } }),
    account.fleet.add({ managed: false, target: { vpcId: VPC, subnetId: 'subnet-c', privateIp: '10.0.3.1' } }),
  ];
  // What init made; and someone else's ssm endpoint and group beside it.
  const ctx = await makeContext({ vpcEndpoints: true, instanceIds: ids }, new TestIo(), account.fleet.targets(ids));
  account.ec2.addEndpoint({ VpcId: VPC, ServiceName: `com.amazonaws.${REGION}.ssm`, SubnetIds: ['subnet-a'] });
  await converge(vpcEndpointsStep, ctx);
  account.ec2.addVpc('vpc-other');
  account.ec2.addSecurityGroup({ GroupId: 'sg-named-like-ours', GroupName: endpointGroupName('vpc-other'), VpcId: 'vpc-other' });
});
afterEach(() => {
  account.restore();
  Object.assign(groupDeleteWait, timing);
});

describe('destroy: the VPC endpoints', () => {
  it('removes exactly ours, endpoints before their group (which waits for the interfaces), and keeps a look-alike group', async () => {
    const ours = account.ec2.ourEndpoints().map((e) => e.VpcEndpointId!);
    expect(ours.length).toBe(4); // ssmmessages, ec2messages, kms and the S3 gateway; ssm was adopted
    const foreign = [...account.ec2.endpoints.values()].filter((e) => !ours.includes(e.VpcEndpointId!));
    const { removals, kept } = await endpointsTeardown(await teardownContext());
    expect(removals.map((r) => r.resource)).toEqual([
      ...ours.map((id) => expect.stringContaining(`VPC endpoint ${id}`)),
      expect.stringContaining(`security group ${endpointGroupName(VPC)}`),
    ]);
    expect(kept).toEqual([expect.objectContaining({ resource: expect.stringContaining('sg-named-like-ours') })]);
    for (const r of removals) await r.run();
    expect(account.ec2.ourEndpoints()).toEqual([]);
    expect(foreign.every((e) => String(account.ec2.endpoints.get(e.VpcEndpointId!)!.State) === 'available')).toBe(true);
    expect([...account.ec2.groups.values()].map((g) => g.GroupName)).toEqual([endpointGroupName('vpc-other')]);
    // A second destroy finds nothing of ours.
    expect((await endpointsTeardown(await teardownContext())).removals).toEqual([]);
  });

  it('runs after the instance profiles and before the key and the logs', async () => {
    const { removals } = await readAll(await teardownContext({ instanceIds: ids }, { deleteLogs: true }));
    const steps = removals.map((r) => r.step);
    const at = steps.indexOf('vpc-endpoints');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(steps.slice(at).every((s) => s === 'vpc-endpoints' || !['instance-role', 'operator-policy', 'preferences'].includes(s))).toBe(true);
  });
});
