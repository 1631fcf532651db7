import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext } from '../context.js';
import { error, ok, warn } from '../finding.js';
import { isDenied, missing, type Reads } from '../reads.js';

/**
 * Interface endpoints with private DNS answer for the service's public name only where the VPC
 * has enableDnsSupport and enableDnsHostnames on. With either off the agent resolves the public
 * endpoint: fine through an internet route, unreachable from a private subnet. (EC2 refuses to
 * turn private DNS on without them, but they can be turned off afterwards.) Undefined where no
 * endpoint with private DNS is in use. Pure.
 */
export function checkVpcDns(t: TargetInstance, reads: Pick<Reads, 'routes' | 'vpcDns'>, ctx: DiagnoseContext): Checked | undefined {
  if (!reads.vpcDns || !t.vpcId || !t.subnetId) return undefined;
  const check = CHECKS.vpcDns;
  if (isDenied(reads.vpcDns)) return { findings: [warn(check, missing(`the DNS attributes of ${t.vpcId}`, reads.vpcDns))] };
  const dns = reads.vpcDns.get(t.vpcId);
  if (!dns) return undefined;
  const off = [...(dns.support ? [] : ['enableDnsSupport']), ...(dns.hostnames ? [] : ['enableDnsHostnames'])];
  if (!off.length) return { findings: [ok(check, `${t.vpcId} has DNS support and DNS hostnames on: the endpoints' private DNS is in effect`)] };
  const fix = off
    .map(
      (a) =>
        `aws ec2 modify-vpc-attribute --vpc-id ${t.vpcId} --${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'} '{"Value":true}' --region ${ctx.region}`,
    )
    .join(' && ');
  const route = isDenied(reads.routes) ? undefined : reads.routes.get(t.subnetId);
  const noPublicIp = route?.via === 'igw' && t.state === 'running' && !!t.privateIp && !t.publicIp;
  const privateSubnet = route?.egress === 'none' || noPublicIp;
  const detail = `${t.vpcId} has ${off.join(' and ')} off: the endpoints' private DNS is not in effect, so the agent resolves the public endpoints`;
  if (privateSubnet) {
    return {
      findings: [error(check, `${detail}, which a private subnet cannot reach`, fix)],
      cause: { text: `${detail}, which subnet ${t.subnetId} (no route out) cannot reach`, fix: fix.split(' && ') },
    };
  }
  // With a route out the public endpoints answer; without DNS support nothing resolves unless the VPC has its own resolver.
  if (!dns.support) return { findings: [warn(check, `${detail}; without DNS support the instance resolves names only through a resolver of its own`, fix)] };
  return { findings: [ok(check, `${detail} through the route out (${route?.target ?? 'unknown'})`)] };
}
