import { AttachRolePolicyCommand, CreateRoleCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import {
  type AssociationDescription,
  CreateAssociationCommand,
  DescribeAssociationCommand,
  GetServiceSettingCommand,
  paginateListAssociations,
  SSMClient,
  UpdateAssociationCommand,
  UpdateServiceSettingCommand,
} from '@aws-sdk/client-ssm';
import { unlessMissing } from '../../aws/errors.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { Change, PlanInput, ReadContext, Step } from '../../core/step.js';
import {
  type AssociationSpec,
  type AssociationTarget,
  associationTargets,
  copyName,
  DHMC_POLICY,
  DHMC_ROLE,
  DHMC_SETTING_VALUE,
  dhmcSettingId,
  hostManagementAssociations,
  ssmTrustPolicy,
} from '../../policies/associations.js';
import { tagList } from '../../policies/tags.js';
import { sameJson } from '../../policies/types.js';
import { awsManagedPolicyArn } from '../instance-role/read.js';

interface Desired extends AssociationSpec {
  readonly targets: AssociationTarget[];
}
interface DhmcState {
  readonly settingValue?: string;
  readonly roleExists: boolean;
  readonly policyAttached: boolean;
}
export interface HostManagementState {
  /** Existing associations by name (first one found when names repeat). */
  readonly existing: ReadonlyMap<string, AssociationDescription>;
  readonly desired: readonly Desired[];
  readonly dhmc?: DhmcState;
}
type HostChange = 'create-association' | 'update-association' | 'dhmc-role' | 'dhmc-policy' | 'dhmc-setting';

/** The associations these settings and targets want (copies by 50 ids when targeting ids). */
async function desiredAssociations(ctx: ReadContext): Promise<Desired[]> {
  const ids = ctx.settings.tag.length ? [] : (await ctx.targets()).map((t) => t.id);
  const groups = associationTargets(ctx.settings.tag, ids);
  return hostManagementAssociations(ctx.settings).flatMap((spec) => groups.map((targets, n) => ({ ...spec, name: copyName(spec.name, n), targets })));
}

/** Runbook step 12: what Quick Setup's Host Management would set up, as named State Manager associations. */
export const hostManagementStep: Step<HostManagementState, HostChange> = {
  id: 'host-management',
  skip: (s) => (s.hostManagement ? undefined : 'off (--no-host-management)'),

  async read(ctx) {
    const ssm = ctx.aws.get(SSMClient);
    const desired = await desiredAssociations(ctx);
    const existing = new Map<string, AssociationDescription>();
    for (const d of desired) {
      const found = await findByName(ssm, d.name);
      if (found) existing.set(d.name, found);
    }
    return { existing, desired, dhmc: ctx.settings.dhmc ? await readDhmc(ctx) : undefined };
  },

  plan(state, input) {
    const changes: Change<HostChange>[] = [];
    for (const d of state.desired) {
      const now = state.existing.get(d.name);
      const what = `${d.document}, ${d.schedule}, ${describeTargets(d.targets)}`;
      if (!now) changes.push({ kind: 'create-association', subject: d.name, action: 'create', resource: `association ${d.name}`, detail: what });
      else {
        const drift = driftOf(now, d);
        if (drift.length)
          changes.push({
            kind: 'update-association',
            subject: d.name,
            action: 'update',
            resource: `association ${d.name}`,
            detail: `${drift.join(', ')} differ → ${what}`,
          });
      }
    }
    if (state.dhmc) changes.push(...planDhmc(state.dhmc, input));
    return changes;
  },

  async apply(ctx, state, changes) {
    const ssm = ctx.aws.get(SSMClient);
    const iam = ctx.aws.get(IAMClient);
    const Tags = tagList(resourceTagsFor(ctx.settings));
    for (const c of changes) {
      const d = state.desired.find((x) => x.name === c.subject);
      const fields = d && { Name: d.document, AssociationName: d.name, Targets: d.targets, ScheduleExpression: d.schedule, Parameters: d.parameters };
      if (c.kind === 'create-association') await ssm.send(new CreateAssociationCommand({ ...fields!, Tags }));
      // UpdateAssociation nulls what it is not sent: the whole desired state goes every time.
      if (c.kind === 'update-association')
        await ssm.send(new UpdateAssociationCommand({ AssociationId: state.existing.get(d!.name)!.AssociationId!, ...fields! }));
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
  note: (state, input) => {
    if (!state.desired.length) return 'no target instances (--instance-ids or --tag): no association made';
    if (state.dhmc && !planDhmc(state.dhmc, input).length) return 'Default Host Management Configuration is already on';
    return undefined;
  },
};

/** The first association of that name (names are not unique in SSM: we never make a second). */
async function findByName(ssm: SSMClient, name: string): Promise<AssociationDescription | undefined> {
  for await (const page of paginateListAssociations({ client: ssm }, { AssociationFilterList: [{ key: 'AssociationName', value: name }] })) {
    const hit = (page.Associations ?? []).find((a) => a.AssociationName === name);
    // The list lacks Parameters: DescribeAssociation has the full state to compare.
    if (hit?.AssociationId) return (await ssm.send(new DescribeAssociationCommand({ AssociationId: hit.AssociationId }))).AssociationDescription;
  }
  return undefined;
}

export function driftOf(now: AssociationDescription, d: Desired): string[] {
  const drift: string[] = [];
  if (now.Name !== d.document) drift.push('document');
  if (now.ScheduleExpression !== d.schedule) drift.push('schedule');
  if (!sameJson(now.Parameters ?? {}, d.parameters)) drift.push('parameters');
  if (!sameJson(now.Targets ?? [], d.targets)) drift.push('targets');
  return drift;
}

const describeTargets = (targets: readonly AssociationTarget[]) =>
  targets
    .map((t) => (t.Key === 'InstanceIds' ? `${t.Values.length} instance${t.Values.length > 1 ? 's' : ''}` : `${t.Key}=${t.Values.join('|')}`))
    .join(' and ');

async function readDhmc(ctx: ReadContext): Promise<DhmcState> {
  const ssm = ctx.aws.get(SSMClient);
  const iam = ctx.aws.get(IAMClient);
  const SettingId = dhmcSettingId(ctx.identity.partition, ctx.region, ctx.identity.account);
  const setting = await unlessMissing(ssm.send(new GetServiceSettingCommand({ SettingId })), 'ServiceSettingNotFound');
  const role = await unlessMissing(iam.send(new GetRoleCommand({ RoleName: DHMC_ROLE })), 'NoSuchEntityException');
  const attached = role ? ((await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: DHMC_ROLE }))).AttachedPolicies ?? []) : [];
  return {
    settingValue: setting?.ServiceSetting?.SettingValue,
    roleExists: !!role,
    policyAttached: attached.some((p) => p.PolicyArn === awsManagedPolicyArn(ctx.identity.partition, DHMC_POLICY)),
  };
}

function planDhmc(d: DhmcState, _input: PlanInput): Change<HostChange>[] {
  const changes: Change<HostChange>[] = [];
  if (!d.roleExists)
    changes.push({
      kind: 'dhmc-role',
      action: 'create',
      resource: `IAM role service-role/${DHMC_ROLE}`,
      detail: `trusted by Systems Manager; with ${DHMC_POLICY}`,
    });
  else if (!d.policyAttached) changes.push({ kind: 'dhmc-policy', action: 'update', resource: `IAM role ${DHMC_ROLE}`, detail: `attach ${DHMC_POLICY}` });
  if (d.settingValue !== DHMC_SETTING_VALUE) {
    changes.push({
      kind: 'dhmc-setting',
      action: 'update',
      resource: 'Default Host Management Configuration',
      detail: `${d.settingValue ?? 'off'} → on (needs IMDSv2 and agent ≥ 3.2.582.0; takes up to 30 minutes)`,
    });
  }
  return changes;
}
