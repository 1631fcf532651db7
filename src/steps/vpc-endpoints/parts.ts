import type { SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';
import { StepError } from '../../base/errors.js';
import { MANAGED_BY_TAG } from '../../config/schema.js';
import { admission } from '../../diagnose/instance/endpoint-groups.js';
import { isAvailable } from '../../diagnose/net.js';
import { tagRecord } from '../../policies/tags.js';
import { type EndpointServiceId, endpointServiceName } from '../../policies/vpc-endpoints.js';
import type { VpcEndpointsState, VpcScope } from './read.js';

/** The pieces of the plan beside the interface endpoints: our security group, the S3 gateway, the DNS refusal. Pure. */
export type EndpointsChange = 'create-group' | 'authorize-group' | 'create-endpoint' | 'modify-endpoint' | 'create-gateway' | 'modify-gateway';

/** One write of the plan, with everything apply needs to make it. */
export interface Work {
  readonly kind: EndpointsChange;
  readonly subject: string;
  readonly vpcId: string;
  readonly service?: EndpointServiceId | 's3';
  readonly endpointId?: string;
  /** Create: every subnet; modify: those to add. */
  readonly subnetIds?: readonly string[];
  /** Modify: add our security group. */
  readonly addGroup?: boolean;
  /** Modify: turn private DNS on. */
  readonly privateDns?: boolean;
  readonly routeTableIds?: readonly string[];
  /** Group rules: the CIDR blocks to admit 443 from. */
  readonly cidrs?: readonly string[];
  /** What the change adds to the monthly bill (interface endpoints). */
  readonly monthly?: number;
  readonly detail: string;
}

export const isOurs = (tags: readonly { Key?: string; Value?: string }[] | undefined) => tagRecord(tags)[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value;
export const isType = (e: VpcEndpoint, type: string) => (e.VpcEndpointType ?? '').toLowerCase() === type;

/** The endpoint of a service to use: ssm-setup's own first, then a usable one, then any. */
export function pick(endpoints: readonly VpcEndpoint[], name: string, type: 'interface' | 'gateway'): VpcEndpoint | undefined {
  const mine = endpoints.filter((e) => e.ServiceName === name && isType(e, type));
  return mine.find((e) => isOurs(e.Tags)) ?? mine.find((e) => isAvailable(e) && (type === 'gateway' || e.PrivateDnsEnabled)) ?? mine[0];
}

/** Our security group: create it, or add the CIDR blocks it does not admit yet. A foreign group of that name is refused. */
export function planGroup(scope: VpcScope, groupName: string, work: Work[]): SecurityGroup | undefined {
  const { vpcId, group, cidrs } = scope;
  if (!group) {
    work.push({ kind: 'create-group', subject: vpcId, vpcId, cidrs, detail: `${groupName} in ${vpcId}: TCP 443 in from ${cidrs.join(', ')}` });
    return undefined;
  }
  if (!isOurs(group.Tags)) {
    throw new StepError(
      'vpc-endpoints',
      'ENDPOINT_GROUP_TAKEN',
      `security group ${group.GroupId} in ${vpcId} is named ${groupName} but is not ssm-setup's (no ManagedBy=ssm-setup tag)`,
      {
        hint: `rename or delete it, or tag it ManagedBy=ssm-setup to hand it over: aws ec2 create-tags --resources ${group.GroupId} --tags Key=ManagedBy,Value=ssm-setup`,
      },
    );
  }
  const admitted = new Set(
    (group.IpPermissions ?? [])
      .filter((p) => p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 443 && 443 <= (p.ToPort ?? 0))
      .flatMap((p) => (p.IpRanges ?? []).map((x) => x.CidrIp)),
  );
  const missing = cidrs.filter((c) => !admitted.has(c));
  if (missing.length)
    work.push({
      kind: 'authorize-group',
      subject: vpcId,
      vpcId,
      cidrs: missing,
      detail: `${groupName} (${group.GroupId}): admit TCP 443 from ${missing.join(', ')}`,
    });
  return group;
}

/** Why no group of a foreign endpoint admits 443 from some target, or undefined (admitted, or not known). */
export function closedTo(e: VpcEndpoint, scope: VpcScope, groups: VpcEndpointsState['groups']): string | undefined {
  const ids = (e.Groups ?? []).map((g) => g.GroupId).filter((g): g is string => !!g);
  if (!ids.length) return undefined;
  const shut = scope.targets.filter((t) => ids.map((id) => admission(id, groups.get(id), t)).every((v) => 'closed' in v));
  return shut.length ? `its security groups do not admit TCP 443 from ${shut.map((t) => t.id).join(', ')}` : undefined;
}

/** The S3 gateway endpoint on the route tables of the targets' subnets (free). */
export function planGateway(scope: VpcScope, region: string, work: Work[], notes: string[]): void {
  const { vpcId } = scope;
  const name = endpointServiceName(region, 's3');
  const tables = [...new Set(scope.targets.map((t) => scope.subnets.get(t.subnetId!)?.tableId).filter((x): x is string => !!x))].sort();
  if (!tables.length) return;
  const found = pick(scope.endpoints, name, 'gateway');
  if (!found) {
    work.push({
      kind: 'create-gateway',
      subject: vpcId,
      vpcId,
      service: 's3',
      routeTableIds: tables,
      detail: `${name} (Gateway) on ${tables.join(', ')}; free`,
    });
    return;
  }
  const id = found.VpcEndpointId!;
  const missing = tables.filter((t) => !(found.RouteTableIds ?? []).includes(t));
  if (isOurs(found.Tags)) {
    if (missing.length)
      work.push({
        kind: 'modify-gateway',
        subject: id,
        vpcId,
        service: 's3',
        endpointId: id,
        routeTableIds: missing,
        detail: `${name}: add route tables ${missing.join(', ')}; free`,
      });
    return;
  }
  notes.push(`s3: ${id} (gateway) adopted (not ssm-setup's: left as it is)`);
  if (missing.length)
    notes.push(
      `  ${id} (s3) is not on ${missing.join(', ')}: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --add-route-table-ids ${missing.join(' ')} --region ${region}`,
    );
}

/** Private DNS needs both attributes: refused with the fix, the VPC left as it is. */
export function refuseWithoutDns(scope: VpcScope, region: string): void {
  const off = [scope.dnsSupport ? '' : 'enableDnsSupport', scope.dnsHostnames ? '' : 'enableDnsHostnames'].filter(Boolean);
  if (!off.length) return;
  const fix = off.map(
    (a) =>
      `aws ec2 modify-vpc-attribute --vpc-id ${scope.vpcId} --${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'} '{"Value":true}' --region ${region}`,
  );
  throw new StepError(
    'vpc-endpoints',
    'VPC_DNS_OFF',
    `VPC ${scope.vpcId} has ${off.join(' and ')} off: the endpoints' private DNS needs both, so nothing was planned there (ssm-setup does not change the VPC)`,
    { hint: `turn ${off.length > 1 ? 'them' : 'it'} on, then rerun: ${fix.join(' && ')}` },
  );
}
