import { type Association, DeleteAssociationCommand, ListTagsForResourceCommand, paginateListAssociations, SSMClient } from '@aws-sdk/client-ssm';
import { unlessMissing } from '../aws/errors.js';
import { tagRecord } from '../policies/tags.js';
import { isOurs, type Kept, type Removal, type Teardown, type TeardownContext } from './types.js';

/** ssm-setup names its associations `ssm-setup-…`; only its ManagedBy tag makes one its own. */
const OUR_NAMES = /^ssm-setup-/;

/**
 * The host-management associations ssm-setup made: named `ssm-setup-…` AND tagged
 * ManagedBy=ssm-setup (the tag is read for each one so named: the list does not carry it).
 * One only named like them is someone else's: it stays, and the plan says so.
 */
export async function associationTeardown(ctx: TeardownContext): Promise<Teardown> {
  const ssm = ctx.aws.get(SSMClient);
  // Every association of the region: the API does not say whether its AssociationName filter is
  // a prefix or an exact match, so the names are compared here.
  const named: Association[] = [];
  for await (const page of paginateListAssociations({ client: ssm }, {})) {
    named.push(...(page.Associations ?? []).filter((a) => a.AssociationId && OUR_NAMES.test(a.AssociationName ?? '')));
  }
  const removals: Removal[] = [];
  const kept: Kept[] = [];
  for (const a of named) {
    const AssociationId = a.AssociationId!;
    const tags = await unlessMissing(ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Association', ResourceId: AssociationId })), 'InvalidResourceId');
    // Deleted between the list and now: nothing to do.
    if (!tags) continue;
    const resource = `association ${a.AssociationName}`;
    if (!isOurs(tagRecord(tags.TagList))) {
      kept.push({ step: 'host-management', resource, why: 'named like ssm-setup’s but not tagged ManagedBy=ssm-setup: someone else’s, left as it is' });
      continue;
    }
    removals.push({
      step: 'host-management',
      action: 'delete',
      resource,
      detail: `${a.Name}; delete it`,
      run: async () => void (await unlessMissing(ssm.send(new DeleteAssociationCommand({ AssociationId })), 'AssociationDoesNotExist')),
    });
  }
  return { removals, kept };
}
