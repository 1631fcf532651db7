import { type LifecycleRule, PutBucketLifecycleConfigurationCommand, PutBucketTaggingCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { converge, kinds } from '../../helpers/aws.js';
import { fakeS3 } from '../../helpers/fake-s3.js';
import { BUCKET, context } from './support.js';

// What the step sends back to S3 of an existing bucket's configuration, against a fake that
// refuses the shapes S3 refuses.
let fake: ReturnType<typeof fakeS3>;
beforeEach(() => {
  fake = fakeS3();
});
afterEach(() => fake.mock.restore());

const run = async (flags: Record<string, unknown> = {}) => converge(logBucketStep, await context(flags));

describe('log-bucket: configuration sent back to S3', () => {
  it('keeps the lifecycle’s TransitionDefaultMinimumObjectSize: the PUT replaces the configuration, and S3 would reset it', async () => {
    fake.addBucket(BUCKET, {
      rules: [{ ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } }],
      transitionMinimumSize: 'varies_by_storage_class',
    });
    await run();
    expect(fake.mock.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input.TransitionDefaultMinimumObjectSize).toBe('varies_by_storage_class');
    expect(fake.buckets.get(BUCKET)?.transitionMinimumSize).toBe('varies_by_storage_class');
    expect((await run()).changes).toEqual([]);
  });

  it('sends foreign rules back in the shape S3 gave them: an empty Filter, a legacy rule-level Prefix', async () => {
    const foreign: LifecycleRule[] = [
      { ID: 'all', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } },
      { ID: 'legacy', Status: 'Disabled', Prefix: 'old/', Expiration: { Days: 30 } },
    ];
    fake.addBucket(BUCKET, { rules: structuredClone(foreign) });
    await run();
    expect(fake.buckets.get(BUCKET)?.rules?.slice(0, 2)).toEqual(foreign);
  });

  it('a managed bucket with system tags (a CloudFormation stack made it): PutBucketTagging sends them back unchanged', async () => {
    const system = { 'aws:cloudformation:stack-name': 'ssm-setup', 'aws:cloudformation:logical-id': 'SessionLogBucket' };
    fake.addBucket(BUCKET, { tags: { ...system, ManagedBy: 'ssm-setup' } });
    const first = await run({ tags: ['Team=infra'] });
    expect(kinds(first.changes)).toContain('tags');
    expect(fake.mock.commandCalls(PutBucketTaggingCommand)).toHaveLength(1);
    expect(fake.buckets.get(BUCKET)?.tags).toEqual({ ...system, ManagedBy: 'ssm-setup', Team: 'infra' });
  });
});
