// Issue 15: the round trips of the log-bucket apply, one after the other (each wave waits for an
// answer of the one before).
import { PutBucketTaggingCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../../src/core/step.js';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { applyPlanned, converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeS3Options, fakeS3 } from '../../helpers/fake-s3.js';
import { callWaves } from '../../helpers/waves.js';
import { BUCKET, context, KEY_ARN } from './support.js';

let fake: ReturnType<typeof fakeS3>;
const strict = (opts: FakeS3Options = {}) => (fake = fakeS3(opts));
afterEach(() => fake.mock.restore());

const SETTINGS = ['PutBucketEncryption', 'PutBucketLifecycleConfiguration', 'PutBucketPolicy', 'PutBucketVersioning', 'PutPublicAccessBlock'];

/** The waves of the apply alone (the read before it is not counted). */
async function applyWaves() {
  const ctx = await context();
  const plan = await planned(logBucketStep, ctx);
  const waves = callWaves(ctx.aws.get(S3Client));
  await applyPlanned(logBucketStep, ctx, plan);
  return waves.waves();
}

/**
 * The apply with the key made beside it (StepEntry.startsBefore): the key's outputs arrive when
 * the test calls `keyMade` (or `keyFailed`: the key's apply ended without them).
 */
async function besideTheKey() {
  const ctx = await context({}, { keyKnown: false });
  const plan = await planned(logBucketStep, { ...ctx, outputs: { kmsKeyArn: KEY_ARN } });
  let ended!: () => void;
  const key = new Promise<void>((r) => (ended = r));
  const applyCtx: StepContext = { ...ctx, outputs: {}, after: (id) => (id === 'kms-key' ? key : undefined) };
  const waves = callWaves(ctx.aws.get(S3Client));
  const applying = applyPlanned(logBucketStep, applyCtx, plan);
  applying.catch(() => {});
  const settle = () => new Promise((r) => setTimeout(r, 40));
  return {
    waves,
    applying,
    settle,
    keyMade: () => {
      (applyCtx.outputs as Record<string, unknown>).kmsKeyArn = KEY_ARN;
      ended();
    },
    keyFailed: () => ended(),
  };
}

describe('log-bucket apply: round trips', () => {
  it('beside a key still being made: CreateBucket at once, then the settings, the encryption once the key exists', async () => {
    strict();
    const run = await besideTheKey();
    await run.settle();
    const keyless = SETTINGS.filter((k) => k !== 'PutBucketEncryption');
    expect(run.waves.waves()).toEqual([['CreateBucket'], [...keyless, 'PutBucketTagging'].sort()]);
    run.keyMade();
    await run.applying;
    expect(run.waves.waves()).toEqual([['CreateBucket'], [...keyless, 'PutBucketTagging'].sort(), ['PutBucketEncryption']]);
    expect(fake.buckets.get(BUCKET)?.encryption?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(KEY_ARN);
  });

  it('beside a key that failed: the new bucket stays, ours and private, without its encryption, and the step fails KEY_UNKNOWN', async () => {
    strict();
    const run = await besideTheKey();
    await run.settle();
    run.keyFailed();
    await expect(run.applying).rejects.toMatchObject({ code: 'KEY_UNKNOWN' });
    expect(fake.writes()).not.toContain('PutBucketEncryptionCommand');
    expect(fake.writes()).toContain('PutPublicAccessBlockCommand');
    expect(fake.buckets.get(BUCKET)?.tags).toEqual({ ManagedBy: 'ssm-setup' });
  });

  it('a new bucket tagged by CreateBucket itself: then its tags and every setting at once, two waves', async () => {
    strict();
    expect(await applyWaves()).toEqual([['CreateBucket'], [...SETTINGS, 'PutBucketTagging'].sort()]);
    expect(fake.buckets.get(BUCKET)?.tags).toEqual({ ManagedBy: 'ssm-setup' });
  });

  it('created untagged (no s3:TagResource): PutBucketTagging first, alone, so a stop after it leaves a bucket marked ours', async () => {
    strict({ deny: ['s3:TagResource'] });
    expect(await applyWaves()).toEqual([['CreateBucket'], ['CreateBucket'], ['PutBucketTagging'], SETTINGS]);
  });

  it('a tagged create whose wave fails in part (PutBucketTagging among them): the rerun finishes the bucket as ours, unmarked', async () => {
    strict();
    fake.failOnce(PutBucketTaggingCommand);
    fake.failOnce(PutBucketVersioningCommand);
    await expect(converge(logBucketStep, await context())).rejects.toThrow('socket hang up');
    const rerun = await converge(logBucketStep, await context());
    expect(kinds(rerun.changes)).toEqual(['versioning']);
    expect(rerun.changes.every((c) => !c.risk)).toBe(true);
    expect((await converge(logBucketStep, await context())).changes).toEqual([]);
  });
});
