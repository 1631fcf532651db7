import {
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  type NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { REGION } from '../helpers/fixtures.js';
import {
  A,
  addEndpoints,
  addGroups,
  B,
  check,
  type ExpectedError,
  ec2Instance,
  endpointGroup,
  errors,
  expectAllOk,
  expectErrors,
  problems,
  row,
  useWorld,
  vpcEndpoint,
  type World,
  world,
} from './harness.js';

// The way out of the instance, link by link: its own security groups, the network ACLs both
// ways (of its subnet and of the endpoints' subnets), the VPC's DNS attributes, IMDS. Each
// break alone turns A's row red with the fix; B, the account and the operator stay clean.
useWorld();

const region = `--region ${REGION}`;
const allow = (RuleNumber: number, Egress: boolean, over: Partial<NetworkAclEntry> = {}): NetworkAclEntry => ({
  RuleNumber,
  Protocol: '-1',
  RuleAction: 'allow',
  Egress,
  CidrBlock: '0.0.0.0/0',
  ...over,
});
const tcp = (From: number, To: number) => ({ Protocol: '6', PortRange: { From, To } });

/** A's subnet private, the endpoints (and their group admitting the VPC) in `subnet` of vpc-a. */
function privateWithEndpoints(w: World, subnet = 'subnet-1') {
  w.net.setRoutes('rtb-1', []);
  if (subnet !== 'subnet-1') w.net.addSubnet(subnet, 'vpc-a', { cidr: '10.1.9.0/24' });
  addEndpoints(
    w,
    ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s, s === 's3' ? {} : { SubnetIds: [subnet] })),
  );
  addGroups(w, [endpointGroup('10.1.0.0/16')]);
}

interface LinkCase {
  readonly name: string;
  readonly breakIt: (w: World) => void;
  readonly errors: readonly ExpectedError[];
}

const CASES: readonly LinkCase[] = [
  {
    name: 'its security group lets no TCP 443 out (only SSH)',
    breakIt: (w) => w.net.setEgress('sg-app-1', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]),
    errors: [
      {
        check: 'instance-sg',
        fix: `aws ec2 authorize-security-group-egress --group-id sg-app-1 --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]' ${region}`,
        detail: /^the instance's security groups \(sg-app-1\) let no TCP 443 out to the internet \(nat-1\) for ssm, ssmmessages, kms, logs, s3$/,
      },
    ],
  },
  {
    name: 'in a private subnet, its security group lets 443 out only to another range than the endpoints’ subnet',
    breakIt: (w) => {
      privateWithEndpoints(w);
      w.net.setEgress('sg-app-1', [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.99.0.0/16' }] }]);
    },
    errors: [
      {
        check: 'instance-sg',
        fix: `aws ec2 authorize-security-group-egress --group-id sg-app-1 --ip-permissions 'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.1.1.0/24}]' ${region}`,
        detail: /let no TCP 443 out to vpce-a-ssm \(ssm\); vpce-a-ssmmessages \(ssmmessages\); vpce-a-kms \(kms\); vpce-a-logs \(logs\)/,
      },
    ],
  },
  {
    name: 'the network ACL of its subnet denies TCP 443 out',
    breakIt: (w) =>
      w.net.addNacl('acl-app', 'vpc-a', {
        entries: [allow(100, false), { ...allow(90, true, tcp(443, 443)), RuleAction: 'deny' }, allow(100, true)],
        subnets: ['subnet-1'],
      }),
    errors: [
      {
        check: 'nacl',
        fix: `aws ec2 create-network-acl-entry --network-acl-id acl-app --egress --rule-number 89 --protocol tcp --port-range From=443,To=443 --cidr-block 0.0.0.0/0 --rule-action allow ${region}`,
        detail: /^acl-app of subnet-1 denies 443 out to the internet \(nat-1\) \(rule 90\)/,
      },
    ],
  },
  {
    name: 'the network ACL of its subnet lets 443 out but not the ephemeral ports back in',
    breakIt: (w) => w.net.addNacl('acl-app', 'vpc-a', { entries: [allow(100, true), allow(100, false, tcp(22, 22))], subnets: ['subnet-1'] }),
    errors: [
      {
        check: 'nacl',
        fix: `aws ec2 create-network-acl-entry --network-acl-id acl-app --ingress --rule-number 110 --protocol tcp --port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow ${region}`,
        detail: /^acl-app of subnet-1 denies the answers from the internet \(nat-1\) \(rule \*\) \(TCP 1024-65535 from 0\.0\.0\.0\/0\)$/,
      },
    ],
  },
  {
    name: 'the network ACL of the endpoints’ subnet does not let 443 in from the instance',
    breakIt: (w) => {
      privateWithEndpoints(w, 'subnet-9');
      w.net.addNacl('acl-endpoints', 'vpc-a', { entries: [allow(100, true), allow(100, false, { CidrBlock: '10.1.9.0/24' })], subnets: ['subnet-9'] });
    },
    errors: [
      {
        check: 'nacl',
        fix: `aws ec2 create-network-acl-entry --network-acl-id acl-endpoints --ingress --rule-number 110 --protocol tcp --port-range From=443,To=443 --cidr-block 10.1.1.10/32 --rule-action allow ${region}`,
        detail: /^acl-endpoints of subnet-9 denies 443 in from the instance to vpce-a-ssm \(ssm\) \(rule \*\)/,
      },
    ],
  },
  {
    name: 'the network ACL of the endpoints’ subnet does not let the ephemeral ports back out to the instance',
    breakIt: (w) => {
      privateWithEndpoints(w, 'subnet-9');
      w.net.addNacl('acl-endpoints', 'vpc-a', { entries: [allow(100, false), allow(100, true, tcp(443, 443))], subnets: ['subnet-9'] });
    },
    errors: [
      {
        check: 'nacl',
        fix: `aws ec2 create-network-acl-entry --network-acl-id acl-endpoints --egress --rule-number 110 --protocol tcp --port-range From=1024,To=65535 --cidr-block 10.1.1.10/32 --rule-action allow ${region}`,
        detail: /^acl-endpoints of subnet-9 denies the answers of vpce-a-ssm \(ssm\) back to the instance \(rule \*\)/,
      },
    ],
  },
  ...(['support', 'hostnames'] as const).map(
    (off): LinkCase => ({
      name: `in a private subnet whose endpoints have private DNS, the VPC has DNS ${off} off`,
      breakIt: (w) => {
        privateWithEndpoints(w);
        w.net.setVpcDns('vpc-a', { support: off !== 'support', hostnames: off !== 'hostnames' });
      },
      errors: [
        {
          check: 'vpc-dns',
          fix: `aws ec2 modify-vpc-attribute --vpc-id vpc-a --enable-dns-${off} '{"Value":true}' ${region}`,
          detail: new RegExp(`^vpc-a has enableDns${off === 'support' ? 'Support' : 'Hostnames'} off: .*which a private subnet cannot reach$`),
        },
      ],
    }),
  ),
  {
    name: 'its instance metadata service is disabled',
    breakIt: (w) => w.net.addInstance(ec2Instance(A, 1, { MetadataOptions: { State: 'applied', HttpEndpoint: 'disabled', HttpTokens: 'required' } })),
    errors: [
      {
        check: 'imds',
        fix: `aws ec2 modify-instance-metadata-options --instance-id ${A} --http-endpoint enabled ${region}`,
        detail: /^the instance metadata service is disabled/,
      },
    ],
  },
];

describe('each broken link on the way out turns exactly that target’s row to error, with the fix', () => {
  it.each(CASES)('$name', async ({ breakIt, errors: expected }) => {
    breakIt(world);
    const r = await check();
    const a = row(r, A);
    expect(a.ready).toBe(false);
    expectErrors(a.findings, expected);
    const b = row(r, B);
    expect(problems(b.findings)).toEqual([]);
    expect(b.ready).toBe(true);
    expect(errors(r.account)).toEqual([]);
    expect(errors(r.operator)).toEqual([]);
  });

  it('a target without a profile that relies on Default Host Management needs IMDSv2 required: both said, each with its fix', async () => {
    world.net.addInstance(
      ec2Instance(A, 1, { IamInstanceProfile: undefined, MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'optional', HttpPutResponseHopLimit: 1 } }),
    );
    delete world.inventory[A];
    const r = await check();
    const imds = row(r, A).findings.find((f) => f.check === 'imds')!;
    expect(imds).toMatchObject({
      status: 'error',
      fix: `aws ec2 modify-instance-metadata-options --instance-id ${A} --http-tokens required --http-endpoint enabled ${region}`,
      detail: expect.stringMatching(/^IMDSv2 is optional .*hop limit 1 \(containers on the host need 2\)$/),
    });
    expect(errors(row(r, B).findings)).toEqual([]);
  });
});

describe('the converged way out is all ok, read in batches', () => {
  it('a private subnet whose endpoints sit in another subnet, with open ACLs and DNS on: every path finding ok', async () => {
    privateWithEndpoints(world, 'subnet-9');
    const r = await check();
    expectAllOk(r);
    const a = row(r, A).findings;
    expect(a.find((f) => f.check === 'vpc-dns')).toMatchObject({ status: 'ok' });
    expect(a.find((f) => f.check === 'nacl')!.detail).toMatch(/^acl-default-vpc-a let 443 out and the ephemeral ports/);
    expect(a.find((f) => f.check === 'instance-sg')!.detail).toMatch(/^TCP 443 out is allowed to vpce-a-ssm \(ssm\) by sg-app-1 \(0\.0\.0\.0\/0\)/);
  });

  it('one call per kind for both targets: groups, subnets and ACLs together; DNS attributes only of the VPC with private-DNS endpoints', async () => {
    privateWithEndpoints(world);
    await check();
    const ec2 = world.net.ec2;
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DescribeSubnetsCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DescribeNetworkAclsCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DescribeVpcAttributeCommand).map((c) => [c.args[0].input.VpcId, c.args[0].input.Attribute])).toEqual([
      ['vpc-a', 'enableDnsSupport'],
      ['vpc-a', 'enableDnsHostnames'],
    ]);
  });

  it('egress 443 only to the endpoints’ security group (and S3’s prefix list) is enough in a private subnet', async () => {
    privateWithEndpoints(world);
    // And S3 (the session logs, through the gateway endpoint) by its prefix list, as the VPC guide recommends.
    world.net.setEgress('sg-app-1', [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-vpce-a' }] },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: 'pl-6da54004' }] },
    ]);
    const r = await check();
    expect(row(r, A).findings.find((f) => f.check === 'instance-sg')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('by sg-app-1 (sg-vpce-a)'),
    });
    expect(errors(row(r, A).findings)).toEqual([]);
  });

  it('with an internet route, DNS hostnames off is no error: the public endpoints are reached through the NAT', async () => {
    addEndpoints(world, [vpcEndpoint('ssm'), vpcEndpoint('ssmmessages')]);
    addGroups(world, [endpointGroup('10.1.0.0/16')]);
    world.net.setVpcDns('vpc-a', { support: true, hostnames: false });
    const r = await check();
    expect(errors(row(r, A).findings)).toEqual([]);
    expect(row(r, A).findings.find((f) => f.check === 'vpc-dns')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/through the route out \(nat-1\)$/),
    });
  });
});
