import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  type AssociationDescription,
  CreateAssociationCommand,
  DeleteAssociationCommand,
  SSMClient,
  UpdateAssociationCommand,
  UpdateServiceSettingCommand,
} from '@aws-sdk/client-ssm';
import { isAmbiguous, unlessMissing } from '../../aws/errors.js';
import { lostAnswer, sendOnce } from '../../aws/lost-answers.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { Step, StepContext } from '../../core/step.js';
import { DHMC_POLICY, DHMC_ROLE, DHMC_SETTING_VALUE, dhmcSettingId, ssmTrustPolicy } from '../../policies/associations.js';
import { tagList } from '../../policies/tags.js';
import { awsManagedPolicyArn } from '../instance-role/read.js';
import { type HostChange, hostManagementNote, planHostManagement } from './plan.js';
import { associationsNamed, type Desired, desiredAssociations, type HostManagementState, readAssociations, readDhmc } from './read.js';

export type { HostManagementState } from './read.js';

/** Runbook step 12: what Quick Setup's Host Management would set up, as named State Manager associations. */
export const hostManagementStep: Step<HostManagementState, HostChange> = {
  id: 'host-management',
  skip: (s) => (s.hostManagement ? undefined : 'off (--no-host-management)'),

  async read(ctx) {
    const desired = await desiredAssociations(ctx);
    const found = await readAssociations(ctx.aws.get(SSMClient), desired);
    return { ...found, desired, dhmc: ctx.settings.dhmc ? await readDhmc(ctx) : undefined };
  },

  plan: (state) => planHostManagement(state),

  async apply(ctx, state, changes) {
    const ssm = ctx.aws.get(SSMClient);
    const iam = ctx.aws.get(IAMClient);
    const Tags = tagList(resourceTagsFor(ctx.settings));
    for (const c of changes) {
      const d = state.desired.find((x) => x.name === c.subject);
      const fields = d && { Name: d.document, AssociationName: d.name, Targets: d.targets, ScheduleExpression: d.schedule, Parameters: d.parameters };
      if (c.kind === 'create-association') await create(ctx, d!, { ...fields!, Tags });
      // UpdateAssociation nulls what it is not sent: the whole desired state goes every time.
      if (c.kind === 'update-association')
        await ssm.send(new UpdateAssociationCommand({ AssociationId: state.existing.get(d!.name)!.AssociationId!, ...fields! }));
      // Ours by tag, older than the one kept; gone already when a concurrent run was first.
      if (c.kind === 'delete-association')
        await unlessMissing(ssm.send(new DeleteAssociationCommand({ AssociationId: c.subject! })), 'AssociationDoesNotExist');
      if (c.kind === 'dhmc-role') {
        await iam.send(
          new CreateRoleCommand({
            RoleName: DHMC_ROLE,
            Path: '/service-role/',
            AssumeRolePolicyDocument: JSON.stringify(ssmTrustPolicy()),
            Description: 'Default Host Management Configuration (ssm-setup)',
            Tags,
          }),
        );
      }
      if (c.kind === 'dhmc-role' || c.kind === 'dhmc-policy') {
        await iam.send(new AttachRolePolicyCommand({ RoleName: DHMC_ROLE, PolicyArn: awsManagedPolicyArn(ctx.identity.partition, DHMC_POLICY) }));
      }
      if (c.kind === 'dhmc-setting') {
        await ssm.send(
          new UpdateServiceSettingCommand({
            SettingId: dhmcSettingId(ctx.identity.partition, ctx.region, ctx.identity.account),
            SettingValue: DHMC_SETTING_VALUE,
          }),
        );
      }
    }
    return { associations: state.desired.map((d) => d.name) };
  },

  outputs: (state) => (state.desired.every((d) => state.existing.has(d.name)) ? { associations: state.desired.map((d) => d.name) } : undefined),
  note: (state) => hostManagementNote(state),
};

/**
 * CreateAssociation makes a second association of the same name when sent twice, so it goes
 * without the SDK's retries; after a lost answer ours is looked for by name (the newest of
 * ours: the one just made, or a concurrent run's) before it is sent again.
 */
async function create(ctx: StepContext, d: Desired, input: ConstructorParameters<typeof CreateAssociationCommand>[0]): Promise<AssociationDescription> {
  try {
    return await sendOnce(
      async () => (await ctx.aws.once(SSMClient).send(new CreateAssociationCommand(input))).AssociationDescription ?? {},
      async () => (await associationsNamed(ctx.aws.get(SSMClient), d.name)).ours[0],
    );
  } catch (err) {
    throw isAmbiguous(err) ? lostAnswer('host-management', 'SSM.CreateAssociation', err, `association ${d.name}`) : err;
  }
}
