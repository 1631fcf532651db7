import { StepError } from '../../base/errors.js';
import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Change, PlanInput } from '../../core/step.js';
import {
  defaultBucketName,
  describeRule,
  encryptionDrift,
  LIFECYCLE_RULE_ID,
  type LifecycleDays,
  publicAccessGaps,
  sessionLogsRule,
  TLS_STATEMENT_SID,
  withSessionLogsRule,
  withTlsDeny,
} from '../../policies/log-bucket.js';
import { formatTags, missingTags } from '../../policies/tags.js';
import type { BucketInfo, BucketState } from './read.js';

export type BucketChange = 'create-bucket' | 'tags' | 'public-access' | 'encryption' | 'versioning' | 'lifecycle' | 'policy';

/** The configuration kinds, in the order apply runs them (the TLS policy last). */
export const BUCKET_SETTINGS: readonly Exclude<BucketChange, 'create-bucket'>[] = ['tags', 'public-access', 'encryption', 'versioning', 'lifecycle', 'policy'];

export const lifecycleDays = (input: PlanInput): LifecycleDays => ({
  prefix: input.settings.s3Prefix,
  transitionDays: input.settings.logTransitionDays,
  expirationDays: input.settings.logExpirationDays,
});

const keyOf = (input: PlanInput) => ({ arn: input.outputs.kmsKeyArn, id: input.outputs.kmsKeyId, alias: input.settings.keyAlias });

/** Pure: create the bucket, or one change per difference on an existing one. */
export function planLogBucket(state: BucketState, input: PlanInput): Change<BucketChange>[] {
  if (state.kind === 'unusable') throw unusable(state);
  if (state.kind === 'absent') {
    const rule = describeRule(sessionLogsRule(lifecycleDays(input)));
    return [
      {
        kind: 'create-bucket',
        action: 'create',
        resource: `S3 bucket ${state.name}`,
        detail: `in ${input.region}; all public access blocked; SSE-KMS with ${input.settings.keyAlias} (bucket key on); versioning on; TLS-only policy; lifecycle ${rule}; tags ${formatTags(resourceTagsFor(input.settings))}`,
      },
    ];
  }
  return driftOf(state.bucket, input);
}

function driftOf(b: BucketInfo, input: PlanInput): Change<BucketChange>[] {
  const changes: Change<BucketChange>[] = [];
  const add = (kind: BucketChange, what: string, detail: string) => changes.push({ kind, action: 'update', resource: `${what} of bucket ${b.name}`, detail });

  // Only a bucket ssm-setup created gets its tags: tagging an adopted one would claim it for `destroy`.
  if (b.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value) {
    const missing = missingTags(b.tags, resourceTagsFor(input.settings));
    if (missing) add('tags', 'tags', `set ${formatTags(missing)}`);
  } else if (madeByInterruptedRun(b, input)) {
    add(
      'tags',
      'tags',
      `set ${formatTags(resourceTagsFor(input.settings))} (untagged, under ssm-setup's own name for it: a run stopped right after creating it)`,
    );
  }
  const gaps = publicAccessGaps(b.publicAccess);
  if (gaps.length) add('public-access', 'public access block', `${gaps.join(', ')} off → all four on`);
  const encryption = encryptionDrift(b.encryption, keyOf(input));
  if (encryption) add('encryption', 'default encryption', encryption);
  if (b.versioning !== 'Enabled') add('versioning', 'versioning', `${b.versioning ?? 'never enabled'} → Enabled`);
  if (withSessionLogsRule(b.rules, lifecycleDays(input))) {
    const others = b.rules.filter((r) => r.ID !== LIFECYCLE_RULE_ID).length;
    const current = b.rules.find((r) => r.ID === LIFECYCLE_RULE_ID);
    add(
      'lifecycle',
      `lifecycle rule ${LIFECYCLE_RULE_ID}`,
      `${describeRule(current)} → ${describeRule(sessionLogsRule(lifecycleDays(input)))}${others ? `; keeps ${others} other rule${others > 1 ? 's' : ''}` : ''}`,
    );
  }
  if (withTlsDeny(b.policy, input.identity.partition, b.name)) {
    const others = b.policy?.Statement.length ?? 0;
    add(
      'policy',
      'bucket policy',
      `add ${TLS_STATEMENT_SID} (deny requests without TLS)${others ? `; keeps ${others} other statement${others > 1 ? 's' : ''}` : ''}`,
    );
  }
  return changes;
}

/**
 * Without s3:TagResource the bucket is created untagged and tagged by the next call; a run
 * stopped in between leaves a bucket as CreateBucket made it: no tag, no policy, no lifecycle,
 * versioning never on, S3's default SSE-S3. Under the contract's default name for this account
 * and region, such a bucket is ssm-setup's own. One that someone configured, or under a name
 * given with --bucket, could be anyone's: it stays adopted.
 */
function madeByInterruptedRun(b: BucketInfo, input: PlanInput): boolean {
  const asCreated =
    !Object.keys(b.tags).length &&
    !b.policy &&
    !b.rules.length &&
    b.versioning === undefined &&
    (b.encryption?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm ?? 'AES256') === 'AES256';
  return asCreated && b.name === defaultBucketName(input.identity.account, input.region);
}

function unusable(state: Extract<BucketState, { kind: 'unusable' }>): StepError {
  if (state.why === 'other-region') {
    return new StepError(
      'log-bucket',
      'BUCKET_OTHER_REGION',
      `bucket ${state.name} exists in ${state.region ?? 'another region'}, not in the region being set up`,
      {
        hint: `session logs go to a bucket in the same region: pass another --bucket, or run with --region ${state.region ?? '<its region>'}`,
      },
    );
  }
  return nameTaken(state.name, ' (or you may not read it)');
}

/** Bucket names are global: someone else's name is an error with a suggestion. */
export function nameTaken(name: string, aside = ''): StepError {
  return new StepError('log-bucket', 'BUCKET_NAME_TAKEN', `bucket name ${name} is taken by another AWS account${aside}`, {
    hint: `bucket names are global: choose another with --bucket, for example --bucket ${name.slice(0, 55)}-logs-01`,
  });
}
