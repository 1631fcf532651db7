import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { unlessMissing } from '../../aws/errors.js';
import type { Change } from '../../core/step.js';
import { parsePolicy, sameJson, type PolicyDocument } from '../../policies/types.js';
import { tagList } from '../../policies/tags.js';

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

/** A customer managed policy as it is now: absent, or its default version's document. */
export type ManagedPolicyState =
  | { readonly kind: 'absent'; readonly name: string; readonly arn: string }
  | { readonly kind: 'present'; readonly name: string; readonly arn: string; readonly document?: PolicyDocument };

export type PolicyChange = 'create-policy' | 'update-policy';

export const policyArn = (partition: string, account: string, name: string) => `arn:${partition}:iam::${account}:policy/${name}`;

export async function readManagedPolicy(iam: IAMClient, name: string, arn: string): Promise<ManagedPolicyState> {
  const policy = (await unlessMissing(iam.send(new GetPolicyCommand({ PolicyArn: arn })), 'NoSuchEntityException'))?.Policy;
  if (!policy) return { kind: 'absent', name, arn };
  const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId }));
  return { kind: 'present', name, arn, document: parsePolicy(version.PolicyVersion?.Document) };
}

/** Pure: create the policy, or one update line naming the statements that differ. */
export function planManagedPolicy(state: ManagedPolicyState, desired: PolicyDocument, what: string): Change<PolicyChange>[] {
  const sids = desired.Statement.map((s) => s.Sid ?? '?').join(', ');
  if (state.kind === 'absent') {
    return [{ kind: 'create-policy', action: 'create', resource: `IAM policy ${state.name}`, detail: `${what}: ${sids}` }];
  }
  if (state.document && sameJson(state.document, desired)) return [];
  return [{ kind: 'update-policy', action: 'update', resource: `IAM policy ${state.name}`, detail: `new default version: ${statementDiff(state.document, desired)}` }];
}

/** `changed X; added Y; removed Z`, by statement Sid. */
export function statementDiff(current: PolicyDocument | undefined, desired: PolicyDocument): string {
  const before = new Map((current?.Statement ?? []).map((s) => [s.Sid ?? JSON.stringify(s), s]));
  const after = new Map(desired.Statement.map((s) => [s.Sid ?? JSON.stringify(s), s]));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && !sameJson(before.get(k), after.get(k)));
  const parts = [changed.length && `changed ${changed.join(', ')}`, added.length && `added ${added.join(', ')}`, removed.length && `removed ${removed.join(', ')}`];
  return parts.filter(Boolean).join('; ') || 'document reformatted';
}

/**
 * Creates the policy (tagged) or makes `desired` its new default version. A policy at its
 * five-version limit first loses its oldest non-default version: checked here, because IAM's
 * LimitExceeded is retried by the SDK as throttling before it surfaces.
 */
export async function applyManagedPolicy(
  iam: IAMClient,
  state: ManagedPolicyState,
  desired: PolicyDocument,
  opts: { description: string; tags: Record<string, string> },
): Promise<string> {
  const PolicyDocument = JSON.stringify(desired);
  if (state.kind === 'absent') {
    const Tags = tagList(opts.tags);
    const out = await iam.send(new CreatePolicyCommand({ PolicyName: state.name, PolicyDocument, Description: opts.description, Tags }));
    return out.Policy?.Arn ?? state.arn;
  }
  const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: state.arn }))).Versions ?? [];
  if (versions.length >= MAX_POLICY_VERSIONS) {
    const oldest = versions
      .filter((v) => !v.IsDefaultVersion)
      .sort((a, b) => (a.CreateDate?.getTime() ?? 0) - (b.CreateDate?.getTime() ?? 0))[0];
    if (oldest?.VersionId) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: state.arn, VersionId: oldest.VersionId }));
  }
  await iam.send(new CreatePolicyVersionCommand({ PolicyArn: state.arn, PolicyDocument, SetAsDefault: true }));
  return state.arn;
}

