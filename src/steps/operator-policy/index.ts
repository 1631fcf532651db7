import { AttachGroupPolicyCommand, AttachUserPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { allInOrder } from '../../base/batch.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { Step } from '../../core/step.js';
import { unanswered } from '../shared/ask.js';
import { applyManagedPolicy, whenIamKnows } from '../shared/managed-policy.js';
import { requireKeyArn } from '../shared/session-key.js';
import { desiredOperatorPolicy, type OperatorChange, planOperatorPolicy, unloggedNote } from './plan.js';
import { listNames, type OperatorPolicyState, readOperatorPolicy } from './read.js';

export type { OperatorPolicyState };
export { desiredOperatorPolicy };

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
          { value: 'restricted', label: "restricted: sessions on this account's instances, end only their own sessions (recommended)" },
          { value: 'full', label: 'full: start, resume and end any session' },
        ],
        default: ctx.settings.operatorAccess,
        flag: '--operator-access',
      });
    }
    const iam = ctx.aws.get(IAMClient);
    for (const [key, kind, flag] of [
      ['operatorUsers', 'user', '--operator-users'],
      ['operatorGroups', 'group', '--operator-groups'],
    ] as const) {
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

  read: readOperatorPolicy,
  plan: planOperatorPolicy,

  async apply(ctx, state, changes) {
    requireKeyArn(ctx, 'operator-policy');
    const iam = ctx.aws.get(IAMClient);
    let arn = state.policy.arn;
    let created = false;
    // The policy first; then its attachments, which do not depend on each other, all at once.
    const policyChange = changes.find((c) => c.kind !== 'attach');
    if (policyChange) {
      arn = await applyManagedPolicy(ctx.aws, state.policy, desiredOperatorPolicy(ctx), {
        stepId: 'operator-policy',
        description: 'Session Manager rights for operators (ssm-setup)',
        tags: resourceTagsFor(ctx.settings),
      });
      created = policyChange.kind === 'create-policy';
    }
    const attach = (subject: string) => {
      const [kind, name] = subject.split(':') as ['user' | 'group', string];
      const work = () =>
        kind === 'user'
          ? iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn }))
          : iam.send(new AttachGroupPolicyCommand({ GroupName: name, PolicyArn: arn }));
      // IAM may answer NoSuchEntity for a policy created a moment ago.
      return created ? whenIamKnows(ctx.io, `policy ${state.policy.name}`, work) : work();
    };
    await allInOrder(changes.filter((c) => c.kind === 'attach').map((c) => () => attach(c.subject!)));
    return { operatorPolicyArn: arn };
  },

  outputs: (state) => (state.policy.kind === 'present' ? { operatorPolicyArn: state.policy.arn } : undefined),
  note: (state, input) =>
    [state.principals.length ? undefined : 'attached to no user or group (--operator-users, --operator-groups)', unloggedNote(input)]
      .filter(Boolean)
      .join('\n') || undefined,
};
