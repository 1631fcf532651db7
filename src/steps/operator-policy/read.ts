import { IAMClient, paginateListAttachedGroupPolicies, paginateListAttachedUserPolicies, paginateListGroups, paginateListUsers } from '@aws-sdk/client-iam';
import { errorName } from '../../aws/errors.js';
import { UsageError } from '../../base/errors.js';
import type { ReadContext } from '../../core/step.js';
import { type AttachQuotas, type ManagedPolicyState, policyArn, readAttachQuotas, readManagedPolicy } from '../shared/managed-policy.js';

/** A user or group of --operator-users / --operator-groups, with the managed policies it has. */
export interface Principal {
  readonly kind: 'user' | 'group';
  readonly name: string;
  /** It has the operator policy already. */
  readonly attached: boolean;
  /** Every managed policy attached to it (ARNs): counted against the quota. */
  readonly policies: readonly string[];
}

export interface OperatorPolicyState {
  readonly policy: ManagedPolicyState;
  readonly principals: readonly Principal[];
  /** The account's managed-policy quotas, read only when some principal lacks the policy. */
  readonly quotas?: AttachQuotas;
}

/** The wizard lists at most this many users and groups. */
const MAX_LISTED = 200;

/** Read-only: the policy, and what each chosen user and group has attached. Unknown ones are a UsageError (exit 2). */
export async function readOperatorPolicy(ctx: ReadContext): Promise<OperatorPolicyState> {
  const iam = ctx.aws.get(IAMClient);
  const { partition, account } = ctx.identity;
  const name = ctx.settings.operatorPolicy;
  const arn = policyArn(partition, account, name);
  const wanted = [
    ...ctx.settings.operatorUsers.map((n) => ({ kind: 'user' as const, name: n })),
    ...ctx.settings.operatorGroups.map((n) => ({ kind: 'group' as const, name: n })),
  ];
  // The policy and the principals (their attachments, then the quota when one lacks the policy)
  // do not depend on each other: each at its own pace. The principals keep the settings' order.
  const [policy, { principals, quotas }] = await Promise.all([readManagedPolicy(iam, name, arn), readPrincipals(iam, wanted, arn)]);
  return { policy, principals, ...(quotas ? { quotas } : {}) };
}

async function readPrincipals(
  iam: IAMClient,
  wanted: readonly Pick<Principal, 'kind' | 'name'>[],
  arn: string,
): Promise<{ principals: Principal[]; quotas?: AttachQuotas }> {
  const found = await Promise.all(wanted.map((p) => attachedTo(iam, p.kind, p.name)));
  const principals: Principal[] = [];
  const missing: string[] = [];
  for (const [i, p] of wanted.entries()) {
    const attached = found[i];
    if (attached === undefined) missing.push(`${p.kind} ${p.name}`);
    else principals.push({ ...p, attached: attached.has(arn), policies: [...attached] });
  }
  if (missing.length) {
    throw new UsageError('UNKNOWN_PRINCIPAL', `--operator-users/--operator-groups: no IAM ${missing.join(', ')}`, {
      hint: 'check the names (they are case-sensitive); nothing was changed',
    });
  }
  const quotas = principals.some((p) => !p.attached) ? await readAttachQuotas(iam) : undefined;
  return { principals, ...(quotas ? { quotas } : {}) };
}

/** The managed policies attached to a user or group (every page); undefined when it does not exist. */
async function attachedTo(iam: IAMClient, kind: 'user' | 'group', name: string): Promise<Set<string> | undefined> {
  const arns = new Set<string>();
  try {
    const pages =
      kind === 'user'
        ? paginateListAttachedUserPolicies({ client: iam }, { UserName: name })
        : paginateListAttachedGroupPolicies({ client: iam }, { GroupName: name });
    for await (const page of pages) for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.add(p.PolicyArn);
  } catch (err) {
    if (errorName(err) === 'NoSuchEntityException') return undefined;
    throw err;
  }
  return arns;
}

/** The account's user or group names (every page), at most MAX_LISTED, for the wizard. */
export async function listNames(iam: IAMClient, kind: 'user' | 'group'): Promise<string[]> {
  const names: string[] = [];
  if (kind === 'user') {
    for await (const page of paginateListUsers({ client: iam }, {})) names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
  } else {
    for await (const page of paginateListGroups({ client: iam }, {})) names.push(...(page.Groups ?? []).map((g) => g.GroupName ?? ''));
  }
  return names.filter(Boolean).slice(0, MAX_LISTED);
}
