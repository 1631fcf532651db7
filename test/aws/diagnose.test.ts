import {
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Filter,
  type Image,
  type Route,
  type RouteTable,
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
import { CHECKS, diagnoseUnmanaged, type DiagnoseContext, type Diagnosis, type Finding } from '../../src/aws/diagnose.js';
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
