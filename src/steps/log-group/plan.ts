import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Change, PlanInput } from '../../core/step.js';
import { formatTags, missingTags } from '../../policies/tags.js';

export interface LogGroupInfo {
  readonly name: string;
  /** Without the `:*` suffix DescribeLogGroups puts on `arn`. */
  readonly arn: string;
  readonly kmsKeyId?: string;
  /** Undefined: never expire. */
  readonly retentionDays?: number;
  readonly tags: Readonly<Record<string, string>>;
}

export type LogGroupState = { readonly kind: 'absent'; readonly name: string } | { readonly kind: 'present'; readonly group: LogGroupInfo };

export type LogGroupChange = 'create-group' | 'encrypt' | 'retention' | 'tags';

const keyName = (input: PlanInput) => (input.outputs.kmsKeyArn ? input.settings.keyAlias : `the new key ${input.settings.keyAlias}`);

/** Pure: create the group, or one change per difference on an existing one. */
export function planLogGroup(state: LogGroupState, input: PlanInput): Change<LogGroupChange>[] {
  const retention = input.settings.logRetentionDays;
  if (state.kind === 'absent') {
    return [{
      kind: 'create-group',
      action: 'create',
      resource: `log group ${state.name}`,
      detail: `encrypted with ${keyName(input)}; retention ${retention} days; tags ${formatTags(resourceTagsFor(input.settings))}`,
    }];
  }
  const g = state.group;
  const changes: Change<LogGroupChange>[] = [];
  const add = (kind: LogGroupChange, what: string, detail: string) => changes.push({ kind, action: 'update', resource: `${what} of log group ${g.name}`, detail });
  if (!input.outputs.kmsKeyArn || g.kmsKeyId !== input.outputs.kmsKeyArn) {
    add('encrypt', 'encryption', `${g.kmsKeyId ?? 'none'} → ${keyName(input)}`);
  }
  if (g.retentionDays !== retention) add('retention', 'retention', `${g.retentionDays ?? 'never expire'} → ${retention} days`);
  // Only a group ssm-setup created gets its tags: tagging an adopted one would claim it for `destroy`.
  if (g.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value) {
    const missing = missingTags(g.tags, resourceTagsFor(input.settings));
    if (missing) add('tags', 'tags', `set ${formatTags(missing)}`);
  }
  return changes;
}
