import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import type { Change, PlanInput, StepOutputs } from '../../core/step.js';
import { isAvailable } from '../../diagnose/net.js';
import { compareVersions } from '../../policies/agent-versions.js';
import {
  costLine,
  dollars,
  EC2MESSAGES_NOT_NEEDED_FROM,
  type EndpointNeeds,
  endpointGroupName,
  endpointPrice,
  endpointServiceName,
  monthlyCost,
  subnetPerZone,
  wantedServices,
} from '../../policies/vpc-endpoints.js';
import { closedTo, type EndpointsChange, isOurs, isType, pick, planGateway, planGroup, refuseWithoutDns, type Work } from './parts.js';
import type { VpcEndpointsState, VpcScope } from './read.js';

export type { EndpointsChange, Work } from './parts.js';

export interface Analysis {
  readonly work: readonly Work[];
  /** Adopted endpoints, fixes for foreign ones, VPCs left alone, the monthly total. */
  readonly notes: readonly string[];
}

/** What the sessions of these settings use: ssm-setup always encrypts with its key and logs to its bucket. */
export function endpointNeeds(state: VpcEndpointsState, scope: VpcScope, input: PlanInput): EndpointNeeds {
  const oldAgents = scope.targets.some((t) => {
    const v = state.agentVersions.get(t.id);
    return !v || compareVersions(v, EC2MESSAGES_NOT_NEEDED_FROM) < 0;
  });
  return { kms: true, logs: input.settings.cloudwatchLogs, s3: true, oldAgents };
}

/**
 * Pure. For each VPC whose targets have no route out: our security group, each wanted interface
 * endpoint (created, or adopted: ours converged, a foreign one only judged, with the fix), and
 * the S3 gateway on the targets' route tables. Refuses a VPC without DNS support or hostnames.
 */
export function analyse(state: VpcEndpointsState, input: PlanInput): Analysis {
  const work: Work[] = [];
  const notes: string[] = [];
  const region = input.region;
  const r = `--region ${region}`;
  for (const scope of state.scopes) {
    refuseWithoutDns(scope, region);
    const { vpcId } = scope;
    const needs = endpointNeeds(state, scope, input);
    const counts = new Map<string, number>();
    for (const t of scope.targets) counts.set(t.subnetId!, (counts.get(t.subnetId!) ?? 0) + 1);
    const zones = subnetPerZone([...counts].flatMap(([id, n]) => (scope.subnets.get(id) ? [{ subnetId: id, az: scope.subnets.get(id)!.az, targets: n }] : [])));
    if (!zones.size) {
      notes.push(`${vpcId}: the zones of the targets' subnets could not be read: nothing planned there`);
      continue;
    }
    const groupName = endpointGroupName(vpcId);
    const group = planGroup(scope, groupName, work);
    const groupId = group?.GroupId;

    for (const service of wantedServices(needs)) {
      const name = endpointServiceName(region, service);
      const found = pick(scope.endpoints, name, 'interface');
      const zonesOf = (e: VpcEndpoint) => new Set((e.SubnetIds ?? []).map((s) => scope.subnets.get(s)?.az));
      if (!found) {
        const subnetIds = [...zones.values()];
        const monthly = monthlyCost(region, subnetIds.length);
        work.push({
          kind: 'create-endpoint',
          subject: `${vpcId}/${service}`,
          vpcId,
          service,
          subnetIds,
          monthly,
          detail: `${name} (Interface, private DNS) in ${[...zones].map(([az, s]) => `${s} (${az})`).join(', ')}, security group ${groupName}; ${costLine(region, subnetIds.length)}`,
        });
        continue;
      }
      const id = found.VpcEndpointId!;
      const have = zonesOf(found);
      const missing = [...zones].filter(([az]) => !have.has(az));
      if (isOurs(found.Tags)) {
        const addGroup = !!groupId && !(found.Groups ?? []).some((g) => g.GroupId === groupId);
        const privateDns = found.PrivateDnsEnabled !== true;
        if (!missing.length && !addGroup && !privateDns) continue;
        const monthly = monthlyCost(region, missing.length);
        const what = [
          missing.length ? `add ${missing.map(([az, s]) => `${s} (${az})`).join(', ')}; ${costLine(region, missing.length)}` : '',
          addGroup ? `add security group ${groupName}` : '',
          privateDns ? 'turn private DNS on' : '',
        ].filter(Boolean);
        work.push({
          kind: 'modify-endpoint',
          subject: id,
          vpcId,
          service,
          endpointId: id,
          subnetIds: missing.map(([, s]) => s),
          addGroup,
          privateDns,
          monthly,
          detail: `${name}: ${what.join('; ')}`,
        });
        continue;
      }
      notes.push(`${service}: ${id} adopted (not ssm-setup's: left as it is)`);
      const fixes: string[] = [];
      if (missing.length)
        fixes.push(
          `it has no subnet in ${missing.map(([az]) => az).join(', ')}: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --add-subnet-ids ${missing.map(([, s]) => s).join(' ')} ${r}`,
        );
      if (found.PrivateDnsEnabled !== true)
        fixes.push(`its private DNS is off: aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --private-dns-enabled ${r}`);
      const closed = closedTo(found, scope, state.groups);
      if (closed)
        fixes.push(
          `${closed}: aws ec2 authorize-security-group-ingress --group-id ${(found.Groups ?? [])[0]?.GroupId ?? '<group-id>'} --protocol tcp --port 443 --cidr ${scope.cidrs[0] ?? '<vpc-cidr>'} ${r}`,
        );
      for (const f of fixes) notes.push(`  ${id} (${service}) ${f}`);
    }
    if (needs.s3) planGateway(scope, region, work, notes);
  }
  const total = work.reduce((n, w) => n + (w.monthly ?? 0), 0);
  for (const { vpcId, why } of state.leftAlone) notes.push(`${vpcId} left alone: ${why}`);
  if (work.some((w) => w.kind === 'create-endpoint' || (w.kind === 'modify-endpoint' && w.monthly))) {
    const p = endpointPrice(region);
    notes.push(
      `monthly total of the planned interface endpoints: ${dollars(total)} + $${p.perGb}/GB processed${p.note ? ` ${p.note}` : ''}; the S3 gateway endpoint is free`,
    );
  }
  return { work, notes };
}

const ACTION: Record<EndpointsChange, 'create' | 'update'> = {
  'create-group': 'create',
  'authorize-group': 'update',
  'create-endpoint': 'create',
  'modify-endpoint': 'update',
  'create-gateway': 'create',
  'modify-gateway': 'update',
};

const resourceOf = (w: Work) =>
  w.kind === 'create-group' || w.kind === 'authorize-group'
    ? `security group ${endpointGroupName(w.vpcId)}`
    : w.endpointId
      ? `VPC endpoint ${w.endpointId} (${w.service})`
      : `VPC endpoint ${w.service} in ${w.vpcId}`;

/** Pure: the changes, in the order apply makes them (groups, interface endpoints, gateways). */
export function planVpcEndpoints(state: VpcEndpointsState, input: PlanInput): Change<EndpointsChange>[] {
  return analyse(state, input).work.map((w) => ({ kind: w.kind, subject: w.subject, action: ACTION[w.kind], resource: resourceOf(w), detail: w.detail }));
}

/** The targets that reach Systems Manager only through endpoints not usable yet: `agents` waits for them. */
export function vpcEndpointsOutputs(state: VpcEndpointsState): StepOutputs | undefined {
  const waiting = state.scopes.flatMap((s) => {
    const usable = (svc: string) =>
      s.endpoints.some((e) => e.ServiceName?.endsWith(`.${svc}`) && isType(e, 'interface') && isAvailable(e) && e.PrivateDnsEnabled === true);
    return usable('ssm') && usable('ssmmessages') ? [] : s.targets.map((t) => t.id);
  });
  return waiting.length ? { endpointTargets: waiting.sort() } : undefined;
}

export function vpcEndpointsNote(state: VpcEndpointsState, input: PlanInput): string | undefined {
  if (!state.targets.length) return 'no target instances (--instance-ids or --tag)';
  if (!state.scopes.length && !state.leftAlone.length) return 'no target in a VPC subnet';
  try {
    const { notes } = analyse(state, input);
    return notes.length ? notes.join('\n') : undefined;
  } catch {
    return undefined; // the plan reports the refusal
  }
}
