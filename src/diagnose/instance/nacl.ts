import type { NetworkAcl } from '@aws-sdk/client-ec2';
import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext, REQUIRED } from '../context.js';
import { error, ok, warn } from '../finding.js';
import { cidrRange, type Destination, destinations } from '../paths.js';
import { isDenied, missing, type Reads } from '../reads.js';

/** The ephemeral ports the answers come back to (the VPC guide's range for any client OS and NAT gateways). */
export const EPHEMERAL: readonly [number, number] = [1024, 65535];
const HTTPS: readonly [number, number] = [443, 443];
const DEFAULT_RULE = 32767;

/** What a network ACL does with TCP on these ports to or from these addresses. */
export type AclVerdict = { readonly verdict: 'allow' | 'deny' | 'partial'; readonly rule?: number };

const overlaps = (a: readonly [number, number], b: readonly [number, number]) => a[0] <= b[1] && b[0] <= a[1];
const covers = (a: readonly [number, number], b: readonly [number, number]) => a[0] <= b[0] && b[1] <= a[1];

/**
 * A network ACL's rules in order, the first match deciding, for TCP on `ports` with `peer`
 * (a CIDR block, or `internet`: some public address, for which only rules on 0.0.0.0/0 are
 * taken as deciding, as the AWS addresses behind a name are not known here). A rule that
 * allows only part of the traffic (32768-65535 of the ephemeral ports, say) leaves the rest
 * to later rules: `partial` when the rest is then denied. A deny on any part is `deny`. IPv6
 * rules are not looked at. Pure.
 */
export function aclVerdict(acl: NetworkAcl, egress: boolean, ports: readonly [number, number], peer: string | 'internet'): AclVerdict {
  const target = peer === 'internet' ? ([0, 2 ** 32 - 1] as const) : cidrRange(peer);
  if (!target) return { verdict: 'partial' };
  const rules = (acl.Entries ?? []).filter((e) => !!e.Egress === egress && e.CidrBlock).sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0));
  // The ports already allowed for every address of the peer by earlier rules.
  let allowed: [number, number][] = [];
  let partial = false;
  const rest = () => uncovered(ports, allowed);
  for (const e of rules) {
    const protocol = String(e.Protocol ?? '').toLowerCase();
    if (!['-1', 'all', '6', 'tcp'].includes(protocol)) continue;
    const range: [number, number] = protocol === '-1' || protocol === 'all' ? [0, 65535] : [e.PortRange?.From ?? 0, e.PortRange?.To ?? 65535];
    const addresses = cidrRange(e.CidrBlock!);
    if (!addresses || !rest().some((r) => overlaps(range, r))) continue;
    if (peer === 'internet' ? addresses[1] - addresses[0] !== 2 ** 32 - 1 : !overlaps(addresses, target)) continue;
    if (e.RuleAction === 'deny') return { verdict: partial || allowed.length ? 'partial' : 'deny', rule: e.RuleNumber };
    if (!covers(addresses, target)) {
      partial = true;
      continue;
    }
    allowed = [...allowed, [Math.max(range[0], ports[0]), Math.min(range[1], ports[1])]];
    if (!rest().length) return { verdict: 'allow', rule: e.RuleNumber };
  }
  return { verdict: partial || allowed.length ? 'partial' : 'deny', rule: DEFAULT_RULE };
}

/** The parts of `ports` that none of `taken` holds. */
function uncovered(ports: readonly [number, number], taken: readonly [number, number][]): [number, number][] {
  let left: [number, number][] = [[ports[0], ports[1]]];
  for (const [a, b] of taken) {
    left = left.flatMap(([x, y]): [number, number][] => {
      if (b < x || a > y) return [[x, y]];
      return [...(a > x ? [[x, a - 1] as [number, number]] : []), ...(b < y ? [[b + 1, y] as [number, number]] : [])];
    });
  }
  return left;
}

/** A free rule number before `blocking`: just below it, or after the user rules when the `*` rule blocks. */
function ruleNumber(acl: NetworkAcl, egress: boolean, blocking: number | undefined): number {
  const used = new Set((acl.Entries ?? []).filter((e) => !!e.Egress === egress).map((e) => e.RuleNumber));
  if (blocking === undefined || blocking === DEFAULT_RULE) {
    const highest = Math.max(0, ...[...used].filter((n): n is number => n !== undefined && n !== DEFAULT_RULE));
    return Math.min(32766, highest + 10 - (highest % 10));
  }
  for (let n = blocking - 1; n >= 1; n--) if (!used.has(n)) return n;
  return 1;
}

interface Leg {
  readonly acl: NetworkAcl;
  readonly subnet: string;
  readonly egress: boolean;
  readonly ports: readonly [number, number];
  readonly peer: string | 'internet';
  readonly why: string;
  readonly required: boolean;
}

/**
 * The network ACLs on the way: the instance's subnet lets TCP 443 out to each destination and
 * the ephemeral ports (1024-65535) back in; each subnet of an endpoint it uses (when not its
 * own: traffic inside a subnet does not cross its ACL) lets 443 in from the instance and the
 * ephemeral ports back out. Network ACLs are stateless, hence both ways. Undefined when there is
 * nothing to judge. Pure.
 */
export function checkNacls(t: TargetInstance, reads: Pick<Reads, 'routes' | 'endpoints' | 'subnets' | 'nacls'>, ctx: DiagnoseContext): Checked | undefined {
  if (!reads.nacls || !t.subnetId) return undefined;
  const ds = destinations(t, reads, ctx);
  if (!ds?.length) return undefined;
  const check = CHECKS.nacl;
  if (isDenied(reads.nacls)) return { findings: [warn(check, missing(`the network ACL of ${t.subnetId}`, reads.nacls))] };
  const own = reads.nacls.get(t.subnetId);
  if (!own) return { findings: [warn(check, `no network ACL found for ${t.subnetId}`)] };
  const subnets = reads.subnets && !isDenied(reads.subnets) ? reads.subnets : undefined;
  const me = t.privateIp ? `${t.privateIp}/32` : subnets?.get(t.subnetId)?.cidr;
  const legs: Leg[] = [];
  const unknown: string[] = [];
  const isRequired = (d: Destination) => d.services.some((s) => (REQUIRED as ReadonlySet<string>).has(s));
  for (const d of ds) {
    const required = isRequired(d);
    if (d.kind === 'internet') {
      legs.push({ acl: own, subnet: t.subnetId, egress: true, ports: HTTPS, peer: 'internet', why: `443 out to ${d.label}`, required });
      legs.push({ acl: own, subnet: t.subnetId, egress: false, ports: EPHEMERAL, peer: 'internet', why: `the answers from ${d.label}`, required });
      continue;
    }
    for (const s of d.subnets.filter((x) => x.id !== t.subnetId)) {
      const theirs = reads.nacls.get(s.id);
      if (!s.cidr || !me || !theirs) {
        unknown.push(`${d.label} in ${s.id}`);
        continue;
      }
      legs.push({ acl: own, subnet: t.subnetId, egress: true, ports: HTTPS, peer: s.cidr, why: `443 out to ${d.label} in ${s.id}`, required });
      legs.push({ acl: own, subnet: t.subnetId, egress: false, ports: EPHEMERAL, peer: s.cidr, why: `the answers from ${d.label}`, required });
      legs.push({ acl: theirs, subnet: s.id, egress: false, ports: HTTPS, peer: me, why: `443 in from the instance to ${d.label}`, required });
      legs.push({ acl: theirs, subnet: s.id, egress: true, ports: EPHEMERAL, peer: me, why: `the answers of ${d.label} back to the instance`, required });
    }
  }
  const judged = legs.map((leg) => ({ leg, v: aclVerdict(leg.acl, leg.egress, leg.ports, leg.peer) }));
  const describe = ({ leg, v }: (typeof judged)[number]) =>
    `${leg.acl.NetworkAclId} of ${leg.subnet} ${v.verdict === 'deny' ? `denies ${leg.why} (rule ${v.rule === DEFAULT_RULE ? '*' : v.rule})` : `allows only part of ${leg.why}`} (TCP ${leg.ports.join('-').replace(/^443-443$/, '443')} ${leg.egress ? 'to' : 'from'} ${leg.peer === 'internet' ? '0.0.0.0/0' : leg.peer})`;
  const fixOf = ({ leg, v }: (typeof judged)[number]) =>
    `aws ec2 create-network-acl-entry --network-acl-id ${leg.acl.NetworkAclId} ${leg.egress ? '--egress' : '--ingress'} --rule-number ${ruleNumber(leg.acl, leg.egress, v.rule)} --protocol tcp --port-range From=${leg.ports[0]},To=${leg.ports[1]} --cidr-block ${leg.peer === 'internet' ? '0.0.0.0/0' : leg.peer} --rule-action allow --region ${ctx.region}`;
  const denied = judged.filter((j) => j.v.verdict === 'deny');
  if (denied.length) {
    const fixes = [...new Set(denied.map(fixOf))];
    const finding = error(check, denied.map(describe).join('; '), fixes.join(' && '));
    const blocking = denied.filter((j) => j.leg.required);
    if (!blocking.length) return { findings: [finding] };
    return { findings: [finding], cause: { text: `the network ACL blocks the agent's HTTPS: ${blocking.map(describe).join('; ')}`, fix: fixes } };
  }
  const partial = judged.filter((j) => j.v.verdict === 'partial');
  if (partial.length) return { findings: [warn(check, partial.map(describe).join('; '), [...new Set(partial.map(fixOf))].join(' && '))] };
  if (unknown.length) return { findings: [warn(check, `could not judge the network ACLs on the way to ${unknown.join(', ')} (range or ACL unknown)`)] };
  const acls = [...new Set(legs.map((l) => l.acl.NetworkAclId))].join(', ');
  return { findings: [ok(check, `${acls} let 443 out and the ephemeral ports (1024-65535) back`)] };
}
