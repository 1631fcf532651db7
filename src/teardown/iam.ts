import {
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
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
  ListRolePoliciesCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { unlessMissing } from '../aws/errors.js';
import { tagRecord } from '../policies/tags.js';
import { policyArn } from '../steps/shared/managed-policy.js';
import { isOurs, type Removal, type TeardownContext } from './types.js';

/**
 * The IAM part of the setup, if ssm-setup created it (ManagedBy tag): the instance profile
 * taken off the instances it was given to, the role and profile, and the two managed policies
 * detached from everything and deleted. AWS managed policies attached to foreign roles stay:
 * nothing tells whether they were there before.
 */
export async function iamRemovals(ctx: TeardownContext): Promise<Removal[]> {
  const iam = ctx.aws.get(IAMClient);
  const removals: Removal[] = [];
  const role = ctx.settings.instanceRole;
  const profile = (await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: role })), 'NoSuchEntityException'))?.InstanceProfile;
  if (profile?.Arn && isOurs(tagRecord(profile.Tags))) {
    removals.push(...(await disassociations(ctx, profile.Arn)));
  }
  for (const name of [ctx.settings.instancePolicy, ctx.settings.operatorPolicy]) {
    removals.push(...(await policyRemovals(ctx, iam, name)));
  }
  const ownRole = (await unlessMissing(iam.send(new GetRoleCommand({ RoleName: role })), 'NoSuchEntityException'))?.Role;
  if (ownRole && isOurs(tagRecord(ownRole.Tags))) {
    removals.push({
      step: 'instance-role',
      action: 'delete',
      resource: `IAM role ${role}`,
      detail: 'detach its policies, take it out of its instance profile, delete it',
      run: async () => {
        for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? []) {
          await iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: p.PolicyArn }));
        }
        for (const PolicyName of (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []) {
          await iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName }));
        }
        if (profile?.Roles?.some((r) => r.RoleName === role))
          await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: role, RoleName: role }));
        await iam.send(new DeleteRoleCommand({ RoleName: role }));
      },
    });
  }
  if (profile && isOurs(tagRecord(profile.Tags))) {
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
  return removals;
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

/** Instances ssm-setup gave its profile to get it taken off again (they had none before). */
async function disassociations(ctx: TeardownContext, profileArn: string): Promise<Removal[]> {
  const { DescribeIamInstanceProfileAssociationsCommand, DisassociateIamInstanceProfileCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  const removals: Removal[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'state', Values: ['associating', 'associated'] }], NextToken }),
    );
    for (const a of page.IamInstanceProfileAssociations ?? []) {
      if (a.IamInstanceProfile?.Arn !== profileArn || !a.AssociationId) continue;
      const AssociationId = a.AssociationId;
      removals.push({
        step: 'instance-role',
        action: 'update',
        resource: `instance ${a.InstanceId}`,
        detail: `take off instance profile ${ctx.settings.instanceRole}`,
        run: async () => void (await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId }))),
      });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return removals;
}
