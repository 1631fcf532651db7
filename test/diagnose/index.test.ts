import {
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Filter,
  type Image,
  type IpPermission,
  type Route,
  type RouteTable,
  type SecurityGroup,
  type State,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CHECKS, diagnoseUnmanaged, ipv4InCidr, networkFindings, type DiagnoseContext, type Diagnosis, type Finding } from '../../src/diagnose/index.js';
import type { TargetInstance } from '../../src/core/step.js';
import { ACCOUNT, REGION, testClients } from '../helpers/fixtures.js';

/**
 * A small EC2 + IAM world behind aws-sdk-client-mock: route tables (explicit associations and
 * each VPC's main table), VPC endpoints, AMIs, instance profiles and role policies. The fakes
 * apply the request filters the way EC2 does, so a wrong filter returns nothing and the test
 * fails; any command the world does not implement is rejected.
 */
interface World {
  /** Route table id → its VPC, the subnets associated with it, whether it is the main one, its default route. */
  tables: Record<string, { vpc: string; subnets?: string[]; main?: boolean; defaultRoute?: Route }>;
  endpoints: VpcEndpoint[];
  /** Security groups (of the endpoints). */
  groups: SecurityGroup[];
  images: Image[];
  /** Instance profile name → role names. */
  profiles: Record<string, string[]>;
  /** Role name → attached policy ARNs. */
  attached: Record<string, string[]>;
  /** Role name → inline policy names. */
  inline: Record<string, string[]>;
}

const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
let world: World;

const CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
const ctx: DiagnoseContext = { region: REGION, partition: 'aws' };
const IGW: Route = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' };
const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };
const LOCAL: Route = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' };

const values = (filters: Filter[] | undefined, name: string) => filters?.find((f) => f.Name === name)?.Values;
/** The SDK types VPC endpoint states as `Available`…; EC2 answers `available`: the code must take both. */
const state = (s: string) => s as State;
const denied = (name: string) => Object.assign(new Error(`not authorized (${name})`), { name, $metadata: { httpStatusCode: 403 } });

function endpoint(vpc: string, service: string, over: Partial<VpcEndpoint> = {}): VpcEndpoint {
  return {
    VpcEndpointId: `vpce-${vpc}-${service}`,
    VpcEndpointType: 'Interface',
    VpcId: vpc,
    ServiceName: `com.amazonaws.${REGION}.${service}`,
    State: state('available'),
    PrivateDnsEnabled: true,
    ...over,
  };
}

/** A running Amazon Linux 2023 instance in a public subnet, with a good profile: nothing wrong to find. */
function instance(over: Partial<TargetInstance> = {}): TargetInstance {
  return {
    id: 'i-0000000000000001',
    state: 'running',
    platform: 'Linux/UNIX',
    profileArn: profileArn('good-profile'),
    vpcId: 'vpc-a',
    subnetId: 'subnet-public',
    imageId: 'ami-al2023',
    architecture: 'x86_64',
    tags: {},
    ...over,
  };
}

beforeEach(() => {
  world = {
    tables: {
      'rtb-public': { vpc: 'vpc-a', subnets: ['subnet-public'], defaultRoute: IGW },
      'rtb-main-a': { vpc: 'vpc-a', main: true },
      'rtb-private': { vpc: 'vpc-a', subnets: ['subnet-private'] },
      'rtb-nat': { vpc: 'vpc-a', subnets: ['subnet-nat'], defaultRoute: NAT },
      'rtb-main-b': { vpc: 'vpc-b', main: true },
    },
    endpoints: [],
    groups: [],
    images: [
      { ImageId: 'ami-al2023', Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', Description: 'Amazon Linux 2023 AMI 2023.5.20240805.0 x86_64 HVM kernel-6.1' },
      { ImageId: 'ami-rhel9-arm', Name: 'RHEL-9.4.0_HVM-20240605-arm64-82-Hourly2-GP3', Description: 'Provided by Red Hat, Inc.' },
      { ImageId: 'ami-custom', Name: 'golden-image-2024-08', Description: 'our hardened base' },
    ],
    profiles: { 'good-profile': ['good-role'] },
    attached: { 'good-role': [CORE] },
    inline: {},
  };
  ec2.reset();
  iam.reset();
  ec2.rejects(Object.assign(new Error('fake EC2: command not implemented'), { name: 'FakeNotImplemented' }));
  iam.rejects(Object.assign(new Error('fake IAM: command not implemented'), { name: 'FakeNotImplemented' }));

  ec2.on(DescribeRouteTablesCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const subnets = values(Filters, 'association.subnet-id');
    const vpcs = values(Filters, 'vpc-id');
    const mainOnly = values(Filters, 'association.main')?.includes('true');
    const RouteTables: RouteTable[] = Object.entries(world.tables)
      .filter(([, t]) => (subnets ? (t.subnets ?? []).some((s) => subnets.includes(s)) : true))
      .filter(([, t]) => (vpcs ? vpcs.includes(t.vpc) : true))
      .filter(([, t]) => (mainOnly ? t.main : true))
      .map(([id, t]) => ({
        RouteTableId: id,
        VpcId: t.vpc,
        Associations: [...(t.main ? [{ Main: true, RouteTableId: id }] : []), ...(t.subnets ?? []).map((SubnetId) => ({ Main: false, SubnetId, RouteTableId: id }))],
        Routes: [LOCAL, ...(t.defaultRoute ? [t.defaultRoute] : [])],
      }));
    return { RouteTables };
  });
  ec2.on(DescribeVpcEndpointsCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const vpcs = values(Filters, 'vpc-id') ?? [];
    const services = values(Filters, 'service-name') ?? [];
    return { VpcEndpoints: world.endpoints.filter((e) => vpcs.includes(e.VpcId!) && services.includes(e.ServiceName!)) };
  });
  ec2.on(DescribeSecurityGroupsCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const ids = values(Filters, 'group-id') ?? [];
    return { SecurityGroups: world.groups.filter((g) => ids.includes(g.GroupId!)) };
  });
  ec2.on(DescribeImagesCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const ids = values(Filters, 'image-id') ?? [];
    return { Images: world.images.filter((i) => ids.includes(i.ImageId!)) };
  });
  iam.on(GetInstanceProfileCommand).callsFake(async ({ InstanceProfileName }: { InstanceProfileName: string }) => {
    const roles = world.profiles[InstanceProfileName];
    if (!roles) throw new NoSuchEntityException({ message: `Instance Profile ${InstanceProfileName} cannot be found.`, $metadata: { httpStatusCode: 404 } });
    return { InstanceProfile: { InstanceProfileName, Arn: profileArn(InstanceProfileName), Roles: roles.map((RoleName) => ({ RoleName })) } };
  });
  iam.on(ListAttachedRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({
    AttachedPolicies: (world.attached[RoleName] ?? []).map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
    IsTruncated: false,
  }));
  iam.on(ListRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({ PolicyNames: world.inline[RoleName] ?? [], IsTruncated: false }));
});
afterAll(() => {
  ec2.restore();
  iam.restore();
});

async function diagnoseOne(t: TargetInstance, context: DiagnoseContext = ctx): Promise<Diagnosis> {
  const [d, ...rest] = await diagnoseUnmanaged(testClients(), context, [t]);
  expect(rest).toEqual([]);
  return d!;
}
const finding = (d: Diagnosis, check: string): Finding | undefined => d.findings.find((f) => f.check === check);
const statuses = (d: Diagnosis) => Object.fromEntries(d.findings.map((f) => [f.check, f.status]));
const GENERIC = 'the agent is not running or cannot register';

describe('diagnoseUnmanaged', () => {
  it('reads nothing when there is nothing to diagnose', async () => {
    expect(await diagnoseUnmanaged(testClients(), ctx, [])).toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
    expect(iam.calls()).toHaveLength(0);
  });

  it('falls back to "agent not running" with the status command and the log path when every check passes', async () => {
    const d = await diagnoseOne(instance());
    expect(d.cause).toBe(GENERIC);
    expect(d.fix).toEqual([
      'sudo systemctl status amazon-ssm-agent',
      'read /var/log/amazon/ssm/amazon-ssm-agent.log (and errors.log beside it) on the instance',
      'sudo systemctl restart amazon-ssm-agent',
    ]);
    expect(d.userData).toBeUndefined();
    // Every check is listed, ok ones included.
    expect(statuses(d)).toEqual({
      state: 'ok',
      'instance-profile': 'ok',
      'role-rights': 'ok',
      route: 'ok',
      'endpoint:ssm': 'ok',
      'endpoint:ssmmessages': 'ok',
      'endpoint:ec2messages': 'ok',
      agent: 'ok',
    });
    expect(finding(d, CHECKS.route)?.detail).toBe('rtb-public sends 0.0.0.0/0 to igw-1');
    expect(finding(d, CHECKS.agent)?.detail).toContain('Amazon Linux AMIs ship the SSM Agent');
    expect(finding(d, CHECKS.rights)?.detail).toBe('role good-role has AmazonSSMManagedInstanceCore');
  });

  it('a stopped instance: start it', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped' }));
    expect(d.cause).toBe('the instance is stopped');
    expect(d.fix).toEqual([`aws ec2 start-instances --instance-ids i-0000000000000001 --region ${REGION}`]);
    expect(finding(d, CHECKS.state)).toMatchObject({ status: 'error', fix: d.fix[0] });
  });

  it('no instance profile: the instance-role step, or DHMC', async () => {
    const d = await diagnoseOne(instance({ profileArn: undefined }));
    expect(d.cause).toMatch(/^no instance profile/);
    expect(d.fix[0]).toBe('ssm-setup run instance-role --instance-ids i-0000000000000001');
    expect(d.fix[1]).toMatch(/Default Host Management Configuration.*--dhmc/);
    expect(finding(d, CHECKS.profile)?.status).toBe('error');
    expect(finding(d, CHECKS.rights)).toBeUndefined();
    expect(iam.calls()).toHaveLength(0);
  });

  it('a profile that no longer exists is an error', async () => {
    const d = await diagnoseOne(instance({ profileArn: profileArn('deleted-profile') }));
    expect(d.cause).toBe('the instance profile deleted-profile no longer exists');
    expect(finding(d, CHECKS.profile)?.status).toBe('error');
  });

  it('a role without the agent rights: attach the policy', async () => {
    world.attached['good-role'] = ['arn:aws:iam::aws:policy/ReadOnlyAccess'];
    const d = await diagnoseOne(instance());
    expect(d.cause).toBe('the role good-role lacks the rights the agent needs to register');
    expect(d.fix).toEqual([
      'ssm-setup run instance-role --instance-ids i-0000000000000001',
      `or: aws iam attach-role-policy --role-name good-role --policy-arn ${CORE}`,
    ]);
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'error', detail: expect.stringContaining('SSMSessionManagerInstancePolicy') });
    // Inline policies were looked at before concluding.
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 1);
  });

  it('a role with only inline policies: a warning (they may grant it), not the cause', async () => {
    world.attached['good-role'] = [];
    world.inline['good-role'] = ['ssm-inline'];
    const d = await diagnoseOne(instance());
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'warning', detail: expect.stringContaining('ssm-inline') });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
    expect(d.cause).toBe(`${GENERIC} (some checks were inconclusive: see the warnings)`);
  });

  it.each([
    ['the DHMC default policy', ['arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy'], undefined],
    ['the ssm-setup policy by its default name', [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`], undefined],
    ['the ssm-setup policy given by ARN', [`arn:aws:iam::${ACCOUNT}:policy/team/SessionsForInstances`], `arn:aws:iam::${ACCOUNT}:policy/team/SessionsForInstances`],
  ])('accepts %s and reads no inline policy', async (_, attached, instancePolicyArn) => {
    world.attached['good-role'] = attached;
    const d = await diagnoseOne(instance(), { ...ctx, instancePolicyArn });
    expect(finding(d, CHECKS.rights)?.status).toBe('ok');
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
  });

  it('with another instance policy given, the default-named one no longer counts', async () => {
    world.attached['good-role'] = [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`];
    const d = await diagnoseOne(instance(), { ...ctx, instancePolicyArn: `arn:aws:iam::${ACCOUNT}:policy/Other` });
    expect(finding(d, CHECKS.rights)?.status).toBe('error');
  });

  it('a private subnet without NAT/internet route and without endpoints: create the endpoints or a NAT route', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(d.cause).toBe('no route to the SSM endpoints: subnet subnet-private has no internet or NAT route and VPC vpc-a has no usable ssm or ssmmessages interface endpoint');
    expect(statuses(d)).toMatchObject({ route: 'error', 'endpoint:ssm': 'error', 'endpoint:ssmmessages': 'error', 'endpoint:ec2messages': 'warning' });
    expect(d.fix).toHaveLength(3);
    expect(d.fix[0]).toBe(
      `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com.amazonaws.${REGION}.ssm --subnet-ids subnet-private --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled --region ${REGION}`,
    );
    expect(d.fix[1]).toContain(`--service-name com.amazonaws.${REGION}.ssmmessages`);
    expect(d.fix[2]).toContain('aws ec2 create-route --route-table-id rtb-private --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id>');
    // The endpoints were asked for by VPC and service name.
    const input = ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input;
    expect(values(input.Filters, 'vpc-id')).toEqual(['vpc-a']);
    expect(values(input.Filters, 'service-name')).toEqual([`com.amazonaws.${REGION}.ssm`, `com.amazonaws.${REGION}.ssmmessages`, `com.amazonaws.${REGION}.ec2messages`]);
  });

  it('a subnet without its own table uses the main table of its VPC', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-unassociated', vpcId: 'vpc-b' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'error', detail: expect.stringContaining('rtb-main-b (main table of vpc-b)') });
    expect(d.cause).toMatch(/^no route to the SSM endpoints/);
    expect(ec2).toHaveReceivedCommandTimes(DescribeRouteTablesCommand, 2);
    const fallback = ec2.commandCalls(DescribeRouteTablesCommand)[1]!.args[0].input;
    expect(values(fallback.Filters, 'vpc-id')).toEqual(['vpc-b']);
    expect(values(fallback.Filters, 'association.main')).toEqual(['true']);
  });

  it('a subnet routed through a NAT gateway needs no endpoints', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'ok', detail: 'rtb-nat sends 0.0.0.0/0 to nat-1' });
    expect(finding(d, 'endpoint:ssm')).toMatchObject({ status: 'ok', detail: expect.stringContaining('not needed') });
    expect(d.cause).toBe(GENERIC);
  });

  it('a private subnet with the endpoints: the network is ok', async () => {
    world.endpoints = ['ssm', 'ssmmessages', 'ec2messages'].map((s) => endpoint('vpc-a', s));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:ssm': 'ok', 'endpoint:ssmmessages': 'ok', 'endpoint:ec2messages': 'ok' });
    expect(finding(d, 'endpoint:ssm')?.detail).toBe('vpce-vpc-a-ssm available, private DNS on');
    expect(d.cause).toBe(GENERIC);
  });

  it('a private subnet without ec2messages only: a warning, not the cause', async () => {
    world.endpoints = ['ssm', 'ssmmessages'].map((s) => endpoint('vpc-a', s));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:ec2messages': 'warning' });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });

  it.each(['available', 'Available', 'AVAILABLE'])('accepts the endpoint state %s (compared case-insensitively)', async (State) => {
    world.endpoints = ['ssm', 'ssmmessages'].map((s) => endpoint('vpc-a', s, { State: state(State) }));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')?.status).toBe('ok');
    expect(finding(d, 'endpoint:ssmmessages')?.status).toBe('ok');
  });

  it('an endpoint with private DNS off, or failed, does not count', async () => {
    world.endpoints = [endpoint('vpc-a', 'ssm', { PrivateDnsEnabled: false }), endpoint('vpc-a', 'ssmmessages', { State: state('failed') })];
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')).toMatchObject({
      status: 'error',
      detail: 'vpce-vpc-a-ssm has private DNS off',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-vpc-a-ssm --private-dns-enabled --region ${REGION}`,
    });
    expect(finding(d, 'endpoint:ssmmessages')).toMatchObject({ status: 'error', detail: 'vpce-vpc-a-ssmmessages is failed' });
    expect(d.cause).toMatch(/^no route to the SSM endpoints/);
  });

  it('an endpoint of another VPC does not count', async () => {
    world.endpoints = ['ssm', 'ssmmessages'].map((s) => endpoint('vpc-b', s));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')?.status).toBe('error');
  });

  it('RHEL has no agent: the dnf install from the regional bucket, systemctl, and user data', async () => {
    const d = await diagnoseOne(instance({ platform: 'Red Hat Enterprise Linux', imageId: 'ami-whatever' }));
    expect(d.cause).toBe('the SSM Agent is not installed: Red Hat Enterprise Linux AMIs do not include it');
    const rpm = `https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest/linux_amd64/amazon-ssm-agent.rpm`;
    expect(d.fix.slice(0, 3)).toEqual([`sudo dnf install -y ${rpm}`, 'sudo systemctl enable --now amazon-ssm-agent', 'sudo systemctl status amazon-ssm-agent']);
    expect(d.fix).toContain('docs: https://docs.aws.amazon.com/systems-manager/latest/userguide/agent-install-rhel.html');
    expect(d.userData).toMatch(/^#!\/bin\/bash\n/);
    expect(d.userData).toContain(`dnf install -y ${rpm}`);
    expect(finding(d, CHECKS.agent)).toMatchObject({ status: 'error', fix: `sudo dnf install -y ${rpm}` });
    // PlatformDetails named the OS: the AMI was not looked up.
    expect(ec2).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('a "Linux/UNIX" instance: the AMI name tells RHEL, and arm64 gets the arm64 package', async () => {
    const d = await diagnoseOne(instance({ imageId: 'ami-rhel9-arm', architecture: 'arm64' }));
    expect(d.cause).toMatch(/SSM Agent is not installed: Red Hat/);
    expect(d.fix[0]).toBe(`sudo dnf install -y https://s3.${REGION}.amazonaws.com/amazon-ssm-${REGION}/latest/linux_arm64/amazon-ssm-agent.rpm`);
    expect(finding(d, CHECKS.agent)?.detail).toContain('RHEL-9.4.0_HVM');
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
  });

  it('an AMI that names no distribution: a warning with the docs, and the generic cause', async () => {
    const d = await diagnoseOne(instance({ imageId: 'ami-custom' }));
    expect(finding(d, CHECKS.agent)).toMatchObject({ status: 'warning', fix: expect.stringContaining('manually-install-ssm-agent-linux') });
    expect(d.cause).toBe(`${GENERIC} (some checks were inconclusive: see the warnings)`);
    expect(d.userData).toBeUndefined();
  });

  it('Windows falls back to the PowerShell status and log path', async () => {
    const d = await diagnoseOne(instance({ platform: 'Windows', imageId: undefined }));
    expect(d.cause).toBe(GENERIC);
    expect(d.fix[0]).toBe('Get-Service AmazonSSMAgent');
    expect(d.fix[1]).toContain('C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log');
  });

  it('puts the most likely cause first and every fix in order: start, profile, agent', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped', profileArn: undefined, platform: 'Red Hat Enterprise Linux' }));
    expect(d.cause).toBe('the instance is stopped');
    expect(d.fix[0]).toMatch(/^aws ec2 start-instances/);
    expect(d.fix[1]).toBe('ssm-setup run instance-role --instance-ids i-0000000000000001');
    expect(d.fix.findIndex((f) => f.startsWith('sudo dnf install'))).toBeGreaterThan(1);
    expect(d.userData).toContain('dnf install');
  });

  it('access denied on every read is a warning naming the missing action, never a failure', async () => {
    ec2.on(DescribeRouteTablesCommand).rejects(denied('UnauthorizedOperation'));
    ec2.on(DescribeVpcEndpointsCommand).rejects(denied('UnauthorizedOperation'));
    ec2.on(DescribeImagesCommand).rejects(denied('UnauthorizedOperation'));
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
    expect(finding(d, CHECKS.rights)).toEqual({ check: CHECKS.rights, status: 'warning', detail: 'could not read the policies of role good-role (missing iam:ListAttachedRolePolicies)' });
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
  });

  it('access denied on inline policies leaves the role rights undecided (warning)', async () => {
    world.attached['good-role'] = [];
    iam.on(ListRolePoliciesCommand).rejects(denied('AccessDenied'));
    const d = await diagnoseOne(instance());
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'warning', detail: expect.stringContaining('(missing iam:ListRolePolicies)') });
  });

  it('other errors are not hidden', async () => {
    ec2.on(DescribeRouteTablesCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalError' }));
    await expect(diagnoseUnmanaged(testClients(), ctx, [instance()])).rejects.toThrow('boom');
  });
});

describe('diagnoseUnmanaged at fleet scale', () => {
  it('120 instances in 3 subnets of 2 VPCs: one call per batch, IAM once per profile and role', async () => {
    world.profiles = { 'profile-a': ['role-a'], 'profile-b': ['role-b'] };
    world.attached = { 'role-a': [CORE], 'role-b': [] };
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
    expect(ec2).toHaveReceivedCommandTimes(DescribeRouteTablesCommand, 2);
    expect(values(ec2.commandCalls(DescribeRouteTablesCommand)[0]!.args[0].input.Filters, 'association.subnet-id')).toEqual(['subnet-public', 'subnet-private', 'subnet-unassociated']);
    expect(ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointsCommand, 1);
    expect(values(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'vpc-id')).toEqual(['vpc-a', 'vpc-b']);
    expect(ec2).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
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
      ec2.commandCalls(command).map((c) => values(c.args[0].input.Filters, filter)?.length);
    // No subnet has a table of its own here: 3 calls by subnet, then 3 by VPC for the main tables.
    expect(sizes(DescribeRouteTablesCommand, 'association.subnet-id')).toEqual([50, 50, 20, undefined, undefined, undefined]);
    expect(sizes(DescribeRouteTablesCommand, 'vpc-id')).toEqual([undefined, undefined, undefined, 50, 50, 20]);
    expect(sizes(DescribeVpcEndpointsCommand, 'vpc-id')).toEqual([50, 50, 20]);
    expect(sizes(DescribeImagesCommand, 'image-id')).toEqual([50, 50, 20]);
    expect(iam.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The network path: kms/logs/s3 endpoints, endpoint security groups, public route without public IP

/** A running instance in the private subnet (no route out), with its address and security group. */
const privateInstance = (over: Partial<TargetInstance> = {}) =>
  instance({ subnetId: 'subnet-private', privateIp: '10.0.2.15', securityGroupIds: ['sg-app'], ...over });
const ALL_NEEDS: DiagnoseContext = { ...ctx, needs: { kms: true, logs: true, s3: true } };
const https = (over: Partial<IpPermission> = {}): IpPermission => ({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, ...over });
const group = (GroupId: string, ...IpPermissions: IpPermission[]): SecurityGroup => ({ GroupId, GroupName: GroupId, VpcId: 'vpc-a', IpPermissions });
/** Interface endpoints in vpc-a behind `sg-endpoints`. */
const guarded = (services: string[], GroupId = 'sg-endpoints') => services.map((s) => endpoint('vpc-a', s, { Groups: [{ GroupId, GroupName: GroupId }] }));
const s3Gateway = (over: Partial<VpcEndpoint> = {}) =>
  endpoint('vpc-a', 's3', { VpcEndpointId: 'vpce-s3', VpcEndpointType: 'Gateway', PrivateDnsEnabled: false, RouteTableIds: ['rtb-private'], ...over });
const SSM = ['ssm', 'ssmmessages', 'ec2messages'];

describe('diagnoseUnmanaged: kms, logs and S3 endpoints (needs)', () => {
  it('without route out, missing kms, logs and S3 gateway endpoints are errors with the create commands', async () => {
    world.endpoints = SSM.map((s) => endpoint('vpc-a', s));
    const d = await diagnoseOne(privateInstance(), ALL_NEEDS);
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:kms': 'error', 'endpoint:logs': 'error', 'endpoint:s3': 'error' });
    expect(finding(d, 'endpoint:kms')).toEqual({
      check: 'endpoint:kms',
      status: 'error',
      detail: 'no interface endpoint (KMS session encryption needs it)',
      fix: `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com.amazonaws.${REGION}.kms --subnet-ids subnet-private --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled --region ${REGION}`,
    });
    expect(finding(d, 'endpoint:logs')).toMatchObject({ detail: 'no interface endpoint (CloudWatch Logs session logging needs it)', fix: expect.stringContaining(`--service-name com.amazonaws.${REGION}.logs `) });
    expect(finding(d, 'endpoint:s3')).toEqual({
      check: 'endpoint:s3',
      status: 'error',
      detail: 'no S3 gateway endpoint (S3 session logging needs it)',
      fix: `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Gateway --service-name com.amazonaws.${REGION}.s3 --route-table-ids rtb-private --region ${REGION}`,
    });
    // They break sessions, not registration: not the cause of an unmanaged instance.
    expect(d.cause).toBe(GENERIC);
    // The endpoints are read in the same call, the needed services added to the filter.
    expect(ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointsCommand, 1);
    expect(values(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).toEqual(
      ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => `com.amazonaws.${REGION}.${s}`),
    );
  });

  it('only what the preferences use is checked', async () => {
    world.endpoints = SSM.map((s) => endpoint('vpc-a', s));
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { logs: true } });
    expect(finding(d, 'endpoint:logs')?.status).toBe('error');
    expect(finding(d, 'endpoint:kms')).toBeUndefined();
    expect(finding(d, 'endpoint:s3')).toBeUndefined();
    expect(values(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).toContain(`com.amazonaws.${REGION}.logs`);
    expect(values(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).not.toContain(`com.amazonaws.${REGION}.kms`);
  });

  it('present kms and logs interface endpoints (state in any case) and the S3 gateway on the subnet table are ok', async () => {
    world.endpoints = [
      ...SSM.map((s) => endpoint('vpc-a', s)),
      endpoint('vpc-a', 'kms', { State: state('Available') }),
      endpoint('vpc-a', 'logs', { State: state('AVAILABLE') }),
      s3Gateway({ RouteTableIds: ['rtb-other', 'rtb-private'] }),
    ];
    const d = await diagnoseOne(privateInstance(), ALL_NEEDS);
    expect(finding(d, 'endpoint:kms')).toEqual({ check: 'endpoint:kms', status: 'ok', detail: 'vpce-vpc-a-kms available, private DNS on' });
    expect(finding(d, 'endpoint:logs')?.status).toBe('ok');
    expect(finding(d, 'endpoint:s3')).toEqual({ check: 'endpoint:s3', status: 'ok', detail: 'vpce-s3 (gateway) available, on route table rtb-private' });
    expect(d.findings.filter((f) => f.status !== 'ok')).toEqual([]);
  });

  it('a kms endpoint with private DNS off is an error with the modify command', async () => {
    world.endpoints = [...SSM.map((s) => endpoint('vpc-a', s)), endpoint('vpc-a', 'kms', { PrivateDnsEnabled: false })];
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { kms: true } });
    expect(finding(d, 'endpoint:kms')).toMatchObject({
      status: 'error',
      detail: 'vpce-vpc-a-kms has private DNS off (KMS session encryption needs it)',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-vpc-a-kms --private-dns-enabled --region ${REGION}`,
    });
  });

  it('an S3 gateway endpoint on another route table is an error: add the subnet table to it', async () => {
    world.endpoints = [...SSM.map((s) => endpoint('vpc-a', s)), s3Gateway({ RouteTableIds: ['rtb-nat'] })];
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toEqual({
      check: 'endpoint:s3',
      status: 'error',
      detail: 'vpce-s3 (gateway) is not on route table rtb-private: it is on rtb-nat (S3 session logging needs it)',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-private --region ${REGION}`,
    });
  });

  it('an S3 interface endpoint is not the gateway endpoint the subnet needs', async () => {
    world.endpoints = [...SSM.map((s) => endpoint('vpc-a', s)), endpoint('vpc-a', 's3', { RouteTableIds: ['rtb-private'] })];
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toMatchObject({ status: 'error', detail: expect.stringMatching(/^no S3 gateway endpoint/) });
  });

  it('the S3 gateway endpoint on the main table serves a subnet without a table of its own', async () => {
    world.endpoints = [...SSM.map((s) => endpoint('vpc-b', s)), s3Gateway({ VpcId: 'vpc-b', RouteTableIds: ['rtb-main-b'] })];
    const d = await diagnoseOne(privateInstance({ subnetId: 'subnet-unassociated', vpcId: 'vpc-b' }), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toMatchObject({ status: 'ok', detail: 'vpce-s3 (gateway) available, on route table rtb-main-b' });
  });

  it('with an internet or NAT route the missing endpoints are ok, via the internet route', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }), ALL_NEEDS);
    for (const check of ['endpoint:kms', 'endpoint:logs', 'endpoint:s3']) {
      expect(finding(d, check)).toMatchObject({ status: 'ok', detail: expect.stringContaining('not needed: via the internet route to nat-1') });
      expect(finding(d, check)?.fix).toBeUndefined();
    }
  });
});

describe('diagnoseUnmanaged: endpoint security groups', () => {
  it.each<[string, IpPermission]>([
    ['a CIDR containing the private IP', https({ IpRanges: [{ CidrIp: '10.0.0.0/22' }] })],
    ['a /32 of the private IP', https({ IpRanges: [{ CidrIp: '10.0.2.15/32' }] })],
    ['a group of the instance', https({ UserIdGroupPairs: [{ GroupId: 'sg-app', UserId: ACCOUNT }] })],
    ['0.0.0.0/0', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] })],
    ['all traffic (protocol -1) from the VPC', { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/16' }] }],
    ['a port range around 443', https({ FromPort: 400, ToPort: 500, IpRanges: [{ CidrIp: '10.0.0.0/16' }] })],
  ])('ok when a rule admits TCP 443 from %s', async (_, rule) => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints', https({ IpRanges: [{ CidrIp: '192.168.0.0/16' }] }), rule)];
    const d = await diagnoseOne(privateInstance());
    const sg = finding(d, CHECKS.endpointSg);
    expect(sg?.status).toBe('ok');
    expect(sg?.detail).toMatch(/^TCP 443 from the instance \(10\.0\.2\.15\) is admitted: vpce-vpc-a-ssm \(ssm\) by sg-endpoints \(/);
    expect(d.cause).toBe(GENERIC);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(values(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input.Filters, 'group-id')).toEqual(['sg-endpoints']);
  });

  it.each<[string, IpPermission[]]>([
    ['no rule', []],
    ['SSH only', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]],
    ['UDP 443', [{ IpProtocol: 'udp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]],
    ['443 from a neighbouring CIDR', [https({ IpRanges: [{ CidrIp: '10.0.4.0/22' }] })]],
    ['443 from another group', [https({ UserIdGroupPairs: [{ GroupId: 'sg-bastion' }] })]],
  ])('an error naming the endpoints and the group when it admits %s', async (_, rules) => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints', ...rules)];
    const d = await diagnoseOne(privateInstance());
    const fix = `aws ec2 authorize-security-group-ingress --group-id sg-endpoints --protocol tcp --port 443 --cidr <CIDR of vpc-a or subnet-private> --region ${REGION}`;
    expect(finding(d, CHECKS.endpointSg)).toEqual({
      check: 'endpoint-sg',
      status: 'error',
      detail:
        'no security group admits TCP 443 from the instance (10.0.2.15): vpce-vpc-a-ssm (ssm) with sg-endpoints; vpce-vpc-a-ssmmessages (ssmmessages) with sg-endpoints; vpce-vpc-a-ec2messages (ec2messages) with sg-endpoints',
      fix,
    });
    // The endpoints exist, so the route is fine; the closed group is why the agent cannot register.
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(d.cause).toBe('the ssm and ssmmessages endpoints of VPC vpc-a (security groups sg-endpoints) do not admit TCP 443 from the instance, and private DNS sends the agent there');
    expect(d.fix).toEqual([fix]);
  });

  it('a group admitting the instance on one endpoint does not open another endpoint: each is named with its group', async () => {
    world.endpoints = [...guarded(['ssm', 'ssmmessages']), ...guarded(['ec2messages'], 'sg-closed')];
    world.groups = [group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] })), group('sg-closed')];
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({
      status: 'error',
      detail: 'no security group admits TCP 443 from the instance (10.0.2.15): vpce-vpc-a-ec2messages (ec2messages) with sg-closed',
      fix: expect.stringContaining('--group-id sg-closed '),
    });
    // ec2messages only: an error in the row, not the cause.
    expect(d.cause).toBe(GENERIC);
  });

  it('one open group among an endpoint\'s groups is enough', async () => {
    world.endpoints = SSM.map((s) => endpoint('vpc-a', s, { Groups: [{ GroupId: 'sg-closed' }, { GroupId: 'sg-open' }] }));
    world.groups = [group('sg-closed'), group('sg-open', https({ UserIdGroupPairs: [{ GroupId: 'sg-app' }] }))];
    const d = await diagnoseOne(privateInstance({ securityGroupIds: ['sg-other', 'sg-app'] }));
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'ok', detail: expect.stringContaining('vpce-vpc-a-ssm (ssm) by sg-open (sg-app)') });
  });

  it('the kms and logs endpoints are checked when the preferences use them', async () => {
    world.endpoints = [...guarded(SSM), ...guarded(['kms', 'logs'], 'sg-kms')];
    world.groups = [group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] })), group('sg-kms', https({ IpRanges: [{ CidrIp: '172.16.0.0/12' }] }))];
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { kms: true, logs: true } });
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(/: vpce-vpc-a-kms \(kms\) with sg-kms; vpce-vpc-a-logs \(logs\) with sg-kms$/),
      fix: expect.stringContaining('--group-id sg-kms '),
    });
    expect(d.cause).toBe(GENERIC);
    // Both groups in one read.
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(values(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input.Filters, 'group-id')).toEqual(['sg-endpoints', 'sg-kms']);
    // Without the need, the kms endpoint is not looked at.
    ec2.resetHistory();
    const without = await diagnoseOne(privateInstance());
    expect(finding(without, CHECKS.endpointSg)?.status).toBe('ok');
  });

  it('private DNS sends even an instance with an internet route to the endpoints: a closed group is still the cause', async () => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints')];
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5', publicIp: '203.0.113.5', securityGroupIds: ['sg-app'] }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(finding(d, CHECKS.endpointSg)?.status).toBe('error');
    expect(d.cause).toMatch(/^the ssm and ssmmessages endpoints of VPC vpc-a/);
  });

  it('no endpoint in use: no security group is read and no finding made', async () => {
    world.endpoints = [endpoint('vpc-a', 'ssm', { PrivateDnsEnabled: false, Groups: [{ GroupId: 'sg-endpoints' }] })];
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }));
    expect(finding(d, CHECKS.endpointSg)).toBeUndefined();
    expect(ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  });

  it.each<[string, IpPermission, Partial<TargetInstance>, string]>([
    ['a prefix list', https({ PrefixListIds: [{ PrefixListId: 'pl-123' }] }), {}, 'sg-endpoints admits prefix list pl-123'],
    ['a CIDR, with the private IP unknown', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] }), { privateIp: undefined }, "the instance's private IP is unknown"],
    ['a group, with the instance groups unknown', https({ UserIdGroupPairs: [{ GroupId: 'sg-app' }] }), { securityGroupIds: undefined }, "the instance's security groups are unknown"],
  ])('a warning when only %s might admit it', async (_, rule, over, why) => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints', rule)];
    const d = await diagnoseOne(privateInstance(over));
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'warning', detail: expect.stringContaining(why) });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });

  it('a group that is gone is a warning', async () => {
    world.endpoints = guarded(SSM, 'sg-deleted');
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'warning', detail: expect.stringContaining('sg-deleted was not found') });
  });

  it('access denied on the security groups is a warning naming the missing action', async () => {
    world.endpoints = guarded(SSM);
    ec2.on(DescribeSecurityGroupsCommand).rejects(denied('UnauthorizedOperation'));
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toEqual({
      check: 'endpoint-sg',
      status: 'warning',
      detail: 'could not read the security groups of vpce-vpc-a-ssm (ssm), vpce-vpc-a-ssmmessages (ssmmessages), vpce-vpc-a-ec2messages (ec2messages) (missing ec2:DescribeSecurityGroups)',
    });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });
});

describe('diagnoseUnmanaged: public subnet route without public IP', () => {
  it('an internet gateway route but no public IP, and no endpoints: an error with EIP, NAT and endpoint fixes', async () => {
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5' }), { ...ctx, needs: { kms: true } });
    const eip = `aws ec2 associate-address --instance-id i-0000000000000001 --allocation-id <eipalloc-id> --region ${REGION}`;
    expect(finding(d, CHECKS.route)).toEqual({
      check: 'route',
      status: 'error',
      detail: 'rtb-public sends 0.0.0.0/0 to the internet gateway igw-1, but the instance has no public IP (public subnet route but no public IP)',
      fix: eip,
    });
    expect(d.cause).toBe(
      'public subnet route but no public IP: subnet subnet-public routes to igw-1, which carries only instances with a public IP, and VPC vpc-a has no usable ssm or ssmmessages interface endpoint',
    );
    expect(d.fix[0]).toBe(`associate an Elastic IP: aws ec2 allocate-address --domain vpc --region ${REGION}, then ${eip}`);
    expect(d.fix[1]).toMatch(/^or use a NAT gateway: .*associate-route-table --subnet-id subnet-public/);
    expect(d.fix[2]).toMatch(/^or add the endpoints: aws ec2 create-vpc-endpoint .*com\.amazonaws\.eu-west-1\.ssm /);
    expect(d.fix[3]).toContain(`com.amazonaws.${REGION}.ssmmessages `);
    // No way out: the endpoints are needed, kms included.
    expect(statuses(d)).toMatchObject({ 'endpoint:ssm': 'error', 'endpoint:ssmmessages': 'error', 'endpoint:kms': 'error' });
  });

  it('an internet gateway route without public IP is ok when the endpoints exist', async () => {
    world.endpoints = SSM.map((s) => endpoint('vpc-a', s));
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/no public IP \(public subnet route but no public IP\): the VPC endpoints are used$/) });
    expect(d.cause).toBe(GENERIC);
  });

  it('with a public IP the internet gateway route is ok', async () => {
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5', publicIp: '203.0.113.5' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'ok', detail: 'rtb-public sends 0.0.0.0/0 to igw-1' });
    expect(d.cause).toBe(GENERIC);
  });

  it('a NAT route needs no public IP', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
  });

  it('a stopped instance has no public IP until it starts: not held against it', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped', privateIp: '10.0.1.5' }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(d.cause).toBe('the instance is stopped');
  });
});

describe('networkFindings', () => {
  it('keeps the route and endpoint findings of a diagnosis, in order', async () => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] }))];
    const d = await diagnoseOne(privateInstance({ state: 'stopped' }), ALL_NEEDS);
    expect(networkFindings(d).map((f) => f.check)).toEqual([
      'route',
      'endpoint:ssm',
      'endpoint:ssmmessages',
      'endpoint:ec2messages',
      'endpoint:kms',
      'endpoint:logs',
      'endpoint:s3',
      'endpoint-sg',
    ]);
    expect(networkFindings(d)).toEqual(d.findings.filter((f) => !['state', 'instance-profile', 'role-rights', 'agent'].includes(f.check)));
  });

  it('keeps the endpoints warning when they could not be read', async () => {
    ec2.on(DescribeVpcEndpointsCommand).rejects(denied('UnauthorizedOperation'));
    const d = await diagnoseOne(privateInstance());
    expect(networkFindings(d).map((f) => [f.check, f.status])).toEqual([
      ['route', 'warning'],
      ['endpoints', 'warning'],
    ]);
  });
});

describe('ipv4InCidr', () => {
  it.each([
    ['10.0.2.15', '10.0.0.0/16', true],
    ['10.0.2.15', '10.0.0.0/22', true],
    ['10.0.4.1', '10.0.0.0/22', false],
    ['10.1.0.1', '10.0.0.0/16', false],
    ['10.0.2.15', '10.0.2.15/32', true],
    ['10.0.2.16', '10.0.2.15/32', false],
    ['10.0.2.15', '10.0.2.15', true],
    ['192.168.1.1', '0.0.0.0/0', true],
    ['255.255.255.255', '128.0.0.0/1', true],
    ['127.255.255.255', '128.0.0.0/1', false],
    ['10.0.2.15', '10.0.0.0/33', false],
    ['10.0.2.15', '10.0.0.0/x', false],
    ['10.0.2.256', '10.0.0.0/8', false],
    ['10.0.2', '10.0.0.0/8', false],
    ['fd00::1', '10.0.0.0/8', false],
  ])('%s in %s: %s', (ip, cidr, inside) => {
    expect(ipv4InCidr(ip, cidr)).toBe(inside);
  });
});

describe('endpoint security groups at fleet scale', () => {
  it('one DescribeSecurityGroups per 50 distinct groups, never per instance', async () => {
    // 120 VPCs, each with its own endpoints group; 2 instances in each.
    world.tables = Object.fromEntries(Array.from({ length: 120 }, (_, n) => [`rtb-${n}`, { vpc: `vpc-${n}`, subnets: [`subnet-${n}`] }]));
    world.endpoints = Array.from({ length: 120 }, (_, n) =>
      SSM.map((s) => endpoint(`vpc-${n}`, s, { Groups: [{ GroupId: `sg-${n}` }] })),
    ).flat();
    world.groups = Array.from({ length: 120 }, (_, n) => ({ ...group(`sg-${n}`, https({ IpRanges: [{ CidrIp: n % 2 ? '10.9.0.0/16' : '10.0.0.0/8' }] })), VpcId: `vpc-${n}` }));
    const fleet = Array.from({ length: 240 }, (_, n) =>
      instance({ id: `i-${String(n).padStart(17, '0')}`, subnetId: `subnet-${n % 120}`, vpcId: `vpc-${n % 120}`, privateIp: '10.1.2.3', securityGroupIds: ['sg-app'] }),
    );
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand).map((c) => values(c.args[0].input.Filters, 'group-id')?.length)).toEqual([50, 50, 20]);
    const groupIds = ec2.commandCalls(DescribeSecurityGroupsCommand).flatMap((c) => values(c.args[0].input.Filters, 'group-id') ?? []);
    expect(new Set(groupIds).size).toBe(120);
    // The verdict follows each VPC's group: even VPCs admit 10.0.0.0/8, odd ones do not.
    expect(finding(out[0]!, CHECKS.endpointSg)?.status).toBe('ok');
    expect(finding(out[1]!, CHECKS.endpointSg)?.status).toBe('error');
    expect(finding(out[121]!, CHECKS.endpointSg)).toMatchObject({ status: 'error', detail: expect.stringContaining('sg-1;') });
  });

  it('instances sharing the endpoints share one read', async () => {
    world.endpoints = guarded(SSM);
    world.groups = [group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] }))];
    const fleet = Array.from({ length: 60 }, (_, n) => privateInstance({ id: `i-${String(n).padStart(17, '0')}`, privateIp: `10.0.2.${n + 1}` }));
    const out = await diagnoseUnmanaged(testClients(), ctx, fleet);
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(out.every((d) => finding(d, CHECKS.endpointSg)?.status === 'ok')).toBe(true);
  });
});
