import {
  DeleteAssociationCommand,
  DeleteDocumentCommand,
  DescribeDocumentCommand,
  paginateListAssociations,
  RemoveTagsFromResourceCommand,
  SSMClient,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { unlessMissing } from '../aws/errors.js';
import { PREFERENCES_DOCUMENT as Name } from '../policies/preferences-document.js';
import { tagRecord } from '../policies/tags.js';
import { ORIGINAL_DEFAULT_TAG } from '../steps/preferences/read.js';
import { isOurs, type Removal, type TeardownContext } from './types.js';

/** Associations are ssm-setup's by name: it names them `ssm-setup-…` and never adopts others. */
const OUR_ASSOCIATIONS = /^ssm-setup-/;

export async function associationRemovals(ctx: TeardownContext): Promise<Removal[]> {
  const ssm = ctx.aws.get(SSMClient);
  const removals: Removal[] = [];
  for await (const page of paginateListAssociations({ client: ssm }, {})) {
    for (const a of page.Associations ?? []) {
      if (!a.AssociationName || !OUR_ASSOCIATIONS.test(a.AssociationName) || !a.AssociationId) continue;
      const AssociationId = a.AssociationId;
      removals.push({
        step: 'host-management',
        action: 'delete',
        resource: `association ${a.AssociationName}`,
        detail: `${a.Name}; delete it`,
        run: async () => void (await ssm.send(new DeleteAssociationCommand({ AssociationId }))),
      });
    }
  }
  return removals;
}

/**
 * The preferences go back to what they were: a document ssm-setup created is deleted; one it
 * adopted gets back the default version recorded before its first change.
 */
export async function preferencesRemovals(ctx: TeardownContext): Promise<Removal[]> {
  const ssm = ctx.aws.get(SSMClient);
  const doc = (await unlessMissing(ssm.send(new DescribeDocumentCommand({ Name })), 'InvalidDocument'))?.Document;
  if (!doc) return [];
  const tags = tagRecord(doc.Tags);
  if (isOurs(tags)) {
    return [
      {
        step: 'preferences',
        action: 'delete',
        resource: `preferences ${Name}`,
        detail: 'ssm-setup created it: delete it (Session Manager falls back to its defaults)',
        run: async () => void (await ssm.send(new DeleteDocumentCommand({ Name }))),
      },
    ];
  }
  const original = tags[ORIGINAL_DEFAULT_TAG];
  if (!original) return [];
  return [
    {
      step: 'preferences',
      action: 'update',
      resource: `preferences ${Name}`,
      detail: `default version ${doc.DefaultVersion} → ${original} (as it was before ssm-setup)`,
      run: async () => {
        if (doc.DefaultVersion !== original) await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name, DocumentVersion: original }));
        await ssm.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Document', ResourceId: Name, TagKeys: [ORIGINAL_DEFAULT_TAG] }));
      },
    },
  ];
}
