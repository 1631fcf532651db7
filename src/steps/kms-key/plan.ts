import { type ErrorCode, StepError, UsageError } from '../../base/errors.js';
import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Change, PlanInput } from '../../core/step.js';
import { KEY_POLICY_MAX_BYTES, policyBytes, withCloudWatchLogs } from '../../policies/kms-key-policy.js';
import { formatTags, missingTags } from '../../policies/tags.js';
import type { PolicyDocument } from '../../policies/types.js';
import { ALIAS_TAG, type KeyInfo, type KmsKeyState, type StrayKey } from './read.js';

export type KmsChange = 'create-key' | 'create-alias' | 'enable-rotation' | 'tag-key' | 'key-policy' | 'delete-stray';

/** KMS's longest waiting period before a key scheduled for deletion is deleted (it can be cancelled until then). */
export const STRAY_DELETION_DAYS = 30;

/** KMS takes at most 50 tags per key (tags AWS itself sets, `aws:…`, do not count). */
const MAX_KEY_TAGS = 50;

/** Tags of a key ssm-setup creates: ManagedBy, the operator's tags, and the alias marker. */
export const keyTagsFor = (input: PlanInput) => ({ ...resourceTagsFor(input.settings), [ALIAS_TAG]: input.settings.keyAlias });

/**
 * `policy` with the CloudWatch Logs statement merged in, or undefined when it already holds it.
 * kms-key plans this change, or log-group when kms-key is not part of the run: both go through
 * here. A policy KMS would refuse for its size (32 KB) is refused now, before any write.
 */
export function logsKeyPolicy(stepId: string, policy: PolicyDocument, input: PlanInput): PolicyDocument | undefined {
  const merged = withCloudWatchLogs(policy, { partition: input.identity.partition, account: input.identity.account, region: input.region });
  if (merged && policyBytes(merged) > KEY_POLICY_MAX_BYTES) {
    throw new StepError(
      stepId,
      'KEY_POLICY_DENIES_LOGS',
      `the key policy of ${input.settings.keyAlias} has no room left for the CloudWatch Logs statement (KMS allows ${KEY_POLICY_MAX_BYTES} bytes)`,
      {
        hint: 'shorten the key policy (merge statements, drop unused principals) and rerun, or choose another key with --key-alias',
      },
    );
  }
  return merged;
}

/** The plan row of the key-policy change (the same whichever step owns it). */
export const keyPolicyChange = (input: PlanInput, why = ''): Change<'key-policy'> => ({
  kind: 'key-policy',
  action: 'update',
  resource: `key policy of ${input.settings.keyAlias}`,
  detail: `allow logs.${input.region} to use the key for this account's log groups${why}`,
});

/** The key policy with the CloudWatch Logs statement merged in, or undefined when none is needed. */
export function policyUpdate(key: KeyInfo, input: PlanInput): PolicyDocument | undefined {
  if (!input.settings.cloudwatchLogs || !key.policy) return undefined;
  return logsKeyPolicy('kms-key', key.policy, input);
}

/**
 * Why KMS cannot turn automatic rotation on for this key, or undefined when it can: imported
 * key material, custom key stores, and multi-Region replicas (rotation is set on the primary)
 * make EnableKeyRotation fail with UnsupportedOperationException.
 */
export function rotationBlocker(key: Pick<KeyInfo, 'origin' | 'customKeyStoreId' | 'replicaOf'>): string | undefined {
  if (key.origin === 'EXTERNAL') return 'the key material is imported (Origin EXTERNAL), which KMS does not rotate; rotate it by hand';
  if (key.customKeyStoreId || key.origin === 'AWS_CLOUDHSM' || key.origin === 'EXTERNAL_KEY_STORE') {
    return `the key is in a custom key store (${key.customKeyStoreId ?? key.origin}), where KMS does not rotate keys; rotate it by hand`;
  }
  if (key.replicaOf) return `the key is a multi-Region replica: its rotation follows the primary key ${key.replicaOf}; set it there`;
  return undefined;
}

/** The plan's remarks: a key whose rotation is not this step's to change, strays that are kept. */
export function kmsKeyNote(state: KmsKeyState): string | undefined {
  if (state.kind === 'absent') return undefined;
  const notes = [rotationNote(state.key), ...state.strays.map((s) => strayNote(s, state.alias))].filter(Boolean);
  return notes.length ? notes.join('; ') : undefined;
}

function rotationNote(key: KeyInfo): string | undefined {
  const why = rotationBlocker(key);
  if (!why) return undefined;
  if (key.replicaOf) {
    const now = key.rotation === undefined ? '' : ` (it is ${key.rotation ? 'on' : 'off'})`;
    return `automatic rotation is not changed here${now}: ${why}`;
  }
  return `automatic rotation stays off: ${why}`;
}

/** Strays that can go are planned; these are kept, and the note says why and how to remove them. */
function strayNote(stray: StrayKey, alias: string): string | undefined {
  const what = `key ${stray.id}, made by ssm-setup for ${alias} and left without an alias (a lost CreateKey answer), is kept`;
  if (stray.usedBy.length) return `${what}: ${stray.usedBy.join(', ')} use${stray.usedBy.length === 1 ? 's' : ''} it`;
  if (stray.unsure)
    return `${what}: it could not be made sure that nothing uses it (${stray.unsure}); once sure, aws kms schedule-key-deletion --key-id ${stray.id} --pending-window-in-days ${STRAY_DELETION_DAYS}`;
  return undefined;
}

/** The strays nothing names: each gets its deletion scheduled. */
const strayDeletions = (strays: readonly StrayKey[], alias: string): Change<KmsChange>[] =>
  strays
    .filter((s) => !s.usedBy.length && !s.unsure)
    .map((s) => ({
      kind: 'delete-stray',
      subject: s.id,
      action: 'delete',
      resource: `KMS key ${s.id}`,
      detail: `schedule deletion in ${STRAY_DELETION_DAYS} days (cancellable until then): made by ssm-setup for ${alias} and left without its alias by a lost CreateKey answer; no alias, bucket, log group or preferences use it`,
    }));

/** Pure: the changes that bring the key behind the alias to the desired state. */
export function planKmsKey(state: KmsKeyState, input: PlanInput): Change<KmsChange>[] {
  const alias = input.settings.keyAlias;
  if (state.kind === 'absent') {
    assertTagRoom(keyTagsFor(input));
    const logs = input.settings.cloudwatchLogs ? " + CloudWatch Logs for this account's log groups" : '';
    return [
      {
        kind: 'create-key',
        action: 'create',
        resource: 'KMS key',
        detail: `symmetric encryption key; key policy: account root${logs}; tags ${formatTags(keyTagsFor(input))}`,
      },
      { kind: 'create-alias', action: 'create', resource: `KMS alias ${alias}`, detail: '→ the new key' },
      { kind: 'enable-rotation', action: 'update', resource: 'key rotation', detail: 'automatic yearly rotation on' },
    ];
  }
  const key = state.key;
  assertUsable(key, alias, input.region);
  const changes: Change<KmsChange>[] = [];
  if (state.kind === 'orphan') {
    changes.push({
      kind: 'create-alias',
      action: 'create',
      resource: `KMS alias ${alias}`,
      detail: `→ existing key ${key.id}, left without its alias by an interrupted run`,
    });
  }
  // A key that cannot rotate (see rotationBlocker) is left as it is: the note says why.
  if (key.rotation === false && !rotationBlocker(key)) {
    changes.push({ kind: 'enable-rotation', action: 'update', resource: `key rotation of ${alias}`, detail: 'disabled → enabled (yearly)' });
  }
  // Only keys ssm-setup created get its tags: tagging an adopted key would claim it for `destroy`.
  if (key.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value) {
    const missing = missingTags(key.tags, keyTagsFor(input));
    if (missing) {
      assertTagRoom({ ...key.tags, ...missing });
      changes.push({ kind: 'tag-key', action: 'update', resource: `tags of ${alias}`, detail: `set ${formatTags(missing)}` });
    }
  }
  if (policyUpdate(key, input)) changes.push(keyPolicyChange(input));
  changes.push(...strayDeletions(state.strays, alias));
  return changes;
}

/** KMS refuses a 51st tag (TagException): say so before any write, naming the flag. */
function assertTagRoom(tags: Readonly<Record<string, string>>): void {
  const count = Object.keys(tags).filter((k) => !k.toLowerCase().startsWith('aws:')).length;
  if (count > MAX_KEY_TAGS) {
    throw new UsageError(
      'INVALID_SETTINGS',
      `--tags: the KMS key would carry ${count} tags (with ${MANAGED_BY_TAG.key}, ${ALIAS_TAG} and the tags it has), and KMS allows ${MAX_KEY_TAGS}`,
      {
        hint: `drop ${count - MAX_KEY_TAGS} of the --tags`,
      },
    );
  }
}

/** Refuses a key the setup cannot use, with the command that fixes it. */
function assertUsable(key: KeyInfo, alias: string, region: string): void {
  const fail = (code: ErrorCode, problem: string, hint: string) => {
    throw new StepError('kms-key', code, `${alias} (key ${key.id}) ${problem}`, { hint });
  };
  const other = 'or choose another alias with --key-alias';
  if (key.manager !== 'CUSTOMER')
    fail('KEY_AWS_MANAGED', "is an AWS managed key, which cannot carry this setup's key policy", `choose a customer managed key: ${other.replace('or ', '')}`);
  if (key.spec !== 'SYMMETRIC_DEFAULT' || key.usage !== 'ENCRYPT_DECRYPT') {
    fail(
      'KEY_NOT_SYMMETRIC',
      `is a ${key.spec} ${key.usage} key; Session Manager and CloudWatch Logs need a symmetric encryption key`,
      other.replace('or ', ''),
    );
  }
  if (key.state === 'Disabled') fail('KEY_DISABLED', 'is disabled', `aws kms enable-key --key-id ${key.id} --region ${region}, then rerun; ${other}`);
  if (key.state === 'PendingDeletion') {
    fail(
      'KEY_PENDING_DELETION',
      'is scheduled for deletion',
      `aws kms cancel-key-deletion --key-id ${key.id} --region ${region} && aws kms enable-key --key-id ${key.id} --region ${region}, then rerun; ${other}`,
    );
  }
  if (key.state !== 'Enabled')
    fail('KEY_NOT_ENABLED', `is in state ${key.state}; it must be Enabled`, `wait for the key to become Enabled and rerun, ${other}`);
}
