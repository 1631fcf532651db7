import type { EC2Client, NetworkAcl, RouteTable, SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { isAccessDenied, isNotFound } from '../aws/errors.js';
import { chunks, pool } from '../base/batch.js';
import type { Clients } from '../core/clients.js';
import type { TargetInstance } from '../core/step.js';
import { agentPlatform } from '../policies/agent-install.js';
import { agentPolicy } from './agent-policy.js';
import { type DiagnoseContext, distinct, interfaceServices, lastSegment } from './context.js';
import { endpointGroups, serviceNames, usedEndpoints } from './net.js';
import { pathSubnets, privateDnsVpcs, readNacls, readSubnets, readVpcDns, type SubnetInfo, type VpcDns } from './reads-net.js';

/** A read the caller is not allowed to make, with the IAM action it lacks. */
export interface Denied {
  readonly denied: string;
}
export const isDenied = (v: unknown): v is Denied => typeof v === 'object' && v !== null && 'denied' in v;
/** The detail of a warning for a read that was denied. */
export const missing = (what: string, d: Denied) => `could not read ${what} (missing ${d.denied})`;

/** The read, or Denied when the caller may not make it; other errors are thrown. */
async function allowed<T>(action: string, read: () => Promise<T>): Promise<T | Denied> {
  try {
    return await read();
  } catch (err) {
    if (isAccessDenied(err)) return { denied: action };
    throw err;
  }
}

/** `allowed` for a read repeated per profile or role: once denied, the next ones are not attempted. */
function allowedOnce(action: string): <T>(read: () => Promise<T>) => Promise<T | Denied> {
  let denied: Denied | undefined;
  return async (read) => {
    if (denied) return denied;
    const out = await allowed(action, read);
    if (isDenied(out)) denied = out;
    return out;
  };
}

export type ProfileRead = { readonly name: string; readonly roles: readonly string[] } | 'missing' | Denied;
export interface RoleRead {
  readonly attached: readonly string[] | Denied;
  /** Read only when no attached policy gives the rights. */
  readonly inline?: readonly string[] | Denied;
}
export interface RouteInfo {
  readonly tableId: string;
  /** The VPC's main table (the subnet has no table of its own). */
  readonly main: boolean;
  /** Where 0.0.0.0/0 goes: an internet or NAT gateway, something else (transit gateway, appliance…), nowhere. */
  readonly egress: 'internet' | 'other' | 'none';
  /** For `internet`: a NAT gateway, or an internet gateway (which serves only instances with a public IP). */
  readonly via?: 'nat' | 'igw';
  readonly target?: string;
}
export interface ImageInfo {
  readonly name: string;
  readonly description: string;
}
/** Everything the checks look at, read once for all the instances. */
export interface Reads {
  /** Instance profile ARN → its roles. */
  readonly profiles: ReadonlyMap<string, ProfileRead>;
  /** Role name → its policies. */
  readonly roles: ReadonlyMap<string, RoleRead>;
  /** Subnet id → its route table. */
  readonly routes: ReadonlyMap<string, RouteInfo> | Denied;
  /** VPC id → its endpoints for the services of the context. */
  readonly endpoints: ReadonlyMap<string, readonly VpcEndpoint[]> | Denied;
  /** The security groups of the instances and of the usable interface endpoints, by id (a group that could not be found is absent). */
  readonly groups: ReadonlyMap<string, SecurityGroup> | Denied;
  /** Subnet id → its range, for the instances' subnets and those of the endpoints they use (absent: not read). */
  readonly subnets?: ReadonlyMap<string, SubnetInfo> | Denied;
  /** Subnet id → its network ACL, for the same subnets (absent: not read). */
  readonly nacls?: ReadonlyMap<string, NetworkAcl> | Denied;
  /** VPC id → its DNS attributes, for the VPCs with private-DNS endpoints in use (absent: not read). */
  readonly vpcDns?: ReadonlyMap<string, VpcDns> | Denied;
  /** Image id → name and description (a deregistered AMI is absent). */
  readonly images: ReadonlyMap<string, ImageInfo> | Denied;
}

/** How many IAM reads run at once (IAM throttles early; the client retries adaptively). */
const IAM_CONCURRENCY = 8;

type Ec2Module = typeof import('@aws-sdk/client-ec2');

/**
 * The reads behind a diagnosis. They scale with the fleet, not with the instances: one call per
 * batch of 50 distinct subnets, VPCs, images or endpoint security groups, and one IAM read per
 * distinct profile and role. A read the caller may not make becomes {@link Denied} (the checks
 * turn it into a warning); other errors are thrown. Read-only.
 */
export async function readAll(aws: Clients, ctx: DiagnoseContext, instances: readonly TargetInstance[]): Promise<Reads> {
  // The EC2 client costs half a second to load: only now that there is something to diagnose.
  const ec2mod = await import('@aws-sdk/client-ec2');
  const ec2 = aws.get(ec2mod.EC2Client);
  const imageIds = distinct(instances.filter((t) => agentPlatform(t.platform) === 'linux').map((t) => t.imageId));
  const vpcIds = distinct(instances.map((t) => t.vpcId));
  const instanceGroups = distinct(instances.flatMap((t) => t.securityGroupIds ?? []));
  const [routes, { endpoints, groups, ...net }, images, iam] = await Promise.all([
    allowed('ec2:DescribeRouteTables', () => readRoutes(ec2mod, ec2, instances)),
    readEndpointsAndGroups(ec2mod, ec2, vpcIds, ctx, instanceGroups, instances),
    allowed('ec2:DescribeImages', () => readImages(ec2mod, ec2, imageIds)),
    readIam(aws, ctx, distinct(instances.map((t) => t.profileArn))),
  ]);
  return { routes, endpoints, groups, images, ...net, ...iam };
}

/**
 * The endpoints, then in one go the security groups of the instances and of the endpoints they
 * use (private DNS sends the whole VPC to them), the ranges and network ACLs of the subnets on
 * the way, and the DNS attributes of the VPCs whose endpoints have private DNS.
 */
async function readEndpointsAndGroups(
  mod: Ec2Module,
  ec2: EC2Client,
  vpcIds: string[],
  ctx: DiagnoseContext,
  instanceGroups: string[],
  instances: readonly TargetInstance[],
): Promise<Pick<Reads, 'endpoints' | 'groups' | 'subnets' | 'nacls' | 'vpcDns'>> {
  const endpoints = await allowed('ec2:DescribeVpcEndpoints', () => readEndpoints(mod, ec2, vpcIds, ctx));
  const known = isDenied(endpoints) ? undefined : endpoints;
  const used = [...(known?.values() ?? [])].flatMap((inVpc) => usedEndpoints(inVpc, ctx).flatMap(({ endpoint }) => endpointGroups(endpoint)));
  const groupIds = distinct([...instanceGroups, ...used]);
  const subnetIds = pathSubnets(instances, known, ctx);
  const dnsVpcs = privateDnsVpcs(known, ctx);
  const [groups, subnets, nacls, vpcDns] = await Promise.all([
    groupIds.length ? allowed('ec2:DescribeSecurityGroups', () => readGroups(mod, ec2, groupIds)) : new Map<string, SecurityGroup>(),
    subnetIds.length ? allowed('ec2:DescribeSubnets', () => readSubnets(mod, ec2, subnetIds)) : new Map<string, SubnetInfo>(),
    subnetIds.length ? allowed('ec2:DescribeNetworkAcls', () => readNacls(mod, ec2, subnetIds)) : new Map<string, NetworkAcl>(),
    dnsVpcs.length ? allowed('ec2:DescribeVpcAttribute', () => readVpcDns(mod, ec2, dnsVpcs)) : new Map<string, VpcDns>(),
  ]);
  return { endpoints, groups, subnets, nacls, vpcDns };
}

/** Subnet → its route table: the explicitly associated one, else the VPC's main table. */
async function readRoutes(mod: Ec2Module, ec2: EC2Client, instances: readonly TargetInstance[]): Promise<Map<string, RouteInfo>> {
  const found = new Map<string, RouteInfo>();
  const vpcOf = new Map(instances.filter((t) => t.subnetId && t.vpcId).map((t) => [t.subnetId!, t.vpcId!]));
  for (const batch of chunks([...vpcOf.keys()])) {
    const wanted = new Set(batch);
    const pages = mod.paginateDescribeRouteTables({ client: ec2 }, { Filters: [{ Name: 'association.subnet-id', Values: batch }] });
    for await (const page of pages) {
      for (const table of page.RouteTables ?? []) {
        for (const a of table.Associations ?? []) if (a.SubnetId && wanted.has(a.SubnetId)) found.set(a.SubnetId, routeInfo(table, false));
      }
    }
  }
  const fallback = distinct([...vpcOf].filter(([subnet]) => !found.has(subnet)).map(([, vpc]) => vpc));
  const mainOf = new Map<string, RouteInfo>();
  for (const batch of chunks(fallback)) {
    const Filters = [
      { Name: 'vpc-id', Values: batch },
      { Name: 'association.main', Values: ['true'] },
    ];
    for await (const page of mod.paginateDescribeRouteTables({ client: ec2 }, { Filters })) {
      for (const table of page.RouteTables ?? []) if (table.VpcId) mainOf.set(table.VpcId, routeInfo(table, true));
    }
  }
  for (const [subnet, vpc] of vpcOf) {
    const main = mainOf.get(vpc);
    if (!found.has(subnet) && main) found.set(subnet, main);
  }
  return found;
}

/** Where a route table sends 0.0.0.0/0 (a blackhole route does not count). */
export function routeInfo(table: RouteTable, main: boolean): RouteInfo {
  const tableId = table.RouteTableId ?? '?';
  const route = (table.Routes ?? []).find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole');
  if (!route) return { tableId, main, egress: 'none' };
  if (route.NatGatewayId) return { tableId, main, egress: 'internet', via: 'nat', target: route.NatGatewayId };
  if (route.GatewayId?.startsWith('igw-')) return { tableId, main, egress: 'internet', via: 'igw', target: route.GatewayId };
  const target =
    route.TransitGatewayId ??
    route.NetworkInterfaceId ??
    route.InstanceId ??
    route.VpcPeeringConnectionId ??
    route.GatewayId ??
    route.LocalGatewayId ??
    route.CarrierGatewayId ??
    route.CoreNetworkArn ??
    'another target';
  return { tableId, main, egress: 'other', target };
}

/** VPC → its endpoints for the Systems Manager services, and for kms, logs and s3 when needed. */
async function readEndpoints(mod: Ec2Module, ec2: EC2Client, vpcIds: string[], ctx: DiagnoseContext): Promise<Map<string, VpcEndpoint[]>> {
  const found = new Map<string, VpcEndpoint[]>(vpcIds.map((v) => [v, []]));
  const services = [...interfaceServices(ctx), ...(ctx.needs?.s3 ? ['s3'] : [])];
  const names = services.flatMap((s) => serviceNames(ctx.region, s));
  for (const batch of chunks(vpcIds)) {
    const Filters = [
      { Name: 'vpc-id', Values: batch },
      { Name: 'service-name', Values: names },
    ];
    for await (const page of mod.paginateDescribeVpcEndpoints({ client: ec2 }, { Filters })) {
      for (const e of page.VpcEndpoints ?? []) if (e.VpcId) found.get(e.VpcId)?.push(e);
    }
  }
  return found;
}

/** Security group id → the group. A filter, not GroupIds: a group that is gone is just absent. */
async function readGroups(mod: Ec2Module, ec2: EC2Client, groupIds: string[]): Promise<Map<string, SecurityGroup>> {
  const found = new Map<string, SecurityGroup>();
  for (const batch of chunks(groupIds)) {
    for await (const page of mod.paginateDescribeSecurityGroups({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: batch }] })) {
      for (const g of page.SecurityGroups ?? []) if (g.GroupId) found.set(g.GroupId, g);
    }
  }
  return found;
}

/** Image id → name and description. A filter, not ImageIds: a deregistered AMI is just absent. */
async function readImages(mod: Ec2Module, ec2: EC2Client, imageIds: string[]): Promise<Map<string, ImageInfo>> {
  const found = new Map<string, ImageInfo>();
  for (const batch of chunks(imageIds)) {
    const input = { Filters: [{ Name: 'image-id', Values: batch }], IncludeDeprecated: true, IncludeDisabled: true };
    for await (const page of mod.paginateDescribeImages({ client: ec2 }, input)) {
      for (const i of page.Images ?? []) if (i.ImageId) found.set(i.ImageId, { name: i.Name ?? '', description: i.Description ?? '' });
    }
  }
  return found;
}

/** Each distinct profile once, each distinct role once; inline policies only where attached ones fall short. */
async function readIam(aws: Clients, ctx: DiagnoseContext, profileArns: string[]): Promise<Pick<Reads, 'profiles' | 'roles'>> {
  const profiles = new Map<string, ProfileRead>();
  const roles = new Map<string, RoleRead>();
  if (!profileArns.length) return { profiles, roles };
  const mod = await import('@aws-sdk/client-iam');
  const iam: IAMClient = aws.get(mod.IAMClient);

  const getProfile = allowedOnce('iam:GetInstanceProfile');
  await pool(profileArns, IAM_CONCURRENCY, async (arn) => {
    const read = await getProfile(async () => {
      try {
        const out = await iam.send(new mod.GetInstanceProfileCommand({ InstanceProfileName: lastSegment(arn) }));
        return { name: lastSegment(arn), roles: (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? '').filter(Boolean) };
      } catch (err) {
        if (isNotFound(err)) return 'missing' as const;
        throw err;
      }
    });
    profiles.set(arn, read);
  });

  const roleNames = distinct([...profiles.values()].flatMap((p) => (typeof p === 'object' && !isDenied(p) ? p.roles : [])));
  const listAttached = allowedOnce('iam:ListAttachedRolePolicies');
  const listInline = allowedOnce('iam:ListRolePolicies');
  await pool(roleNames, IAM_CONCURRENCY, async (RoleName) => {
    const attached = await listAttached(async () => {
      const arns: string[] = [];
      for await (const page of mod.paginateListAttachedRolePolicies({ client: iam }, { RoleName })) {
        for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
      }
      return arns;
    });
    if (isDenied(attached) || agentPolicy(attached, ctx)) {
      roles.set(RoleName, { attached });
      return;
    }
    const inline = await listInline(async () => {
      const names: string[] = [];
      for await (const page of mod.paginateListRolePolicies({ client: iam }, { RoleName })) names.push(...(page.PolicyNames ?? []));
      return names;
    });
    roles.set(RoleName, { attached, inline });
  });
  return { profiles, roles };
}
