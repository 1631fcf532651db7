// @cloud-copilot/iam-simulate is AGPL-3.0: a dev dependency used by tests only, never imported from src/.
import { type EvaluationResult, runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';

export const SIM_ACCOUNT = '123456789012';

export interface SimRequest {
  action: string;
  /** A concrete ARN, or `*` for actions without resource types. */
  resource: string;
  /** Condition keys and policy variables: aws:username, aws:userid, ssm:resourceTag/…, … */
  context?: Record<string, string | string[]>;
  /** The caller; an IAM user of SIM_ACCOUNT unless given. */
  principal?: string;
}

/** Anything with a Statement array: permission and trust policies alike. */
type Policy = { Version: string; Statement: readonly object[] };

/**
 * The resource's owner is always SIM_ACCOUNT, also when its ARN names another account: the
 * simulator would otherwise deny every cross-account request for want of a resource policy, and
 * a test of the identity policy's ARN scoping could then not fail.
 */
function simulation(req: SimRequest, identity: readonly Policy[], resourcePolicy?: Policy): Simulation {
  return {
    request: {
      principal: req.principal ?? `arn:aws:iam::${SIM_ACCOUNT}:user/alice`,
      action: req.action,
      resource: { resource: req.resource, accountId: SIM_ACCOUNT },
      contextVariables: req.context ?? {},
    },
    identityPolicies: identity.map((policy, i) => ({ name: `policy${i}`, policy })),
    ...(resourcePolicy ? { resourcePolicy } : {}),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
}

/**
 * How IAM decides `req` for a caller with these identity policies (and the resource policy, for a
 * trust policy). Throws with iam-simulate's errors when it cannot evaluate: unknown action, an ARN
 * of no resource type of the action, a policy that does not validate.
 */
export async function simulate(req: SimRequest, identity: readonly Policy[], resourcePolicy?: Policy): Promise<EvaluationResult> {
  const result = await runSimulation(simulation(req, identity, resourcePolicy), {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate could not evaluate ${req.action} on ${req.resource}: ${JSON.stringify(result.errors, null, 2)}`);
  }
  return result.overallResult;
}

/**
 * Like simulate, without iam-simulate's validation of the request. Only for ARNs that AWS uses
 * but the Service Authorization Reference's patterns do not match: AWS-owned SSM documents have
 * an empty account (`arn:aws:ssm:<region>::document/AWS-StartSSHSession`), while the document
 * pattern requires one, so the validated run answers `no.resource.types`.
 */
export function simulateUnvalidated(req: SimRequest, identity: readonly Policy[]): EvaluationResult {
  return runUnsafeSimulation(simulation(req, identity), {});
}

/** Every action of the policy, once each, as written in its statements. */
export const actionsOf = (policy: Policy): string[] => [
  ...new Set(policy.Statement.flatMap((s) => ([] as string[]).concat((s as { Action: string | string[] }).Action))),
];
