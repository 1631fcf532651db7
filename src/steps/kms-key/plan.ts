import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import { type ErrorCode, StepError } from '../../base/errors.js';
import type { Change, PlanInput } from '../../core/step.js';
import { cloudWatchLogsStatement } from '../../policies/kms-key-policy.js';
import { formatTags, missingTags } from '../../policies/tags.js';
import { mergeStatement, type PolicyDocument } from '../../policies/types.js';
import { ALIAS_TAG, type KeyInfo, type KmsKeyState } from './read.js';

export type KmsChange = 'create-key' | 'create-alias' | 'enable-rotation' | 'tag-key' | 'key-policy';

/** Tags of a key ssm-setup creates: ManagedBy, the operator's tags, and the alias marker. */
export const keyTagsFor = (input: PlanInput) => ({ ...resourceTagsFor(input.settings), [ALIAS_TAG]: input.settings.keyAlias });

/** The key policy with the CloudWatch Logs statement merged in, or undefined when none is needed. */
export function policyUpdate(key: KeyInfo, input: PlanInput): PolicyDocument | undefined {
  if (!input.settings.cloudwatchLogs || !key.policy) return undefined;
  return mergeStatement(key.policy, cloudWatchLogsStatement({ partition: input.identity.partition, account: input.identity.account, region: input.region }));
}

/** Pure: the changes that bring the key behind the alias to the desired state. */
export function planKmsKey(state: KmsKeyState, input: PlanInput): Change<KmsChange>[] {
  const alias = input.settings.keyAlias;
  if (state.kind === 'absent') {
    const logs = input.settings.cloudwatchLogs ? ' + CloudWatch Logs for this account\'s log groups' : '';
    return [
      { kind: 'create-key', action: 'create', resource: 'KMS key', detail: `symmetric encryption key; key policy: account root${logs}; tags ${formatTags(keyTagsFor(input))}` },
      { kind: 'create-alias', action: 'create', resource: `KMS alias ${alias}`, detail: '→ the new key' },
      { kind: 'enable-rotation', action: 'update', resource: 'key rotation', detail: 'automatic yearly rotation on' },
    ];
  }
  const key = state.key;
  assertUsable(key, alias, input.region);
  const changes: Change<KmsChange>[] = [];
  if (state.kind === 'orphan') {
    changes.push({ kind: 'create-alias', action: 'create', resource: `KMS alias ${alias}`, detail: `→ existing key ${key.id}, left without its alias by an interrupted run` });
  }
  if (!key.rotation) changes.push({ kind: 'enable-rotation', action: 'update', resource: `key rotation of ${alias}`, detail: 'disabled → enabled (yearly)' });
  // Only keys ssm-setup created get its tags: tagging an adopted key would claim it for `destroy`.
  if (key.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value) {
    const missing = missingTags(key.tags, keyTagsFor(input));
    if (missing) changes.push({ kind: 'tag-key', action: 'update', resource: `tags of ${alias}`, detail: `set ${formatTags(missing)}` });
  }
  if (policyUpdate(key, input)) {
    changes.push({ kind: 'key-policy', action: 'update', resource: `key policy of ${alias}`, detail: `allow logs.${input.region} to use the key for this account's log groups` });
  }
  return changes;
}

/** Refuses a key the setup cannot use, with the command that fixes it. */
function assertUsable(key: KeyInfo, alias: string, region: string): void {
  const fail = (code: ErrorCode, problem: string, hint: string) => {
    throw new StepError('kms-key', code, `${alias} (key ${key.id}) ${problem}`, { hint });
  };
  const other = 'or choose another alias with --key-alias';
  if (key.manager !== 'CUSTOMER') fail('KEY_AWS_MANAGED', 'is an AWS managed key, which cannot carry this setup\'s key policy', `choose a customer managed key: ${other.replace('or ', '')}`);
  if (key.spec !== 'SYMMETRIC_DEFAULT' || key.usage !== 'ENCRYPT_DECRYPT') {
    fail('KEY_NOT_SYMMETRIC', `is a ${key.spec} ${key.usage} key; Session Manager and CloudWatch Logs need a symmetric encryption key`, other.replace('or ', ''));
  }
  if (key.state === 'Disabled') fail('KEY_DISABLED', 'is disabled', `aws kms enable-key --key-id ${key.id} --region ${region}, then rerun; ${other}`);
  if (key.state === 'PendingDeletion') {
    fail('KEY_PENDING_DELETION', 'is scheduled for deletion', `aws kms cancel-key-deletion --key-id ${key.id} --region ${region} && aws kms enable-key --key-id ${key.id} --region ${region}, then rerun; ${other}`);
  }
  if (key.state !== 'Enabled') fail('KEY_NOT_ENABLED', `is in state ${key.state}; it must be Enabled`, `wait for the key to become Enabled and rerun, ${other}`);
}
