import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { ChangeRisk } from '../../core/report.js';
import type { Change, PlanInput } from '../../core/step.js';
import { formatTags, missingTags } from '../../policies/tags.js';
import type { PolicyDocument } from '../../policies/types.js';
import { keyPolicyChange, logsKeyPolicy } from '../kms-key/plan.js';
import { withRisk } from '../shared/risk.js';

export interface LogGroupInfo {
  readonly name: string;
  /** Without the `:*` suffix DescribeLogGroups puts on `arn`. */
  readonly arn: string;
  readonly kmsKeyId?: string;
  /** Undefined: never expire. */
  readonly retentionDays?: number;
  readonly tags: Readonly<Record<string, string>>;
}

export type LogGroupState = ({ readonly kind: 'absent'; readonly name: string } | { readonly kind: 'present'; readonly group: LogGroupInfo }) & {
  /**
   * The session key's policy, read only when this step owns its CloudWatch Logs statement
   * (see `ownsKeyPolicy`) and the key exists.
   */
  readonly keyPolicy?: PolicyDocument;
};

export type LogGroupChange = 'key-policy' | 'create-group' | 'encrypt' | 'retention' | 'tags';

/**
 * CloudWatch Logs encrypts with the key only when the key policy admits it. When kms-key is
 * part of the run it owns that statement; otherwise (`run log-group`, where kms-key is only
 * read) this step plans and applies it itself, before it creates or encrypts the group.
 */
export const ownsKeyPolicy = (input: Pick<PlanInput, 'selected'>): boolean => !input.selected?.has('kms-key');

/** The key policy this step must write first, or undefined when it admits CloudWatch Logs already (or is not ours). */
export const keyPolicyUpdate = (state: LogGroupState, input: PlanInput): PolicyDocument | undefined =>
  state.keyPolicy && ownsKeyPolicy(input) ? logsKeyPolicy('log-group', state.keyPolicy, input) : undefined;

const keyName = (input: PlanInput) => (input.outputs.kmsKeyArn ? input.settings.keyAlias : `the new key ${input.settings.keyAlias}`);

/** Pure: the key policy first when needed, then create the group, or one change per difference on an existing one. */
export function planLogGroup(state: LogGroupState, input: PlanInput): Change<LogGroupChange>[] {
  const changes: Change<LogGroupChange>[] = [];
  if (keyPolicyUpdate(state, input)) changes.push(keyPolicyChange(input, ' (kms-key is not part of this run)'));
  const retention = input.settings.logRetentionDays;
  if (state.kind === 'absent') {
    changes.push({
      kind: 'create-group',
      action: 'create',
      resource: `log group ${state.name}`,
      detail: `encrypted with ${keyName(input)}; retention ${retention} days; tags ${formatTags(resourceTagsFor(input.settings))}`,
    });
    return changes;
  }
  const g = state.group;
  const add = (kind: LogGroupChange, what: string, detail: string, risk?: ChangeRisk) =>
    changes.push({ kind, action: 'update', resource: `${what} of log group ${g.name}`, detail, ...withRisk(risk) });
  // The group is always (re)encrypted with the session key: this plan never removes a key.
  if (!input.outputs.kmsKeyArn || g.kmsKeyId !== input.outputs.kmsKeyArn) {
    add('encrypt', 'encryption', `${g.kmsKeyId ?? 'none'} → ${keyName(input)}`);
  }
  if (g.retentionDays !== retention) {
    add('retention', 'retention', `${g.retentionDays ?? 'never expire'} → ${retention} days`, retentionRisk(g.retentionDays, retention));
  }
  // Only a group ssm-setup created gets its tags: tagging an adopted one would claim it for `destroy`.
  if (g.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value) {
    const missing = missingTags(g.tags, resourceTagsFor(input.settings));
    if (missing) add('tags', 'tags', `set ${formatTags(missing)}`);
  }
  return changes;
}

/** Pure: a shorter retention deletes session logs CloudWatch Logs keeps now (undefined: kept forever). */
export function retentionRisk(was: number | undefined, now: number): ChangeRisk | undefined {
  if (was !== undefined && now >= was) return undefined;
  return { kind: 'weakens-audit', why: `session logs older than ${now} days are deleted (kept ${was === undefined ? 'forever' : `${was} days`} now)` };
}
