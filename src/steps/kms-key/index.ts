import {
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { createOrFind } from '../../aws/lost-answers.js';
import { kmsConsistency, kmsKeyNotYetVisible, retryWhile } from '../../aws/retry.js';
import { allInOrder } from '../../base/batch.js';
import type { Step } from '../../core/step.js';
import { pickName, unanswered } from '../shared/ask.js';
import { createAlias, createSessionKey, kmsTags } from './create.js';
import { type KmsChange, keyTagsFor, kmsKeyNote, planKmsKey, policyUpdate, STRAY_DELETION_DAYS } from './plan.js';
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
    if (changes.some((c) => c.kind === 'create-key')) {
      key = await createSessionKey(ctx);
      created = true;
    }
    const KeyId = key!.id;
    // The steps that use the key need its ARN, and a policy that admits CloudWatch Logs (a new
    // key has it from CreateKey): they may start while the alias and rotation are made.
    // Later steps that use the key at once (log-group) retry while KMS catches up (`kmsKeyChanged`).
    const outputs = () => ({
      kmsKeyId: KeyId,
      kmsKeyArn: key!.arn,
      kmsKeyAlias: ctx.settings.keyAlias,
      ...(created || policyChanged ? { kmsKeyChanged: true } : {}),
    });
    if (!changes.some((c) => c.kind === 'key-policy')) ctx.ready?.(outputs());
    // Once the key exists, its alias, rotation, tags, policy and the strays' deletion do not
    // depend on each other: all in flight at once.
    const change = async (kind: KmsChange, subject?: string): Promise<unknown> => {
      switch (kind) {
        case 'create-alias':
          return onKey(() => createAlias(kms, ctx.settings.keyAlias, key!));
        case 'delete-stray':
          return scheduleDeletion(kms, subject!);
        case 'enable-rotation':
          return onKey(() => kms.send(new EnableKeyRotationCommand({ KeyId })));
        case 'tag-key':
          return onKey(() => kms.send(new TagResourceCommand({ KeyId, Tags: kmsTags(keyTagsFor(ctx)) })));
        case 'key-policy': {
          // A new key got the statement at CreateKey; an existing one gets it merged into its policy.
          const policy = state.kind === 'absent' ? undefined : policyUpdate(state.key, ctx);
          if (!policy) return;
          policyChanged = true;
          return onKey(() => kms.send(new PutKeyPolicyCommand({ KeyId, PolicyName: 'default', Policy: JSON.stringify(policy) })));
        }
      }
    };
    await allInOrder(changes.filter((c) => c.kind !== 'create-key').map((c) => () => change(c.kind, c.subject)));
    return outputs();
  },

  outputs: (state) => (state.kind === 'present' ? { kmsKeyId: state.key.id, kmsKeyArn: state.key.arn, kmsKeyAlias: state.alias } : undefined),
};

/**
 * ScheduleKeyDeletion of a stray key. Sent again after a lost answer, KMS refuses a key already
 * pending deletion (KMSInvalidStateException): that is the deletion done.
 */
function scheduleDeletion(kms: KMSClient, KeyId: string): Promise<unknown> {
  return createOrFind(
    () => kms.send(new ScheduleKeyDeletionCommand({ KeyId, PendingWindowInDays: STRAY_DELETION_DAYS })),
    ['KMSInvalidStateException'],
    async () => {
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata;
      return meta?.KeyState === 'PendingDeletion' ? meta : undefined;
    },
  );
}
