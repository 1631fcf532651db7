import { CreateAliasCommand, CreateKeyCommand, EnableKeyRotationCommand, KMSClient, PutKeyPolicyCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import { kmsConsistency, kmsKeyNotYetVisible, retryWhile } from '../../aws/retry.js';
import type { Step, StepContext } from '../../core/step.js';
import { sessionKeyPolicy } from '../../policies/kms-key-policy.js';
import { pickName, unanswered } from '../shared/ask.js';
import { type KmsChange, keyTagsFor, kmsKeyNote, planKmsKey, policyUpdate } from './plan.js';
import { type KmsKeyState, listKeyAliases, readKmsKey } from './read.js';

/** Runbook step 2: the symmetric key that encrypts session data (and the logs at rest). */
export const kmsKeyStep: Step<KmsKeyState, KmsChange> = {
  id: 'kms-key',

  async ask(ctx) {
    if (!unanswered(ctx, 'keyAlias')) return {};
    const existing = await listKeyAliases(ctx.aws.get(KMSClient));
    const message = 'KMS key for session encryption';
    return { keyAlias: await pickName(ctx, { id: 'kms-key.alias', message, key: 'keyAlias', proposed: ctx.settings.keyAlias, existing, what: 'key' }) };
  },

  read: (ctx) => readKmsKey(ctx),

  plan: planKmsKey,

  note: kmsKeyNote,

  async apply(ctx, state, changes) {
    const kms = ctx.aws.get(KMSClient);
    let key = state.kind === 'absent' ? undefined : { id: state.key.id, arn: state.key.arn };
    let created = false;
    let policyChanged = false;
    // Right after CreateKey, KMS may not know the key for a few seconds (NotFoundException):
    // the calls naming it then retry briefly. Elsewhere that error is real and fails at once.
    const onKey = <T>(work: () => Promise<T>): Promise<T> =>
      created
        ? retryWhile(work, kmsKeyNotYetVisible, (ms) => ctx.io.info(`  waiting for KMS to see the new key (${Math.round(ms / 1000)}s)…`), kmsConsistency)
        : work();
    for (const change of changes) {
      if (change.kind === 'create-key') {
        key = await createKey(kms, ctx);
        created = true;
      }
      const KeyId = key!.id;
      switch (change.kind) {
        case 'create-alias':
          await onKey(() => kms.send(new CreateAliasCommand({ AliasName: ctx.settings.keyAlias, TargetKeyId: KeyId })));
          break;
        case 'enable-rotation':
          await onKey(() => kms.send(new EnableKeyRotationCommand({ KeyId })));
          break;
        case 'tag-key':
          await onKey(() => kms.send(new TagResourceCommand({ KeyId, Tags: kmsTags(keyTagsFor(ctx)) })));
          break;
        case 'key-policy': {
          // A new key got the statement at CreateKey; an existing one gets it merged into its policy.
          const policy = state.kind === 'absent' ? undefined : policyUpdate(state.key, ctx);
          if (policy) {
            await onKey(() => kms.send(new PutKeyPolicyCommand({ KeyId, PolicyName: 'default', Policy: JSON.stringify(policy) })));
            policyChanged = true;
          }
          break;
        }
      }
    }
    // Later steps that use the key at once (log-group) retry while KMS catches up.
    return { kmsKeyId: key!.id, kmsKeyArn: key!.arn, kmsKeyAlias: ctx.settings.keyAlias, ...(created || policyChanged ? { kmsKeyChanged: true } : {}) };
  },

  outputs: (state) => (state.kind === 'present' ? { kmsKeyId: state.key.id, kmsKeyArn: state.key.arn, kmsKeyAlias: state.alias } : undefined),
};

async function createKey(kms: KMSClient, ctx: StepContext) {
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

const kmsTags = (tags: Record<string, string>) => Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
