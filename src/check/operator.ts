import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { isAccessDenied, unlessMissing } from '../aws/errors.js';
import { chunks } from '../base/batch.js';
import type { ReadContext, TargetInstance } from '../core/step.js';
import { type Finding, warn } from '../diagnose/finding.js';
import { evaluate } from '../policies/evaluate.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import type { PolicyDocument } from '../policies/types.js';
import { type ManagedPolicyState, policyArn, readManagedPolicy } from '../steps/shared/managed-policy.js';
import type { Claims } from './account.js';
import { resourcePolicyFindings } from './resource-policies.js';
import { type Requirement, rightsFindings } from './rights.js';

/** What the operator needs for a session on these targets: start it with the preferences document, make data keys, open its data channel, end it. Pure. */
export function operatorNeeds(ctx: Pick<ReadContext, 'identity' | 'region'>, targets: readonly TargetInstance[], claims: Claims | undefined): Requirement[] {
  const { partition, account, arn, userId } = ctx.identity;
  const caller = arn.split('/').pop() ?? '';
  const needs: Requirement[] = [];
  for (const batch of chunks(targets)) {
    needs.push({
      what: 'ssm:StartSession on the targets',
      actions: ['ssm:StartSession'],
      resources: batch.map((t) => `arn:${partition}:ec2:${ctx.region}:${account}:instance/${t.id}`),
    });
  }
  needs.push({
    what: `ssm:StartSession with ${PREFERENCES_DOCUMENT}`,
    actions: ['ssm:StartSession'],
    resources: [`arn:${partition}:ssm:${ctx.region}:${account}:document/${PREFERENCES_DOCUMENT}`],
  });
  if (claims?.keyArn) needs.push({ what: 'kms:GenerateDataKey on the session key', actions: ['kms:GenerateDataKey'], resources: [claims.keyArn] });
  // The session's own variables: IAM users' sessions are named after the user, assumed roles'
  // carry the caller's user id in the aws:ssmmessages:session-id tag.
  const context = [
    { ContextKeyName: 'aws:username', ContextKeyValues: [caller], ContextKeyType: 'string' as const },
    { ContextKeyName: 'aws:userid', ContextKeyValues: [userId], ContextKeyType: 'string' as const },
    { ContextKeyName: 'ssm:resourceTag/aws:ssmmessages:session-id', ContextKeyValues: [userId], ContextKeyType: 'string' as const },
  ];
  const session = (id: string) => `arn:${partition}:ssm:${ctx.region}:${account}:session/${id}-0123456789abcdef0`;
  // Without OpenDataChannel, StartSession succeeds and the session then fails to open.
  needs.push({
    what: 'opening the data channel of its own sessions (ssmmessages:OpenDataChannel)',
    actions: ['ssmmessages:OpenDataChannel'],
    resources: [session(userId)],
    context,
  });
  needs.push({ what: 'ending its own sessions (ssm:TerminateSession)', actions: ['ssm:TerminateSession'], resources: [session(caller)], context });
  return needs;
}

/** The caller may start sessions on the targets with the preferences document, make data keys, end its own sessions. */
export async function operatorFindings(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Finding[]> {
  const { arn } = ctx.identity;
  const principal = await principalArn(ctx, arn);
  const unlogged = await unloggedFindings(ctx);
  if (!principal) return [warn('operator', `cannot check the rights of ${arn}`), ...unlogged];
  const findings = await rightsFindings(ctx.aws, 'operator', principal, operatorNeeds(ctx, targets, claims));
  const fix = operatorFix(ctx, principal);
  // The fix names the ssm-setup command that grants it, then the raw grant for those who manage IAM by hand.
  // The key policy's own word on the caller: a Deny there overrides what IAM grants.
  const key = resourcePolicyFindings(ctx, principal, claims, 'operator');
  return [...findings.map((f) => (f.status === 'ok' || !f.fix ? f : { ...f, fix: `${fix} (or ${f.fix})` })), ...key, ...unlogged];
}

/**
 * The AWS session documents whose content Session Manager never records, looked up one by one
 * in the operator policy so that the warning names those it allows. AWS-owned documents have
 * no account in their ARN.
 */
export const UNLOGGED_PROBES = ['AWS-StartSSHSession', 'AWS-StartPortForwardingSession', 'AWS-StartPortForwardingSessionToRemoteHost'] as const;

/**
 * Said once: the operator policy ssm-setup manages (`--operator-policy`) lets operators open
 * sessions whose content is never recorded (SSH, SCP, port forwarding). Read from the policy
 * itself, not from the caller's rights: whoever runs `check` (an administrator, often) is not
 * the operator the policy is for. No finding when the policy denies them, is absent, or cannot
 * be read (the operator findings above say what the caller lacks).
 */
export async function unloggedFindings(ctx: ReadContext): Promise<Finding[]> {
  const name = ctx.settings.operatorPolicy;
  let state: ManagedPolicyState;
  try {
    state = await readManagedPolicy(ctx.aws.get(IAMClient), name, policyArn(ctx.identity.partition, ctx.identity.account, name));
  } catch (err) {
    if (isAccessDenied(err)) return [];
    throw err;
  }
  if (state.kind !== 'present' || !state.document) return [];
  return unloggedFinding(ctx, state.document);
}

/** Pure: the warning when `doc` allows (even under a condition) ssm:StartSession with a document of UNLOGGED_PROBES. */
export function unloggedFinding(ctx: Pick<ReadContext, 'settings' | 'identity' | 'region'>, doc: PolicyDocument): Finding[] {
  const arn = (name: string) => `arn:${ctx.identity.partition}:ssm:${ctx.region}::document/${name}`;
  const allowed = UNLOGGED_PROBES.filter((name) => ['allowed', 'conditional'].includes(evaluate([doc], 'ssm:StartSession', arn(name))));
  if (!allowed.length) return [];
  return [
    warn(
      'unlogged-sessions',
      `the operator policy ${ctx.settings.operatorPolicy} allows sessions with ${allowed.join(', ')}: Session Manager never records the content of SSH, SCP and port-forwarding sessions (only their start and end)`,
      `ssm-setup run operator-policy --operator-access ${ctx.settings.operatorAccess} --deny-unlogged-sessions`,
    ),
  ];
}

/** The command that gives this caller the operator policy: for a user directly, for a role through its policy. */
export function operatorFix(ctx: Pick<ReadContext, 'settings' | 'identity'>, principal: string): string {
  const name = principal.slice(principal.lastIndexOf('/') + 1);
  const run = `ssm-setup run operator-policy --operator-access ${ctx.settings.operatorAccess}`;
  if (principal.includes(':user/')) return `${run} --operator-users ${name}`;
  const policy = `arn:${ctx.identity.partition}:iam::${ctx.identity.account}:policy/${ctx.settings.operatorPolicy}`;
  return `${run}, then aws iam attach-role-policy --role-name ${name} --policy-arn ${policy}`;
}

/** IAM users as they are; an assumed role's session → its role (with its path). */
async function principalArn(ctx: ReadContext, arn: string): Promise<string | undefined> {
  if (/:user\//.test(arn)) return arn;
  const m = /:assumed-role\/([^/]+)\//.exec(arn);
  if (!m) return undefined;
  const role = await unlessMissing(ctx.aws.get(IAMClient).send(new GetRoleCommand({ RoleName: m[1] })), 'NoSuchEntityException');
  return role?.Role?.Arn;
}
