import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { unlessMissing } from '../aws/errors.js';
import { chunks } from '../base/batch.js';
import type { ReadContext, TargetInstance } from '../core/step.js';
import { type Finding, warn } from '../diagnose/finding.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import type { Claims } from './account.js';
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
  if (!principal) return [warn('operator', `cannot check the rights of ${arn}`)];
  const findings = await rightsFindings(ctx.aws, 'operator', principal, operatorNeeds(ctx, targets, claims));
  const fix = operatorFix(ctx, principal);
  // The fix names the ssm-setup command that grants it, then the raw grant for those who manage IAM by hand.
  return findings.map((f) => (f.status === 'ok' || !f.fix ? f : { ...f, fix: `${fix} (or ${f.fix})` }));
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
