import {
  type EC2Client,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcs,
  type RouteTable,
  type SecurityGroup,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { managedInventory } from '../../aws/fleet.js';
import { chunks } from '../../base/batch.js';
import type { ReadContext, TargetInstance } from '../../core/step.js';
import { distinct } from '../../diagnose/context.js';
import { type RouteInfo, routeInfo } from '../../diagnose/reads.js';
import { readVpcDns } from '../../diagnose/reads-net.js';
import { endpointGroupName, endpointServiceName, INTERFACE_SERVICES } from '../../policies/vpc-endpoints.js';

/** A subnet of the targets (or of an endpoint): its zone and its route table. */
export interface SubnetInfo {
  readonly id: string;
  readonly az: string;
  /** The route table it uses (its own, else the VPC's main one). */
  readonly tableId?: string;
}

/** A VPC some of whose targets have no route to the internet: the endpoints are for them. */
export interface VpcScope {
  readonly vpcId: string;
  /** Its associated IPv4 CIDR blocks: the security group admits 443 from them. */
  readonly cidrs: readonly string[];
  readonly dnsSupport: boolean;
  readonly dnsHostnames: boolean;
  /** The targets of this VPC without an internet route. */
  readonly targets: readonly TargetInstance[];
  /** Subnet id → zone and table, for the targets' subnets and the subnets of the endpoints found. */
  readonly subnets: ReadonlyMap<string, SubnetInfo>;
  /** The live endpoints (not deleted, failed or rejected) of the Session Manager services in it. */
  readonly endpoints: readonly VpcEndpoint[];
  /** `ssm-setup-endpoints-<vpc>`, when it exists. */
  readonly group?: SecurityGroup;
}

export interface VpcEndpointsState {
  readonly targets: readonly TargetInstance[];
  readonly scopes: readonly VpcScope[];
  /** VPCs left alone, with why: every target there has a route out. */
  readonly leftAlone: readonly { readonly vpcId: string; readonly why: string }[];
  /** The security groups of the endpoints found, by id (to tell whether they admit 443 from the targets). */
  readonly groups: ReadonlyMap<string, SecurityGroup>;
  /** Agent version of the private targets Systems Manager knows; an absent one is unknown. */
  readonly agentVersions: ReadonlyMap<string, string>;
}

/** States of an endpoint that is gone or will never serve: they do not count as existing. */
const DEAD = new Set(['deleted', 'deleting', 'failed', 'rejected', 'expired']);
export const isLive = (e: VpcEndpoint) => !DEAD.has((e.State ?? '').toLowerCase());

/**
 * Whether the instance reaches the internet from its subnet: an internet or NAT gateway (an
 * internet gateway only with a public IP, judged on a running instance whose addresses are
 * known, as the diagnosis does). Another target (transit gateway, appliance) may lead out: the
 * VPC is then left alone and the plan says why.
 */
export function routeOut(t: TargetInstance, route: RouteInfo | undefined): { out: boolean; why?: string } {
  if (!route) return { out: true, why: `no route table found for ${t.subnetId}` };
  if (route.egress === 'none') return { out: false };
  if (route.via === 'igw' && t.state === 'running' && t.privateIp && !t.publicIp) return { out: false };
  if (route.egress === 'internet') return { out: true, why: `${t.id} goes out through ${route.target}` };
  return { out: true, why: `${t.id} sends 0.0.0.0/0 to ${route.target}, which may lead out` };
}

/** Read-only: the targets' route tables, then for the VPCs without a way out their attributes, subnets, endpoints and groups. */
export async function readVpcEndpoints(ctx: ReadContext): Promise<VpcEndpointsState> {
  const targets = await ctx.targets();
  const empty: VpcEndpointsState = { targets, scopes: [], leftAlone: [], groups: new Map(), agentVersions: new Map() };
  const placed = targets.filter((t) => t.vpcId && t.subnetId);
  if (!placed.length) return empty;
  // The EC2 client costs half a second to load: only with targets to look at.
  const { EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  const vpcIds = distinct(placed.map((t) => t.vpcId));
  const tables = await routeTables(ec2, vpcIds);

  const privateByVpc = new Map<string, TargetInstance[]>();
  const why = new Map<string, string>();
  for (const t of placed) {
    const { out, why: reason } = routeOut(t, tables.route(t.subnetId!, t.vpcId!));
    if (!out) privateByVpc.set(t.vpcId!, [...(privateByVpc.get(t.vpcId!) ?? []), t]);
    else if (!why.has(t.vpcId!)) why.set(t.vpcId!, reason ?? 'it has a route out');
  }
  const leftAlone = vpcIds.filter((v) => !privateByVpc.has(v)).map((vpcId) => ({ vpcId, why: why.get(vpcId)! }));
  const scoped = [...privateByVpc.keys()];
  if (!scoped.length) return { ...empty, leftAlone };

  const [cidrs, endpoints, ours] = await Promise.all([vpcCidrs(ec2, scoped), vpcEndpoints(ec2, scoped, ctx.region), ourGroups(ec2, scoped)]);
  const dns = await readVpcDns(await import('@aws-sdk/client-ec2'), ec2, scoped);
  const subnetIds = distinct([
    ...[...privateByVpc.values()].flat().map((t) => t.subnetId),
    ...[...endpoints.values()].flat().flatMap((e) => e.SubnetIds ?? []),
  ]);
  const zones = await subnetZones(ec2, subnetIds);
  const foreignGroupIds = distinct(
    [...endpoints.values()]
      .flat()
      .flatMap((e) => (e.Groups ?? []).map((g) => g.GroupId))
      .filter((id) => ![...ours.values()].some((g) => g.GroupId === id)),
  );
  const groups = new Map<string, SecurityGroup>([...ours.values()].map((g) => [g.GroupId!, g]));
  for (const g of foreignGroupIds.length ? await groupsById(ec2, foreignGroupIds) : []) groups.set(g.GroupId!, g);

  const privateTargets = [...privateByVpc.values()].flat();
  const inventory = await managedInventory(
    ctx.aws,
    privateTargets.map((t) => t.id),
  );
  const agentVersions = new Map([...inventory].flatMap(([id, i]) => (i.agentVersion ? [[id, i.agentVersion] as const] : [])));

  const scopes: VpcScope[] = scoped.map((vpcId) => {
    const inVpc = endpoints.get(vpcId) ?? [];
    const ids = distinct([...privateByVpc.get(vpcId)!.map((t) => t.subnetId), ...inVpc.flatMap((e) => e.SubnetIds ?? [])]);
    const subnets = new Map(
      ids.flatMap((id) => {
        const az = zones.get(id);
        return az ? [[id, { id, az, tableId: tables.route(id, vpcId)?.tableId }] as const] : [];
      }),
    );
    const group = ours.get(vpcId);
    return {
      vpcId,
      cidrs: cidrs.get(vpcId) ?? [],
      dnsSupport: dns.get(vpcId)!.support,
      dnsHostnames: dns.get(vpcId)!.hostnames,
      targets: privateByVpc.get(vpcId)!,
      subnets,
      endpoints: inVpc,
      ...(group ? { group } : {}),
    };
  });
  return { targets, scopes, leftAlone, groups, agentVersions };
}

/** Every route table of the VPCs; a subnet uses its own table, else its VPC's main one. */
async function routeTables(ec2: EC2Client, vpcIds: string[]) {
  const all: RouteTable[] = [];
  for (const batch of chunks(vpcIds)) {
    for await (const page of paginateDescribeRouteTables({ client: ec2 }, { Filters: [{ Name: 'vpc-id', Values: batch }] }))
      all.push(...(page.RouteTables ?? []));
  }
  const bySubnet = new Map<string, RouteInfo>();
  const mainOf = new Map<string, RouteInfo>();
  for (const table of all) {
    for (const a of table.Associations ?? []) {
      if (a.SubnetId) bySubnet.set(a.SubnetId, routeInfo(table, false));
      if (a.Main && table.VpcId) mainOf.set(table.VpcId, routeInfo(table, true));
    }
  }
  return { route: (subnetId: string, vpcId: string) => bySubnet.get(subnetId) ?? mainOf.get(vpcId) };
}

/** VPC id → its associated IPv4 CIDR blocks. */
async function vpcCidrs(ec2: EC2Client, vpcIds: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const batch of chunks(vpcIds)) {
    for await (const page of paginateDescribeVpcs({ client: ec2 }, { Filters: [{ Name: 'vpc-id', Values: batch }] })) {
      for (const v of page.Vpcs ?? []) {
        const associated = (v.CidrBlockAssociationSet ?? []).filter((c) => (c.CidrBlockState?.State ?? 'associated') === 'associated').map((c) => c.CidrBlock);
        if (v.VpcId) found.set(v.VpcId, distinct(associated.length ? associated : [v.CidrBlock]));
      }
    }
  }
  return found;
}

/** VPC id → its live endpoints of the services ssm-setup may create (interface ones and S3). */
async function vpcEndpoints(ec2: EC2Client, vpcIds: string[], region: string): Promise<Map<string, VpcEndpoint[]>> {
  const found = new Map<string, VpcEndpoint[]>();
  const names = [...INTERFACE_SERVICES, 's3'].map((s) => endpointServiceName(region, s));
  for (const batch of chunks(vpcIds)) {
    const Filters = [
      { Name: 'vpc-id', Values: batch },
      { Name: 'service-name', Values: names },
    ];
    for await (const page of paginateDescribeVpcEndpoints({ client: ec2 }, { Filters })) {
      for (const e of page.VpcEndpoints ?? []) if (e.VpcId && isLive(e)) found.set(e.VpcId, [...(found.get(e.VpcId) ?? []), e]);
    }
  }
  return found;
}

/** VPC id → its group named `ssm-setup-endpoints-<vpc>` (ours or not: the name is taken either way). */
async function ourGroups(ec2: EC2Client, vpcIds: string[]): Promise<Map<string, SecurityGroup>> {
  const found = new Map<string, SecurityGroup>();
  for (const batch of chunks(vpcIds, 100)) {
    const Filters = [
      { Name: 'vpc-id', Values: batch },
      { Name: 'group-name', Values: batch.map(endpointGroupName) },
    ];
    for await (const page of paginateDescribeSecurityGroups({ client: ec2 }, { Filters })) {
      for (const g of page.SecurityGroups ?? []) if (g.VpcId && g.GroupName === endpointGroupName(g.VpcId)) found.set(g.VpcId, g);
    }
  }
  return found;
}

/** The groups by id; a filter, not GroupIds: a group that is gone is just absent. */
async function groupsById(ec2: EC2Client, ids: string[]): Promise<SecurityGroup[]> {
  const found: SecurityGroup[] = [];
  for (const batch of chunks(ids)) {
    for await (const page of paginateDescribeSecurityGroups({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: batch }] })) {
      found.push(...(page.SecurityGroups ?? []).filter((g) => g.GroupId));
    }
  }
  return found;
}

/** Subnet id → its Availability Zone. */
async function subnetZones(ec2: EC2Client, ids: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const batch of chunks(ids)) {
    for await (const page of paginateDescribeSubnets({ client: ec2 }, { Filters: [{ Name: 'subnet-id', Values: batch }] })) {
      for (const s of page.Subnets ?? []) if (s.SubnetId && s.AvailabilityZone) found.set(s.SubnetId, s.AvailabilityZone);
    }
  }
  return found;
}
