import { DEFAULTS } from '../config/load.js';
import { type DiagnoseContext, lastSegment } from './context.js';

/** AWS managed policies that give the agent what it needs to register and open sessions. */
export const AGENT_MANAGED_POLICIES = ['AmazonSSMManagedInstanceCore', 'AmazonSSMManagedEC2InstanceDefaultPolicy'] as const;
/** Deprecated, but it grants the agent's rights: a warning, not a cause. */
export const DEPRECATED_AGENT_POLICY = 'AmazonEC2RoleforSSM';

/**
 * The attached policy that gives the agent its rights, if any (the deprecated one last): an AWS
 * managed agent policy, the ssm-setup instance policy, or a customer policy of its name. The
 * reads use it to skip the inline policies; the role-rights check to judge the role.
 */
export function agentPolicy(attached: readonly string[], ctx: DiagnoseContext): { arn: string; deprecated: boolean } | undefined {
  const ours = ctx.instancePolicyArn;
  const ourName = ours ? lastSegment(ours) : DEFAULTS.instancePolicy;
  const awsManaged = new Set(AGENT_MANAGED_POLICIES.map((n) => `arn:${ctx.partition}:iam::aws:policy/${n}`));
  const good = attached.find((arn) => awsManaged.has(arn) || arn === ours || (!arn.includes(':iam::aws:') && lastSegment(arn) === ourName));
  if (good) return { arn: good, deprecated: false };
  const old = attached.find((arn) => arn.includes(':iam::aws:') && lastSegment(arn) === DEPRECATED_AGENT_POLICY);
  return old ? { arn: old, deprecated: true } : undefined;
}
