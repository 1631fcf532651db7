import {
  CreateSecurityGroupCommand,
  CreateVpcEndpointCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  ModifyVpcEndpointCommand,
  paginateDescribeVpcEndpoints,
} from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeEc2, fakeEc2 } from '../../helpers/fake-ec2.js';
import { REGION, testClients } from '../../helpers/fixtures.js';

// The rules of the EC2 fake's endpoint side (test/helpers/fake-ec2-endpoints.ts), as the EC2 API
// reference states them: the step relies on each.
let world: FakeEc2;
const ec2 = () => testClients().get(EC2Client);
const SSM = `com.amazonaws.${REGION}.ssm`;
const setup = (o: Parameters<typeof fakeEc2>[0] = {}) => {
  world = fakeEc2(o);
  world.addVpc('vpc-1').addSubnet('subnet-a', 'vpc-1').addSubnet('subnet-b', 'vpc-1').addSubnet('subnet-c', 'vpc-1');
  world.setZone('subnet-c', `${REGION}b`);
  return world;
};
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: Error) => e.name,
  );
afterEach(() => world?.restore());

describe('fake EC2: VPC endpoints', () => {
  it('an interface endpoint takes one subnet per Availability Zone', async () => {
    setup();
    const input = { VpcId: 'vpc-1', ServiceName: SSM, VpcEndpointType: 'Interface' as const };
    expect(await code(ec2().send(new CreateVpcEndpointCommand({ ...input, SubnetIds: ['subnet-a', 'subnet-b'] })))).toBe('DuplicateSubnetsInSameZone');
    const made = await ec2().send(new CreateVpcEndpointCommand({ ...input, SubnetIds: ['subnet-a', 'subnet-c'] }));
    const id = made.VpcEndpoint!.VpcEndpointId!;
    expect(await code(ec2().send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: ['subnet-b'] })))).toBe('DuplicateSubnetsInSameZone');
  });

  it('private DNS needs the VPC DNS attributes, and one private-DNS endpoint per service', async () => {
    setup().setVpcDns('vpc-1', { support: true, hostnames: false });
    const input = { VpcId: 'vpc-1', ServiceName: SSM, VpcEndpointType: 'Interface' as const, SubnetIds: ['subnet-a'] };
    expect(await code(ec2().send(new CreateVpcEndpointCommand(input)))).toBe('InvalidParameter');
    world.setVpcDns('vpc-1', { support: true, hostnames: true });
    expect(await code(ec2().send(new CreateVpcEndpointCommand(input)))).toBe('ok');
    expect(await code(ec2().send(new CreateVpcEndpointCommand(input)))).toBe('InvalidParameter');
  });

  it('tags only through TagSpecifications of the right type; a ClientToken seen before returns the same endpoint', async () => {
    setup();
    const base = { VpcId: 'vpc-1', ServiceName: SSM, VpcEndpointType: 'Interface' as const, SubnetIds: ['subnet-a'] };
    const wrong = [{ ResourceType: 'security-group' as const, Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] }];
    expect(await code(ec2().send(new CreateVpcEndpointCommand({ ...base, TagSpecifications: wrong })))).toBe('InvalidParameterValue');
    const a = await ec2().send(new CreateVpcEndpointCommand({ ...base, ClientToken: 't-1' }));
    const b = await ec2().send(new CreateVpcEndpointCommand({ ...base, ClientToken: 't-1' }));
    expect(b.VpcEndpoint!.VpcEndpointId).toBe(a.VpcEndpoint!.VpcEndpointId);
    expect(await code(ec2().send(new CreateVpcEndpointCommand({ ...base, SubnetIds: ['subnet-c'], ClientToken: 't-1' })))).toBe('IdempotentParameterMismatch');
  });

  it('a route table takes one S3 gateway endpoint', async () => {
    setup();
    const gw = { VpcId: 'vpc-1', ServiceName: `com.amazonaws.${REGION}.s3`, VpcEndpointType: 'Gateway' as const, RouteTableIds: ['rtb-main-vpc-1'] };
    expect(await code(ec2().send(new CreateVpcEndpointCommand(gw)))).toBe('ok');
    expect(await code(ec2().send(new CreateVpcEndpointCommand(gw)))).toBe('RouteAlreadyExists');
  });

  it('DescribeVpcEndpoints pages and filters by tag; a deleted endpoint stays listed as deleted', async () => {
    setup({ pageSize: 2 });
    for (let n = 0; n < 5; n++) world.addEndpoint({ VpcId: 'vpc-1', ServiceName: `${SSM}${n}`, Tags: n % 2 ? [] : [{ Key: 'ManagedBy', Value: 'ssm-setup' }] });
    const seen: string[] = [];
    const Filters = [{ Name: 'tag:ManagedBy', Values: ['ssm-setup'] }];
    for await (const page of paginateDescribeVpcEndpoints({ client: ec2() }, { Filters })) seen.push(...page.VpcEndpoints!.map((e) => e.VpcEndpointId!));
    expect(seen).toHaveLength(3);
    expect(world.count('DescribeVpcEndpoints')).toBe(2);
    const del = await ec2().send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [seen[0]!, 'vpce-unknown'] }));
    expect(del.Unsuccessful!.map((u) => u.Error!.Code)).toEqual(['InvalidVpcEndpoint.NotFound']);
    const after = await ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [seen[0]!] }));
    expect(after.VpcEndpoints![0]!.State).toBe('deleted');
  });
});

describe('fake EC2: security groups', () => {
  it('names are unique per VPC; a group an endpoint uses cannot be deleted; its interfaces linger for eniLag attempts', async () => {
    setup({ endpoints: { eniLag: 1 } });
    const input = { GroupName: 'g', Description: 'd', VpcId: 'vpc-1' };
    const { GroupId } = await ec2().send(new CreateSecurityGroupCommand(input));
    expect(await code(ec2().send(new CreateSecurityGroupCommand(input)))).toBe('InvalidGroup.Duplicate');
    expect(await code(ec2().send(new CreateSecurityGroupCommand({ ...input, GroupName: 'sg-1' })))).toBe('InvalidParameterValue');
    const e = await ec2().send(
      new CreateVpcEndpointCommand({ VpcId: 'vpc-1', ServiceName: SSM, VpcEndpointType: 'Interface', SubnetIds: ['subnet-a'], SecurityGroupIds: [GroupId!] }),
    );
    expect(await code(ec2().send(new DeleteSecurityGroupCommand({ GroupId })))).toBe('DependencyViolation');
    await ec2().send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpoint!.VpcEndpointId!] }));
    expect(await code(ec2().send(new DeleteSecurityGroupCommand({ GroupId })))).toBe('DependencyViolation');
    expect(await code(ec2().send(new DeleteSecurityGroupCommand({ GroupId })))).toBe('ok');
    expect(await code(ec2().send(new DeleteSecurityGroupCommand({ GroupId })))).toBe('InvalidGroup.NotFound');
  });
});
