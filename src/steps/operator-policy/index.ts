import {
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  IAMClient,
  paginateListAttachedGroupPolicies,
  paginateListAttachedUserPolicies,
  paginateListGroups,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { errorName } from '../../aws/errors.js';
import { resourceTagsFor } from '../../config/schema.js';
import { UsageError } from '../../base/errors.js';
import type { Change, PlanInput, Step } from '../../core/step.js';
import { operatorPolicy } from '../../policies/operator-policy.js';
import type { PolicyDocument } from '../../policies/types.js';
import { unanswered } from '../shared/ask.js';
import { applyManagedPolicy, planManagedPolicy, policyArn, readManagedPolicy, type ManagedPolicyState, type PolicyChange } from '../shared/managed-policy.js';
import { plannedKeyArn, requireKeyArn } from '../shared/session-key.js';

type Principal = { readonly kind: 'user' | 'group'; readonly name: string; readonly attached: boolean };
export interface OperatorPolicyState {
  readonly policy: ManagedPolicyState;
  readonly principals: readonly Principal[];
}
type OperatorChange = PolicyChange | 'attach';

/** The wizard lists at most this many users and groups. */
const MAX_LISTED = 200;

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

/** Runbook steps 5 and 10: what people need to start, resume and end their own sessions. */
export const operatorPolicyStep: Step<OperatorPolicyState, OperatorChange> = {
  id: 'operator-policy',

  async ask(ctx) {
    const answers: Record<string, unknown> = {};
    if (unanswered(ctx, 'operatorAccess')) {
      answers.operatorAccess = await ctx.io.select({
        id: 'operator-policy.access',
        message: 'What may operators do?',
        choices: [
          { value: 'restricted', label: 'restricted: sessions on this account\'s instances, end only their own sessions (recommended)' },
          { value: 'full', label: 'full: start, resume and end any session' },
        ],
        default: ctx.settings.operatorAccess,
        flag: '--operator-access',
      });
    }
    const iam = ctx.aws.get(IAMClient);
    for (const [key, kind, flag] of [['operatorUsers', 'user', '--operator-users'], ['operatorGroups', 'group', '--operator-groups']] as const) {
      if (!unanswered(ctx, key)) continue;
      const names = await listNames(iam, kind);
      if (!names.length) continue;
      answers[key] = await ctx.io.checkbox({
        id: `operator-policy.${kind}s`,
        message: `IAM ${kind}s that get the operator policy (none is fine: attach it later)`,
        choices: names.map((n) => ({ value: n, label: n })),
        default: [],
        flag,
      });
    }
    return answers;
  },

  async read(ctx) {
    const iam = ctx.aws.get(IAMClient);
    const { partition, account } = ctx.identity;
    const name = ctx.settings.operatorPolicy;
    const arn = policyArn(partition, account, name);
    const policy = await readManagedPolicy(iam, name, arn);
    const wanted = [
      ...ctx.settings.operatorUsers.map((n) => ({ kind: 'user' as const, name: n })),
      ...ctx.settings.operatorGroups.map((n) => ({ kind: 'group' as const, name: n })),
    ];
    const principals: Principal[] = [];
    const missing: string[] = [];
    for (const p of wanted) {
      const attached = await attachedTo(iam, p.kind, p.name);
      if (attached === undefined) missing.push(`${p.kind} ${p.name}`);
      else principals.push({ ...p, attached: attached.has(arn) });
    }
    if (missing.length) {
      throw new UsageError('UNKNOWN_PRINCIPAL', `--operator-users/--operator-groups: no IAM ${missing.join(', ')}`, { hint: 'check the names (they are case-sensitive); nothing was changed' });
    }
    return { policy, principals };
  },

  plan(state, input) {
    const changes: Change<OperatorChange>[] = [...planManagedPolicy(state.policy, desiredOperatorPolicy(input), `operators, ${input.settings.operatorAccess} access`)];
    for (const p of state.principals.filter((x) => !x.attached)) {
      changes.push({ kind: 'attach', subject: `${p.kind}:${p.name}`, action: 'update', resource: `IAM ${p.kind} ${p.name}`, detail: `attach ${state.policy.name}` });
    }
    return changes;
  },

  async apply(ctx, state, changes) {
    requireKeyArn(ctx, 'operator-policy');
    const iam = ctx.aws.get(IAMClient);
    let arn = state.policy.arn;
    for (const change of changes) {
      if (change.kind === 'attach') await attach(iam, change.subject!, arn);
      else arn = await applyManagedPolicy(iam, state.policy, desiredOperatorPolicy(ctx), { description: 'Session Manager rights for operators (ssm-setup)', tags: resourceTagsFor(ctx.settings) });
    }
    return { operatorPolicyArn: arn };
  },

  outputs: (state) => (state.policy.kind === 'present' ? { operatorPolicyArn: state.policy.arn } : undefined),
  note: (state) => (state.principals.length ? undefined : 'attached to no user or group (--operator-users, --operator-groups)'),
};

async function attach(iam: IAMClient, subject: string, PolicyArn: string): Promise<void> {
  const [kind, name] = subject.split(':') as ['user' | 'group', string];
  if (kind === 'user') await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn }));
  else await iam.send(new AttachGroupPolicyCommand({ GroupName: name, PolicyArn }));
}

/** The managed policies attached to a user or group; undefined when it does not exist. */
async function attachedTo(iam: IAMClient, kind: 'user' | 'group', name: string): Promise<Set<string> | undefined> {
  const arns = new Set<string>();
  try {
    const pages = kind === 'user'
      ? paginateListAttachedUserPolicies({ client: iam }, { UserName: name })
      : paginateListAttachedGroupPolicies({ client: iam }, { GroupName: name });
    for await (const page of pages) for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.add(p.PolicyArn);
  } catch (err) {
    if (errorName(err) === 'NoSuchEntityException') return undefined;
    throw err;
  }
  return arns;
}

async function listNames(iam: IAMClient, kind: 'user' | 'group'): Promise<string[]> {
  const names: string[] = [];
  if (kind === 'user') {
    for await (const page of paginateListUsers({ client: iam }, {})) names.push(...(page.Users ?? []).map((u) => u.UserName ?? ''));
  } else {
    for await (const page of paginateListGroups({ client: iam }, {})) names.push(...(page.Groups ?? []).map((g) => g.GroupName ?? ''));
  }
  return names.filter(Boolean).slice(0, MAX_LISTED);
}
