import type { IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext, distinct, REQUIRED } from '../context.js';
import { error, ok, warn } from '../finding.js';
import { cidrCovers, type Destination, destinations, servicesOf } from '../paths.js';
import { isDenied, missing, type Reads } from '../reads.js';
import { takes443, type Admission as Verdict } from './endpoint-groups.js';

/** Whether one egress rule lets TCP 443 out to a destination. */
function ruleVerdict(groupId: string, rule: IpPermission, d: Destination): Verdict | undefined {
  const unsure: string[] = [];
  for (const { CidrIp } of rule.IpRanges ?? []) {
    if (!CidrIp) continue;
    if (/\/0$/.test(CidrIp.trim())) return { open: `${groupId} (${CidrIp})` };
    if (d.kind === 'endpoint') {
      if (d.subnets.length && d.subnets.every((s) => s.cidr && cidrCovers(CidrIp, s.cidr))) return { open: `${groupId} (${CidrIp})` };
      if (d.subnets.some((s) => !s.cidr)) unsure.push(`${groupId} lets 443 out to ${CidrIp}, and the range of the endpoint's subnets is unknown`);
    } else unsure.push(`${groupId} lets 443 out only to ${CidrIp}, which may not hold every ${servicesOf([d])} address`);
  }
  for (const { GroupId } of rule.UserIdGroupPairs ?? []) if (GroupId && d.groups.includes(GroupId)) return { open: `${groupId} (${GroupId})` };
  for (const { PrefixListId } of rule.PrefixListIds ?? []) {
    // The S3 prefix list is the usual way to S3 alone; any other list is not resolved here.
    if (d.kind === 'internet' && d.services.every((s) => s === 's3')) return { open: `${groupId} (${PrefixListId})` };
    unsure.push(`${groupId} lets 443 out to prefix list ${PrefixListId}, which is not resolved here`);
  }
  return unsure[0] ? { unsure: unsure[0] } : undefined;
}

/** The verdict of all the instance's groups on one destination: any rule of any group lets it out. */
function groupsVerdict(t: TargetInstance, known: ReadonlyMap<string, SecurityGroup>, d: Destination): Verdict {
  let unsure: string | undefined;
  for (const id of t.securityGroupIds ?? []) {
    const group = known.get(id);
    if (!group) {
      unsure ??= `${id} was not found`;
      continue;
    }
    for (const rule of (group.IpPermissionsEgress ?? []).filter(takes443)) {
      const v = ruleVerdict(id, rule, d);
      if (v && 'open' in v) return v;
      if (v && 'unsure' in v) unsure ??= v.unsure;
    }
  }
  return unsure ? { unsure } : { closed: true };
}

/** The range to open for a destination: 0.0.0.0/0 to the internet, else the endpoint's subnets. */
const rangesOf = (d: Destination) =>
  d.kind === 'internet'
    ? ['0.0.0.0/0']
    : d.subnets.every((s) => s.cidr)
      ? distinct(d.subnets.map((s) => s.cidr))
      : [`<CIDR of ${d.subnets.map((s) => s.id).join(', ')}>`];

/**
 * The instance's own security groups must let TCP 443 out to each destination of the agent:
 * the interface endpoints it uses (by their subnets' ranges or their groups), the internet for
 * the rest. EC2 gives a new group egress to anywhere; a tightened group is where this breaks.
 * Undefined when there is nothing to judge (no groups known, no destination). Pure.
 */
export function checkInstanceEgress(
  t: TargetInstance,
  reads: Pick<Reads, 'routes' | 'endpoints' | 'subnets' | 'groups'>,
  ctx: DiagnoseContext,
): Checked | undefined {
  if (!t.securityGroupIds?.length) return undefined;
  const ds = destinations(t, reads, ctx);
  if (!ds?.length) return undefined;
  const check = CHECKS.instanceSg;
  const groups = t.securityGroupIds.join(', ');
  if (isDenied(reads.groups)) return { findings: [warn(check, missing(`the security groups ${groups}`, reads.groups))] };
  const verdicts = ds.map((d) => ({ d, v: groupsVerdict(t, reads.groups as ReadonlyMap<string, SecurityGroup>, d) }));
  const closed = verdicts.filter((x) => 'closed' in x.v).map((x) => x.d);
  if (closed.length) {
    const ranges = distinct(closed.flatMap(rangesOf));
    const group = t.securityGroupIds[0];
    const permissions = `IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[${ranges.map((c) => `{CidrIp=${c}}`).join(',')}]`;
    const fix = `aws ec2 authorize-security-group-egress --group-id ${group} --ip-permissions '${permissions}' --region ${ctx.region}`;
    const where = closed.map((d) => `${d.label}${d.kind === 'internet' ? ` for ${servicesOf([d])}` : ''}`).join('; ');
    const finding = error(check, `the instance's security groups (${groups}) let no TCP 443 out to ${where}`, fix);
    const blocking = closed.some((d) => d.services.some((s) => (REQUIRED as ReadonlySet<string>).has(s)));
    if (!blocking) return { findings: [finding] };
    return { findings: [finding], cause: { text: `the instance's security groups (${groups}) let no TCP 443 out to ${where}`, fix: [fix] } };
  }
  const unsure = verdicts.flatMap((x) => ('unsure' in x.v ? [`${x.d.label}: ${x.v.unsure}`] : []));
  if (unsure.length) return { findings: [warn(check, `could not tell whether TCP 443 may leave the instance: ${unsure.join('; ')}`)] };
  const open = verdicts.map((x) => `${x.d.label} by ${'open' in x.v ? x.v.open : ''}`);
  return { findings: [ok(check, `TCP 443 out is allowed to ${open.join('; ')}`)] };
}
