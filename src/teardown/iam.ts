import {
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListPolicyTagsCommand,
  ListPolicyVersionsCommand,
  paginateListRolePolicies,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { unlessMissing } from '../aws/errors.js';
import { tagRecord } from '../policies/tags.js';
import { policyArn } from '../steps/shared/managed-policy.js';
import { type InstanceMarks, profileUse } from './instances.js';
import { isOurs, type Kept, type Removal, someOf, type Teardown, type TeardownContext } from './types.js';

/**
 * The IAM part of the setup, if ssm-setup created it (ManagedBy tag): the instance profile
 * taken off the instances ssm-setup gave it to, the two managed policies detached from
 * everything and deleted, and the role and profile. Those two stay, saying why, while they are
 * someone else's too: the profile is still on an instance ssm-setup did not give it to, or the
 * role holds an inline policy ssm-setup never writes. AWS managed policies attached to foreign
 * roles stay: nothing tells whether they were there before.
 */
export async function iamTeardown(ctx: TeardownContext, marks: InstanceMarks): Promise<Teardown> {
  const iam = ctx.aws.get(IAMClient);
  const role = ctx.settings.instanceRole;
  const profile = (await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: role })), 'NoSuchEntityException'))?.InstanceProfile;
  const use = await profileUse(ctx, marks, profile?.Arn);
  const policies: Removal[] = [];
  for (const name of [ctx.settings.instancePolicy, ctx.settings.operatorPolicy]) policies.push(...(await policyRemovals(ctx, iam, name)));

  const kept: Kept[] = [];
  const removals: Removal[] = [...use.removals, ...policies];
  const ownRole = (await unlessMissing(iam.send(new GetRoleCommand({ RoleName: role })), 'NoSuchEntityException'))?.Role;
  const roleOurs = !!ownRole && isOurs(tagRecord(ownRole.Tags));
  const profileOurs = !!profile && isOurs(tagRecord(profile.Tags));
  const inProfile = !!profile?.Roles?.some((r) => r.RoleName === role);
  const inline = roleOurs ? await inlinePolicies(iam, role) : [];
  const roleStays = inline.length > 0 || (inProfile && use.others.length > 0);
  const profileStays = use.others.length > 0 || (roleStays && inProfile);

  if (profileOurs && use.others.length) {
    const why = `still on ${someOf(use.others)}, where ssm-setup did not associate it (no ssm-setup tag): they keep it, so it stays`;
    kept.push({ step: 'instance-role', resource: `instance profile ${role}`, why });
  } else if (profileOurs && profileStays) {
    kept.push({ step: 'instance-role', resource: `instance profile ${role}`, why: `holds the role ${role}, which stays` });
  }
  if (roleOurs && inline.length) {
    const why = `has inline polic${inline.length === 1 ? 'y' : 'ies'} ${inline.join(', ')} that ssm-setup did not put there: the role stays`;
    kept.push({ step: 'instance-role', resource: `IAM role ${role}`, why });
  } else if (roleOurs && roleStays) {
    kept.push({
      step: 'instance-role',
      resource: `IAM role ${role}`,
      why: `in instance profile ${role}, which stays on instances ssm-setup did not give it to`,
    });
  } else if (roleOurs) {
    removals.push({
      step: 'instance-role',
      action: 'delete',
      resource: `IAM role ${role}`,
      detail: 'detach its policies, take it out of its instance profile, delete it',
      run: async () => {
        for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? []) {
          await iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: p.PolicyArn }));
        }
        if (inProfile)
          await unlessMissing(iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: role, RoleName: role })), 'NoSuchEntityException');
        // An inline policy added since the read makes this a DeleteConflict: the rerun keeps the role.
        await iam.send(new DeleteRoleCommand({ RoleName: role }));
      },
    });
  }
  if (profileOurs && !profileStays) {
    removals.push({
      step: 'instance-role',
      action: 'delete',
      resource: `instance profile ${role}`,
      detail: 'delete it',
      run: async () => {
        const now = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: role }))).InstanceProfile;
        for (const r of now?.Roles ?? []) await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: role, RoleName: r.RoleName }));
        await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: role }));
      },
    });
  }
  return { removals, kept };
}

/** The role's inline policies: ssm-setup never writes one, so each is someone else's. */
async function inlinePolicies(iam: IAMClient, RoleName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListRolePolicies({ client: iam }, { RoleName })) names.push(...(page.PolicyNames ?? []));
  return names;
}

async function policyRemovals(ctx: TeardownContext, iam: IAMClient, name: string): Promise<Removal[]> {
  const arn = policyArn(ctx.identity.partition, ctx.identity.account, name);
  const tags = await unlessMissing(iam.send(new ListPolicyTagsCommand({ PolicyArn: arn })), 'NoSuchEntityException');
  if (!tags || !isOurs(tagRecord(tags.Tags))) return [];
  const step = name === ctx.settings.operatorPolicy ? 'operator-policy' : 'instance-role';
  const attached = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
  const holders = [
    ...(attached.PolicyRoles ?? []).map((r) => `role ${r.RoleName}`),
    ...(attached.PolicyUsers ?? []).map((u) => `user ${u.UserName}`),
    ...(attached.PolicyGroups ?? []).map((g) => `group ${g.GroupName}`),
  ];
  return [
    {
      step,
      action: 'delete',
      resource: `IAM policy ${name}`,
      detail: holders.length ? `detach from ${holders.join(', ')}; delete it` : 'delete it',
      run: async () => {
        const now = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
        for (const r of now.PolicyRoles ?? []) await iam.send(new DetachRolePolicyCommand({ RoleName: r.RoleName, PolicyArn: arn }));
        for (const u of now.PolicyUsers ?? []) await iam.send(new DetachUserPolicyCommand({ UserName: u.UserName, PolicyArn: arn }));
        for (const g of now.PolicyGroups ?? []) await iam.send(new DetachGroupPolicyCommand({ GroupName: g.GroupName, PolicyArn: arn }));
        for (const v of (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions ?? []) {
          if (!v.IsDefaultVersion) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v.VersionId }));
        }
        await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
      },
    },
  ];
}
