import {
  CreateAliasCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import type { Step, StepContext } from '../../core/step.js';
import { sessionKeyPolicy } from '../../policies/kms-key-policy.js';
import { pickName, unanswered } from '../shared/ask.js';
import { keyTagsFor, planKmsKey, policyUpdate, type KmsChange } from './plan.js';
import { listKeyAliases, readKmsKey, type KmsKeyState } from './read.js';

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

  async apply(ctx, state, changes) {
    const kms = ctx.aws.get(KMSClient);
    let key = state.kind === 'absent' ? undefined : { id: state.key.id, arn: state.key.arn };
    for (const change of changes) {
      if (change.kind === 'create-key') key = await createKey(kms, ctx);
      const KeyId = key!.id;
      switch (change.kind) {
        case 'create-alias':
          await kms.send(new CreateAliasCommand({ AliasName: ctx.settings.keyAlias, TargetKeyId: KeyId }));
          break;
        case 'enable-rotation':
          await kms.send(new EnableKeyRotationCommand({ KeyId }));
          break;
        case 'tag-key':
          await kms.send(new TagResourceCommand({ KeyId, Tags: kmsTags(keyTagsFor(ctx)) }));
          break;
        case 'key-policy':
          if (state.kind !== 'absent') {
            await kms.send(new PutKeyPolicyCommand({ KeyId, PolicyName: 'default', Policy: JSON.stringify(policyUpdate(state.key, ctx)) }));
          }
          break;
      }
    }
    return { kmsKeyId: key!.id, kmsKeyArn: key!.arn, kmsKeyAlias: ctx.settings.keyAlias };
  },

  outputs: (state) =>
    state.kind === 'present' ? { kmsKeyId: state.key.id, kmsKeyArn: state.key.arn, kmsKeyAlias: state.alias } : undefined,
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
      Description: `Session Manager session data and logs (ssm-setup, ${ctx.settings.keyAlias})`,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Policy: JSON.stringify(policy),
      Tags: kmsTags(keyTagsFor(ctx)),
    }),
  );
  return { id: out.KeyMetadata!.KeyId!, arn: out.KeyMetadata!.Arn! };
}

const kmsTags = (tags: Record<string, string>) => Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
