import { GetInstanceProfileCommand, GetRoleCommand, IAMClient, paginateListAttachedRolePolicies } from '@aws-sdk/client-iam';
import { unlessMissing } from '../../aws/errors.js';
import { chunks } from '../../base/batch.js';
import type { PlanInput, ReadContext, TargetInstance } from '../../core/step.js';
import { type AttachQuotas, type ManagedPolicyState, policyArn, readAttachQuotas, readManagedPolicy } from '../shared/managed-policy.js';

/**
 * Set on an instance when ssm-setup associated its instance profile with it: `destroy` takes the
 * profile off only where this says ssm-setup put it (value: the profile name).
 */
export const PROFILE_ASSOCIATED_TAG = 'ssm-setup:instance-profile';

export const CLOUDWATCH_AGENT_POLICY = 'CloudWatchAgentServerPolicy';
export const awsManagedPolicyArn = (partition: string, name: string) => `arn:${partition}:iam::aws:policy/${name}`;

/** The managed policies every instance role gets: ours, and the CloudWatch agent's unless --no-cloudwatch-agent. */
export function wantedPolicies(input: PlanInput): string[] {
  const { partition, account } = input.identity;
  const ours = policyArn(partition, account, input.settings.instancePolicy);
  return input.settings.cloudwatchAgent ? [ours, awsManagedPolicyArn(partition, CLOUDWATCH_AGENT_POLICY)] : [ours];
}

export interface ProfileInfo {
  readonly name: string;
  readonly arn: string;
  readonly roles: readonly string[];
}

export interface InstanceRoleState {
  readonly targets: readonly TargetInstance[];
  readonly policy: ManagedPolicyState;
  /** Profiles the targets already have, by ARN. */
  readonly profiles: ReadonlyMap<string, ProfileInfo>;
  /** Managed policies attached to each role involved, by role name (all of them: the plan counts them against the quota). */
  readonly attached: ReadonlyMap<string, ReadonlySet<string>>;
  /** The account's managed-policies-per-role quota, read only when an existing role lacks one of ours. */
  readonly quotas?: AttachQuotas;
  /** Our role and profile, read only when some target has no profile. */
  readonly ownRole?: { readonly exists: boolean };
  readonly ownProfile?: ProfileInfo | undefined;
  /** Targets whose profile association is still in progress (not yet shown by DescribeInstances). */
  readonly associating: ReadonlyMap<string, string>;
}

const profileName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** Read-only: the targets, our policy, their profiles and roles (with what each role has attached), our role and profile. */
export async function readInstanceRole(ctx: ReadContext): Promise<InstanceRoleState> {
  const iam = ctx.aws.get(IAMClient);
  const { partition, account } = ctx.identity;
  const name = ctx.settings.instancePolicy;
  // Our policy and what the targets have do not depend on each other: each at its own pace.
  const [policy, rest] = await Promise.all([readManagedPolicy(iam, name, policyArn(partition, account, name)), readTargetsSide(ctx, iam)]);
  return { policy, ...rest };
}

/** The targets, their profiles and roles (with what each role has attached), our role and profile, and the quota when needed. */
async function readTargetsSide(ctx: ReadContext, iam: IAMClient): Promise<Omit<InstanceRoleState, 'policy'>> {
  const targets = await ctx.targets();
  // None of these depends on another: the associations in progress, each distinct profile once,
  // and our role and profile (wanted when a target has no profile; the associations only tell
  // whether one is on its way), all in flight together.
  const profileLess = targets.filter((t) => !t.profileArn).map((t) => t.id);
  const profileArns = [...new Set(targets.map((t) => t.profileArn).filter((a): a is string => !!a))];
  const ownRoleName = ctx.settings.instanceRole;
  const [associating, found, roleExists, ownProfileRead] = await Promise.all([
    associationsInProgress(ctx, profileLess),
    Promise.all(profileArns.map(async (arn) => [arn, await readProfile(iam, profileName(arn))] as const)),
    profileLess.length ? unlessMissing(iam.send(new GetRoleCommand({ RoleName: ownRoleName })), 'NoSuchEntityException').then((r) => !!r) : false,
    profileLess.length ? readProfile(iam, ownRoleName) : undefined,
  ]);
  const bare = targets.filter((t) => !t.profileArn && !associating.has(t.id));
  const profiles = new Map<string, ProfileInfo>(found.filter((e): e is readonly [string, ProfileInfo] => !!e[1]));
  const ownRole = bare.length ? { exists: roleExists } : undefined;
  const ownProfile = bare.length ? ownProfileRead : undefined;

  const roles = new Set([...profiles.values()].flatMap((p) => p.roles));
  if (ownRole?.exists) roles.add(ownRoleName);
  const attached = new Map<string, Set<string>>(await Promise.all([...roles].map(async (role) => [role, await attachedPolicies(iam, role)] as const)));
  const wanted = wantedPolicies(ctx);
  const attaching = [...attached.values()].some((arns) => wanted.some((arn) => !arns.has(arn)));
  // A new role starts empty: only an existing role that lacks something needs the quota.
  const quotas = attaching ? await readAttachQuotas(iam) : undefined;
  return { targets, profiles, attached, ownRole, ownProfile, associating, ...(quotas ? { quotas } : {}) };
}

async function readProfile(iam: IAMClient, name: string): Promise<ProfileInfo | undefined> {
  const out = await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })), 'NoSuchEntityException');
  const p = out?.InstanceProfile;
  return p ? { name, arn: p.Arn ?? '', roles: (p.Roles ?? []).map((r) => r.RoleName ?? '') } : undefined;
}

async function attachedPolicies(iam: IAMClient, RoleName: string): Promise<Set<string>> {
  const arns = new Set<string>();
  for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName })) {
    for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.add(p.PolicyArn);
  }
  return arns;
}

/** Instance id → profile ARN for associations still `associating` (50 instances per call). */
async function associationsInProgress(ctx: ReadContext, ids: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (!ids.length) return found;
  // The EC2 client costs half a second to load: only when there are instances to look at.
  const { DescribeIamInstanceProfileAssociationsCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  // The batches at once (the EC2 client bounds the calls in flight), merged in batch order.
  const answers = await Promise.all(
    chunks(ids).map((batch) => {
      const Filters = [
        { Name: 'instance-id', Values: batch },
        { Name: 'state', Values: ['associating', 'associated'] },
      ];
      return ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters }));
    }),
  );
  for (const out of answers)
    for (const a of out.IamInstanceProfileAssociations ?? []) if (a.InstanceId && a.IamInstanceProfile?.Arn) found.set(a.InstanceId, a.IamInstanceProfile.Arn);
  return found;
}
