import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { fakeS3, headError } from '../../helpers/fake-s3.js';
import { BUCKET, commandNames, context } from './support.js';

let fake: ReturnType<typeof fakeS3>;
beforeEach(() => {
  fake = fakeS3();
});
afterEach(() => fake.mock.restore());

/** Reads and plans; returns the state and the error the plan throws. */
async function readAndRefuse() {
  const ctx = await context();
  const state = await logBucketStep.read(ctx);
  let error: unknown;
  try {
    logBucketStep.plan(state, ctx);
  } catch (e) {
    error = e;
  }
  return { state, error };
}

describe('log-bucket: a bucket that lives in another region', () => {
  it.each([301, 400] as const)('HeadBucket answers %i with x-amz-bucket-region: the plan refuses, naming that region', async (status) => {
    // 400 is what S3 answers a client of some regions (aws-sdk-js-v3#7304), where others get 301.
    fake.addBucket(BUCKET, { region: 'eu-central-1', crossRegionHead: status });
    const { state, error } = await readAndRefuse();
    expect(state).toEqual({ kind: 'unusable', name: BUCKET, why: 'other-region', region: 'eu-central-1' });
    expect(error).toMatchObject({ code: 'BUCKET_OTHER_REGION', stepId: 'log-bucket' });
    expect((error as { hint: string }).hint).toContain('--region eu-central-1');
    expect(commandNames(fake.mock.calls())).toEqual(['HeadBucketCommand']);
    expect(fake.writes()).toEqual([]);
  });

  it('HeadBucket 400 without the region header is not "another region": the read fails with the error', async () => {
    const bad = headError(400);
    fake.failOnce(HeadBucketCommand, bad);
    await expect(logBucketStep.read(await context())).rejects.toBe(bad);
    expect(fake.writes()).toEqual([]);
  });

  it('HeadBucket 400 whose header names this very region is not "another region" either', async () => {
    const odd = headError(400, { 'x-amz-bucket-region': 'eu-west-1' });
    fake.failOnce(HeadBucketCommand, odd);
    await expect(logBucketStep.read(await context())).rejects.toBe(odd);
  });
});
