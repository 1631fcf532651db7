import { AddRoleToInstanceProfileCommand, AttachRolePolicyCommand, CreateInstanceProfileCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { profileNotYetVisible, retryWhile } from '../../aws/retry.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { Step, StepContext } from '../../core/step.js';
import { ec2TrustPolicy } from '../../policies/instance-policy.js';
import { tagList } from '../../policies/tags.js';
import { askTargets } from '../shared/ask-targets.js';
import { applyManagedPolicy, whenIamKnows } from '../shared/managed-policy.js';
import { requireKeyArn } from '../shared/session-key.js';
import {
  bareTargets,
  desiredInstancePolicy,
  type InstanceRoleChange,
  instanceRoleNote,
  instanceRoleOutputs,
  missingOn,
  planInstanceRole,
  profilesOf,
  wantedPolicies,
} from './plan.js';
import { type InstanceRoleState, readInstanceRole } from './read.js';

/** Runbook steps 4 and 11: the instances' rights, on the roles they have or on a new one. */
export const instanceRoleStep: Step<InstanceRoleState, InstanceRoleChange> = {
  id: 'instance-role',
  ask: askTargets,
  read: readInstanceRole,
  plan: planInstanceRole,
  outputs: instanceRoleOutputs,
  note: instanceRoleNote,

  async apply(ctx, state, changes) {
    requireKeyArn(ctx, 'instance-role');
    const iam = ctx.aws.get(IAMClient);
    const tags = tagList(resourceTagsFor(ctx.settings));
    const role = ctx.settings.instanceRole;
    // What this apply created: IAM may not know it everywhere for a few seconds (NoSuchEntity).
    const fresh = new Set<string>();
    const call = (names: readonly string[], work: () => Promise<unknown>) => {
      const young = names.filter((n) => fresh.has(n));
      return young.length ? whenIamKnows(ctx.io, young.join(' and '), work) : work();
    };
    const attach = async (RoleName: string, arns: readonly string[]) => {
      for (const PolicyArn of arns)
        await call([`role ${RoleName}`, `policy ${PolicyArn}`], () => iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })));
    };
    const addRole = () =>
      call([`instance profile ${role}`, `role ${role}`], () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: role, RoleName: role })));
    let policyArn = state.policy.arn;
    for (const change of changes) {
      switch (change.kind) {
        case 'create-policy':
        case 'update-policy':
          policyArn = await applyManagedPolicy(iam, state.policy, desiredInstancePolicy(ctx), {
            description: 'Session Manager rights for EC2 instances (ssm-setup)',
            tags: resourceTagsFor(ctx.settings),
          });
          if (change.kind === 'create-policy') fresh.add(`policy ${state.policy.arn}`);
          break;
        case 'create-role':
          await iam.send(
            new CreateRoleCommand({
              RoleName: role,
              AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy(ctx.identity.partition)),
              Description: 'EC2 instances managed by Session Manager (ssm-setup)',
              Tags: tags,
            }),
          );
          fresh.add(`role ${role}`);
          await attach(role, wantedPolicies(ctx));
          break;
        case 'attach':
          await attach(change.subject!, missingOn(state, change.subject!, wantedPolicies(ctx)));
          break;
        case 'create-profile':
          await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: role, Tags: tags }));
          fresh.add(`instance profile ${role}`);
          await addRole();
          break;
        case 'add-role':
          await addRole();
          break;
        case 'associate':
          await associate(ctx, change.subject!, role);
          break;
      }
    }
    const withPolicy = [...changes.filter((c) => c.kind === 'attach').map((c) => c.subject!), ...(instanceRoleOutputs(state)?.instanceRoles ?? [])];
    if (bareTargets(state).length) withPolicy.push(role);
    return { instancePolicyArn: policyArn, instanceRoles: [...new Set(withPolicy)].sort(), instanceProfiles: profilesOf(state, role) };
  },
};

/** Associates our profile with an instance that has none, waiting (up to 2 min) until EC2 sees a new profile. */
async function associate(ctx: StepContext, InstanceId: string, profile: string): Promise<void> {
  const { AssociateIamInstanceProfileCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  await retryWhile(
    () => ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId, IamInstanceProfile: { Name: profile } })),
    profileNotYetVisible,
    (waited) => ctx.io.info(`  waiting for EC2 to see instance profile ${profile} (${Math.round(waited / 1000)}s)…`),
  );
}
