import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { unlessMissing } from '../../aws/errors.js';
import { createOrFind } from '../../aws/lost-answers.js';
import { allInOrder } from '../../base/batch.js';
import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Step } from '../../core/step.js';
import { ec2TrustPolicy } from '../../policies/instance-policy.js';
import { tagList, tagRecord } from '../../policies/tags.js';
import { parsePolicy, sameJson } from '../../policies/types.js';
import { askTargets } from '../shared/ask-targets.js';
import { applyManagedPolicy, whenIamKnows } from '../shared/managed-policy.js';
import { requireKeyArn } from '../shared/session-key.js';
import { associateAndRecord } from './associate.js';
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
    // The policies of one role, like the roles themselves, are attached all at once.
    const attach = async (RoleName: string, arns: readonly string[]): Promise<void> => {
      await allInOrder(
        arns.map((PolicyArn) => () => call([`role ${RoleName}`, `policy ${PolicyArn}`], () => iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn })))),
      );
    };
    // After a lost answer the SDK's retry meets LimitExceeded (a profile holds one role): done when it holds ours.
    const addRole = () =>
      call([`instance profile ${role}`, `role ${role}`], () =>
        createOrFind(
          () => iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: role, RoleName: role })),
          ['LimitExceededException'],
          async () => ((await ourProfile())?.Roles?.some((r) => r.RoleName === role) ? true : undefined),
        ),
      );
    /** Our profile (tagged ManagedBy, holding no role or ours), or undefined. */
    const ourProfile = async () => {
      const p = (await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: role })), 'NoSuchEntityException'))?.InstanceProfile;
      const mine = p && isOurs(p.Tags) && (p.Roles ?? []).every((r) => r.RoleName === role);
      return mine ? p : undefined;
    };
    const trust = ec2TrustPolicy(ctx.identity.partition);
    /** Our role (tagged ManagedBy, trusted by EC2 as we make it), or undefined. */
    const ourRole = async () => {
      const r = (await unlessMissing(iam.send(new GetRoleCommand({ RoleName: role })), 'NoSuchEntityException'))?.Role;
      return r && isOurs(r.Tags) && sameJson(parsePolicy(r.AssumeRolePolicyDocument), trust) ? r : undefined;
    };
    const associating = changes.filter((c) => c.kind === 'associate').map((c) => state.targets.find((t) => t.id === c.subject)!);
    let policyArn = state.policy.arn;
    const has = (kind: InstanceRoleChange) => changes.some((c) => c.kind === kind);
    // The policy, our role and our profile need nothing but their names: all three at once. Then
    // what names them, each as soon as what it names exists: the attachments after the policy
    // (and our role), the role into the profile after both.
    const policyChange = changes.find((c) => c.kind === 'create-policy' || c.kind === 'update-policy');
    const policyMade = started(async () => {
      if (!policyChange) return;
      policyArn = await applyManagedPolicy(ctx.aws, state.policy, desiredInstancePolicy(ctx), {
        stepId: 'instance-role',
        description: 'Session Manager rights for EC2 instances (ssm-setup)',
        tags: resourceTagsFor(ctx.settings),
      });
      if (policyChange.kind === 'create-policy') fresh.add(`policy ${state.policy.arn}`);
    });
    const roleMade = started(async () => {
      if (!has('create-role')) return;
      // A lost answer: the SDK's retry meets EntityAlreadyExists, done when the role is ours as made.
      await createOrFind(
        () =>
          iam.send(
            new CreateRoleCommand({
              RoleName: role,
              AssumeRolePolicyDocument: JSON.stringify(trust),
              Description: 'EC2 instances managed by Session Manager (ssm-setup)',
              Tags: tags,
            }),
          ),
        ['EntityAlreadyExistsException'],
        ourRole,
      );
      fresh.add(`role ${role}`);
    });
    const profileMade = started(async () => {
      if (!has('create-profile')) return;
      await createOrFind(
        () => iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: role, Tags: tags })),
        ['EntityAlreadyExistsException'],
        ourProfile,
      );
      fresh.add(`instance profile ${role}`);
    });
    const after = (made: readonly Promise<void>[], work: () => Promise<void>) => async () => {
      await Promise.all(made);
      await work();
    };
    // Every work is awaited, the creates first: their failure is the one reported.
    await allInOrder<void>([
      () => policyMade,
      () => roleMade,
      () => profileMade,
      after([policyMade, roleMade], async () => (has('create-role') ? attach(role, wantedPolicies(ctx)) : undefined)),
      after([roleMade, profileMade], async () => {
        if (has('create-profile') || has('add-role')) await addRole();
      }),
      ...changes
        .filter((c) => c.kind === 'attach')
        .map((c) => after([policyMade], () => attach(c.subject!, missingOn(state, c.subject!, wantedPolicies(ctx))))),
    ]);
    // Last, as planned: then each is tagged for destroy, 50 per call.
    if (associating.length) await associateAndRecord(ctx, associating, role);
    const withPolicy = [...changes.filter((c) => c.kind === 'attach').map((c) => c.subject!), ...(instanceRoleOutputs(state)?.instanceRoles ?? [])];
    if (bareTargets(state).length) withPolicy.push(role);
    return {
      instancePolicyArn: policyArn,
      instanceRoles: [...new Set(withPolicy)].sort(),
      instanceProfiles: profilesOf(state, role),
      ...(associating.length ? { justAssociated: associating.map((t) => t.id) } : {}),
    };
  },
};

/** A work started now, whose failure is seen where it is awaited (not as an unhandled rejection before). */
function started(work: () => Promise<void>): Promise<void> {
  const p = work();
  p.catch(() => {});
  return p;
}

const isOurs = (tags: readonly { Key?: string; Value?: string }[] | undefined) => tagRecord(tags)[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value;
