import { CreateBucketCommand, PutBucketEncryptionCommand, PutBucketTaggingCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { consistency } from '../../../src/aws/retry.js';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { applyPlanned, converge, kinds, planned } from '../../helpers/aws.js';
import { type FakeS3Options, fakeS3 } from '../../helpers/fake-s3.js';
import { REGION } from '../../helpers/fixtures.js';
import { BUCKET, context, defaultBucket } from './support.js';

let fake: ReturnType<typeof fakeS3>;
const strict = (opts: FakeS3Options = {}) => (fake = fakeS3(opts));
afterEach(() => fake.mock.restore());

const run = (ctx: Awaited<ReturnType<typeof context>>) => converge(logBucketStep, ctx);
const createConfigs = () => fake.mock.commandCalls(CreateBucketCommand).map((c) => c.args[0].input);

/** Retries on S3's eventual consistency wait 1 ms here, not 2 s. */
function quickConsistency() {
  const saved = { ...consistency };
  Object.assign(consistency, { delayMs: 1, timeoutMs: 200 });
  onTestFinished(() => void Object.assign(consistency, saved));
}

describe('log-bucket: CreateBucket as S3 takes it', () => {
  it('in us-east-1 with tags on create: the configuration holds the tags and no location constraint', async () => {
    strict();
    const ctx = await context({}, { region: 'us-east-1' });
    await run(ctx);
    const bucket = defaultBucket('us-east-1');
    expect(createConfigs()).toEqual([{ Bucket: bucket, CreateBucketConfiguration: { Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] } }]);
    expect(fake.buckets.get(bucket)).toMatchObject({ region: 'us-east-1', tags: { ManagedBy: 'ssm-setup' } });
  });

  it('in us-east-1 without s3:TagResource: the retry sends no configuration at all, and PutBucketTagging tags it', async () => {
    // Regression: the retry sent an empty CreateBucketConfiguration, which S3 answers with MalformedXML.
    strict({ deny: ['s3:TagResource'] });
    const ctx = await context({ tags: ['Team=infra'] }, { region: 'us-east-1' });
    const bucket = defaultBucket('us-east-1');
    await run(ctx);
    const [tagged, plain] = createConfigs();
    expect(tagged?.CreateBucketConfiguration).toEqual({ Tags: expect.arrayContaining([{ Key: 'ManagedBy', Value: 'ssm-setup' }]) });
    expect(plain).toEqual({ Bucket: bucket });
    expect(plain).not.toHaveProperty('CreateBucketConfiguration');
    expect(fake.buckets.get(bucket)?.tags).toEqual({ ManagedBy: 'ssm-setup', Team: 'infra' });
    expect(fake.writes().slice(0, 3)).toEqual(['CreateBucketCommand', 'CreateBucketCommand', 'PutBucketTaggingCommand']);
    const before = fake.writes().length;
    expect((await run(ctx)).changes).toEqual([]);
    expect(fake.writes()).toHaveLength(before);
  });

  it('outside us-east-1 without s3:TagResource: the retry sends only the LocationConstraint', async () => {
    strict({ deny: ['s3:TagResource'] });
    await run(await context());
    expect(createConfigs().map((i) => i.CreateBucketConfiguration)).toEqual([
      { LocationConstraint: REGION, Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] },
      { LocationConstraint: REGION },
    ]);
    expect(fake.buckets.get(BUCKET)).toMatchObject({ region: REGION, tags: { ManagedBy: 'ssm-setup' } });
  });

  it.each(['us-east-1', REGION])('in %s, a run stopped right after an untagged create: the rerun tags the bucket as ours and converges', async (region) => {
    strict({ deny: ['s3:TagResource'] });
    const ctx = await context({}, { region });
    const bucket = defaultBucket(region);
    fake.failOnce(PutBucketTaggingCommand);
    await expect(run(ctx)).rejects.toThrow('socket hang up');
    expect(fake.buckets.get(bucket)?.tags).toBeUndefined();

    const rerun = await run(ctx);
    expect(kinds(rerun.changes)).toContain('tags');
    expect(rerun.changes.find((c) => c.kind === 'tags')?.detail).toContain('ManagedBy=ssm-setup');
    expect(fake.buckets.get(bucket)?.tags).toEqual({ ManagedBy: 'ssm-setup' });
    expect(createConfigs()).toHaveLength(2); // no second bucket
    const before = fake.writes().length;
    expect((await run(ctx)).changes).toEqual([]);
    expect(fake.writes()).toHaveLength(before);
  });

  it('an untagged bucket as CreateBucket left it, under a name given with --bucket, stays adopted: never tagged', async () => {
    strict();
    fake.addBucket('team-logs', { encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const first = await run(await context({ bucket: 'team-logs' }));
    expect(kinds(first.changes)).not.toContain('tags');
    expect(fake.buckets.get('team-logs')?.tags).toBeUndefined();
  });

  it('an untagged bucket under the default name that someone configured (a policy, a rule) stays adopted: never tagged', async () => {
    strict();
    const rules = [{ ID: 'tmp', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3 } }];
    fake.addBucket(BUCKET, { policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }), rules });
    const first = await run(await context());
    expect(kinds(first.changes)).not.toContain('tags');
    expect(fake.buckets.get(BUCKET)?.tags).toBeUndefined();
  });
});

describe('log-bucket: bucket configuration right after CreateBucket', () => {
  it('retries the writes that S3 answers NoSuchBucket while the new bucket propagates, and converges', async () => {
    quickConsistency();
    strict({ propagationLag: 3 });
    const ctx = await context();
    await run(ctx);
    const bucket = fake.buckets.get(BUCKET)!;
    expect(bucket.tags).toEqual({ ManagedBy: 'ssm-setup' });
    expect(bucket.encryption?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('aws:kms');
    expect(bucket.policy).toBeDefined();
    expect(fake.mock.commandCalls(PutBucketTaggingCommand).length).toBeGreaterThan(1);
    expect((await run(ctx)).changes).toEqual([]);
  });

  it('does not retry NoSuchBucket on a bucket that existed before the run: it is gone, and the error says so', async () => {
    quickConsistency();
    strict();
    fake.addBucket(BUCKET, { tags: { ManagedBy: 'ssm-setup' } });
    const ctx = await context();
    const plan = await planned(logBucketStep, ctx);
    fake.buckets.delete(BUCKET);
    await expect(applyPlanned(logBucketStep, ctx, plan)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    // The writes went out together; each failed once and none was retried.
    expect(fake.mock.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(1);
    expect(fake.mock.commandCalls(PutBucketEncryptionCommand)).toHaveLength(1);
  });

  it('created untagged, gives up after the consistency timeout when the bucket never shows up, its tags first', async () => {
    quickConsistency();
    strict({ propagationLag: 10_000, deny: ['s3:TagResource'] });
    await expect(run(await context())).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(fake.writes()).toEqual(expect.arrayContaining(['CreateBucketCommand', 'PutBucketTaggingCommand']));
    expect(fake.writes()).not.toContain('PutBucketPolicyCommand');
  });

  it('created tagged, gives up after the consistency timeout too: the settings went out with the tags', async () => {
    quickConsistency();
    strict({ propagationLag: 10_000 });
    await expect(run(await context())).rejects.toMatchObject({ name: 'NoSuchBucket' });
    expect(fake.writes()).toEqual(expect.arrayContaining(['CreateBucketCommand', 'PutBucketTaggingCommand', 'PutBucketPolicyCommand']));
    // Marked ours by CreateBucket itself: a rerun takes it for ssm-setup's.
    expect(fake.buckets.get(BUCKET)?.tags).toEqual({ ManagedBy: 'ssm-setup' });
  });
});
