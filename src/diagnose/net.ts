import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import { type DiagnoseContext, distinct, type InterfaceService, interfaceServices } from './context.js';

/** Endpoint service names: `com.amazonaws.<region>.<svc>`; China also has `cn.com.amazonaws.…` ones. */
export function serviceNames(region: string, service: string): string[] {
  const name = `com.amazonaws.${region}.${service}`;
  return region.startsWith('cn-') ? [name, `cn.${name}`] : [name];
}

/** EC2 answers `available` although the SDK enum says `Available`: compared case-insensitively. */
export const isAvailable = (e: VpcEndpoint) => (e.State ?? '').toLowerCase() === 'available';
/** The security group ids of an interface endpoint, once each. */
export const endpointGroups = (e: VpcEndpoint) => distinct((e.Groups ?? []).map((g) => g.GroupId));

/** The usable endpoint for a service, else the closest one (to say what is wrong with it). */
export function endpointFor(
  endpoints: readonly VpcEndpoint[],
  region: string,
  service: InterfaceService,
): { endpoint?: VpcEndpoint; usable: boolean; pending: boolean } {
  const names = new Set(serviceNames(region, service));
  const mine = endpoints.filter((e) => !!e.ServiceName && names.has(e.ServiceName));
  const usable = mine.find((e) => isAvailable(e) && e.PrivateDnsEnabled === true);
  if (usable) return { endpoint: usable, usable: true, pending: false };
  const pending = mine.find((e) => /^pending/i.test(e.State ?? ''));
  if (pending) return { endpoint: pending, usable: false, pending: true };
  return { endpoint: mine.find(isAvailable) ?? mine[0], usable: false, pending: false };
}

/**
 * The interface endpoints the instances of a VPC use: the usable ones (available, private DNS
 * on). Private DNS points the service's name at the endpoint for the whole VPC, so instances
 * with an internet route go through them too.
 */
export function usedEndpoints(inVpc: readonly VpcEndpoint[], ctx: DiagnoseContext): { service: InterfaceService; endpoint: VpcEndpoint }[] {
  return interfaceServices(ctx).flatMap((service) => {
    const { endpoint, usable } = endpointFor(inVpc, ctx.region, service);
    return usable && endpoint ? [{ service, endpoint }] : [];
  });
}

/** The number of an IPv4 address in dotted-quad form, or undefined. */
function ipv4(address: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address.trim());
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets.reduce((n, o) => n * 256 + o, 0) : undefined;
}

/** Whether an IPv4 address lies in an IPv4 CIDR block (`10.0.0.0/16`; no prefix means /32). False for anything malformed. */
export function ipv4InCidr(address: string, cidr: string): boolean {
  const [base = '', bits, ...rest] = cidr.trim().split('/');
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (rest.length || !(prefix >= 0 && prefix <= 32)) return false;
  const ip = ipv4(address);
  const net = ipv4(base);
  if (ip === undefined || net === undefined) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(ip / size) === Math.floor(net / size);
}
