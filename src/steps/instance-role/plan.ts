import { StepError } from '../../base/errors.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { ChangeRisk } from '../../core/report.js';
import type { Change, PlanInput, StepOutputs } from '../../core/step.js';
import { instancePolicy } from '../../policies/instance-policy.js';
import type { PolicyDocument } from '../../policies/types.js';
import { bucketNameFor } from '../log-bucket/read.js';
import { type AttachTarget, DEFAULT_ATTACH_QUOTA, type PolicyChange, planManagedPolicy, refuseBadIamTags, refuseOverQuota } from '../shared/managed-policy.js';
import { withRisk } from '../shared/risk.js';
import { plannedKeyArn } from '../shared/session-key.js';
import { cannotTakeTag, unrecordedWhy } from './associate.js';
import { awsManagedPolicyArn, CLOUDWATCH_AGENT_POLICY, type InstanceRoleState, PROFILE_ASSOCIATED_TAG, wantedPolicies } from './read.js';

export type InstanceRoleChange = PolicyChange | 'create-role' | 'attach' | 'create-profile' | 'add-role' | 'associate';

/** The instance policy for these settings, scoped to the real key, bucket, prefix and log group. */
export function desiredInstancePolicy(input: PlanInput): PolicyDocument {
  const { partition, account } = input.identity;
  const { settings, outputs, region } = input;
  const logGroupArn = outputs.logGroupArn ?? `arn:${partition}:logs:${region}:${account}:log-group:${settings.logGroup}`;
  return instancePolicy({
    partition,
    account,
    region,
    keyArn: plannedKeyArn(input),
    bucketName: outputs.bucketName ?? bucketNameFor(settings, account, region),
    s3Prefix: settings.s3Prefix,
    logGroupArn: settings.cloudwatchLogs ? logGroupArn : undefined,
  });
}

export { wantedPolicies };

/** The wanted policies a role does not have yet. */
export const missingOn = (state: InstanceRoleState, role: string, wanted: readonly string[]) => wanted.filter((arn) => !state.attached.get(role)?.has(arn));

const shortName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const label = (t: { id: string; name?: string }) => (t.name ? `${t.id} (${t.name})` : t.id);

/** Targets that have no profile and none on its way. */
export const bareTargets = (state: InstanceRoleState) => state.targets.filter((t) => !t.profileArn && !state.associating.has(t.id));

/**
 * Pure. The order of the changes is the order apply makes them. Refuses (before anything is
 * written) a role that cannot take our policies, and tags IAM would refuse on what it creates.
 */
export function planInstanceRole(state: InstanceRoleState, input: PlanInput): Change<InstanceRoleChange>[] {
  const changes = planChanges(state, input);
  if (changes.some((c) => c.action === 'create')) refuseBadIamTags(resourceTagsFor(input.settings));
  return changes;
}

function planChanges(state: InstanceRoleState, input: PlanInput): Change<InstanceRoleChange>[] {
  const desired = desiredInstancePolicy(input);
  const current = state.policy.kind === 'present' ? state.policy.document : undefined;
  const changes: Change<InstanceRoleChange>[] = planManagedPolicy(state.policy, desired, 'Session Manager rights for instances').map((c) => ({
    ...c,
    ...withRisk(c.kind === 'update-policy' ? instancePolicyRisk(current, desired) : undefined),
  }));
  const wanted = wantedPolicies(input);
  const role = input.settings.instanceRole;
  const bare = bareTargets(state);

  const roles = new Map<string, string[]>(); // role → instances using it
  for (const t of state.targets) {
    for (const r of (t.profileArn && state.profiles.get(t.profileArn)?.roles) || []) roles.set(r, [...(roles.get(r) ?? []), t.id]);
  }
  if (bare.length && state.ownRole?.exists) roles.set(role, [...(roles.get(role) ?? []), ...bare.map((t) => t.id)]);
  if (bare.length && !state.ownRole?.exists) {
    changes.push({
      kind: 'create-role',
      subject: role,
      action: 'create',
      resource: `IAM role ${role}`,
      detail: `trusted by EC2; with ${wanted.map(shortName).join(', ')}`,
    });
  }
  const room: AttachTarget[] = [];
  for (const [r, ids] of roles) {
    const missing = missingOn(state, r, wanted);
    room.push({ kind: 'role', name: r, attached: state.attached.get(r) ?? [], adding: missing });
    if (missing.length)
      changes.push({
        kind: 'attach',
        subject: r,
        action: 'update',
        resource: `IAM role ${r}`,
        detail: `attach ${missing.map(shortName).join(', ')} (used by ${ids.join(', ')})`,
      });
  }
  // Refused here, before any step writes: IAM's LimitExceeded would come mid-apply (and be retried as throttling).
  const cw = awsManagedPolicyArn(input.identity.partition, CLOUDWATCH_AGENT_POLICY);
  const limit = state.quotas?.role ?? DEFAULT_ATTACH_QUOTA;
  const fitsWithoutCw = (t: AttachTarget) => {
    const after = (state.attached.get(t.name)?.size ?? 0) + t.adding.length;
    return t.adding.includes(cw) && after > limit && after - 1 <= limit;
  };
  const lessCw = room.some(fitsWithoutCw) ? 'run with --no-cloudwatch-agent, which attaches one policy fewer' : undefined;
  refuseOverQuota('instance-role', room, state.quotas, lessCw);
  if (!bare.length) return changes;
  const profile = state.ownProfile;
  if (!profile) {
    changes.push({ kind: 'create-profile', subject: role, action: 'create', resource: `instance profile ${role}`, detail: `holding role ${role}` });
  } else if (!profile.roles.includes(role)) {
    if (profile.roles.length) {
      throw new StepError('instance-role', 'PROFILE_HOLDS_OTHER_ROLE', `instance profile ${role} already holds role ${profile.roles[0]}, not ${role}`, {
        hint: 'a profile holds one role: pass another --instance-role, or fix the profile by hand',
      });
    }
    changes.push({ kind: 'add-role', subject: role, action: 'update', resource: `instance profile ${role}`, detail: `add role ${role}` });
  }
  for (const t of bare) {
    changes.push({
      kind: 'associate',
      subject: t.id,
      action: 'update',
      resource: `instance ${label(t)}`,
      detail: `associate instance profile ${role} (it has none; ${t.state})${cannotTakeTag(t) ? '' : `; tag ${PROFILE_ASSOCIATED_TAG}=${role} for destroy`}`,
    });
  }
  return changes;
}

/** Instance id → profile name; instances without one get `ownProfile` when given (after apply). */
export function profilesOf(state: InstanceRoleState, ownProfile?: string): Record<string, string> {
  return Object.fromEntries(
    state.targets.map((t) => {
      const arn = t.profileArn ?? state.associating.get(t.id);
      return [t.id, arn ? shortName(arn) : (ownProfile ?? '(none)')];
    }),
  );
}

/** What is in place when nothing needs to change. */
export function instanceRoleOutputs(state: InstanceRoleState): StepOutputs | undefined {
  if (state.policy.kind === 'absent') return undefined;
  const instanceRoles = [...state.attached]
    .filter(([, arns]) => arns.has(state.policy.arn))
    .map(([r]) => r)
    .sort();
  return { instancePolicyArn: state.policy.arn, instanceRoles, instanceProfiles: profilesOf(state) };
}

/** Remarks for the plan: no targets, profiles without a role, instances that cannot take the association tag. */
export function instanceRoleNote(state: InstanceRoleState, input?: PlanInput): string | undefined {
  if (!state.targets.length) return 'no target instances (--instance-ids or --tag): only the instance policy is managed';
  const empty = [...state.profiles.values()].filter((p) => !p.roles.length).map((p) => p.name);
  const full = bareTargets(state)
    .filter(cannotTakeTag)
    .map((t) => t.id);
  const notes = [
    empty.length ? `instance profile ${empty.join(', ')} has no role: its instances are left alone` : '',
    full.length && input ? unrecordedWhy(full, input.settings.instanceRole) : '',
  ].filter(Boolean);
  return notes.length ? notes.join('; ') : undefined;
}

/** The statements that let the agent write the session logs, and what is lost without each. */
const LOGGING_STATEMENTS: Readonly<Record<string, string>> = {
  SessionLogsToS3: 'S3',
  SessionLogsToCloudWatch: 'CloudWatch Logs',
};

/** Pure: an update that drops a statement the agent needs to write session logs weakens the audit. */
export function instancePolicyRisk(current: PolicyDocument | undefined, desired: PolicyDocument): ChangeRisk | undefined {
  const sids = (d: PolicyDocument | undefined) => new Set((d?.Statement ?? []).map((st) => st.Sid));
  const [was, now] = [sids(current), sids(desired)];
  const lost = Object.keys(LOGGING_STATEMENTS).filter((sid) => was.has(sid) && !now.has(sid));
  if (!lost.length) return undefined;
  return {
    kind: 'weakens-audit',
    why: `instances may no longer write session logs to ${lost.map((sid) => LOGGING_STATEMENTS[sid]).join(' or ')} (${lost.join(', ')} removed)`,
  };
}
