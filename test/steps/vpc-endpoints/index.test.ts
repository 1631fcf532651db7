import { CreateVpcEndpointCommand, type CreateVpcEndpointCommandInput, type Route } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError } from '../../../src/base/errors.js';
import type { StepContext } from '../../../src/core/step.js';
import { endpointGroupName } from '../../../src/policies/vpc-endpoints.js';
import { vpcEndpointsStep } from '../../../src/steps/vpc-endpoints/index.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeFleet, fakeFleet } from '../../helpers/fake-fleet.js';
import { makeContext, REGION } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const VPC = 'vpc-private';
const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };
const name = (svc: string) => `com.amazonaws.${REGION}.${svc}`;
const CURRENT = '3.3.1802.0';

let fleet: FakeFleet;
let ids: string[];

/** A private VPC (no 0.0.0.0/0 route): subnet-a and subnet-b in zone a, subnet-c in zone b with its own table. */
function privateVpc() {
  const w = fleet.world;
  w.addVpc(VPC, { cidr: '10.0.0.0/16' });
  w.addSubnet('subnet-a', VPC)
    .addSubnet('subnet-b', VPC)
    .addRouteTable('rtb-c', VPC, { subnets: ['subnet-c'] });
  w.setZone('subnet-a', `${REGION}a`);
  w.setZone('subnet-b', `${REGION}a`);
  w.setZone('subnet-c', `${REGION}b`);
}
const target = (subnetId: string, ip: string, o: { managed?: boolean; agentVersion?: string; vpcId?: string } = {}) =>
  fleet.add({ managed: o.managed ?? false, agentVersion: o.agentVersion, target: { vpcId: o.vpcId ?? VPC, subnetId, privateIp: ip } });
const context = (flags: Record<string, unknown> = {}, io = new TestIo()): Promise<StepContext> =>
  makeContext({ vpcEndpoints: true, instanceIds: ids, ...flags }, io, fleet.targets(ids));
const creates = () => fleet.world.ec2.commandCalls(CreateVpcEndpointCommand).map((c) => c.args[0].input as CreateVpcEndpointCommandInput);
const serviceOf = (i: CreateVpcEndpointCommandInput) => i.ServiceName!.split('.').pop();

beforeEach(() => {
  fleet = fakeFleet();
  privateVpc();
  ids = [target('subnet-a', '10.0.1.10'), target('subnet-a', '10.0.1.11'), target('subnet-b', '10.0.2.10'), target('subnet-c', '10.0.3.10')];
});
afterEach(() => fleet.restore());

describe('vpc-endpoints: what it creates', () => {
  it('ssm, ssmmessages, ec2messages (agent versions unknown) and kms, one subnet per zone preferring the busiest target subnet, with our group, and the S3 gateway', async () => {
    const ctx = await context();
    const { changes, note } = await converge(vpcEndpointsStep, ctx);
    expect(kinds(changes)).toEqual(['create-group', 'create-endpoint', 'create-endpoint', 'create-endpoint', 'create-endpoint', 'create-gateway']);
    const made = creates();
    expect(made.map(serviceOf)).toEqual(['ssm', 'ssmmessages', 'ec2messages', 'kms', 's3']);
    const group = [...fleet.world.groups.values()].find((g) => g.GroupName === endpointGroupName(VPC))!;
    for (const i of made.slice(0, 4)) {
      expect(i).toMatchObject({
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: ['subnet-a', 'subnet-c'],
        SecurityGroupIds: [group.GroupId],
      });
      expect(i.ClientToken).toEqual(expect.any(String));
    }
    expect(made[4]).toMatchObject({ VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-c', `rtb-main-${VPC}`] });
    // 443 from the VPC's CIDR; everything tagged as ours.
    expect(group.IpPermissions).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [expect.objectContaining({ CidrIp: '10.0.0.0/16' })] }),
    ]);
    expect(group.Tags).toEqual(expect.arrayContaining([{ Key: 'ManagedBy', Value: 'ssm-setup' }]));
    expect(fleet.world.ourEndpoints()).toHaveLength(5);
    // The price of each interface endpoint, and the monthly total (eu-west-1: $0.011/h; 4 × 2 AZ × 730 h).
    expect(changes[1]!.detail).toContain('$16.06/month (2 AZ × 730 h × $0.011) + $0.01/GB processed');
    expect(changes[5]!.detail).toContain('free');
    expect(note).toContain('monthly total of the planned interface endpoints: $64.24 + $0.01/GB processed; the S3 gateway endpoint is free');
  });

  it('logs with CloudWatch Logs; no ec2messages when every agent is 3.3.40.0 or newer', async () => {
    fleet.restore();
    fleet = fakeFleet();
    privateVpc();
    ids = [
      target('subnet-a', '10.0.1.10', { managed: true, agentVersion: CURRENT }),
      target('subnet-c', '10.0.3.10', { managed: true, agentVersion: '3.3.40.0' }),
    ];
    await converge(vpcEndpointsStep, await context({ cloudwatchLogs: true }));
    expect(creates().map(serviceOf)).toEqual(['ssm', 'ssmmessages', 'kms', 'logs', 's3']);
  });

  it('an older agent brings ec2messages back', async () => {
    fleet.restore();
    fleet = fakeFleet();
    privateVpc();
    ids = [
      target('subnet-a', '10.0.1.10', { managed: true, agentVersion: CURRENT }),
      target('subnet-c', '10.0.3.10', { managed: true, agentVersion: '3.2.582.0' }),
    ];
    await converge(vpcEndpointsStep, await context());
    expect(creates().map(serviceOf)).toContain('ec2messages');
  });

  it('admits 443 from every CIDR block of the VPC', async () => {
    fleet.world.addVpcCidr(VPC, '10.1.0.0/16');
    await converge(vpcEndpointsStep, await context());
    const group = [...fleet.world.groups.values()].find((g) => g.GroupName === endpointGroupName(VPC))!;
    expect(group.IpPermissions![0]!.IpRanges!.map((r) => r.CidrIp)).toEqual(['10.0.0.0/16', '10.1.0.0/16']);
  });

  it('is idempotent: after apply the plan is empty and a rerun makes no write call', async () => {
    const ctx = await context();
    const first = await converge(vpcEndpointsStep, ctx);
    expect(first.changes.length).toBeGreaterThan(0);
    expect(first.outputs).toEqual({ endpointTargets: [...ids].sort() });
    const writes = fleet.world.writes().length;
    const again = await converge(vpcEndpointsStep, await context());
    expect(again.changes).toEqual([]);
    expect(again.outputs).toBeUndefined();
    expect(fleet.world.writes()).toHaveLength(writes);
  });
});

describe('vpc-endpoints: what it leaves alone or refuses', () => {
  it('refuses a VPC without DNS hostnames, with the fix, and writes nothing', async () => {
    fleet.world.setVpcDns(VPC, { support: true, hostnames: false });
    const ctx = await context();
    const read = await vpcEndpointsStep.read(ctx);
    let err: unknown;
    try {
      vpcEndpointsStep.plan(read, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).code).toBe('VPC_DNS_OFF');
    expect((err as StepError).hint).toContain(`aws ec2 modify-vpc-attribute --vpc-id ${VPC} --enable-dns-hostnames`);
    expect(fleet.world.writes()).toEqual([]);
  });

  it('leaves a VPC whose targets have a route out alone, and says why', async () => {
    fleet.world.addVpc('vpc-nat', { routes: [NAT] });
    fleet.world.addSubnet('subnet-n', 'vpc-nat');
    ids = [target('subnet-n', '10.0.9.9', { vpcId: 'vpc-nat' })];
    const { changes, note } = await converge(vpcEndpointsStep, await context());
    expect(changes).toEqual([]);
    expect(note).toContain('vpc-nat left alone: ');
    expect(note).toContain('nat-1');
  });

  it('a security group of our name that is not ours is refused (ENDPOINT_GROUP_TAKEN)', async () => {
    fleet.world.addSecurityGroup({ GroupId: 'sg-taken', GroupName: endpointGroupName(VPC), VpcId: VPC });
    const ctx = await context();
    const state = await vpcEndpointsStep.read(ctx);
    expect(() => vpcEndpointsStep.plan(state, ctx)).toThrow(expect.objectContaining({ code: 'ENDPOINT_GROUP_TAKEN' }));
  });
});

describe('vpc-endpoints: adoption', () => {
  it('adopts a foreign ssm endpoint (never a second one), changes nothing on it, and prints the fixes it needs', async () => {
    fleet.world.addSecurityGroup({ GroupId: 'sg-closed', VpcId: VPC, IpPermissions: [] });
    const foreign = fleet.world.addEndpoint({ VpcId: VPC, ServiceName: name('ssm'), SubnetIds: ['subnet-a'], Groups: [{ GroupId: 'sg-closed' }] });
    const before = structuredClone(foreign);
    const { changes, note } = await converge(vpcEndpointsStep, await context());
    expect(creates().map(serviceOf)).not.toContain('ssm');
    expect(changes.some((c) => c.subject === foreign.VpcEndpointId)).toBe(false);
    expect(fleet.world.endpoints.get(foreign.VpcEndpointId!)).toEqual(before);
    expect(note).toContain(`ssm: ${foreign.VpcEndpointId} adopted (not ssm-setup's`);
    expect(note).toContain(`aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${foreign.VpcEndpointId} --add-subnet-ids subnet-c`);
    expect(note).toContain('aws ec2 authorize-security-group-ingress --group-id sg-closed --protocol tcp --port 443');
  });

  it('a foreign endpoint that covers every zone and admits the targets needs no fix', async () => {
    fleet.world.addSecurityGroup({
      GroupId: 'sg-open',
      VpcId: VPC,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }],
    });
    const foreign = fleet.world.addEndpoint({ VpcId: VPC, ServiceName: name('ssm'), SubnetIds: ['subnet-b', 'subnet-c'], Groups: [{ GroupId: 'sg-open' }] });
    const { note } = await planned(vpcEndpointsStep, await context());
    expect(note).toContain(`ssm: ${foreign.VpcEndpointId} adopted`);
    expect(note).not.toContain(`--vpc-endpoint-id ${foreign.VpcEndpointId}`);
  });

  it('converges its own endpoint in place: the missing zone and our group added, private DNS on', async () => {
    const run1 = await converge(vpcEndpointsStep, await context());
    expect(run1.changes.length).toBeGreaterThan(0);
    const ours = fleet.world.ourEndpoints().find((e) => e.ServiceName === name('ssm'))!;
    ours.SubnetIds = ['subnet-a'];
    ours.Groups = [];
    ours.PrivateDnsEnabled = false;
    const { changes } = await converge(vpcEndpointsStep, await context());
    expect(kinds(changes)).toEqual(['modify-endpoint']);
    expect(changes[0]!.detail).toContain('add subnet-c');
    const now = fleet.world.endpoints.get(ours.VpcEndpointId!)!;
    expect(now.SubnetIds).toEqual(['subnet-a', 'subnet-c']);
    expect(now.PrivateDnsEnabled).toBe(true);
    expect(now.Groups!.map((g) => g.GroupName)).toEqual([endpointGroupName(VPC)]);
  });

  it('a foreign S3 gateway missing a route table gets the fix, not a second gateway', async () => {
    const gw = fleet.world.addEndpoint({ VpcId: VPC, ServiceName: name('s3'), VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-c'] });
    const { note } = await converge(vpcEndpointsStep, await context());
    expect(creates().map(serviceOf)).not.toContain('s3');
    expect(note).toContain(`aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${gw.VpcEndpointId} --add-route-table-ids rtb-main-${VPC}`);
  });
});

describe('vpc-endpoints: the wizard', () => {
  it('offers the endpoints, with their cost, when targets sit in subnets without an internet route', async () => {
    const io = new TestIo({ 'vpc-endpoints.create': true });
    const ctx = await makeContext({ instanceIds: ids }, io, fleet.targets(ids));
    expect(await vpcEndpointsStep.ask!(ctx)).toEqual({ vpcEndpoints: true });
    expect(io.prompts).toEqual(['vpc-endpoints.create']);
    expect(fleet.world.writes()).toEqual([]);
  });

  it('asks nothing when every target has a route out, or when --vpc-endpoints was given', async () => {
    fleet.world.setRoutes(`rtb-main-${VPC}`, [NAT]);
    fleet.world.setRoutes('rtb-c', [NAT]);
    const io = new TestIo();
    expect(await vpcEndpointsStep.ask!(await makeContext({ instanceIds: ids }, io, fleet.targets(ids)))).toEqual({});
    expect(await vpcEndpointsStep.ask!(await context({}, io))).toEqual({});
    expect(io.prompts).toEqual([]);
  });
});
