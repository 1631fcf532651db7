import { GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import {
  type AssociationDescription,
  DescribeAssociationCommand,
  GetServiceSettingCommand,
  ListTagsForResourceCommand,
  paginateListAssociations,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { unlessMissing } from '../../aws/errors.js';
import { MANAGED_BY_TAG } from '../../config/schema.js';
import type { ReadContext } from '../../core/step.js';
import {
  type AssociationSpec,
  type AssociationTarget,
  associationTargets,
  copyName,
  DHMC_POLICY,
  DHMC_ROLE,
  dhmcSettingId,
  hostManagementAssociations,
} from '../../policies/associations.js';
import { awsManagedPolicyArn } from '../instance-role/read.js';

export interface Desired extends AssociationSpec {
  readonly targets: AssociationTarget[];
}
export interface DhmcState {
  readonly settingValue?: string;
  readonly roleExists: boolean;
  readonly policyAttached: boolean;
}
/** An association named like ours that is not tagged as ours: never changed or deleted. */
export interface ForeignAssociation {
  readonly name: string;
  readonly id: string;
}
export interface HostManagementState {
  /** Ours (tagged ManagedBy=ssm-setup) by name: the newest of each name, the one kept. */
  readonly existing: ReadonlyMap<string, AssociationDescription>;
  /** The older ones of ours with those names: left by a lost CreateAssociation answer or a concurrent run. */
  readonly duplicates: readonly AssociationDescription[];
  readonly foreign: readonly ForeignAssociation[];
  readonly desired: readonly Desired[];
  readonly dhmc?: DhmcState;
}

/** The associations these settings and targets want (copies by 50 ids when targeting ids). */
export async function desiredAssociations(ctx: ReadContext): Promise<Desired[]> {
  const ids = ctx.settings.tag.length ? [] : (await ctx.targets()).map((t) => t.id);
  const groups = associationTargets(ctx.settings.tag, ids);
  return hostManagementAssociations(ctx.settings).flatMap((spec) => groups.map((targets, n) => ({ ...spec, name: copyName(spec.name, n), targets })));
}

/**
 * Every association with exactly this name, split into ours (by the ManagedBy tag, described in
 * full, newest first by creation date) and the others. Names are not unique in SSM: a lost
 * CreateAssociation answer or two runs at once can leave several of ours.
 */
export async function associationsNamed(ssm: SSMClient, name: string): Promise<{ ours: AssociationDescription[]; foreign: ForeignAssociation[] }> {
  const ours: AssociationDescription[] = [];
  const foreign: ForeignAssociation[] = [];
  // The filter may match more than the exact name (the API does not say): names are compared here.
  for await (const page of paginateListAssociations({ client: ssm }, { AssociationFilterList: [{ key: 'AssociationName', value: name }] })) {
    for (const a of page.Associations ?? []) {
      if (a.AssociationName !== name || !a.AssociationId) continue;
      const tags = await unlessMissing(
        ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Association', ResourceId: a.AssociationId })),
        'InvalidResourceId',
      );
      if (!tags) continue; // deleted since it was listed
      if (!tags.TagList?.some((t) => t.Key === MANAGED_BY_TAG.key && t.Value === MANAGED_BY_TAG.value)) {
        foreign.push({ name, id: a.AssociationId });
        continue;
      }
      // The list lacks Parameters and the creation date: DescribeAssociation has the full state.
      const full = await unlessMissing(ssm.send(new DescribeAssociationCommand({ AssociationId: a.AssociationId })), 'AssociationDoesNotExist');
      if (full?.AssociationDescription) ours.push(full.AssociationDescription);
    }
  }
  return { ours: ours.sort(newestFirst), foreign };
}

const time = (d: Date | undefined) => d?.getTime() ?? 0;
const newestFirst = (a: AssociationDescription, b: AssociationDescription) =>
  time(b.Date) - time(a.Date) ||
  time(b.LastUpdateAssociationDate) - time(a.LastUpdateAssociationDate) ||
  (b.AssociationId ?? '').localeCompare(a.AssociationId ?? '');

/** Ours by name (the newest of each), the older duplicates of ours, and the foreign ones. */
export async function readAssociations(ssm: SSMClient, desired: readonly Desired[]): Promise<Pick<HostManagementState, 'existing' | 'duplicates' | 'foreign'>> {
  const existing = new Map<string, AssociationDescription>();
  const duplicates: AssociationDescription[] = [];
  const foreign: ForeignAssociation[] = [];
  for (const d of desired) {
    const found = await associationsNamed(ssm, d.name);
    const [kept, ...older] = found.ours;
    if (kept) existing.set(d.name, kept);
    duplicates.push(...older);
    foreign.push(...found.foreign);
  }
  return { existing, duplicates, foreign };
}

export async function readDhmc(ctx: ReadContext): Promise<DhmcState> {
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
