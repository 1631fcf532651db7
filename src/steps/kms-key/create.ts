import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { isAmbiguous, unlessMissing } from '../../aws/errors.js';
import { createOrFind, lostAnswer, sendOnce } from '../../aws/lost-answers.js';
import { kmsConsistency, retryWhile } from '../../aws/retry.js';
import type { StepContext } from '../../core/step.js';
import { sessionKeyPolicy } from '../../policies/kms-key-policy.js';
import { keyTagsFor } from './plan.js';
import { ourKeysWithoutAlias } from './read.js';

export interface MadeKey {
  readonly id: string;
  readonly arn: string;
}

export const kmsTags = (tags: Record<string, string>) => Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));

/**
 * Creates the session key. CreateKey is not idempotent: a blind retry after a lost answer makes
 * a second key. So it goes through the client without automatic retries (`Clients.once`), and
 * after an ambiguous failure (the key may have been made) the key is looked for by its tags
 * (ManagedBy and the alias tag, no alias yet) for as long as KMS may take to list a new key;
 * found, it is the one; not found, CreateKey is sent once more. A second ambiguous failure with
 * nothing found is LOST_ANSWER: a rerun finds the key if it was made after all.
 */
export async function createSessionKey(ctx: StepContext): Promise<MadeKey> {
  const once = ctx.aws.once(KMSClient);
  const alias = ctx.settings.keyAlias;
  try {
    return await sendOnce(
      () => sendCreateKey(once, ctx),
      async () => {
        const found = await findLostKey(ctx);
        if (found) ctx.io.info(`  found key ${found.id}, made by the CreateKey whose answer was lost: using it`);
        return found;
      },
      { onLost: () => ctx.io.info(`  the answer to CreateKey was lost: looking for the key it may have made (tags ManagedBy, ssm-setup:alias=${alias})…`) },
    );
  } catch (err) {
    throw isAmbiguous(err) ? lostAnswer('kms-key', 'KMS.CreateKey', err, `the key for ${alias}`) : err;
  }
}

async function sendCreateKey(kms: KMSClient, ctx: StepContext): Promise<MadeKey> {
  const policy = sessionKeyPolicy({
    partition: ctx.identity.partition,
    account: ctx.identity.account,
    region: ctx.region,
    cloudWatchLogs: ctx.settings.cloudwatchLogs,
  });
  const out = await kms.send(
    new CreateKeyCommand({
      // ≤ 8192 characters: the alias is at most 256.
      Description: `Session Manager session data and logs (ssm-setup, ${ctx.settings.keyAlias})`,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      // The account root holds kms:*, which passes KMS's lockout safety check.
      Policy: JSON.stringify(policy),
      Tags: kmsTags(keyTagsFor(ctx)),
    }),
  );
  return { id: out.KeyMetadata!.KeyId!, arn: out.KeyMetadata!.Arn! };
}

/** Not found yet: the search is repeated while KMS may not list the new key. */
const NOT_YET = new Error('the key is not listed yet');

/**
 * The key a lost CreateKey made: ours, for this alias, without an alias. KMS lists a new key
 * (ListKeys) and answers for it (ListResourceTags) only after a moment, so the search is
 * repeated within the KMS consistency budget before it says "none".
 */
async function findLostKey(ctx: StepContext): Promise<MadeKey | undefined> {
  const kms = ctx.aws.get(KMSClient);
  try {
    return await retryWhile(
      async () => {
        const [meta] = await ourKeysWithoutAlias(kms, ctx.settings.keyAlias);
        if (!meta) throw NOT_YET;
        return { id: meta.KeyId!, arn: meta.Arn! };
      },
      (err) => err === NOT_YET,
      (ms) => ctx.io.info(`  waiting for KMS to list the new key (${Math.round(ms / 1000)}s)…`),
      kmsConsistency,
    );
  } catch (err) {
    if (err === NOT_YET) return undefined;
    throw err;
  }
}

/**
 * CreateAlias, as the SDK sends it (with retries): when a lost answer makes the retry meet
 * AlreadyExistsException, the alias is ours if it now names our key.
 */
export function createAlias(kms: KMSClient, AliasName: string, key: MadeKey): Promise<unknown> {
  return createOrFind(
    () => kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: key.id })),
    ['AlreadyExistsException'],
    async () => {
      const meta = (await unlessMissing(kms.send(new DescribeKeyCommand({ KeyId: AliasName })), 'NotFoundException'))?.KeyMetadata;
      return meta?.KeyId === key.id ? meta : undefined;
    },
  );
}
