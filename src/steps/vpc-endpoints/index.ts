import type { Step, StepContext } from '../../core/step.js';
import { dollars } from '../../policies/vpc-endpoints.js';
import { applyVpcEndpoints } from './apply.js';
import { analyse, type EndpointsChange, planVpcEndpoints, vpcEndpointsNote, vpcEndpointsOutputs } from './plan.js';
import { readVpcEndpoints, type VpcEndpointsState } from './read.js';

export type { VpcEndpointsState } from './read.js';

/**
 * Private subnets: the interface endpoints Session Manager needs (ssm, ssmmessages; kms, logs
 * and ec2messages when used), with private DNS and a 443 security group, and the S3 gateway
 * endpoint, for the target VPCs without an internet route. Adopts what exists; shows the cost.
 */
export const vpcEndpointsStep: Step<VpcEndpointsState, EndpointsChange> = {
  id: 'vpc-endpoints',
  skip: (s) => (s.vpcEndpoints ? undefined : 'off (--vpc-endpoints creates the endpoints private subnets need)'),
  ask: askVpcEndpoints,
  read: readVpcEndpoints,
  plan: planVpcEndpoints,
  apply: applyVpcEndpoints,
  outputs: vpcEndpointsOutputs,
  note: vpcEndpointsNote,
};

/** The wizard offers the endpoints when some targets sit in subnets without an internet route, with their cost. */
async function askVpcEndpoints(ctx: StepContext): Promise<Record<string, unknown>> {
  if (ctx.settings.vpcEndpoints || (ctx.sources.vpcEndpoints ?? 'default') !== 'default') return {};
  const state = await readVpcEndpoints(ctx);
  if (!state.scopes.length) return {};
  const ids = state.scopes.flatMap((s) => s.targets.map((t) => t.id));
  let cost = '';
  try {
    const { work } = analyse(state, { ...ctx, settings: { ...ctx.settings, vpcEndpoints: true } });
    const monthly = work.reduce((n, w) => n + (w.monthly ?? 0), 0);
    const made = work.filter((w) => w.kind === 'create-endpoint').length;
    cost = made || monthly ? ` (${made} interface endpoint${made === 1 ? '' : 's'}, about ${dollars(monthly)}/month plus data; the S3 gateway is free)` : '';
  } catch {
    // A VPC without DNS support: the plan says so, with the fix, if the answer is yes.
  }
  const some = ids.slice(0, 3).join(', ') + (ids.length > 3 ? ` and ${ids.length - 3} more` : '');
  const yes = await ctx.io.confirm({
    id: 'vpc-endpoints.create',
    message: `${some} sit in subnets without an internet route. Create the VPC endpoints Session Manager needs${cost}?`,
    default: true,
  });
  return yes ? { vpcEndpoints: true } : {};
}
