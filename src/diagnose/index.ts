import type { Clients } from '../core/clients.js';
import type { TargetInstance } from '../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext, type Diagnosis } from './context.js';
import type { Finding } from './finding.js';
import { agentNotRunning, checkAgent, resolveOs } from './instance/agent.js';
import { checkEndpointGroups } from './instance/endpoint-groups.js';
import { checkIam } from './instance/iam.js';
import { checkImds } from './instance/imds.js';
import { checkInstanceEgress } from './instance/instance-sg.js';
import { checkNacls } from './instance/nacl.js';
import { checkNetwork } from './instance/network.js';
import { checkState } from './instance/state.js';
import { checkVpcDns } from './instance/vpc-dns.js';
import { type Reads, readAll } from './reads.js';

export { AGENT_MANAGED_POLICIES } from './agent-policy.js';
export {
  CHECKS,
  type DiagnoseContext,
  type Diagnosis,
  ENDPOINT_SERVICES,
  type EndpointService,
  FEATURE_ENDPOINT_SERVICES,
  type FeatureEndpointService,
} from './context.js';
export { ipv4InCidr } from './net.js';

/**
 * Explains, for each instance that Systems Manager does not list as managed, the most likely
 * reason, from what can be read: EC2 state, instance profile and its role's policies, the
 * subnet's route table and the VPC's endpoints, and the AMI. Reads scale with the fleet, not
 * with the instances: one call per batch of 50 distinct subnets, VPCs, images or endpoint
 * security groups, and one IAM read per distinct profile and role. A read the caller may not
 * make becomes a warning finding ("could not read … (missing <action>)"); other errors are
 * thrown. Read-only.
 */
export async function diagnoseUnmanaged(aws: Clients, ctx: DiagnoseContext, instances: readonly TargetInstance[]): Promise<Diagnosis[]> {
  if (!instances.length) return [];
  const reads = await readAll(aws, ctx, instances);
  return instances.map((t) => diagnose(t, reads, ctx));
}

/**
 * One instance's diagnosis from the reads, pure. The checks run in the order of the row (state,
 * profile and role rights, route and endpoints, endpoint security groups, agent); the causes rank
 * in that same order: the first one found is the cause, the fixes of the others follow it. When
 * no check found a cause, the agent is there but does not run or does not get through.
 */
export function diagnose(t: TargetInstance, reads: Reads, ctx: DiagnoseContext): Diagnosis {
  const os = resolveOs(t, reads, ctx);
  const groups = checkEndpointGroups(t, reads, ctx);
  // The way out, after the route and the endpoints: DNS, the instance's own groups, the network ACLs; then IMDS.
  const path = [checkVpcDns(t, reads, ctx), checkInstanceEgress(t, reads, ctx), checkNacls(t, reads, ctx), checkImds(t, ctx)].filter((c): c is Checked => !!c);
  const checked: Checked[] = [
    checkState(t, ctx),
    ...checkIam(t, reads, ctx),
    checkNetwork(t, reads, ctx),
    ...(groups ? [groups] : []),
    ...path,
    checkAgent(t, os, ctx),
  ];
  const findings = checked.flatMap((c) => c.findings);
  const causes = checked.flatMap((c) => (c.cause ? [c.cause] : []));
  const userData = checked.find((c) => c.userData)?.userData;
  const primary = causes[0] ?? agentNotRunning('platform' in os ? os.platform : t.platform, findings);
  const fix = [...new Set([...primary.fix, ...causes.slice(1).flatMap((c) => c.fix)])];
  return { instanceId: t.id, cause: primary.text, fix, ...(userData ? { userData } : {}), findings };
}

const NETWORK_CHECKS: ReadonlySet<string> = new Set([
  CHECKS.route,
  CHECKS.endpoints,
  CHECKS.endpointSg,
  CHECKS.vpcDns,
  CHECKS.instanceSg,
  CHECKS.nacl,
  CHECKS.imds,
]);

/** The network findings of a diagnosis (route, endpoints, endpoint security groups, VPC DNS, the instance's groups, network ACLs, IMDS), in their order. */
export function networkFindings(diagnosis: Diagnosis): Finding[] {
  return diagnosis.findings.filter((f) => NETWORK_CHECKS.has(f.check) || f.check.startsWith('endpoint:'));
}
