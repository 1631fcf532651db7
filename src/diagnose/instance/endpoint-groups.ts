import type { IpPermission, SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext, distinct, type EndpointService, type InterfaceService, REQUIRED } from '../context.js';
import { error, ok, warn } from '../finding.js';
import { endpointGroups, ipv4InCidr, usedEndpoints } from '../net.js';
import { isDenied, missing, type Reads } from '../reads.js';

/** Whether a security group admits TCP 443 from the instance: by which source, or why it cannot be told. */
export type Admission = { readonly open: string } | { readonly unsure: string } | { readonly closed: true };

/** A rule (ingress or egress) whose protocol and ports take TCP 443. */
export function takes443(rule: IpPermission): boolean {
  const protocol = (rule.IpProtocol ?? '').toLowerCase();
  if (protocol === '-1' || protocol === 'all') return true;
  if (protocol !== 'tcp' && protocol !== '6') return false;
  return (rule.FromPort ?? 0) <= 443 && 443 <= (rule.ToPort ?? 65535);
}

/** Whether a security group admits TCP 443 from the instance (the vpc-endpoints step judges adopted endpoints with it). */
export function admission(groupId: string, group: SecurityGroup | undefined, t: TargetInstance): Admission {
  if (!group) return { unsure: `${groupId} was not found` };
  const unsure: string[] = [];
  for (const rule of (group.IpPermissions ?? []).filter(takes443)) {
    for (const { CidrIp } of rule.IpRanges ?? []) {
      if (!CidrIp) continue;
      if (/\/0$/.test(CidrIp.trim())) return { open: `${groupId} (${CidrIp})` };
      if (!t.privateIp) unsure.push(`${groupId} admits ${CidrIp}, and the instance's private IP is unknown`);
      else if (ipv4InCidr(t.privateIp, CidrIp)) return { open: `${groupId} (${CidrIp})` };
    }
    for (const { GroupId } of rule.UserIdGroupPairs ?? []) {
      if (!GroupId) continue;
      if (t.securityGroupIds?.includes(GroupId)) return { open: `${groupId} (${GroupId})` };
      if (!t.securityGroupIds) unsure.push(`${groupId} admits ${GroupId}, and the instance's security groups are unknown`);
    }
    for (const { PrefixListId } of rule.PrefixListIds ?? []) unsure.push(`${groupId} admits prefix list ${PrefixListId}, which is not resolved here`);
  }
  return unsure[0] ? { unsure: unsure[0] } : { closed: true };
}

/**
 * Each interface endpoint the instance uses needs a security group admitting TCP 443 from it.
 * EC2 always lists an interface endpoint's groups (the VPC's default one when none was given):
 * an endpoint listed without any is not judged. Undefined when there is nothing to judge (no
 * subnet known, the endpoints not read, none in use). Pure, over the reads.
 */
export function checkEndpointGroups(t: TargetInstance, reads: Pick<Reads, 'endpoints' | 'groups'>, ctx: DiagnoseContext): Checked | undefined {
  if (!t.subnetId || !t.vpcId || isDenied(reads.endpoints)) return undefined;
  const inVpc: readonly VpcEndpoint[] = reads.endpoints.get(t.vpcId) ?? [];
  const used = usedEndpoints(inVpc, ctx).filter(({ endpoint }) => endpointGroups(endpoint).length);
  if (!used.length) return undefined;
  const check = CHECKS.endpointSg;
  const label = ({ service, endpoint }: (typeof used)[number]) => `${endpoint.VpcEndpointId} (${service})`;
  if (isDenied(reads.groups)) return { findings: [warn(check, missing(`the security groups of ${used.map(label).join(', ')}`, reads.groups))] };
  const known = reads.groups;
  const from = `the instance${t.privateIp ? ` (${t.privateIp})` : ''}`;
  const open: string[] = [];
  const unsure: string[] = [];
  const closed: { service: InterfaceService; endpoint: VpcEndpoint; groupIds: string[] }[] = [];
  for (const u of used) {
    const groupIds = endpointGroups(u.endpoint);
    const verdicts = groupIds.map((id) => admission(id, known.get(id), t));
    const yes = verdicts.find((v): v is { open: string } => 'open' in v);
    if (yes) {
      open.push(`${label(u)} by ${yes.open}`);
      continue;
    }
    const maybe = verdicts.find((v): v is { unsure: string } => 'unsure' in v);
    if (maybe) unsure.push(`${label(u)}: ${maybe.unsure}`);
    else closed.push({ ...u, groupIds });
  }
  if (closed.length) {
    const which = closed.map((c) => `${label(c)} with ${c.groupIds.join(', ')}`).join('; ');
    // One group per endpoint is enough: the first one listed.
    const fixes = distinct(closed.map((c) => c.groupIds[0])).map(
      (id) =>
        `aws ec2 authorize-security-group-ingress --group-id ${id} --protocol tcp --port 443 --cidr <CIDR of ${t.vpcId} or ${t.subnetId}> --region ${ctx.region}`,
    );
    const finding = error(check, `no security group admits TCP 443 from ${from}: ${which}`, fixes.join(' && '));
    const blocking = closed.filter((c) => REQUIRED.has(c.service as EndpointService));
    if (!blocking.length) return { findings: [finding] };
    const groupsOf = distinct(blocking.flatMap((c) => c.groupIds)).join(', ');
    return {
      findings: [finding],
      cause: {
        text: `the ${blocking.map((c) => c.service).join(' and ')} endpoint${blocking.length > 1 ? 's' : ''} of VPC ${t.vpcId} (security groups ${groupsOf}) do not admit TCP 443 from the instance, and private DNS sends the agent there`,
        fix: fixes,
      },
    };
  }
  if (unsure.length) return { findings: [warn(check, `could not tell whether TCP 443 from ${from} is admitted: ${unsure.join('; ')}`)] };
  return { findings: [ok(check, `TCP 443 from ${from} is admitted: ${open.join('; ')}`)] };
}
