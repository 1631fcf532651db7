import { DEFAULTS } from '../../config/load.js';
import type { TargetInstance } from '../../core/step.js';
import { AGENT_MANAGED_POLICIES, agentPolicy, DEPRECATED_AGENT_POLICY } from '../agent-policy.js';
import { CHECKS, type Checked, type DiagnoseContext, lastSegment } from '../context.js';
import { error, ok, warn } from '../finding.js';
import { isDenied, missing, type Reads, type RoleRead } from '../reads.js';

/**
 * The instance profile, then its role's rights: without a profile (or with one that is gone or
 * has no role) the agent has no credentials to register with. Pure, over the reads.
 */
export function checkIam(t: TargetInstance, reads: Pick<Reads, 'profiles' | 'roles'>, ctx: DiagnoseContext): Checked[] {
  const runRole = `ssm-setup run instance-role --instance-ids ${t.id}`;
  if (!t.profileArn) {
    const dhmc = 'or, without any profile: Default Host Management Configuration, `ssm-setup run host-management --dhmc` (agent 3.2.582.0 or later, IMDSv2)';
    return [
      {
        findings: [error(CHECKS.profile, 'no instance profile: the agent has no credentials to register with', runRole)],
        cause: { text: 'no instance profile: the agent has no AWS credentials to register with', fix: [runRole, dhmc] },
      },
    ];
  }
  const name = lastSegment(t.profileArn);
  const profile = reads.profiles.get(t.profileArn);
  if (!profile || isDenied(profile)) {
    const denied = profile ?? { denied: 'iam:GetInstanceProfile' };
    return [{ findings: [ok(CHECKS.profile, `instance profile ${name}`)] }, { findings: [warn(CHECKS.rights, missing(`instance profile ${name}`, denied))] }];
  }
  if (profile === 'missing') {
    return [
      {
        findings: [error(CHECKS.profile, `instance profile ${name} no longer exists`, runRole)],
        cause: { text: `the instance profile ${name} no longer exists`, fix: [runRole] },
      },
    ];
  }
  const role = profile.roles[0];
  if (!role) {
    const fix = `aws iam add-role-to-instance-profile --instance-profile-name ${name} --role-name <role>`;
    return [
      {
        findings: [error(CHECKS.profile, `instance profile ${name} has no role`, fix)],
        cause: { text: `the instance profile ${name} has no role`, fix: [fix, `or: ${runRole}`] },
      },
    ];
  }
  return [{ findings: [ok(CHECKS.profile, `instance profile ${name} (role ${role})`)] }, checkRights(role, reads.roles.get(role), runRole, ctx)];
}

/**
 * Whether the role has the agent's rights: an agent policy attached is ok, the deprecated one a
 * warning, inline policies only a maybe; none of them is the cause. Pure.
 */
export function checkRights(role: string, read: RoleRead | undefined, runRole: string, ctx: DiagnoseContext): Checked {
  const check = CHECKS.rights;
  const core = `arn:${ctx.partition}:iam::aws:policy/${AGENT_MANAGED_POLICIES[0]}`;
  const attach = `aws iam attach-role-policy --role-name ${role} --policy-arn ${core}`;
  if (!read) return { findings: [warn(check, `role ${role} was not read`)] };
  if (isDenied(read.attached)) return { findings: [warn(check, missing(`the policies of role ${role}`, read.attached))] };
  const found = agentPolicy(read.attached, ctx);
  if (found?.deprecated) {
    return { findings: [warn(check, `role ${role} relies on ${DEPRECATED_AGENT_POLICY}, which is deprecated and grants far more`, attach)] };
  }
  if (found) return { findings: [ok(check, `role ${role} has ${lastSegment(found.arn)}`)] };
  const expected = [...AGENT_MANAGED_POLICIES, ctx.instancePolicyArn ? lastSegment(ctx.instancePolicyArn) : DEFAULTS.instancePolicy].join(', ');
  if (read.inline && isDenied(read.inline)) {
    return { findings: [warn(check, `role ${role} has none of ${expected} attached; ${missing('its inline policies', read.inline)}`, runRole)] };
  }
  if (read.inline?.length) {
    return {
      findings: [
        warn(check, `role ${role} has none of ${expected} attached; its inline policies (${read.inline.join(', ')}) may grant the agent's rights`, runRole),
      ],
    };
  }
  return {
    findings: [
      error(check, `role ${role} has none of ${expected}: the agent cannot register (ssm:UpdateInstanceInformation) or open sessions (ssmmessages:*)`, runRole),
    ],
    cause: { text: `the role ${role} lacks the rights the agent needs to register`, fix: [runRole, `or: ${attach}`] },
  };
}
