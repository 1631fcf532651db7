import {
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { CHECKS, diagnoseUnmanaged } from '../../src/diagnose/index.js';
import { readAll, routeInfo } from '../../src/diagnose/reads.js';
import { fakeEc2 } from '../helpers/fake-ec2.js';
import { testClients } from '../helpers/fixtures.js';
import {
  addEndpoints,
  addGroups,
  CORE,
  ctx,
  denied,
  diagnoseOne,
  endpoint,
  finding,
  GENERIC,
  group,
  guarded,
  https,
  iam,
  iamWorld,
  instance,
  net,
  privateInstance,
  profileArn,
  SSM,
  useWorld,
  values,
} from './harness.js';

// The batched EC2/IAM reads behind a diagnosis: one call per batch of 50, never per instance; a
// denied read is a warning naming the missing action; other errors are thrown.
useWorld();

describe('diagnoseUnmanaged: the reads', () => {
  it('reads nothing when there is nothing to diagnose', async () => {
    expect(await diagnoseUnmanaged(testClients(), ctx, [])).toEqual([]);
    expect(net.ec2.calls()).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
  });

  it('access denied on every read is a warning naming the missing action, never a failure', async () => {
    net.refuse(DescribeRouteTablesCommand, denied('UnauthorizedOperation'));
    net.refuse(DescribeVpcEndpointsCommand, denied('UnauthorizedOperation'));
    net.refuse(DescribeImagesCommand, denied('UnauthorizedOperation'));
    iam.on(GetInstanceProfileCommand).rejects(denied('AccessDenied'));
    const d = await diagnoseOne(instance());
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
    const details = d.findings.filter((f) => f.status === 'warning').map((f) => f.detail);
    expect(details).toEqual(
      expect.arrayContaining([
        'could not read instance profile good-profile (missing iam:GetInstanceProfile)',
        'could not read the route table of subnet-public (missing ec2:DescribeRouteTables)',
        'could not read the VPC endpoints of vpc-a (missing ec2:DescribeVpcEndpoints)',
        'could not read AMI ami-al2023 (missing ec2:DescribeImages)',
      ]),
    );
    expect(d.cause).toBe(`${GENERIC} (some checks were inconclusive: see the warnings)`);
  });

  it('access denied on the role policies is a warning, and inline ones are not tried', async () => {
    iam.on(ListAttachedRolePoliciesCommand).rejects(denied('AccessDenied'));
    const d = await diagnoseOne(instance());
    expect(finding(d, CHECKS.rights)).toEqual({
      check: CHECKS.rights,
      status: 'warning',
      detail: 'could not read the policies of role good-role (missing iam:ListAttachedRolePolicies)',
    });
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
  });

  it('access denied on inline policies leaves the role rights undecided (warning)', async () => {
    iamWorld.attached['good-role'] = [];
    iam.on(ListRolePoliciesCommand).rejects(denied('AccessDenied'));
    const d = await diagnoseOne(instance());
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'warning', detail: expect.stringContaining('(missing iam:ListRolePolicies)') });
  });

  it('other errors are not hidden', async () => {
    net.refuse(DescribeRouteTablesCommand, Object.assign(new Error('boom'), { name: 'InternalError' }));
    await expect(diagnoseUnmanaged(testClients(), ctx, [instance()])).rejects.toThrow('boom');
  });
});

describe('diagnoseUnmanaged at fleet scale', () => {
  it('120 instances in 3 subnets of 2 VPCs: one call per batch, IAM once per profile and role', async () => {
    iamWorld.profiles = { 'profile-a': ['role-a'], 'profile-b': ['role-b'] };
    iamWorld.attached = { 'role-a': [CORE], 'role-b': [] };
    const subnets = [
      ['subnet-public', 'vpc-a'],
      ['subnet-private', 'vpc-a'],
      ['subnet-unassociated', 'vpc-b'],
    ] as const;
    const fleet = Array.from({ length: 120 }, (_, n) => {
      const [subnetId, vpcId] = subnets[n % 3]!;
      return instance({
        id: `i-${String(n).padStart(17, '0')}`,
        subnetId,
        vpcId,
        profileArn: profileArn(n % 2 ? 'profile-b' : 'profile-a'),
        imageId: n % 4 ? 'ami-al2023' : 'ami-rhel9-arm',
      });
    });
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);

    expect(out.map((d) => d.instanceId)).toEqual(fleet.map((t) => t.id));
    // Subnets: one call for the 3 subnets, one for the main table of the VPC whose subnet has none.
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeRouteTablesCommand, 2);
    expect(values(net.ec2.commandCalls(DescribeRouteTablesCommand)[0]!.args[0].input.Filters, 'association.subnet-id')).toEqual([
      'subnet-public',
      'subnet-private',
      'subnet-unassociated',
    ]);
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointsCommand, 1);
    expect(values(net.ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'vpc-id')).toEqual(['vpc-a', 'vpc-b']);
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
    expect(iam).toHaveReceivedCommandTimes(GetInstanceProfileCommand, 2);
    expect(iam).toHaveReceivedCommandTimes(ListAttachedRolePoliciesCommand, 2);
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 1); // role-b only
    // And the answers differ per instance as their subnet, role and AMI do.
    expect(out[0]!.cause).toMatch(/SSM Agent is not installed/); // public, role-a, RHEL
    expect(out[1]!.cause).toMatch(/role-b lacks the rights/);
    expect(out[2]!.cause).toMatch(/^no route to the SSM endpoints: subnet subnet-unassociated/); // main table of vpc-b, no route out
    expect(out[4]!.cause).toMatch(/^no route to the SSM endpoints: subnet subnet-private/); // the network before the missing agent
    expect(out[4]!.userData).toContain('linux_amd64');
  });

  it('batches distinct subnets, VPCs and images by 50', async () => {
    const fleet = Array.from({ length: 120 }, (_, n) =>
      instance({ id: `i-${String(n).padStart(17, '0')}`, subnetId: `subnet-${n}`, vpcId: `vpc-${n}`, imageId: `ami-${n}`, profileArn: undefined }),
    );
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);
    expect(out).toHaveLength(120);
    const sizes = (command: typeof DescribeImagesCommand | typeof DescribeVpcEndpointsCommand | typeof DescribeRouteTablesCommand, filter: string) =>
      net.ec2.commandCalls(command).map((c) => values(c.args[0].input.Filters, filter)?.length);
    // No subnet has a table of its own here: 3 calls by subnet, then 3 by VPC for the main tables.
    expect(sizes(DescribeRouteTablesCommand, 'association.subnet-id')).toEqual([50, 50, 20, undefined, undefined, undefined]);
    expect(sizes(DescribeRouteTablesCommand, 'vpc-id')).toEqual([undefined, undefined, undefined, 50, 50, 20]);
    expect(sizes(DescribeVpcEndpointsCommand, 'vpc-id')).toEqual([50, 50, 20]);
    expect(sizes(DescribeImagesCommand, 'image-id')).toEqual([50, 50, 20]);
    expect(iam.calls()).toHaveLength(0);
  });
});

describe('endpoint security groups at fleet scale', () => {
  it('one DescribeSecurityGroups per 50 distinct groups, never per instance', async () => {
    // 120 VPCs, each with its own endpoints group; 2 instances in each.
    for (let n = 0; n < 120; n++) net.addRouteTable(`rtb-${n}`, `vpc-${n}`, { subnets: [`subnet-${n}`] });
    addEndpoints(Array.from({ length: 120 }, (_, n) => SSM.map((s) => endpoint(`vpc-${n}`, s, { Groups: [{ GroupId: `sg-${n}` }] }))).flat());
    addGroups(
      Array.from({ length: 120 }, (_, n) => ({
        ...group(`sg-${n}`, https({ IpRanges: [{ CidrIp: n % 2 ? '10.9.0.0/16' : '10.0.0.0/8' }] })),
        VpcId: `vpc-${n}`,
      })),
    );
    const fleet = Array.from({ length: 240 }, (_, n) =>
      instance({
        id: `i-${String(n).padStart(17, '0')}`,
        subnetId: `subnet-${n % 120}`,
        vpcId: `vpc-${n % 120}`,
        privateIp: '10.1.2.3',
        securityGroupIds: ['sg-app'],
      }),
    );
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);
    // The instances' own group (sg-app, for their egress) is read in the same calls.
    expect(net.ec2.commandCalls(DescribeSecurityGroupsCommand).map((c) => values(c.args[0].input.Filters, 'group-id')?.length)).toEqual([50, 50, 21]);
    const groupIds = net.ec2.commandCalls(DescribeSecurityGroupsCommand).flatMap((c) => values(c.args[0].input.Filters, 'group-id') ?? []);
    expect(new Set(groupIds).size).toBe(121);
    // The verdict follows each VPC's group: even VPCs admit 10.0.0.0/8, odd ones do not.
    expect(finding(out[0]!, CHECKS.endpointSg)?.status).toBe('ok');
    expect(finding(out[1]!, CHECKS.endpointSg)?.status).toBe('error');
    expect(finding(out[121]!, CHECKS.endpointSg)).toMatchObject({ status: 'error', detail: expect.stringContaining('sg-1;') });
  });

  it('instances sharing the endpoints share one read', async () => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] }))]);
    const fleet = Array.from({ length: 60 }, (_, n) => privateInstance({ id: `i-${String(n).padStart(17, '0')}`, privateIp: `10.0.2.${n + 1}` }));
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(out.every((d) => finding(d, CHECKS.endpointSg)?.status === 'ok')).toBe(true);
  });
});

describe('routeInfo (pure)', () => {
  const table = (...Routes: NonNullable<RouteTable['Routes']>): RouteTable => ({
    RouteTableId: 'rtb-1',
    Routes: [{ DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' }, ...Routes],
  });

  it('where 0.0.0.0/0 goes: a NAT or internet gateway, another target, or nowhere (a blackhole counts as nowhere)', () => {
    expect(routeInfo(table({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }), false)).toEqual({
      tableId: 'rtb-1',
      main: false,
      egress: 'internet',
      via: 'nat',
      target: 'nat-1',
    });
    expect(routeInfo(table({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }), true)).toEqual({
      tableId: 'rtb-1',
      main: true,
      egress: 'internet',
      via: 'igw',
      target: 'igw-1',
    });
    expect(routeInfo(table({ DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-1', State: 'active' }), false)).toEqual({
      tableId: 'rtb-1',
      main: false,
      egress: 'other',
      target: 'tgw-1',
    });
    expect(routeInfo(table({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'blackhole' }), false)).toEqual({
      tableId: 'rtb-1',
      main: false,
      egress: 'none',
    });
    expect(routeInfo(table(), false)).toEqual({ tableId: 'rtb-1', main: false, egress: 'none' });
  });
});

describe('readAll', () => {
  it('returns what the checks read, by subnet, VPC, group, image, profile and role', async () => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] }))]);
    const reads = await readAll(testClients(), ctx, [
      instance(),
      privateInstance({ id: 'i-0000000000000002', vpcId: 'vpc-b', subnetId: 'subnet-unassociated' }),
    ]);
    expect(reads.routes).toEqual(
      new Map([
        ['subnet-public', { tableId: 'rtb-public', main: false, egress: 'internet', via: 'igw', target: 'igw-1' }],
        ['subnet-unassociated', { tableId: 'rtb-main-b', main: true, egress: 'none' }],
      ]),
    );
    expect([...(reads.endpoints as ReadonlyMap<string, unknown[]>)].map(([vpc, list]) => [vpc, list.length])).toEqual([
      ['vpc-a', 3],
      ['vpc-b', 0],
    ]);
    expect([...(reads.groups as ReadonlyMap<string, unknown>).keys()]).toEqual(['sg-app', 'sg-endpoints']);
    expect(reads.images).toEqual(
      new Map([
        [
          'ami-al2023',
          { name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', description: 'Amazon Linux 2023 AMI 2023.5.20240805.0 x86_64 HVM kernel-6.1' },
        ],
      ]),
    );
    expect(reads.profiles).toEqual(new Map([[profileArn('good-profile'), { name: 'good-profile', roles: ['good-role'] }]]));
    // The attached policy gives the rights: the inline ones are not read.
    expect(reads.roles).toEqual(new Map([['good-role', { attached: [CORE] }]]));
  });

  it('a denied read is Denied with the action, and the reads after it are not tried', async () => {
    net.refuse(DescribeVpcEndpointsCommand, denied('UnauthorizedOperation'));
    iamWorld.profiles['other-profile'] = ['other-role'];
    iam.on(GetInstanceProfileCommand).rejects(denied('AccessDenied'));
    const reads = await readAll(testClients(), ctx, [instance(), instance({ id: 'i-0000000000000002', profileArn: profileArn('other-profile') })]);
    expect(reads.endpoints).toEqual({ denied: 'ec2:DescribeVpcEndpoints' });
    expect(reads.groups).toEqual(new Map());
    expect(net.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect([...reads.profiles.values()]).toEqual([{ denied: 'iam:GetInstanceProfile' }, { denied: 'iam:GetInstanceProfile' }]);
    // No profile read, so no role to read.
    expect(reads.roles).toEqual(new Map());
    expect(iam).not.toHaveReceivedCommand(ListAttachedRolePoliciesCommand);
  });

  it('follows the pages of every read', async () => {
    net.restore();
    const paged = fakeEc2({ pageSize: 1 });
    try {
      paged.addRouteTable('rtb-1', 'vpc-a', { subnets: ['subnet-1'] }).addRouteTable('rtb-2', 'vpc-a', { subnets: ['subnet-2'] });
      for (const s of SSM) paged.addEndpoint(endpoint('vpc-a', s));
      const fleet = ['subnet-1', 'subnet-2'].map((subnetId, n) =>
        instance({ id: `i-000000000000000${n}`, subnetId, profileArn: undefined, imageId: undefined }),
      );
      const reads = await readAll(testClients(), ctx, fleet);
      expect([...(reads.routes as ReadonlyMap<string, { tableId: string }>).values()].map((r) => r.tableId)).toEqual(['rtb-1', 'rtb-2']);
      expect((reads.endpoints as ReadonlyMap<string, unknown[]>).get('vpc-a')).toHaveLength(3);
      expect(paged.count('DescribeRouteTables')).toBe(2);
      expect(paged.count('DescribeVpcEndpoints')).toBe(3);
    } finally {
      paged.restore();
    }
  });
});
