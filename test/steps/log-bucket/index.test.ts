import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListBucketsCommand,
  type PublicAccessBlockConfiguration,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { CALL_KEY, isWriteCall } from '../../../src/aws/calls.js';
import { toStepError } from '../../../src/aws/errors.js';
import { StepError, UsageError } from '../../../src/base/errors.js';
import type { SelectRequest } from '../../../src/core/io.js';
import type { StepContext } from '../../../src/core/step.js';
import { STEPS } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { type PolicyDocument, type PolicyStatement, parsePolicy } from '../../../src/policies/types.js';
import { ALIAS_TAG } from '../../../src/steps/kms-key/read.js';
import { logBucketStep } from '../../../src/steps/log-bucket/index.js';
import { converge, kinds, mockIdentity, planned } from '../../helpers/aws.js';
import { fakeKms } from '../../helpers/fake-kms.js';
import { type FakeBucket, type FakeS3Options, fakeS3, headError, s3Error } from '../../helpers/fake-s3.js';
import { ACCOUNT, REGION, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';
import { ALIAS, BUCKET, commandNames, context, KEY_ARN } from './support.js';

const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-0000-0000-0000-000000000000`;

// The desired configuration, written out by hand (aws-reference.md §3) rather than taken
// from src, so that a wrong helper in src cannot make both sides agree.
const ALL_BLOCKED = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const SSE_KMS: ServerSideEncryptionRule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN }, BucketKeyEnabled: true };
const tlsStatement = (bucket: string) => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});
const ourRule = (transition = 90, expiration = 365, prefix = 'session-logs/'): LifecycleRule => ({
  ID: 'ssm-setup-session-logs',
  Status: 'Enabled',
  Filter: { Prefix: prefix },
  Transitions: [{ Days: transition, StorageClass: 'GLACIER' }],
  Expiration: { Days: expiration },
  NoncurrentVersionExpiration: { NoncurrentDays: expiration },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
});
const FOREIGN_STATEMENTS: PolicyStatement[] = [
  {
    Sid: 'AllowAuditRead',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Audit` },
    Action: ['s3:GetObject', 's3:ListBucket'],
    Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
  },
  { Sid: 'NoDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
];
const FOREIGN_RULES: LifecycleRule[] = [
  { ID: 'archive', Status: 'Enabled', Filter: { Prefix: 'archive/' }, Transitions: [{ Days: 30, StorageClass: 'DEEP_ARCHIVE' }] },
  { ID: 'tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 1 } },
];

/** A bucket as its Get* calls describe it; `null` means S3 answers that the thing is not set. */
interface BucketDescription {
  region: string;
  tags: Record<string, string> | null;
  publicAccess: PublicAccessBlockConfiguration | null;
  encryption: ServerSideEncryptionRule | null;
  policy: PolicyDocument | null;
  rules: LifecycleRule[] | null;
  versioning: 'Enabled' | 'Suspended' | null;
}

/** Fully converged for the default settings and KEY_ARN: each test states only its drift. */
const converged = (bucket = BUCKET): BucketDescription => ({
  region: REGION,
  tags: { ManagedBy: 'ssm-setup' },
  publicAccess: { ...ALL_BLOCKED },
  encryption: structuredClone(SSE_KMS),
  policy: { Version: '2012-10-17', Statement: [tlsStatement(bucket) as PolicyStatement] },
  rules: [ourRule()],
  versioning: 'Enabled',
});

// Every test runs against the strict fake (test/helpers/fake-s3.ts): it refuses what S3 refuses.
let fake: ReturnType<typeof fakeS3>;
let s3: ReturnType<typeof fakeS3>['mock'];
/** A new strict fake with these options, in place of the one beforeEach made. */
function strict(opts: FakeS3Options = {}) {
  fake.mock.restore();
  fake = fakeS3(opts);
  s3 = fake.mock;
}

/** The bucket in the fake, as converged() plus the drift; `null` leaves the setting unset. */
function seedBucket(drift: Partial<BucketDescription> = {}, name = BUCKET) {
  const b = { ...converged(name), ...drift };
  const bucket: Partial<FakeBucket> = { region: b.region };
  if (b.tags) bucket.tags = b.tags;
  if (b.publicAccess) bucket.publicAccess = b.publicAccess;
  if (b.encryption) bucket.encryption = b.encryption;
  if (b.policy) bucket.policy = JSON.stringify(b.policy);
  if (b.rules) bucket.rules = b.rules;
  if (b.versioning) bucket.versioning = b.versioning;
  fake.addBucket(name, bucket);
}

/** HeadBucket answers 404 once although the name exists: a create that races an earlier run. */
const headMissesOnce = () => fake.failOnce(HeadBucketCommand, headError(404));

const readAndPlan = (ctx: StepContext) => planned(logBucketStep, ctx);

const writes = () => commandNames(s3.calls()).filter(isWriteCall);
const inputOf = <C extends abstract new (...a: never[]) => { input: unknown }>(command: C) => {
  const calls = s3.commandCalls(command as never);
  expect(calls).toHaveLength(1);
  return (calls[0]!.args[0] as InstanceType<C>).input as InstanceType<C>['input'];
};

describe('log-bucket, step by step, against the strict fake S3', () => {
  beforeEach(() => {
    fake = fakeS3();
    s3 = fake.mock;
  });
  afterEach(() => fake.mock.restore());

  describe('a new bucket', () => {
    it('plans one create change naming the bucket, the region and the key', async () => {
      const { state, changes } = await readAndPlan(await context());
      expect(state).toEqual({ kind: 'absent', name: BUCKET });
      expect(changes).toEqual([expect.objectContaining({ kind: 'create-bucket', action: 'create', resource: `S3 bucket ${BUCKET}` })]);
      expect(changes[0]!.detail).toContain(`in ${REGION}`);
      expect(changes[0]!.detail).toContain(ALIAS);
      expect(logBucketStep.outputs(state)).toBeUndefined();
      expect(writes()).toEqual([]);
    });

    it('creates it outside us-east-1 with a LocationConstraint and its tags, then writes every setting at once', async () => {
      const ctx = await context({ tags: ['Team=infra'] });
      const { state, changes } = await readAndPlan(ctx);
      const outputs = await logBucketStep.apply(ctx, state, changes);

      // Tagged in the create and again first after it (an endpoint may drop tags on create).
      expect(writes()).toEqual([
        'CreateBucketCommand',
        'PutBucketTaggingCommand',
        'PutPublicAccessBlockCommand',
        'PutBucketEncryptionCommand',
        'PutBucketVersioningCommand',
        'PutBucketLifecycleConfigurationCommand',
        'PutBucketPolicyCommand',
      ]);
      // Tagged in the create call itself, so an interruption right after still leaves it marked as ours.
      expect(inputOf(CreateBucketCommand)).toEqual({
        Bucket: BUCKET,
        CreateBucketConfiguration: {
          LocationConstraint: REGION,
          Tags: expect.arrayContaining([
            { Key: 'ManagedBy', Value: 'ssm-setup' },
            { Key: 'Team', Value: 'infra' },
          ]),
        },
      });
      expect(fake.buckets.get(BUCKET)?.tags).toEqual({ ManagedBy: 'ssm-setup', Team: 'infra' });
      expect(inputOf(PutPublicAccessBlockCommand)).toEqual({ Bucket: BUCKET, PublicAccessBlockConfiguration: ALL_BLOCKED });
      expect(inputOf(PutBucketEncryptionCommand)).toEqual({ Bucket: BUCKET, ServerSideEncryptionConfiguration: { Rules: [SSE_KMS] } });
      expect(inputOf(PutBucketVersioningCommand)).toEqual({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } });
      expect(inputOf(PutBucketLifecycleConfigurationCommand)).toEqual({ Bucket: BUCKET, LifecycleConfiguration: { Rules: [ourRule()] } });
      const policy = inputOf(PutBucketPolicyCommand);
      expect(policy.Bucket).toBe(BUCKET);
      expect(parsePolicy(policy.Policy)).toEqual({ Version: '2012-10-17', Statement: [tlsStatement(BUCKET)] });
      expect(outputs).toEqual({ bucketName: BUCKET, bucketArn: `arn:aws:s3:::${BUCKET}`, s3Prefix: 'session-logs/' });
    });

    it('creates it in us-east-1 without a location constraint', async () => {
      const ctx = await context({}, { region: 'us-east-1' });
      const bucket = `ssm-session-logs-${ACCOUNT}-us-east-1`;
      const { state, changes } = await readAndPlan(ctx);
      expect(state).toEqual({ kind: 'absent', name: bucket });
      await logBucketStep.apply(ctx, state, changes);
      const input = inputOf(CreateBucketCommand);
      expect(input).toEqual({ Bucket: bucket, CreateBucketConfiguration: { Tags: [{ Key: 'ManagedBy', Value: 'ssm-setup' }] } });
      expect(input.CreateBucketConfiguration).not.toHaveProperty('LocationConstraint');
      expect(writes()).toHaveLength(7);
      expect(parsePolicy(inputOf(PutBucketPolicyCommand).Policy)!.Statement).toEqual([tlsStatement(bucket)]);
    });

    it('uses --bucket, --s3-prefix and the day counts', async () => {
      const ctx = await context({ bucket: 'team-session-logs', s3Prefix: 'ssm/', logTransitionDays: 0, logExpirationDays: 30 });
      const { state, changes } = await readAndPlan(ctx);
      expect(s3.commandCalls(HeadBucketCommand)[0]!.args[0].input).toEqual({ Bucket: 'team-session-logs' });
      const outputs = await logBucketStep.apply(ctx, state, changes);
      expect(inputOf(PutBucketLifecycleConfigurationCommand).LifecycleConfiguration?.Rules).toEqual([
        {
          ID: 'ssm-setup-session-logs',
          Status: 'Enabled',
          Filter: { Prefix: 'ssm/' },
          Expiration: { Days: 30 },
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        },
      ]);
      expect(outputs).toEqual({ bucketName: 'team-session-logs', bucketArn: 'arn:aws:s3:::team-session-logs', s3Prefix: 'ssm/' });
    });

    it('without s3:TagResource, creates the bucket untagged and tags it right after', async () => {
      strict({ deny: ['s3:TagResource'] });
      const ctx = await context();
      const { state, changes } = await readAndPlan(ctx);
      await logBucketStep.apply(ctx, state, changes);
      const creates = s3.commandCalls(CreateBucketCommand).map((c) => c.args[0].input.CreateBucketConfiguration);
      expect(creates).toEqual([expect.objectContaining({ Tags: expect.any(Array) }), { LocationConstraint: REGION }]);
      expect(writes()[2]).toBe('PutBucketTaggingCommand');
    });

    it('takes BucketAlreadyOwnedByYou on create as success (an interrupted run made it) and configures it', async () => {
      fake.addBucket(BUCKET);
      headMissesOnce();
      const ctx = await context();
      const { state, changes } = await readAndPlan(ctx);
      await expect(logBucketStep.apply(ctx, state, changes)).resolves.toMatchObject({ bucketName: BUCKET });
      expect(writes()).toHaveLength(7);
      expect(writes().at(-1)).toBe('PutBucketPolicyCommand');
    });

    it('fails with BucketAlreadyExists naming --bucket, and writes nothing after it', async () => {
      fake.foreign.add(BUCKET);
      headMissesOnce();
      const ctx = await context();
      const { state, changes } = await readAndPlan(ctx);
      const error = await logBucketStep.apply(ctx, state, changes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StepError);
      expect((error as StepError).stepId).toBe('log-bucket');
      expect((error as StepError).code).toBe('BUCKET_NAME_TAKEN');
      expect((error as StepError).hint).toContain('--bucket');
      expect(writes()).toEqual(['CreateBucketCommand']);
    });

    it('fails without the session key ARN before any write', async () => {
      const ctx = await context({}, { keyKnown: false });
      const { state, changes } = await readAndPlan(ctx);
      expect(changes[0]!.detail).toContain(ALIAS);
      const error = await logBucketStep.apply(ctx, state, changes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StepError);
      expect((error as StepError).code).toBe('KEY_UNKNOWN');
      expect((error as StepError).hint).toContain('kms-key');
      expect(writes()).toEqual([]);
    });
  });

  describe('a name that cannot be used', () => {
    it('HeadBucket 403, not among the account’s buckets: the plan refuses (exit 2) with a --bucket suggestion, nothing more read or written', async () => {
      fake.foreign.add(BUCKET);
      const ctx = await context();
      const state = await logBucketStep.read(ctx);
      expect(state).toMatchObject({ kind: 'unusable', why: 'taken' });
      let error: unknown;
      try {
        logBucketStep.plan(state, ctx);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe('BUCKET_OTHER_ACCOUNT');
      expect((error as UsageError).hint).toMatch(/--bucket \S+/);
      // ListBuckets tells another account's bucket from our own that HeadBucket may not read.
      expect(commandNames(s3.calls())).toEqual(['HeadBucketCommand', 'ListBucketsCommand']);
      expect(writes()).toEqual([]);
    });

    it('a bucket in another region (HeadBucket 301; the 400 form: region.test.ts): the plan refuses naming that region', async () => {
      fake.addBucket(BUCKET, { region: 'us-west-2' });
      const ctx = await context();
      const state = await logBucketStep.read(ctx);
      expect(state).toEqual({ kind: 'unusable', name: BUCKET, why: 'other-region', region: 'us-west-2' });
      let error: unknown;
      try {
        logBucketStep.plan(state, ctx);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StepError);
      expect(error).toMatchObject({ code: 'BUCKET_OTHER_REGION', stepId: 'log-bucket' });
      expect((error as StepError).hint).toContain('--region us-west-2');
      expect((error as StepError).hint).toContain('--bucket');
      expect(writes()).toEqual([]);
    });
  });

  describe('an existing bucket', () => {
    it('fully converged: no change, no write, and outputs from the state', async () => {
      seedBucket();
      const ctx = await context({ tags: [] });
      const { state, changes } = await readAndPlan(ctx);
      expect(changes).toEqual([]);
      expect(logBucketStep.outputs(state)).toEqual({ bucketName: BUCKET, bucketArn: `arn:aws:s3:::${BUCKET}`, s3Prefix: 'session-logs/' });
      expect(writes()).toEqual([]);
    });

    it('converged when S3 names our key by its alias and the TLS deny has another Sid', async () => {
      const policy: PolicyDocument = {
        Version: '2012-10-17',
        Statement: [{ ...(tlsStatement(BUCKET) as PolicyStatement), Sid: 'EnforceTLS', Principal: { AWS: '*' } }],
      };
      seedBucket({ encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ALIAS }, BucketKeyEnabled: true }, policy });
      expect((await readAndPlan(await context())).changes).toEqual([]);
    });

    /** Plans the drift: exactly one change of `kind`; applies it: exactly one write, `command`. */
    async function singleDrift(drift: Partial<BucketDescription>, kind: string, command: string, flags: Record<string, unknown> = {}) {
      seedBucket(drift);
      const ctx = await context(flags);
      const { state, changes } = await readAndPlan(ctx);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ kind, action: 'update' });
      expect(changes[0]!.resource).toContain(`of bucket ${BUCKET}`);
      const outputs = await logBucketStep.apply(ctx, state, changes);
      expect(writes()).toEqual([command]);
      expect(outputs).toEqual({ bucketName: BUCKET, bucketArn: `arn:aws:s3:::${BUCKET}`, s3Prefix: 'session-logs/' });
      return changes[0]!;
    }

    it('no default encryption → PutBucketEncryption with SSE-KMS, our key ARN and the bucket key', async () => {
      const change = await singleDrift({ encryption: null }, 'encryption', 'PutBucketEncryptionCommand');
      expect(change.detail).toBe(`none → SSE-KMS with ${ALIAS} (bucket key on)`);
      expect(inputOf(PutBucketEncryptionCommand)).toEqual({ Bucket: BUCKET, ServerSideEncryptionConfiguration: { Rules: [SSE_KMS] } });
    });

    it('SSE-S3 (AES256) instead of KMS → PutBucketEncryption', async () => {
      const change = await singleDrift(
        { encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false } },
        'encryption',
        'PutBucketEncryptionCommand',
      );
      expect(change.detail).toMatch(/^SSE-S3 → SSE-KMS/);
      expect(inputOf(PutBucketEncryptionCommand).ServerSideEncryptionConfiguration?.Rules).toEqual([SSE_KMS]);
    });

    it('another KMS key → PutBucketEncryption with ours, the plan naming the other one', async () => {
      const change = await singleDrift(
        { encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY_ARN }, BucketKeyEnabled: true } },
        'encryption',
        'PutBucketEncryptionCommand',
      );
      expect(change.detail).toContain(OTHER_KEY_ARN);
      expect(inputOf(PutBucketEncryptionCommand).ServerSideEncryptionConfiguration?.Rules).toEqual([SSE_KMS]);
    });

    it('our key with the bucket key off → PutBucketEncryption turning it on', async () => {
      const change = await singleDrift(
        { encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN }, BucketKeyEnabled: false } },
        'encryption',
        'PutBucketEncryptionCommand',
      );
      expect(change.detail).toContain('bucket key off → on');
      expect(inputOf(PutBucketEncryptionCommand).ServerSideEncryptionConfiguration?.Rules?.[0]?.BucketKeyEnabled).toBe(true);
    });

    it('public access partly off → PutPublicAccessBlock with all four, the plan naming the flags that are off', async () => {
      const change = await singleDrift(
        { publicAccess: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false } },
        'public-access',
        'PutPublicAccessBlockCommand',
      );
      expect(change.detail).toBe('IgnorePublicAcls, RestrictPublicBuckets off → all four on');
      expect(inputOf(PutPublicAccessBlockCommand)).toEqual({ Bucket: BUCKET, PublicAccessBlockConfiguration: ALL_BLOCKED });
    });

    it('no public access block at all → the plan names all four flags', async () => {
      const change = await singleDrift({ publicAccess: null }, 'public-access', 'PutPublicAccessBlockCommand');
      for (const flag of Object.keys(ALL_BLOCKED)) expect(change.detail).toContain(flag);
    });

    it('no bucket policy → PutBucketPolicy with the TLS statement only', async () => {
      const change = await singleDrift({ policy: null }, 'policy', 'PutBucketPolicyCommand');
      expect(change.detail).toContain('DenyInsecureTransport');
      expect(change.detail).not.toContain('keeps');
      const put = inputOf(PutBucketPolicyCommand);
      expect(put.Bucket).toBe(BUCKET);
      expect(parsePolicy(put.Policy)).toEqual({ Version: '2012-10-17', Statement: [tlsStatement(BUCKET)] });
    });

    it('a policy with foreign statements but no TLS statement → PutBucketPolicy keeping them', async () => {
      const policy: PolicyDocument = { Version: '2012-10-17', Id: 'team-policy', Statement: structuredClone(FOREIGN_STATEMENTS) };
      const change = await singleDrift({ policy }, 'policy', 'PutBucketPolicyCommand');
      expect(change.detail).toContain('keeps 2 other statements');
      const put = parsePolicy(inputOf(PutBucketPolicyCommand).Policy)!;
      expect(put).toEqual({ Version: '2012-10-17', Id: 'team-policy', Statement: [...FOREIGN_STATEMENTS, tlsStatement(BUCKET)] });
    });

    it('no lifecycle configuration → PutBucketLifecycleConfiguration with our rule', async () => {
      const change = await singleDrift({ rules: null }, 'lifecycle', 'PutBucketLifecycleConfigurationCommand');
      expect(change.resource).toContain('ssm-setup-session-logs');
      expect(change.detail).toMatch(/^none → /);
      expect(inputOf(PutBucketLifecycleConfigurationCommand)).toEqual({ Bucket: BUCKET, LifecycleConfiguration: { Rules: [ourRule()] } });
    });

    it('lifecycle with foreign rules only → PutBucketLifecycleConfiguration keeping them and adding ours', async () => {
      const change = await singleDrift({ rules: structuredClone(FOREIGN_RULES) }, 'lifecycle', 'PutBucketLifecycleConfigurationCommand');
      expect(change.detail).toContain('keeps 2 other rules');
      expect(inputOf(PutBucketLifecycleConfigurationCommand).LifecycleConfiguration?.Rules).toEqual([...FOREIGN_RULES, ourRule()]);
    });

    it('our lifecycle rule with other day counts → replaced by ID, foreign rules kept', async () => {
      const change = await singleDrift({ rules: [FOREIGN_RULES[0]!, ourRule(30, 180)] }, 'lifecycle', 'PutBucketLifecycleConfigurationCommand');
      expect(change.detail).toContain('Glacier after 30 days');
      expect(change.detail).toContain('Glacier after 90 days');
      expect(inputOf(PutBucketLifecycleConfigurationCommand).LifecycleConfiguration?.Rules).toEqual([FOREIGN_RULES[0], ourRule()]);
    });

    it('versioning Suspended → PutBucketVersioning Enabled', async () => {
      const change = await singleDrift({ versioning: 'Suspended' }, 'versioning', 'PutBucketVersioningCommand');
      expect(change.detail).toBe('Suspended → Enabled');
      expect(inputOf(PutBucketVersioningCommand)).toEqual({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } });
    });

    it('versioning never enabled → PutBucketVersioning Enabled', async () => {
      const change = await singleDrift({ versioning: null }, 'versioning', 'PutBucketVersioningCommand');
      expect(change.detail).toBe('never enabled → Enabled');
    });

    it('a managed bucket missing a --tags tag → PutBucketTagging that keeps its existing tags', async () => {
      const change = await singleDrift({ tags: { ManagedBy: 'ssm-setup', Owner: 'ops' } }, 'tags', 'PutBucketTaggingCommand', { tags: ['Team=infra'] });
      expect(change.detail).toBe('set Team=infra');
      const tagSet = inputOf(PutBucketTaggingCommand).Tagging?.TagSet;
      expect(tagSet).toHaveLength(3);
      expect(tagSet).toEqual(
        expect.arrayContaining([
          { Key: 'ManagedBy', Value: 'ssm-setup' },
          { Key: 'Owner', Value: 'ops' },
          { Key: 'Team', Value: 'infra' },
        ]),
      );
    });

    it.each<[string, Record<string, string> | null]>([
      ['with foreign tags', { Owner: 'ops' }],
      ['without tags', null],
      ['tagged ManagedBy by another tool', { ManagedBy: 'terraform' }],
    ])('an adopted bucket (%s) is never tagged', async (_what, tags) => {
      seedBucket({ tags });
      expect((await readAndPlan(await context({ tags: ['Team=infra'] }))).changes).toEqual([]);
      expect(writes()).toEqual([]);
    });

    it('several drifts at once: one change each, applied in order with the policy last', async () => {
      seedBucket({ policy: null, encryption: null, versioning: null, publicAccess: null, rules: null });
      const ctx = await context();
      const { state, changes } = await readAndPlan(ctx);
      expect(kinds(changes).sort()).toEqual(['encryption', 'lifecycle', 'policy', 'public-access', 'versioning']);
      await logBucketStep.apply(ctx, state, changes);
      expect(writes()).toEqual([
        'PutPublicAccessBlockCommand',
        'PutBucketEncryptionCommand',
        'PutBucketVersioningCommand',
        'PutBucketLifecycleConfigurationCommand',
        'PutBucketPolicyCommand',
      ]);
    });
  });

  describe('access denied', () => {
    it('GetBucketPolicy AccessDenied: read rejects, and the step error hints at the IAM permissions', async () => {
      strict({ deny: ['s3:GetBucketPolicy'] });
      seedBucket();
      const err = await logBucketStep.read(await context()).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AccessDenied', message: 'Access Denied' });
      const stepError = toStepError('log-bucket', err);
      expect(stepError).toBeInstanceOf(StepError);
      expect((stepError as StepError).stepId).toBe('log-bucket');
      expect(stepError.code).toBe('ACCESS_DENIED');
      expect(stepError.hint).toContain('IAM permissions');
      expect(stepError.hint).toContain('ssm-setup run log-bucket');
      expect(writes()).toEqual([]);
    });

    it.each([
      [GetBucketTaggingCommand, 'GetBucketTagging', 's3:GetBucketTagging'],
      [GetPublicAccessBlockCommand, 'GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
      [GetBucketEncryptionCommand, 'GetBucketEncryption', 's3:GetEncryptionConfiguration'],
      [GetBucketPolicyCommand, 'GetBucketPolicy', 's3:GetBucketPolicy'],
      [GetBucketLifecycleConfigurationCommand, 'GetBucketLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
      [GetBucketVersioningCommand, 'GetBucketVersioning', 's3:GetBucketVersioning'],
    ] as const)('AccessDenied on %o is not mistaken for "not set"; the error names %s and the IAM action %s', async (command, operation, action) => {
      seedBucket();
      // The client middleware (src/aws/clients.ts) tags errors with the call; mocks skip middleware.
      fake.failOnce(command, Object.assign(s3Error('AccessDenied', 403, 'Access Denied'), { [CALL_KEY]: `S3.${operation}` }));
      const err = await logBucketStep.read(await context()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      const stepError = toStepError('log-bucket', err) as StepError;
      expect(stepError.code).toBe('ACCESS_DENIED');
      expect(stepError.call).toBe(`S3.${operation}`);
      expect(stepError.hint).toContain(`${action} (needed by S3.${operation})`);
      expect(stepError.hint).toContain('IAM permissions');
      expect(writes()).toEqual([]);
    });

    it('a failed write fails the apply once the writes in flight with it have ended; the rerun plans only what failed', async () => {
      strict({ deny: ['s3:PutEncryptionConfiguration'] });
      seedBucket({ encryption: null, policy: null });
      const ctx = await context();
      const { state, changes } = await readAndPlan(ctx);
      await expect(logBucketStep.apply(ctx, state, changes)).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(writes()).toEqual(['PutBucketEncryptionCommand', 'PutBucketPolicyCommand']);
      expect(kinds((await readAndPlan(ctx)).changes)).toEqual(['encryption']);
    });
  });
});

describe('log-bucket against a stateful fake S3', () => {
  let fake: ReturnType<typeof fakeS3>;
  beforeEach(() => {
    fake = fakeS3();
  });
  afterEach(() => fake.mock.restore());

  const run = (ctx: StepContext) => converge(logBucketStep, ctx);

  it('is idempotent: after creating the bucket the next plan is empty and nothing more is written', async () => {
    const ctx = await context({ tags: ['Team=infra'] });
    const first = await run(ctx);
    expect(kinds(first.changes)).toEqual(['create-bucket']);
    const written = fake.writes();
    expect(written).toHaveLength(7);
    const bucket = fake.buckets.get(BUCKET)!;
    expect(bucket.region).toBe(REGION);
    expect(bucket.tags).toEqual({ ManagedBy: 'ssm-setup', Team: 'infra' });

    const second = await run(ctx);
    expect(second.changes).toEqual([]);
    expect(fake.writes()).toEqual(written);
    expect(second.outputs).toEqual(first.outputs);
  });

  it('is idempotent in us-east-1 too', async () => {
    const ctx = await context({}, { region: 'us-east-1' });
    await run(ctx);
    expect(fake.buckets.get(`ssm-session-logs-${ACCOUNT}-us-east-1`)?.region).toBe('us-east-1');
    const before = fake.writes().length;
    expect((await run(ctx)).changes).toEqual([]);
    expect(fake.writes()).toHaveLength(before);
  });

  it('finishes an interrupted run: one setting failed after the create → the rerun converges with no write of its own', async () => {
    const ctx = await context();
    fake.failOnce(PutPublicAccessBlockCommand);
    await expect(run(ctx)).rejects.toThrow('socket hang up');
    // The settings went out together: all but the one that failed are in place.
    expect(fake.writes()).toEqual([
      'CreateBucketCommand',
      'PutBucketTaggingCommand',
      'PutPublicAccessBlockCommand',
      'PutBucketEncryptionCommand',
      'PutBucketVersioningCommand',
      'PutBucketLifecycleConfigurationCommand',
      'PutBucketPolicyCommand',
    ]);

    // New buckets block public access already (S3's default since 2023): nothing is left.
    const rerun = await run(ctx);
    expect(rerun.changes).toEqual([]);
    expect(fake.mock.commandCalls(CreateBucketCommand)).toHaveLength(1);
    expect(fake.writes()).toHaveLength(7);
  });

  it('adopts a bucket with foreign statements and rules, keeps them, and then stays converged', async () => {
    fake.addBucket(BUCKET, {
      tags: { Owner: 'ops' },
      policy: JSON.stringify({ Version: '2012-10-17', Statement: FOREIGN_STATEMENTS }),
      rules: structuredClone(FOREIGN_RULES),
    });
    const ctx = await context({ tags: ['Team=infra'] });
    const first = await run(ctx);
    expect(kinds(first.changes).sort()).toEqual(['encryption', 'lifecycle', 'policy', 'public-access', 'versioning']);
    const bucket = fake.buckets.get(BUCKET)!;
    expect(parsePolicy(bucket.policy)!.Statement).toEqual([...FOREIGN_STATEMENTS, tlsStatement(BUCKET)]);
    expect(bucket.rules).toEqual([...FOREIGN_RULES, ourRule()]);
    expect(bucket.tags).toEqual({ Owner: 'ops' }); // not claimed
    const before = fake.writes().length;
    expect((await run(ctx)).changes).toEqual([]);
    expect(fake.writes()).toHaveLength(before);
  });

  it('finishes a run interrupted right after CreateBucket: the bucket it made has ManagedBy already', async () => {
    // Regression: a bucket without ManagedBy is taken for an adopted one and never tagged, so
    // the tags go in the CreateBucket call itself.
    const ctx = await context();
    fake.failOnce(PutPublicAccessBlockCommand);
    await expect(run(ctx)).rejects.toThrow('socket hang up');
    expect(fake.buckets.get(BUCKET)!.tags).toMatchObject({ ManagedBy: 'ssm-setup' });
    await run(ctx);
    expect((await run(ctx)).changes).toEqual([]);
  });

  it('in a run, a converged bucket plans no change while kms-key has a pending change of its own', async () => {
    // Regression: the runner once published a step's outputs only when it had no change, so
    // the key ARN was unknown here and the encryption was rewritten although it used the key.
    const kms = fakeKms();
    const sts = mockIdentity();
    onTestFinished(() => {
      kms.mock.restore();
      sts.restore();
    });
    const keyId = kms.addKey({ rotation: false, tags: { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS } });
    kms.aliases.set(ALIAS, keyId);
    const desc = converged();
    fake.addBucket(BUCKET, {
      tags: desc.tags!,
      publicAccess: desc.publicAccess!,
      encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kms.keys.get(keyId)!.meta.Arn! }, BucketKeyEnabled: true },
      policy: JSON.stringify(desc.policy),
      rules: desc.rules!,
      versioning: 'Enabled',
    });
    const { report } = await runSteps({
      command: 'plan',
      mode: 'plan',
      selected: STEPS.slice(0, 2),
      catalog: STEPS,
      loaded: await settingsFrom(),
      aws: testClients(),
      io: new TestIo(),
    });
    expect(report.steps[0]!.changes.map((c) => c.resource)).toEqual([`key rotation of ${ALIAS}`]);
    expect(report.steps[1]!.changes).toEqual([]);
    expect(report.steps[1]!.status).toBe('unchanged');
  });

  it('a name owned by another account: refused before any write', async () => {
    fake.foreign.add(BUCKET);
    await expect(run(await context())).rejects.toMatchObject({ code: 'BUCKET_OTHER_ACCOUNT' });
    expect(fake.writes()).toEqual([]);
  });
});

/** TestIo that also keeps the select requests, to see the choices offered. */
class RecordingIo extends TestIo {
  readonly selects: SelectRequest<unknown>[] = [];
  override async select<T>(req: SelectRequest<T>) {
    this.selects.push(req as SelectRequest<unknown>);
    return super.select(req);
  }
}

describe('log-bucket wizard', () => {
  beforeEach(() => {
    fake = fakeS3();
    s3 = fake.mock;
    fake.addBucket('team-logs');
    fake.addBucket('audit-logs');
    fake.addBucket('far-away', { region: 'us-east-1' });
  });
  afterEach(() => fake.mock.restore());

  it('offers the region’s buckets beside the default name, and returns the answers as numbers', async () => {
    const io = new RecordingIo({ 'log-bucket.bucket': 'team-logs', 'log-bucket.transition-days': '30', 'log-bucket.expiration-days': '400' });
    const answers = await logBucketStep.ask!(await context({}, { io }));
    expect(answers).toEqual({ bucket: 'team-logs', logTransitionDays: 30, logExpirationDays: 400 });
    expect(io.prompts).toEqual(['log-bucket.bucket', 'log-bucket.transition-days', 'log-bucket.expiration-days']);
    expect(s3).toHaveReceivedCommandWith(ListBucketsCommand, { BucketRegion: REGION });
    const values = io.selects[0]!.choices.map((c) => c.value);
    expect(values[0]).toBe(BUCKET); // the computed default, to create
    expect(values).toContain('team-logs');
    expect(values).toContain('audit-logs');
    expect(values).not.toContain('far-away');
    expect(io.selects[0]!.default).toBe(BUCKET);
  });

  it('rejects an expiration not greater than the transition', async () => {
    const io = new TestIo({ 'log-bucket.bucket': BUCKET, 'log-bucket.transition-days': '100', 'log-bucket.expiration-days': '100' });
    await expect(logBucketStep.ask!(await context({}, { io }))).rejects.toThrow(/expiration-days rejected: must be greater than the transition days \(100\)/);
  });

  it('accepts 0 (never expire) whatever the transition', async () => {
    const io = new TestIo({ 'log-bucket.bucket': BUCKET, 'log-bucket.transition-days': '100', 'log-bucket.expiration-days': '0' });
    expect(await logBucketStep.ask!(await context({}, { io }))).toEqual({ bucket: BUCKET, logTransitionDays: 100, logExpirationDays: 0 });
  });

  it('rejects a day count that is not a whole number', async () => {
    const io = new TestIo({ 'log-bucket.bucket': BUCKET, 'log-bucket.transition-days': '1.5' });
    await expect(logBucketStep.ask!(await context({}, { io }))).rejects.toThrow(/transition-days rejected/);
  });

  it('checks the expiration against a transition given as a flag', async () => {
    const io = new TestIo({ 'log-bucket.bucket': BUCKET, 'log-bucket.expiration-days': '20' });
    await expect(logBucketStep.ask!(await context({ logTransitionDays: 30 }, { io }))).rejects.toThrow(/greater than the transition days \(30\)/);
    expect(io.prompts).toEqual(['log-bucket.bucket', 'log-bucket.expiration-days']);
  });

  it('asks nothing for values given as flags', async () => {
    const io = new TestIo({});
    expect(await logBucketStep.ask!(await context({ bucket: 'x-y-z', logTransitionDays: 30, logExpirationDays: 400 }, { io }))).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(s3).not.toHaveReceivedCommand(ListBucketsCommand);
  });
});
