import { resourceTagsFor } from '../../config/schema.js';
import type { ChangeRisk } from '../../core/report.js';
import type { Change, PlanInput } from '../../core/step.js';
import { operatorPolicy, operatorPolicyVariant } from '../../policies/operator-policy.js';
import type { PolicyDocument } from '../../policies/types.js';
import { type PolicyChange, planManagedPolicy, refuseBadIamTags, refuseOverQuota } from '../shared/managed-policy.js';
import { withRisk } from '../shared/risk.js';
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
    denyUnlogged: input.settings.denyUnloggedSessions,
  });
}

/**
 * Pure: what an update of the policy weakens, judged from the deployed document. restricted →
 * full lets operators start any session and end anyone's; dropping the Deny of
 * --deny-unlogged-sessions lets them open sessions whose content is never recorded. Both at
 * once: one risk, the security one, naming both.
 */
export function operatorPolicyRisk(current: PolicyDocument | undefined, input: PlanInput): ChangeRisk | undefined {
  const was = operatorPolicyVariant(current);
  const widened = was.access === 'restricted' && input.settings.operatorAccess === 'full';
  const undenied = was.denyUnlogged && !input.settings.denyUnloggedSessions;
  const why = [
    widened && 'operator access restricted → full: operators may start sessions with any document on any instance and end anyone’s sessions',
    undenied &&
      'the Deny of unlogged sessions is removed (--deny-unlogged-sessions off): operators may again open SSH or port-forwarding sessions, whose content is never recorded',
  ].filter((x): x is string => !!x);
  if (!why.length) return undefined;
  return { kind: widened ? 'weakens-security' : 'weakens-audit', why: why.join('; ') };
}

/**
 * Pure: the policy, then one attach per user or group that lacks it. Refuses, before anything
 * is written, a user or group at its managed-policy quota, and tags IAM would refuse.
 */
export function planOperatorPolicy(state: OperatorPolicyState, input: PlanInput): Change<OperatorChange>[] {
  const changes: Change<OperatorChange>[] = planManagedPolicy(
    state.policy,
    desiredOperatorPolicy(input),
    `operators, ${input.settings.operatorAccess} access`,
  ).map((c) => ({
    ...c,
    ...withRisk(c.kind === 'update-policy' && state.policy.kind === 'present' ? operatorPolicyRisk(state.policy.document, input) : undefined),
  }));
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

/**
 * Pure: the gap the policy leaves in the audit trail, said once in the plan: the sessions it
 * allows whose content Session Manager never records; undefined with --deny-unlogged-sessions.
 */
export function unloggedNote(input: PlanInput): string | undefined {
  if (input.settings.denyUnloggedSessions) return undefined;
  const which =
    input.settings.operatorAccess === 'full'
      ? 'SSH and port-forwarding sessions (AWS-StartSSHSession, AWS-StartPortForwardingSession…)'
      : 'SSH sessions (AWS-StartSSHSession, also used by scp)';
  return `operators may start ${which}, whose content Session Manager never records (only their start and end are); --deny-unlogged-sessions denies them`;
}
