import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import type { TargetInstance } from '../core/step.js';
import { type DiagnoseContext, distinct, type InterfaceService, interfaceServices } from './context.js';
import { endpointGroups, serviceNames, usedEndpoints } from './net.js';
import { isDenied, type Reads } from './reads.js';

/**
 * Where the agent's HTTPS goes from an instance: an interface endpoint it uses (private DNS
 * sends the whole VPC there), or the internet route, for the services without one. What the
 * instance's security groups and the network ACLs on the way must let through.
 */
export interface Destination {
  readonly kind: 'internet' | 'endpoint';
  /** `the internet (nat-1)`, `vpce-0abc (ssm)`. */
  readonly label: string;
  readonly services: readonly string[];
  /** For an endpoint: its subnets, with their range when known. */
  readonly subnets: readonly { readonly id: string; readonly cidr?: string }[];
  /** For an endpoint: its security groups (an egress rule naming one reaches it). */
  readonly groups: readonly string[];
}

/** The Systems Manager services a session needs without fail, and those the preferences add. */
const SESSION_SERVICES = (ctx: DiagnoseContext): InterfaceService[] => interfaceServices(ctx).filter((s) => s !== 'ec2messages');

/**
 * The destinations of an instance, or undefined when they cannot be told (no subnet known, the
 * route or the endpoints not read). A service with neither an endpoint nor a route out has no
 * destination: the route check says so. S3 (for the session logs) goes to S3's public
 * addresses, through the internet route or the S3 gateway endpoint. Pure.
 */
export function destinations(t: TargetInstance, reads: Pick<Reads, 'routes' | 'endpoints' | 'subnets'>, ctx: DiagnoseContext): Destination[] | undefined {
  if (!t.subnetId || !t.vpcId || isDenied(reads.routes) || isDenied(reads.endpoints)) return undefined;
  const route = reads.routes.get(t.subnetId);
  if (!route) return undefined;
  const noPublicIp = route.via === 'igw' && t.state === 'running' && !!t.privateIp && !t.publicIp;
  const out = route.egress !== 'none' && !noPublicIp;
  const inVpc: readonly VpcEndpoint[] = reads.endpoints.get(t.vpcId) ?? [];
  const used = usedEndpoints(inVpc, ctx).filter(({ service }) => service !== 'ec2messages');
  const subnets = reads.subnets && !isDenied(reads.subnets) ? reads.subnets : undefined;
  const found: Destination[] = used.map(({ service, endpoint }) => ({
    kind: 'endpoint',
    label: `${endpoint.VpcEndpointId} (${service})`,
    services: [service],
    subnets: (endpoint.SubnetIds ?? []).map((id) => ({ id, cidr: subnets?.get(id)?.cidr })),
    groups: endpointGroups(endpoint),
  }));
  const viaEndpoint = new Set<string>(used.map((u) => u.service));
  const s3Names = new Set(serviceNames(ctx.region, 's3'));
  const gateway = inVpc.some((e) => !!e.ServiceName && s3Names.has(e.ServiceName) && (e.RouteTableIds ?? []).includes(route.tableId));
  const public_ = [...SESSION_SERVICES(ctx).filter((s) => !viaEndpoint.has(s) && out), ...(ctx.needs?.s3 && (out || gateway) ? ['s3'] : [])];
  if (public_.length) {
    found.push({
      kind: 'internet',
      label: out ? `the internet (${route.target ?? route.tableId})` : 'S3 (gateway endpoint)',
      services: public_,
      subnets: [],
      groups: [],
    });
  }
  return found;
}

/** An IPv4 CIDR block as its first and last address, or undefined when malformed. */
export function cidrRange(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const ip = octets.reduce((n, o) => n * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ip / size) * size;
  return [start, start + size - 1];
}

/** Whether `outer` holds every address of `inner` (both CIDR blocks). */
export function cidrCovers(outer: string, inner: string): boolean {
  const o = cidrRange(outer);
  const i = cidrRange(inner);
  return !!o && !!i && o[0] <= i[0] && i[1] <= o[1];
}

/** The services of destinations, once each, for a finding's text. */
export const servicesOf = (ds: readonly Destination[]) => distinct(ds.flatMap((d) => d.services)).join(', ');
