import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { StepError, UsageError } from '../../../src/base/errors.js';
import type { StepContext } from '../../../src/core/step.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { tlsOnlyStatement } from '../../../src/policies/log-bucket.js';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { converge, kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { type FakeS3Options, fakeS3 } from '../../helpers/fake-s3.js';
import { settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';
import { BUCKET, context, KEY_ARN } from './support.js';

/**
 * Issue 13 (items 8, 9): a bucket ssm-setup did not create. An empty prefix would put every
 * object in it under our lifecycle rule; its encryption and versioning are someone else's to
 * change; and a name another account holds is bad input, found when the bucket is read.
 */
let fake: ReturnType<typeof fakeS3>;
const strict = (opts: FakeS3Options = {}) => {
  fake?.mock.restore();
  fake = fakeS3(opts);
};
beforeEach(() => strict());
afterEach(() => fake.mock.restore());

/** The error `work` throws (synchronously or not); fails the test when it does not throw. */
async function thrown(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

const readAndPlan = (ctx: StepContext) => planned(logBucketStep, ctx);

/** Converged in everything ssm-setup sets, for `prefix`: only the tags say whose it is. */
function seedConverged(tags: Record<string, string> | undefined, name = BUCKET) {
  fake.addBucket(name, {
    ...(tags ? { tags } : {}),
    publicAccess: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN }, BucketKeyEnabled: true },
    versioning: 'Enabled',
    rules: [{ ID: 'keep', Status: 'Enabled', Filter: { Prefix: 'archive/' }, Expiration: { Days: 3650 } }],
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [tlsOnlyStatement('aws', name)],
    }),
  });
}

describe('an empty --s3-prefix on a bucket ssm-setup did not create', () => {
  it.each([
    ['untagged, under a name given with --bucket', undefined, { bucket: 'team-logs' }, 'team-logs'],
    ['tagged by its owner', { Owner: 'ops' }, {}, BUCKET],
    ['tagged ManagedBy by another tool', { ManagedBy: 'terraform' }, {}, BUCKET],
  ])('is refused when the bucket is read (%s): PREFIX_WHOLE_BUCKET, no write', async (_what, tags, flags, name) => {
    seedConverged(tags, name);
    const ctx = await context({ s3Prefix: '', ...flags });
    const err = await thrown(() => readAndPlan(ctx));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('PREFIX_WHOLE_BUCKET');
    expect((err as UsageError).message).toContain('--s3-prefix');
    expect((err as UsageError).message).toContain(name);
    expect((err as UsageError).hint).toContain('--s3-prefix-whole-bucket');
    expect(fake.writes()).toEqual([]);
  });

  it('goes with --s3-prefix-whole-bucket: our rule then covers the whole bucket, and the rerun writes nothing', async () => {
    seedConverged({ Owner: 'ops' });
    const ctx = await context({ s3Prefix: '', s3PrefixWholeBucket: true });
    const first = await converge(logBucketStep, ctx);
    expect(kinds(first.changes)).toEqual(['lifecycle']);
    const rules = fake.mock.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input.LifecycleConfiguration?.Rules;
    expect(rules?.find((r) => r.ID === 'ssm-setup-session-logs')?.Filter).toEqual({ Prefix: '' });
    expect(rules?.find((r) => r.ID === 'keep')).toBeDefined();
    const written = fake.writes().length;
    expect((await converge(logBucketStep, ctx)).changes).toEqual([]);
    expect(fake.writes()).toHaveLength(written);
  });

  it.each([
    ['a bucket ssm-setup created (ManagedBy=ssm-setup)', () => seedConverged({ ManagedBy: 'ssm-setup' })],
    ['a bucket it will create', () => {}],
    ['its own bucket left untagged by an interrupted run', () => fake.addBucket(BUCKET)],
  ])('is no problem on %s', async (_what, seed) => {
    seed();
    const ctx = await context({ s3Prefix: '' });
    await expect(converge(logBucketStep, ctx)).resolves.toBeDefined();
  });

  it('is refused in a whole run too: runSteps throws the UsageError (exit 2), nothing written by any step', async () => {
    seedConverged({ Owner: 'ops' });
    const sts = mockIdentity();
    onTestFinished(() => sts.restore());
    const { fakeKms } = await import('../../helpers/fake-kms.js');
    const kms = fakeKms();
    onTestFinished(() => kms.mock.restore());
    // The key needs a change (rotation off): the refusal must come before that write too.
    const keyId = kms.addKey({ rotation: false, tags: { ManagedBy: 'ssm-setup', 'ssm-setup:alias': 'alias/ssm-session-manager' } });
    kms.aliases.set('alias/ssm-session-manager', keyId);
    const err = await runSteps({
      command: 'init',
      mode: 'apply',
      selected: STEPS.filter((s) => s.id === 'kms-key' || s.id === 'log-bucket'),
      catalog: STEPS,
      loaded: await settingsFrom({ s3Prefix: '' }),
      aws: testClients(),
      io: new TestIo({ 'runner.apply': true }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('PREFIX_WHOLE_BUCKET');
    expect(fake.writes()).toEqual([]);
    expect(
      kms.mock
        .calls()
        .map((c) => (c.args[0] as object).constructor.name)
        .filter((n) => !/^(Describe|Get|List)/.test(n)),
    ).toEqual([]);
  });
});

describe('changes to a bucket ssm-setup did not create are marked as someone else’s', () => {
  it('its default encryption and its versioning: risk foreign, naming the bucket', async () => {
    fake.addBucket(BUCKET, {
      tags: { Owner: 'ops' },
      encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    });
    const { changes } = await readAndPlan(await context());
    const byKind = Object.fromEntries(changes.map((c) => [c.kind, c]));
    for (const kind of ['encryption', 'versioning']) {
      expect(byKind[kind]?.risk).toEqual({ kind: 'foreign', why: expect.stringContaining(`bucket ${BUCKET} was not created by ssm-setup`) });
    }
    for (const kind of ['public-access', 'policy']) expect(byKind[kind]?.risk).toBeUndefined();
    // The bucket had no rule: ours would expire logs it kept (test/steps/weakening.test.ts).
    expect(byKind.lifecycle?.risk?.kind).toBe('weakens-audit');
  });

  it('the same changes on a bucket ssm-setup created carry no mark', async () => {
    fake.addBucket(BUCKET, {
      tags: { ManagedBy: 'ssm-setup' },
      encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    });
    const { changes } = await readAndPlan(await context());
    expect(kinds(changes)).toEqual(expect.arrayContaining(['encryption', 'versioning']));
    for (const c of changes.filter((c) => c.kind === 'encryption' || c.kind === 'versioning')) expect(c.risk).toBeUndefined();
  });

  it('the runner asks them on their own, default No: declined, nothing is written', async () => {
    fake.addBucket(BUCKET, { tags: { Owner: 'ops' }, encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } } });
    const sts = mockIdentity();
    onTestFinished(() => sts.restore());
    const io = new TestIo({ 'runner.apply': true, 'runner.confirm-risky': false });
    const entries = STEPS.filter((s) => s.id === 'kms-key' || s.id === 'log-bucket');
    const { fakeKms } = await import('../../helpers/fake-kms.js');
    const kms = fakeKms();
    onTestFinished(() => kms.mock.restore());
    const keyId = kms.addKey({ tags: { ManagedBy: 'ssm-setup', 'ssm-setup:alias': 'alias/ssm-session-manager' } });
    kms.aliases.set('alias/ssm-session-manager', keyId);
    const err = await runSteps({
      command: 'init',
      mode: 'apply',
      selected: entries,
      catalog: STEPS,
      loaded: await settingsFrom(),
      aws: testClients(),
      io,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DECLINED' });
    expect(io.prompts).toEqual(['runner.apply', 'runner.confirm-risky']);
    expect(fake.writes()).toEqual([]);
  });
});

describe('a bucket name another account holds', () => {
  it('is bad input found when the bucket is read: BUCKET_OTHER_ACCOUNT naming --bucket, with the way out', async () => {
    fake.foreign.add('taken-logs');
    const ctx = await context({ bucket: 'taken-logs' });
    const err = await thrown(() => readAndPlan(ctx));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('BUCKET_OTHER_ACCOUNT');
    expect((err as UsageError).message).toContain('--bucket');
    expect((err as UsageError).message).toContain('taken-logs');
    expect((err as UsageError).hint).toMatch(/--bucket \S+/);
    expect(fake.writes()).toEqual([]);
  });

  it('the default name taken: BUCKET_OTHER_ACCOUNT, the hint naming --bucket', async () => {
    fake.foreign.add(BUCKET);
    const err = await thrown(async () => converge(logBucketStep, await context()));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('BUCKET_OTHER_ACCOUNT');
    expect((err as UsageError).hint).toContain('--bucket');
    expect(fake.writes()).toEqual([]);
  });

  it('our own bucket that these credentials may not read (HeadBucket 403, but ListBuckets has it) is ACCESS_DENIED, not another account', async () => {
    strict({ deny: ['s3:ListBucket'] });
    fake.addBucket(BUCKET, { tags: { ManagedBy: 'ssm-setup' } });
    const err = await thrown(async () => readAndPlan(await context()));
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).code).toBe('ACCESS_DENIED');
    expect((err as StepError).hint).toContain('s3:ListBucket');
    expect(fake.writes()).toEqual([]);
  });
});

describe('a bucket ssm-setup created, whose tags would pass S3’s 50 with ours', () => {
  it('is refused before any write, naming --tags', async () => {
    const own = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`Old${i}`, 'x']));
    fake.addBucket(BUCKET, { tags: { ManagedBy: 'ssm-setup', ...own } });
    const tags = Array.from({ length: 10 }, (_, i) => `New${i}=y`);
    const err = await thrown(async () => readAndPlan(await context({ tags })));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('INVALID_SETTINGS');
    expect((err as UsageError).message).toContain('--tags');
    expect(fake.writes()).toEqual([]);
  });
});
