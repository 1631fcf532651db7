import { GetInstanceProfileCommand, GetRoleCommand, IAMClient, paginateListAttachedRolePolicies } from '@aws-sdk/client-iam';
import { unlessMissing } from '../../aws/errors.js';
import { chunks } from '../../base/batch.js';
import type { ReadContext, TargetInstance } from '../../core/step.js';
import { policyArn, readManagedPolicy, type ManagedPolicyState } from '../shared/managed-policy.js';

export const CLOUDWATCH_AGENT_POLICY = 'CloudWatchAgentServerPolicy';
export const awsManagedPolicyArn = (partition: string, name: string) => `arn:${partition}:iam::aws:policy/${name}`;

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
  /** Managed policies attached to each role involved, by role name. */
  readonly attached: ReadonlyMap<string, ReadonlySet<string>>;
  /** Our role and profile, read only when some target has no profile. */
  readonly ownRole?: { readonly exists: boolean };
  readonly ownProfile?: ProfileInfo | undefined;
  /** Targets whose profile association is still in progress (not yet shown by DescribeInstances). */
  readonly associating: ReadonlyMap<string, string>;
}

const profileName = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export async function readInstanceRole(ctx: ReadContext): Promise<InstanceRoleState> {
  const iam = ctx.aws.get(IAMClient);
  const { partition, account } = ctx.identity;
  const name = ctx.settings.instancePolicy;
  const [targets, policy] = await Promise.all([ctx.targets(), readManagedPolicy(iam, name, policyArn(partition, account, name))]);

  const associating = await associationsInProgress(ctx, targets.filter((t) => !t.profileArn).map((t) => t.id));
  const bare = targets.filter((t) => !t.profileArn && !associating.has(t.id));
  const profileArns = [...new Set(targets.map((t) => t.profileArn).filter((a): a is string => !!a))];
  const profiles = new Map<string, ProfileInfo>();
  for (const arn of profileArns) {
    const p = await readProfile(iam, profileName(arn));
    if (p) profiles.set(arn, p);
  }
  const ownRoleName = ctx.settings.instanceRole;
  const ownRole = bare.length ? { exists: !!(await unlessMissing(iam.send(new GetRoleCommand({ RoleName: ownRoleName })), 'NoSuchEntityException')) } : undefined;
  const ownProfile = bare.length ? await readProfile(iam, ownRoleName) : undefined;

  const roles = new Set([...profiles.values()].flatMap((p) => p.roles));
  if (ownRole?.exists) roles.add(ownRoleName);
  const attached = new Map<string, Set<string>>();
  for (const role of roles) attached.set(role, await attachedPolicies(iam, role));
  return { targets, policy, profiles, attached, ownRole, ownProfile, associating };
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
  for (const batch of chunks(ids)) {
    const Filters = [{ Name: 'instance-id', Values: batch }, { Name: 'state', Values: ['associating', 'associated'] }];
    const out = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters }));
    for (const a of out.IamInstanceProfileAssociations ?? []) if (a.InstanceId && a.IamInstanceProfile?.Arn) found.set(a.InstanceId, a.IamInstanceProfile.Arn);
  }
  return found;
}
