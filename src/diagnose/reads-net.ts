import type { EC2Client, NetworkAcl, VpcEndpoint } from '@aws-sdk/client-ec2';
import { chunks, pool } from '../base/batch.js';
import type { TargetInstance } from '../core/step.js';
import { type DiagnoseContext, distinct } from './context.js';
import { usedEndpoints } from './net.js';

type Ec2Module = typeof import('@aws-sdk/client-ec2');

/** A subnet's IPv4 range and VPC (DescribeSubnets). */
export interface SubnetInfo {
  readonly cidr?: string;
  readonly vpcId?: string;
}
/** The DNS attributes of a VPC that private DNS needs (DescribeVpcAttribute). */
export interface VpcDns {
  readonly support: boolean;
  readonly hostnames: boolean;
}

/** The subnets the instances and the interface endpoints they use sit in: the ones whose range and network ACL matter. */
export function pathSubnets(instances: readonly TargetInstance[], endpoints: ReadonlyMap<string, readonly VpcEndpoint[]> | undefined, ctx: DiagnoseContext) {
  const ofEndpoints = [...(endpoints?.values() ?? [])].flatMap((inVpc) => usedEndpoints(inVpc, ctx).flatMap(({ endpoint }) => endpoint.SubnetIds ?? []));
  return distinct([...instances.map((t) => t.subnetId), ...ofEndpoints]);
}

/** The VPCs where some interface endpoint in use has private DNS on: the only ones whose DNS attributes matter. */
export function privateDnsVpcs(endpoints: ReadonlyMap<string, readonly VpcEndpoint[]> | undefined, ctx: DiagnoseContext): string[] {
  return [...(endpoints ?? new Map<string, readonly VpcEndpoint[]>())].filter(([, inVpc]) => usedEndpoints(inVpc, ctx).length).map(([vpc]) => vpc);
}

/** Subnet id → its range: one DescribeSubnets per 50 subnets (a filter: a subnet that is gone is just absent). */
export async function readSubnets(mod: Ec2Module, ec2: EC2Client, subnetIds: readonly string[]): Promise<Map<string, SubnetInfo>> {
  const found = new Map<string, SubnetInfo>();
  for (const batch of chunks(subnetIds)) {
    for await (const page of mod.paginateDescribeSubnets({ client: ec2 }, { Filters: [{ Name: 'subnet-id', Values: batch }] })) {
      for (const s of page.Subnets ?? []) if (s.SubnetId) found.set(s.SubnetId, { cidr: s.CidrBlock, vpcId: s.VpcId });
    }
  }
  return found;
}

/** Subnet id → the network ACL it is associated with (each subnet has exactly one): one DescribeNetworkAcls per 50 subnets. */
export async function readNacls(mod: Ec2Module, ec2: EC2Client, subnetIds: readonly string[]): Promise<Map<string, NetworkAcl>> {
  const found = new Map<string, NetworkAcl>();
  for (const batch of chunks(subnetIds)) {
    const wanted = new Set(batch);
    for await (const page of mod.paginateDescribeNetworkAcls({ client: ec2 }, { Filters: [{ Name: 'association.subnet-id', Values: batch }] })) {
      for (const acl of page.NetworkAcls ?? []) {
        for (const a of acl.Associations ?? []) if (a.SubnetId && wanted.has(a.SubnetId)) found.set(a.SubnetId, acl);
      }
    }
  }
  return found;
}

/** VPC id → its DNS attributes: DescribeVpcAttribute takes one attribute of one VPC per call, so two calls per VPC, a few VPCs at once. */
export async function readVpcDns(mod: Ec2Module, ec2: EC2Client, vpcIds: readonly string[]): Promise<Map<string, VpcDns>> {
  const found = new Map<string, VpcDns>();
  await pool(vpcIds, 4, async (VpcId) => {
    const [support, hostnames] = await Promise.all([
      ec2.send(new mod.DescribeVpcAttributeCommand({ VpcId, Attribute: 'enableDnsSupport' })),
      ec2.send(new mod.DescribeVpcAttributeCommand({ VpcId, Attribute: 'enableDnsHostnames' })),
    ]);
    found.set(VpcId, { support: support.EnableDnsSupport?.Value === true, hostnames: hostnames.EnableDnsHostnames?.Value === true });
  });
  return found;
}
