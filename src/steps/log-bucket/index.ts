import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  type CreateBucketConfiguration,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  paginateListBuckets,
  S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { errorName, isAccessDenied } from '../../aws/errors.js';
import { retryWhile } from '../../aws/retry.js';
import { allInOrder } from '../../base/batch.js';
import { resourceTagsFor } from '../../config/schema.js';
import type { Step, StepContext } from '../../core/step.js';
import { bucketArn, defaultBucketName, fullPublicAccessBlock, sseKmsRule, withSessionLogsRule, withTlsDeny } from '../../policies/log-bucket.js';
import { tagList } from '../../policies/tags.js';
import { askNumber, pickName, unanswered } from '../shared/ask.js';
import { requireKeyArn } from '../shared/session-key.js';
import { BUCKET_SETTINGS, type BucketChange, lifecycleDays, nameTaken, planLogBucket } from './plan.js';
import { type BucketInfo, type BucketState, readBucket } from './read.js';

/** Runbook steps 3 and 8: the hardened S3 bucket that receives session logs. */
export const logBucketStep: Step<BucketState, BucketChange> = {
  id: 'log-bucket',

  async ask(ctx) {
    const answers: Record<string, unknown> = {};
    if (unanswered(ctx, 'bucket')) {
      const existing = await regionBuckets(ctx.aws.get(S3Client), ctx.region);
      const proposed = defaultBucketName(ctx.identity.account, ctx.region);
      answers.bucket = await pickName(ctx, {
        id: 'log-bucket.bucket',
        message: 'S3 bucket for session logs',
        key: 'bucket',
        proposed,
        existing,
        what: 'bucket',
      });
    }
    let transition = ctx.settings.logTransitionDays;
    if (unanswered(ctx, 'logTransitionDays')) {
      transition = await askNumber(ctx, {
        id: 'log-bucket.transition-days',
        message: 'Days before session logs move to Glacier Flexible Retrieval (0 = never)',
        key: 'logTransitionDays',
      });
      answers.logTransitionDays = transition;
    }
    if (unanswered(ctx, 'logExpirationDays')) {
      answers.logExpirationDays = await askNumber(ctx, {
        id: 'log-bucket.expiration-days',
        message: 'Days before session logs are deleted (0 = never)',
        key: 'logExpirationDays',
        extra: (n) => n === 0 || transition === 0 || n > transition || `must be greater than the transition days (${transition}), or 0`,
      });
    }
    return answers;
  },

  read: (ctx) => readBucket(ctx),

  plan: planLogBucket,

  async apply(ctx, state, changes) {
    if (state.kind === 'unusable') throw new Error('unreachable: plan refuses an unusable bucket');
    const bucket: BucketInfo = state.kind === 'present' ? state.bucket : { name: state.name, arn: '', tags: {}, rules: [] };
    const s3 = ctx.aws.get(S3Client);
    const kinds = new Set(changes.map((c) => c.kind));
    const created = kinds.has('create-bucket');
    // The key this run is making (the bucket is created beside it), awaited by the encryption only.
    const keyLater = ctx.after?.('kms-key');
    // Before the first write: a bucket is never made for want of a key nothing is making.
    if (!keyLater && (created || kinds.has('encryption'))) requireKeyArn(ctx, 'log-bucket');
    // S3 may answer OperationAborted to writes at once on one bucket, and NoSuchBucket right after the create.
    const retryable = created ? notYetVisible : (err: unknown) => errorName(err) === 'OperationAborted';
    const wait = (ms: number) => ctx.io.info(`  waiting for S3 to see the new bucket ${bucket.name} (${Math.round(ms / 1000)}s)…`);
    const write = (kind: Exclude<BucketChange, 'create-bucket'>) => () => retryWhile(() => APPLY[kind](s3, bucket, ctx), retryable, wait);
    if (created) {
      const tagged = await createBucket(s3, bucket.name, ctx.region, resourceTagsFor(ctx.settings));
      for (const k of BUCKET_SETTINGS) kinds.add(k);
      // Untagged at birth (a create retried without tags, or one an earlier run made), the tags
      // go first, alone: an untagged bucket that is already configured would be taken for
      // someone else's. Tagged by CreateBucket, the mark is there already, and PutBucketTagging
      // (for endpoints that drop tags on create, moto) goes out with the other settings.
      if (!tagged) {
        await write('tags')();
        kinds.delete('tags');
      }
    }
    const out = { bucketName: bucket.name, bucketArn: bucketArn(ctx.identity.partition, bucket.name), s3Prefix: ctx.settings.s3Prefix };
    // The steps that name the bucket (the instance policy, the preferences) need it to exist,
    // marked as ours: they may start while its settings are written.
    ctx.ready?.(out);
    // The settings do not depend on each other: all in flight at once, the encryption once the
    // key exists (a key that failed leaves it to a rerun: KEY_UNKNOWN, the other settings made).
    const encrypt = write('encryption');
    const settings = BUCKET_SETTINGS.filter((k) => kinds.has(k)).map((k) => (k === 'encryption' && keyLater ? () => keyLater.then(encrypt) : write(k)));
    await allInOrder(settings);
    return out;
  },

  outputs: (state) => (state.kind === 'present' ? { bucketName: state.bucket.name, bucketArn: state.bucket.arn, s3Prefix: state.prefix } : undefined),
};

type Apply = (s3: S3Client, bucket: BucketInfo, ctx: StepContext) => Promise<unknown>;

/** One call per kind of change; each sends the whole desired configuration, merged with what exists. */
const APPLY: Record<Exclude<BucketChange, 'create-bucket'>, Apply> = {
  tags: (s3, b, ctx) => {
    const TagSet = tagList({ ...b.tags, ...resourceTagsFor(ctx.settings) });
    return s3.send(new PutBucketTaggingCommand({ Bucket: b.name, Tagging: { TagSet } }));
  },
  'public-access': (s3, b) => s3.send(new PutPublicAccessBlockCommand({ Bucket: b.name, PublicAccessBlockConfiguration: fullPublicAccessBlock() })),
  encryption: (s3, b, ctx) => {
    const keyArn = requireKeyArn(ctx, 'log-bucket');
    return s3.send(new PutBucketEncryptionCommand({ Bucket: b.name, ServerSideEncryptionConfiguration: { Rules: [sseKmsRule(keyArn)] } }));
  },
  versioning: (s3, b) => s3.send(new PutBucketVersioningCommand({ Bucket: b.name, VersioningConfiguration: { Status: 'Enabled' } })),
  lifecycle: async (s3, b, ctx) => {
    const Rules = withSessionLogsRule(b.rules, lifecycleDays(ctx));
    // The PUT replaces the whole configuration: an omitted minimum object size would be reset.
    const size = b.transitionMinimumSize ? { TransitionDefaultMinimumObjectSize: b.transitionMinimumSize } : {};
    if (Rules) await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: b.name, LifecycleConfiguration: { Rules }, ...size }));
  },
  // Once it is in place, every request without TLS is denied (ours use TLS).
  policy: async (s3, b, ctx) => {
    const policy = withTlsDeny(b.policy, ctx.identity.partition, b.name);
    if (policy) await s3.send(new PutBucketPolicyCommand({ Bucket: b.name, Policy: JSON.stringify(policy) }));
  },
};

/** Answers that mean "not with tags" (an endpoint or partition without tag-on-create) rather than "not this bucket". */
const TAGS_REFUSED = ['InvalidArgument', 'InvalidRequest', 'MalformedXML', 'NotImplemented'];

/**
 * Bucket configuration is eventually consistent: right after CreateBucket, S3 can answer
 * NoSuchBucket (or OperationAborted) for a short while. Retried only for a bucket this apply
 * created, as Terraform's AWS provider does for two minutes (its bucketPropagationTimeout).
 */
const notYetVisible = (err: unknown) => ['NoSuchBucket', 'OperationAborted'].includes(errorName(err));

/**
 * Creates the bucket with its tags in the same call, so a run interrupted right after still
 * left a bucket marked as ours. Tagging on create needs s3:TagResource; without it (or where
 * tags on create are refused) the bucket is created untagged and PutBucketTagging, which
 * follows at once, tags it. Returns whether CreateBucket took the tags: false for an untagged
 * create, and for a bucket an earlier run made (BucketAlreadyOwnedByYou), tagged or not.
 */
async function createBucket(s3: S3Client, Bucket: string, region: string, tags: Record<string, string>): Promise<boolean> {
  // us-east-1 takes no LocationConstraint (its own name is InvalidLocationConstraint), and an
  // empty CreateBucketConfiguration element is MalformedXML: there, without tags, send none.
  const location = region === 'us-east-1' ? {} : { LocationConstraint: region as BucketLocationConstraint };
  const create = async (Tags?: Tag[]) => {
    const config: CreateBucketConfiguration = { ...location, ...(Tags ? { Tags } : {}) };
    await s3.send(new CreateBucketCommand({ Bucket, ...(Object.keys(config).length ? { CreateBucketConfiguration: config } : {}) }));
  };
  try {
    return await create(tagList(tags)).then(
      () => true,
      async (err: unknown) => {
        if (!isAccessDenied(err) && !TAGS_REFUSED.includes(errorName(err))) throw err;
        await create();
        return false;
      },
    );
  } catch (err) {
    if (errorName(err) === 'BucketAlreadyOwnedByYou') return false; // an earlier, interrupted run made it
    if (errorName(err) === 'BucketAlreadyExists') throw nameTaken(Bucket);
    throw err;
  }
}

/** The account's buckets in this region, for the wizard's choices. */
async function regionBuckets(s3: S3Client, region: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListBuckets({ client: s3 }, { BucketRegion: region })) {
    for (const b of page.Buckets ?? []) if (b.Name && (!b.BucketRegion || b.BucketRegion === region)) names.push(b.Name);
  }
  return names.sort();
}
