import type { IpPermission, Route, SecurityGroup, State, VpcEndpoint } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, expect } from 'vitest';
import type { Finding } from '../../src/core/report.js';
import type { TargetInstance } from '../../src/core/step.js';
import { type DiagnoseContext, type Diagnosis, diagnoseUnmanaged } from '../../src/diagnose/index.js';
import type { Reads } from '../../src/diagnose/reads.js';
import { type FakeEc2, fakeEc2 } from '../helpers/fake-ec2.js';
import { ACCOUNT, REGION, testClients } from '../helpers/fixtures.js';

/**
 * The world of the diagnosis tests: the shared fake EC2 (test/helpers/fake-ec2.ts) with vpc-a
 * (a public subnet behind an internet gateway, a private one without a route out, one behind a
 * NAT gateway, and its main table) and vpc-b (only its main table), three AMIs; and a small IAM
 * behind aws-sdk-client-mock: instance profiles, attached and inline role policies. Both fakes
 * apply the request the way AWS does, so a wrong filter returns nothing and the test fails; any
 * command they do not implement is rejected. Call `useWorld()` at the top of a test file.
 */
export interface IamWorld {
  /** Instance profile name → role names. */
  profiles: Record<string, string[]>;
  /** Role name → attached policy ARNs. */
  attached: Record<string, string[]>;
  /** Role name → inline policy names. */
  inline: Record<string, string[]>;
}

export let net: FakeEc2;
export let iam: AwsClientStub<IAMClient>;
export let iamWorld: IamWorld;

export const CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
export const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
export const ctx: DiagnoseContext = { region: REGION, partition: 'aws' };
export const ALL_NEEDS: DiagnoseContext = { ...ctx, needs: { kms: true, logs: true, s3: true } };
export const IGW: Route = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' };
export const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };
export const SSM = ['ssm', 'ssmmessages', 'ec2messages'];
export const GENERIC = 'the agent is not running or cannot register';

/** The request filter's values, as the code sent them. */
export const values = (filters: { Name?: string; Values?: string[] }[] | undefined, name: string) => filters?.find((f) => f.Name === name)?.Values;
/** The SDK types VPC endpoint states as `Available`…; EC2 answers `available`: the code must take both. */
export const state = (s: string) => s as State;
export const denied = (name: string) => Object.assign(new Error(`not authorized (${name})`), { name, $metadata: { httpStatusCode: 403 } });

/** An interface endpoint of `vpc` for `service`, available with private DNS on. */
export function endpoint(vpc: string, service: string, over: Partial<VpcEndpoint> = {}): VpcEndpoint & { VpcId: string; ServiceName: string } {
  return {
    VpcEndpointId: `vpce-${vpc}-${service}`,
    VpcEndpointType: 'Interface',
    VpcId: vpc,
    ServiceName: `com.amazonaws.${REGION}.${service}`,
    State: state('available'),
    PrivateDnsEnabled: true,
    ...over,
  } as VpcEndpoint & { VpcId: string; ServiceName: string };
}
export const addEndpoints = (endpoints: readonly (VpcEndpoint & { VpcId: string; ServiceName: string })[]) => {
  for (const e of endpoints) net.addEndpoint(e);
};
export const addGroups = (groups: readonly SecurityGroup[]) => {
  for (const g of groups) net.addSecurityGroup(g as SecurityGroup & { GroupId: string });
};
export const https = (over: Partial<IpPermission> = {}): IpPermission => ({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, ...over });
export const group = (GroupId: string, ...IpPermissions: IpPermission[]): SecurityGroup => ({ GroupId, GroupName: GroupId, VpcId: 'vpc-a', IpPermissions });
/** Interface endpoints in vpc-a behind `sg-endpoints`. */
export const guarded = (services: string[], GroupId = 'sg-endpoints') =>
  services.map((s) => endpoint('vpc-a', s, { Groups: [{ GroupId, GroupName: GroupId }] }));
export const s3Gateway = (over: Partial<VpcEndpoint> = {}) =>
  endpoint('vpc-a', 's3', { VpcEndpointId: 'vpce-s3', VpcEndpointType: 'Gateway', PrivateDnsEnabled: false, RouteTableIds: ['rtb-private'], ...over });

/** A running Amazon Linux 2023 instance in a public subnet, with a good profile: nothing wrong to find. */
export function instance(over: Partial<TargetInstance> = {}): TargetInstance {
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
/** A running instance in the private subnet (no route out), with its address and security group. */
export const privateInstance = (over: Partial<TargetInstance> = {}) =>
  instance({ subnetId: 'subnet-private', privateIp: '10.0.2.15', securityGroupIds: ['sg-app'], ...over });

export function useWorld(): void {
  beforeEach(() => {
    net = fakeEc2();
    net
      .addVpc('vpc-a', { mainTable: 'rtb-main-a' })
      .addRouteTable('rtb-public', 'vpc-a', { subnets: ['subnet-public'], routes: [IGW] })
      .addRouteTable('rtb-private', 'vpc-a', { subnets: ['subnet-private'] })
      .addRouteTable('rtb-nat', 'vpc-a', { subnets: ['subnet-nat'], routes: [NAT] })
      .addVpc('vpc-b', { mainTable: 'rtb-main-b' })
      // The group of privateInstance(), with the egress to anywhere EC2 gives a new group.
      .addSecurityGroup({ GroupId: 'sg-app', VpcId: 'vpc-a', IpPermissions: [] })
      .addImage({
        ImageId: 'ami-al2023',
        Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64',
        Description: 'Amazon Linux 2023 AMI 2023.5.20240805.0 x86_64 HVM kernel-6.1',
      })
      .addImage({ ImageId: 'ami-rhel9-arm', Name: 'RHEL-9.4.0_HVM-20240605-arm64-82-Hourly2-GP3', Description: 'Provided by Red Hat, Inc.' })
      .addImage({ ImageId: 'ami-custom', Name: 'golden-image-2024-08', Description: 'our hardened base' });

    iamWorld = { profiles: { 'good-profile': ['good-role'] }, attached: { 'good-role': [CORE] }, inline: {} };
    iam = mockClient(IAMClient);
    iam.rejects(Object.assign(new Error('fake IAM: command not implemented'), { name: 'FakeNotImplemented' }));
    iam.on(GetInstanceProfileCommand).callsFake(async ({ InstanceProfileName }: { InstanceProfileName: string }) => {
      const roles = iamWorld.profiles[InstanceProfileName];
      if (!roles) throw new NoSuchEntityException({ message: `Instance Profile ${InstanceProfileName} cannot be found.`, $metadata: { httpStatusCode: 404 } });
      return { InstanceProfile: { InstanceProfileName, Arn: profileArn(InstanceProfileName), Roles: roles.map((RoleName) => ({ RoleName })) } };
    });
    iam.on(ListAttachedRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({
      AttachedPolicies: (iamWorld.attached[RoleName] ?? []).map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
      IsTruncated: false,
    }));
    iam
      .on(ListRolePoliciesCommand)
      .callsFake(async ({ RoleName }: { RoleName: string }) => ({ PolicyNames: iamWorld.inline[RoleName] ?? [], IsTruncated: false }));
  });
  afterEach(() => {
    net.restore();
    iam.restore();
  });
}

/** The diagnosis of one instance, read from the world. */
export async function diagnoseOne(t: TargetInstance, context: DiagnoseContext = ctx): Promise<Diagnosis> {
  const [d, ...rest] = await diagnoseUnmanaged(testClients(), context, [t]);
  expect(rest).toEqual([]);
  return d!;
}
export const finding = (d: Pick<Diagnosis, 'findings'>, check: string): Finding | undefined => d.findings.find((f) => f.check === check);
export const statuses = (d: Pick<Diagnosis, 'findings'>) => Object.fromEntries(d.findings.map((f) => [f.check, f.status]));

/** Reads as `readAll` returns them, empty unless given: for the pure checks. */
export const readsOf = (over: Partial<Reads> = {}): Reads => ({
  profiles: new Map(),
  roles: new Map(),
  routes: new Map(),
  endpoints: new Map(),
  groups: new Map(),
  images: new Map(),
  ...over,
});
