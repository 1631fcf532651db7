import { type SetupError, StepError, UsageError } from '../../base/errors.js';
import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { ChangeRisk } from '../../core/report.js';
import type { Change, PlanInput } from '../../core/step.js';
import {
  bucketArn,
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
import { oneRisk, withRisk } from '../shared/risk.js';
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
  if (state.kind === 'unusable') throw unusable(state, input.identity.partition);
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
  const add = (kind: BucketChange, what: string, detail: string, risk?: ChangeRisk) =>
    changes.push({ kind, action: 'update', resource: `${what} of bucket ${b.name}`, detail, ...withRisk(risk) });
  const ours = b.tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value;
  const leftByUs = !ours && madeByInterruptedRun(b, input);
  const adopted = !ours && !leftByUs;
  if (adopted && input.settings.s3Prefix === '' && !input.settings.s3PrefixWholeBucket) throw wholeBucket(b, input);
  // What ssm-setup changes in a bucket someone else made is marked, and confirmed on its own.
  const foreign = (what: string): ChangeRisk | undefined =>
    adopted ? { kind: 'foreign', why: `bucket ${b.name} was not created by ssm-setup: ${what}` } : undefined;

  // Only a bucket ssm-setup created gets its tags: tagging an adopted one would claim it for `destroy`.
  if (ours) {
    const missing = missingTags(b.tags, resourceTagsFor(input.settings));
    if (missing) {
      assertTagRoom(b, input);
      add('tags', 'tags', `set ${formatTags(missing)}`);
    }
  } else if (leftByUs) {
    add(
      'tags',
      'tags',
      `set ${formatTags(resourceTagsFor(input.settings))} (untagged, under ssm-setup's own name for it: a run stopped right after creating it)`,
    );
  }
  const gaps = publicAccessGaps(b.publicAccess);
  if (gaps.length) add('public-access', 'public access block', `${gaps.join(', ')} off → all four on`);
  const encryption = encryptionDrift(b.encryption, keyOf(input));
  if (encryption) {
    add(
      'encryption',
      'default encryption',
      encryption,
      oneRisk([
        encryptionRisk(b),
        foreign('every object written to it from now on is encrypted with the session key, and reading one needs kms:Decrypt on that key'),
      ]),
    );
  }
  if (b.versioning !== 'Enabled') {
    const was = b.versioning ?? 'never enabled';
    add(
      'versioning',
      'versioning',
      `${was} → Enabled`,
      foreign('once on, versioning can be suspended but never turned off, and every overwritten or deleted object is kept as an old version (storage cost)'),
    );
  }
  if (withSessionLogsRule(b.rules, lifecycleDays(input))) {
    const others = b.rules.filter((r) => r.ID !== LIFECYCLE_RULE_ID).length;
    const current = b.rules.find((r) => r.ID === LIFECYCLE_RULE_ID);
    add(
      'lifecycle',
      `lifecycle rule ${LIFECYCLE_RULE_ID}`,
      `${describeRule(current)} → ${describeRule(sessionLogsRule(lifecycleDays(input)))}${others ? `; keeps ${others} other rule${others > 1 ? 's' : ''}` : ''}`,
      // A bucket a stopped run left has no logs yet for a new rule to expire.
      leftByUs ? undefined : expirationRisk(current, input.settings.logExpirationDays),
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
 * Pure: the plan always blocks public access, keeps versioning on and encrypts with the session
 * key, so its only weaker encryption is dual-layer SSE-KMS (DSSE-KMS) made single-layer.
 */
export function encryptionRisk(b: Pick<BucketInfo, 'encryption'>): ChangeRisk | undefined {
  return b.encryption?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms:dsse'
    ? { kind: 'weakens-security', why: 'new session logs get one layer of KMS encryption instead of two (DSSE-KMS → SSE-KMS)' }
    : undefined;
}

/**
 * Pure: a rule that expires session logs (or their old versions) sooner than the deployed rule
 * does, or at all where none expired them, deletes logs S3 keeps now. `days` 0: never expire.
 */
export function expirationRisk(current: BucketInfo['rules'][number] | undefined, days: number): ChangeRisk | undefined {
  if (!days) return undefined;
  const was = current?.Status === 'Enabled' ? current.Expiration?.Days : undefined;
  const oldWas = current?.Status === 'Enabled' ? current.NoncurrentVersionExpiration?.NoncurrentDays : undefined;
  const sooner = (d: number | undefined) => d === undefined || days < d;
  if (!sooner(was) && !sooner(oldWas)) return undefined;
  const kept = was === undefined ? 'kept forever' : `expire after ${was} days`;
  return { kind: 'weakens-audit', why: `session logs older than ${days} days are deleted (they ${kept} now)` };
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

/** S3 takes at most 50 tags on a bucket: ours added to the ones it has must fit. */
const MAX_BUCKET_TAGS = 50;

function assertTagRoom(b: BucketInfo, input: PlanInput): void {
  const count = Object.keys({ ...b.tags, ...resourceTagsFor(input.settings) }).length;
  if (count <= MAX_BUCKET_TAGS) return;
  throw new UsageError(
    'INVALID_SETTINGS',
    `--tags: bucket ${b.name} would carry ${count} tags (the ${Object.keys(b.tags).length} it has and ours), and S3 allows ${MAX_BUCKET_TAGS}`,
    {
      hint: `Nothing was changed. Drop ${count - MAX_BUCKET_TAGS} of the --tags, or remove tags from the bucket (aws s3api put-bucket-tagging).`,
    },
  );
}

/** An empty prefix on someone else's bucket: our lifecycle rule would take every object in it. */
function wholeBucket(b: BucketInfo, input: PlanInput): UsageError {
  return new UsageError(
    'PREFIX_WHOLE_BUCKET',
    `--s3-prefix (s3Prefix) is empty, and bucket ${b.name} was not created by ssm-setup: its lifecycle rule ${LIFECYCLE_RULE_ID} (${describeRule(sessionLogsRule(lifecycleDays(input)))}) would then cover every object in the bucket, and session logs would land anywhere in it`,
    {
      hint: 'Nothing was changed. Give the session logs a prefix of their own (e.g. --s3-prefix session-logs/), or, if the whole bucket is meant for them, add --s3-prefix-whole-bucket (s3PrefixWholeBucket: true).',
    },
  );
}

/** Where the bucket name came from, as an error names it. */
const NAMED_BY: Record<string, string> = { flag: '--bucket', config: 'the config key "bucket"', prompt: 'the bucket chosen' };

function unusable(state: Extract<BucketState, { kind: 'unusable' }>, partition: string): SetupError {
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
  if (state.why === 'denied') {
    return new StepError(
      'log-bucket',
      'ACCESS_DENIED',
      `bucket ${state.name} is this account's, but these credentials may not read it (HeadBucket answered 403)`,
      {
        call: 'S3.HeadBucket',
        hint: `grant s3:ListBucket on ${bucketArn(partition, state.name)} (HeadBucket needs it) to the credentials in use, then rerun`,
      },
    );
  }
  const label = NAMED_BY[state.source ?? ''] ?? 'the default bucket name';
  const unsure = state.unsure ? ", or these credentials may not read it (they may not list the account's buckets either)" : '';
  return new UsageError('BUCKET_OTHER_ACCOUNT', `${label}: bucket ${state.name} belongs to another AWS account${unsure}`, {
    hint: `Nothing was changed. Bucket names are global: choose another with --bucket (or "bucket" in the config file), for example --bucket ${state.name.slice(0, 55)}-logs-01`,
  });
}

/** Bucket names are global: a name another account took between our read and our create is a step error. */
export function nameTaken(name: string): StepError {
  return new StepError('log-bucket', 'BUCKET_NAME_TAKEN', `bucket name ${name} is taken by another AWS account`, {
    hint: `bucket names are global: choose another with --bucket, for example --bucket ${name.slice(0, 55)}-logs-01`,
  });
}
