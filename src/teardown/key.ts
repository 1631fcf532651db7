import { CloudWatchLogsClient, paginateDescribeLogGroups } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteAliasCommand, DescribeKeyCommand, type KeyMetadata, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { unlessMissing } from '../aws/errors.js';
import { isSameKey, type KeyRef } from '../policies/kms-ref.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import { keyTags } from '../steps/kms-key/read.js';
import { bucketNameFor } from '../steps/log-bucket/read.js';
import { isOurs, NOTHING, type RemovalOutcome, someOf, type Teardown, type TeardownContext } from './types.js';

/** KMS waits this long before it deletes a key; it can be cancelled meanwhile. */
export const KEY_DELETION_DAYS = 30;

/** The settings' bucket: gone with these removals, still there (not ssm-setup's), or none in this region. */
export type BucketFate = 'goes' | 'stays' | 'none';

/** What remains of the audit trail once the other removals have run. */
export interface AfterRemovals {
  readonly bucket: BucketFate;
  /** The settings' log group is among the removals. */
  readonly groupGoes: boolean;
  /** The kmsKeyId the remaining preferences name (src/teardown/preferences.ts `keyAfter`). */
  readonly preferencesKey?: string;
}

/**
 * ssm-setup's key is scheduled for deletion only when nothing that remains names it: the
 * settings' bucket when it stays (its default encryption), a log group of the region (the
 * settings' one when it stays, or any other), the preferences. Data written with a key
 * becomes unreadable once it is deleted, and new writes fail at once: such a key stays, and
 * the plan names what still uses it. Past those, KMS cannot say what else uses a key.
 */
export async function keyTeardown(ctx: TeardownContext, after: AfterRemovals): Promise<Teardown> {
  const kms = ctx.aws.get(KMSClient);
  const alias = ctx.settings.keyAlias;
  const meta = await ourKey(ctx);
  if (!meta?.KeyId) return NOTHING;
  const deleteAlias = async () => void (await unlessMissing(kms.send(new DeleteAliasCommand({ AliasName: alias })), 'NotFoundException'));
  if (meta.KeyState === 'PendingDeletion') {
    // A destroy stopped between the two calls: only the alias is left to remove.
    const detail = 'its key is scheduled for deletion already: delete the alias';
    const KeyId = meta.KeyId;
    const run = async () => {
      await deleteAlias();
      return scheduledOutcome(KeyId, meta.DeletionDate);
    };
    return { removals: [{ step: 'kms-key', action: 'delete', resource: `KMS alias ${alias}`, detail, run }], kept: [] };
  }
  const key: KeyRef = { arn: meta.Arn, id: meta.KeyId, alias };
  const users = [
    ...(after.bucket === 'stays' ? await bucketUser(ctx, key) : []),
    ...(await groupUsers(ctx, key, after.groupGoes)),
    ...(isSameKey(after.preferencesKey, key) ? [`the Session Manager preferences (${PREFERENCES_DOCUMENT})`] : []),
  ];
  const resource = `KMS key ${alias}`;
  if (users.length) return { removals: [], kept: [{ step: 'kms-key', resource, why: `still used by ${users.join(', ')}: not scheduled for deletion` }] };
  const KeyId = meta.KeyId;
  const removal = {
    step: 'kms-key',
    action: 'delete' as const,
    resource,
    detail: `schedule the key for deletion in ${KEY_DELETION_DAYS} days (aws kms cancel-key-deletion undoes it); delete the alias`,
    typed: { id: 'destroy.confirm-key-alias', name: alias, what: `schedule the key ${alias} for deletion in ${KEY_DELETION_DAYS} days` },
    // The key first: with the alias gone, a rerun could no longer find a key left enabled.
    run: async () => {
      const { DeletionDate } = await kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: KEY_DELETION_DAYS }));
      await deleteAlias();
      return scheduledOutcome(KeyId, DeletionDate);
    },
  };
  return { removals: [removal], kept: [] };
}

/** What the summary says of the key: the date KMS gave (UTC day) and the command that undoes it, with the key's id. */
export function scheduledOutcome(keyId: string, deletionDate: Date | undefined): RemovalOutcome {
  const when = deletionDate ? `on ${deletionDate.toISOString().slice(0, 10)}` : `in ${KEY_DELETION_DAYS} days`;
  return { scheduled: `key ${keyId} scheduled for deletion ${when}; undo with aws kms cancel-key-deletion --key-id ${keyId}` };
}

/** The key of the settings' alias, when there is one and ssm-setup made it. */
export async function ourKey(ctx: TeardownContext): Promise<KeyMetadata | undefined> {
  const kms = ctx.aws.get(KMSClient);
  const meta = (await unlessMissing(kms.send(new DescribeKeyCommand({ KeyId: ctx.settings.keyAlias })), 'NotFoundException'))?.KeyMetadata;
  return meta?.KeyId && isOurs(await keyTags(kms, meta.KeyId)) ? meta : undefined;
}

/** The settings' bucket, when its default encryption names the key. */
async function bucketUser(ctx: TeardownContext, key: KeyRef): Promise<string[]> {
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const out = await unlessMissing(
    ctx.aws.get(S3Client).send(new GetBucketEncryptionCommand({ Bucket })),
    'ServerSideEncryptionConfigurationNotFoundError',
    'NoSuchBucket',
  );
  const rules = out?.ServerSideEncryptionConfiguration?.Rules ?? [];
  return rules.some((r) => isSameKey(r.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, key)) ? [`bucket ${Bucket}'s default encryption`] : [];
}

/** Every log group of the region encrypted with the key, but the settings' one when it goes. */
async function groupUsers(ctx: TeardownContext, key: KeyRef, groupGoes: boolean): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateDescribeLogGroups({ client: ctx.aws.get(CloudWatchLogsClient) }, {})) {
    for (const g of page.logGroups ?? []) {
      if (!g.logGroupName || !isSameKey(g.kmsKeyId, key)) continue;
      if (groupGoes && g.logGroupName === ctx.settings.logGroup) continue;
      names.push(g.logGroupName);
    }
  }
  return names.length ? [`log group${names.length > 1 ? 's' : ''} ${someOf(names)}`] : [];
}
