import type { AssociationDescription } from '@aws-sdk/client-ssm';
import type { Change } from '../../core/step.js';
import { type AssociationTarget, DHMC_POLICY, DHMC_ROLE, DHMC_SETTING_VALUE } from '../../policies/associations.js';
import { sameJson } from '../../policies/types.js';
import type { Desired, DhmcState, HostManagementState } from './read.js';

export type HostChange = 'create-association' | 'update-association' | 'delete-association' | 'dhmc-role' | 'dhmc-policy' | 'dhmc-setting';

/** Why an older association of ours with the same name goes. */
export const DUPLICATE_REASON = 'duplicate left by a lost CreateAssociation answer or a concurrent run';

/**
 * Per desired name: create ours, or update the one kept (the newest of ours) when it drifted,
 * then delete the older ones of ours with that name. Foreign ones are not in the plan at all.
 */
export function planHostManagement(state: HostManagementState): Change<HostChange>[] {
  const changes: Change<HostChange>[] = [];
  for (const d of state.desired) {
    const now = state.existing.get(d.name);
    const what = `${d.document}, ${d.schedule}, ${describeTargets(d.targets)}`;
    if (!now) changes.push({ kind: 'create-association', subject: d.name, action: 'create', resource: `association ${d.name}`, detail: what });
    else {
      const drift = driftOf(now, d);
      if (drift.length)
        changes.push({
          kind: 'update-association',
          subject: d.name,
          action: 'update',
          resource: `association ${d.name}`,
          detail: `${drift.join(', ')} differ → ${what}`,
        });
    }
    for (const dup of state.duplicates.filter((a) => a.AssociationName === d.name)) {
      changes.push({
        kind: 'delete-association',
        subject: dup.AssociationId!,
        action: 'delete',
        resource: `association ${d.name} (${dup.AssociationId})`,
        detail: `${DUPLICATE_REASON}; made ${dup.Date?.toISOString() ?? 'at an unknown date'}, ${now?.AssociationId} (the newest) is kept`,
      });
    }
  }
  if (state.dhmc) changes.push(...planDhmc(state.dhmc));
  return changes;
}

export function driftOf(now: AssociationDescription, d: Desired): string[] {
  const drift: string[] = [];
  if (now.Name !== d.document) drift.push('document');
  if (now.ScheduleExpression !== d.schedule) drift.push('schedule');
  if (!sameJson(now.Parameters ?? {}, d.parameters)) drift.push('parameters');
  if (!sameJson(now.Targets ?? [], d.targets)) drift.push('targets');
  return drift;
}

const describeTargets = (targets: readonly AssociationTarget[]) =>
  targets
    .map((t) => (t.Key === 'InstanceIds' ? `${t.Values.length} instance${t.Values.length > 1 ? 's' : ''}` : `${t.Key}=${t.Values.join('|')}`))
    .join(' and ');

export function planDhmc(d: DhmcState): Change<HostChange>[] {
  const changes: Change<HostChange>[] = [];
  if (!d.roleExists)
    changes.push({
      kind: 'dhmc-role',
      action: 'create',
      resource: `IAM role service-role/${DHMC_ROLE}`,
      detail: `trusted by Systems Manager; with ${DHMC_POLICY}`,
    });
  else if (!d.policyAttached) changes.push({ kind: 'dhmc-policy', action: 'update', resource: `IAM role ${DHMC_ROLE}`, detail: `attach ${DHMC_POLICY}` });
  if (d.settingValue !== DHMC_SETTING_VALUE) {
    changes.push({
      kind: 'dhmc-setting',
      action: 'update',
      resource: 'Default Host Management Configuration',
      detail: `${d.settingValue ?? 'off'} → on (needs IMDSv2 and agent ≥ 3.2.582.0; takes up to 30 minutes)`,
    });
  }
  return changes;
}

/** The remark beside the plan: no targets, DHMC already on, and the foreign associations left alone. */
export function hostManagementNote(state: HostManagementState): string | undefined {
  if (!state.desired.length) return 'no target instances (--instance-ids or --tag): no association made';
  const lines: string[] = [];
  if (state.dhmc && !planDhmc(state.dhmc).length) lines.push('Default Host Management Configuration is already on');
  if (state.foreign.length) {
    const list = state.foreign.map((f) => `${f.name} (${f.id})`).join(', ');
    lines.push(
      `${state.foreign.length} association${state.foreign.length > 1 ? 's' : ''} named like ssm-setup's but not tagged ManagedBy=ssm-setup, left alone (never changed or deleted; ssm-setup keeps its own beside): ${list}`,
    );
  }
  return lines.length ? lines.join('\n') : undefined;
}
