import { resourceTagsFor } from '../../config/schema.js';
import type { Change, PlanInput } from '../../core/step.js';
import { operatorPolicy } from '../../policies/operator-policy.js';
import type { PolicyDocument } from '../../policies/types.js';
import { type PolicyChange, planManagedPolicy, refuseBadIamTags, refuseOverQuota } from '../shared/managed-policy.js';
import { plannedKeyArn } from '../shared/session-key.js';
import type { OperatorPolicyState } from './read.js';

export type OperatorChange = PolicyChange | 'attach';

/** The operator policy for these settings, with the session key of this run. */
export function desiredOperatorPolicy(input: PlanInput): PolicyDocument {
  const { partition, account } = input.identity;
  return operatorPolicy({
    partition,
    account,
    region: input.region,
    keyArn: plannedKeyArn(input),
    access: input.settings.operatorAccess,
  });
}

/**
 * Pure: the policy, then one attach per user or group that lacks it. Refuses, before anything
 * is written, a user or group at its managed-policy quota, and tags IAM would refuse.
 */
export function planOperatorPolicy(state: OperatorPolicyState, input: PlanInput): Change<OperatorChange>[] {
  const changes: Change<OperatorChange>[] = [
    ...planManagedPolicy(state.policy, desiredOperatorPolicy(input), `operators, ${input.settings.operatorAccess} access`),
  ];
  const lacking = state.principals.filter((p) => !p.attached);
  refuseOverQuota(
    'operator-policy',
    lacking.map((p) => ({ kind: p.kind, name: p.name, attached: p.policies, adding: [state.policy.arn] })),
    state.quotas,
  );
  for (const p of lacking) {
    changes.push({
      kind: 'attach',
      subject: `${p.kind}:${p.name}`,
      action: 'update',
      resource: `IAM ${p.kind} ${p.name}`,
      detail: `attach ${state.policy.name}`,
    });
  }
  if (changes.some((c) => c.action === 'create')) refuseBadIamTags(resourceTagsFor(input.settings));
  return changes;
}
