import {
  type ContextEntry,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { errorName, isAccessDenied } from '../aws/errors.js';
import type { Clients } from '../core/clients.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { type Decision, evaluate } from '../policies/evaluate.js';
import { type PolicyDocument, parsePolicy } from '../policies/types.js';

/** One right to prove: these actions on each of these resources. */
export interface Requirement {
  readonly what: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly context?: ContextEntry[];
}

/**
 * Whether a principal holds each requirement: iam:SimulatePrincipalPolicy where the caller may
 * use it (one call per requirement), else a coarse reading of the role's policies. One finding
 * per requirement, named `check`.
 */
export async function rightsFindings(aws: Clients, check: string, principalArn: string, needs: readonly Requirement[]): Promise<Finding[]> {
  const iam = aws.get(IAMClient);
  const decisions: Decision[] = [];
  let fallback = false;
  let docs: Promise<PolicyDocument[] | undefined> | undefined;
  const denied: string[][] = [];
  for (const need of needs) {
    if (!fallback) {
      try {
        const out = await iam.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: principalArn,
            ActionNames: [...need.actions],
            ResourceArns: [...need.resources],
            ContextEntries: need.context,
          }),
        );
        // One result per action; with several resources the verdict per resource is nested.
        const verdicts = (out.EvaluationResults ?? []).flatMap((r) =>
          r.ResourceSpecificResults?.length
            ? r.ResourceSpecificResults.map((x) => ({ resource: x.EvalResourceName ?? '', decision: x.EvalResourceDecision }))
            : [{ resource: r.EvalResourceName ?? need.resources[0] ?? '', decision: r.EvalDecision }],
        );
        const refused = verdicts.filter((v) => v.decision !== 'allowed');
        denied.push([...new Set(refused.map((v) => v.resource))]);
        decisions.push(refused.some((v) => v.decision === 'explicitDeny') ? 'denied' : verdicts.length && !refused.length ? 'allowed' : 'implicit-deny');
        continue;
      } catch (err) {
        // Denied, or an endpoint without the API (local emulators): read the policies instead.
        if (!isAccessDenied(err) && !/XML|Unexpected token|NotImplemented/i.test(`${errorName(err)} ${(err as Error).message}`)) throw err;
        fallback = true;
      }
    }
    docs ??= policiesOf(iam, principalArn);
    const read = await docs;
    const vars = Object.fromEntries((need.context ?? []).map((c) => [c.ContextKeyName ?? '', c.ContextKeyValues?.[0] ?? '']));
    const each = need.resources.map((r) => ({ r, d: combine(need.actions.map((a) => (read ? evaluate(read, a, r, vars) : 'conditional'))) }));
    denied.push(each.filter((x) => x.d !== 'allowed').map((x) => x.r));
    decisions.push(combine(each.map((x) => x.d)));
  }
  return needs.map((need, i) => toFinding(check, need, decisions[i]!, fallback, denied[i]!));
}

const combine = (ds: Decision[]): Decision =>
  ds.includes('denied') ? 'denied' : ds.every((d) => d === 'allowed') ? 'allowed' : ds.includes('implicit-deny') ? 'implicit-deny' : 'conditional';

function toFinding(check: string, need: Requirement, decision: Decision, read: boolean, refused: readonly string[]): Finding {
  const how = read ? ' (read from its policies; iam:SimulatePrincipalPolicy not available)' : '';
  const on = (refused.length ? refused : need.resources).join(', ');
  const fix = `grant ${need.actions.join(', ')} on ${on}`;
  if (decision === 'allowed') return ok(check, `${need.what}${how}`);
  if (decision === 'conditional') return warn(check, `${need.what}: could not be proven${how}`, fix);
  return error(check, `${need.what}: ${decision === 'denied' ? 'explicitly denied' : 'not allowed'} on ${on}${how}`, fix);
}

/** The identity policies of a role or user (managed, inline, and a user's groups'); undefined when they cannot be read. */
async function policiesOf(iam: IAMClient, arn: string): Promise<PolicyDocument[] | undefined> {
  const name = arn.split('/').pop();
  if (!name) return undefined;
  try {
    if (arn.includes(':role/')) {
      const managed = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
      const inline = (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
      const docs = await Promise.all(
        inline.map(async (PolicyName) => (await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName }))).PolicyDocument),
      );
      return [
        ...(await managedDocs(
          iam,
          managed.map((p) => p.PolicyArn),
        )),
        ...docs.map(parsePolicy),
      ].filter((d): d is PolicyDocument => !!d);
    }
    if (arn.includes(':user/')) {
      const managed = (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: name }))).AttachedPolicies ?? [];
      const inline = (await iam.send(new ListUserPoliciesCommand({ UserName: name }))).PolicyNames ?? [];
      const docs = await Promise.all(
        inline.map(async (PolicyName) => (await iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName }))).PolicyDocument),
      );
      const groups = (await iam.send(new ListGroupsForUserCommand({ UserName: name }))).Groups ?? [];
      const groupPolicies = (
        await Promise.all(groups.map(async (g) => (await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: g.GroupName }))).AttachedPolicies ?? []))
      ).flat();
      return [
        ...(await managedDocs(
          iam,
          [...managed, ...groupPolicies].map((p) => p.PolicyArn),
        )),
        ...docs.map(parsePolicy),
      ].filter((d): d is PolicyDocument => !!d);
    }
    return undefined;
  } catch (err) {
    if (isAccessDenied(err) || errorName(err) === 'NoSuchEntityException') return undefined;
    throw err;
  }
}

async function managedDocs(iam: IAMClient, arns: (string | undefined)[]): Promise<(PolicyDocument | undefined)[]> {
  return Promise.all(
    arns
      .filter((a): a is string => !!a)
      .map(async (PolicyArn) => {
        const policy = (await iam.send(new GetPolicyCommand({ PolicyArn }))).Policy;
        return parsePolicy((await iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId: policy?.DefaultVersionId }))).PolicyVersion?.Document);
      }),
  );
}
