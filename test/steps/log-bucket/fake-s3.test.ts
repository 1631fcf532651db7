import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeS3Options, fakeS3 } from '../../helpers/fake-s3.js';
import { REGION, testClients } from '../../helpers/fixtures.js';

// The strict fake's own refusals: each one is what S3 answers (name and HTTP status), so that a
// step test fails on code that would fail in a real account.
let fake: ReturnType<typeof fakeS3>;
const strict = (opts: FakeS3Options = {}) => (fake = fakeS3(opts));
afterEach(() => fake.mock.restore());

const client = (region = REGION) => testClients(region).get(S3Client);
const refusal = async (call: Promise<unknown>) => {
  const e = (await call.then(
    () => undefined,
    (err: unknown) => err,
  )) as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e && { name: e.name, status: e.$metadata?.httpStatusCode };
};

describe('fake S3: CreateBucket', () => {
  it.each([
    ['an empty CreateBucketConfiguration', 'us-east-1', { CreateBucketConfiguration: {} }, 'MalformedXML', 400],
    ['LocationConstraint us-east-1', 'us-east-1', { CreateBucketConfiguration: { LocationConstraint: 'us-east-1' } }, 'InvalidLocationConstraint', 400],
    ['no LocationConstraint outside us-east-1', 'eu-west-1', {}, 'IllegalLocationConstraintException', 400],
    [
      'a LocationConstraint of another region',
      'eu-west-1',
      { CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } },
      'IllegalLocationConstraintException',
      400,
    ],
    [
      'a tag key with aws:',
      'eu-west-1',
      { CreateBucketConfiguration: { LocationConstraint: 'eu-west-1', Tags: [{ Key: 'aws:x', Value: 'y' }] } },
      'InvalidTag',
      400,
    ],
  ] as const)('refuses %s', async (_what, region, request, name, status) => {
    strict();
    expect(await refusal(client(region).send(new CreateBucketCommand({ Bucket: 'b', ...(request as object) })))).toEqual({ name, status });
    expect(fake.buckets.size).toBe(0);
  });

  it('refuses Tags without s3:TagResource (AccessDenied, 403), and takes the same request without them', async () => {
    strict({ deny: ['s3:TagResource'] });
    const s3 = client('us-east-1');
    expect(await refusal(s3.send(new CreateBucketCommand({ Bucket: 'b', CreateBucketConfiguration: { Tags: [{ Key: 'k', Value: 'v' }] } })))).toEqual({
      name: 'AccessDenied',
      status: 403,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'b' }));
    expect(fake.buckets.get('b')).toMatchObject({ region: 'us-east-1' });
  });

  it('answers an owner 200 again in us-east-1 and BucketAlreadyOwnedByYou (409) elsewhere', async () => {
    strict();
    await client('us-east-1').send(new CreateBucketCommand({ Bucket: 'east' }));
    await client('us-east-1').send(new CreateBucketCommand({ Bucket: 'east' }));
    await client().send(new CreateBucketCommand({ Bucket: 'west', CreateBucketConfiguration: { LocationConstraint: REGION } }));
    expect(await refusal(client().send(new CreateBucketCommand({ Bucket: 'west', CreateBucketConfiguration: { LocationConstraint: REGION } })))).toEqual({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
  });
});

describe('fake S3: a bucket of another region', () => {
  it.each([301, 400] as const)('HeadBucket answers %i as the SDK throws it: no body, the region in the non-enumerable $response headers', async (status) => {
    strict();
    fake.addBucket('far', { region: 'ap-southeast-2', crossRegionHead: status });
    const err = (await client()
      .send(new HeadBucketCommand({ Bucket: 'far' }))
      .catch((e: unknown) => e)) as Record<string, unknown> & { $response?: { headers: Record<string, string> } };
    expect(err).toMatchObject({ name: 'Unknown', message: 'UnknownError', $fault: 'client', $metadata: { httpStatusCode: status } });
    expect(err.$response?.headers['x-amz-bucket-region']).toBe('ap-southeast-2');
    expect(Object.keys(err)).not.toContain('$response');
    expect(err).not.toHaveProperty('BucketRegion');
  });

  it('other calls answer PermanentRedirect (301); from its own region HeadBucket answers 200 with BucketRegion', async () => {
    strict();
    fake.addBucket('far', { region: 'ap-southeast-2', policy: '{}' });
    expect(await refusal(client().send(new GetBucketPolicyCommand({ Bucket: 'far' })))).toEqual({ name: 'PermanentRedirect', status: 301 });
    expect(await client('ap-southeast-2').send(new HeadBucketCommand({ Bucket: 'far' }))).toMatchObject({ BucketRegion: 'ap-southeast-2' });
  });
});

describe('fake S3: configuration requests', () => {
  it.each([
    ['removing a system (aws:) tag', { 'aws:cloudformation:stack-name': 's' }, [{ Key: 'k', Value: 'v' }], 'InvalidTag'],
    ['a tag value with a character S3 does not allow', {}, [{ Key: 'k', Value: 'a(b)' }], 'InvalidTag'],
    ['51 tags', {}, Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' })), 'BadRequest'],
  ])('PutBucketTagging refuses %s', async (_what, tags, TagSet, name) => {
    strict();
    fake.addBucket('b', { tags });
    expect(await refusal(client().send(new PutBucketTaggingCommand({ Bucket: 'b', Tagging: { TagSet } })))).toEqual({ name, status: 400 });
  });

  it('PutBucketTagging takes system tags sent back unchanged', async () => {
    strict();
    fake.addBucket('b', { tags: { 'aws:cloudformation:stack-name': 's' } });
    await client().send(
      new PutBucketTaggingCommand({
        Bucket: 'b',
        Tagging: {
          TagSet: [
            { Key: 'aws:cloudformation:stack-name', Value: 's' },
            { Key: 'k', Value: 'v' },
          ],
        },
      }),
    );
    expect(fake.buckets.get('b')?.tags).toEqual({ 'aws:cloudformation:stack-name': 's', k: 'v' });
  });

  it.each([
    ['a rule with neither Filter nor Prefix', [{ ID: 'r', Status: 'Enabled', Expiration: { Days: 1 } }], 'MalformedXML'],
    ['a rule with both Filter and Prefix', [{ ID: 'r', Status: 'Enabled', Prefix: 'a/', Filter: { Prefix: 'a/' }, Expiration: { Days: 1 } }], 'MalformedXML'],
    [
      'two rules with one ID',
      [
        { ID: 'r', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } },
        { ID: 'r', Status: 'Enabled', Filter: {}, Expiration: { Days: 2 } },
      ],
      'InvalidArgument',
    ],
    ['a rule without an action', [{ ID: 'r', Status: 'Enabled', Filter: {} }], 'InvalidRequest'],
  ] as const)('PutBucketLifecycleConfiguration refuses %s', async (_what, Rules, name) => {
    strict();
    fake.addBucket('b');
    expect(
      await refusal(client().send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'b', LifecycleConfiguration: { Rules: Rules as never } }))),
    ).toEqual({ name, status: 400 });
  });

  it('PutBucketPolicy refuses a policy over 20 KB; PutBucketEncryption refuses a key with SSE-S3', async () => {
    strict();
    fake.addBucket('b');
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [], Id: 'x'.repeat(20 * 1024) });
    expect(await refusal(client().send(new PutBucketPolicyCommand({ Bucket: 'b', Policy: big })))).toEqual({ name: 'MalformedPolicy', status: 400 });
    const rule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const, KMSMasterKeyID: 'arn:aws:kms:eu-west-1:1:key/k' } };
    expect(await refusal(client().send(new PutBucketEncryptionCommand({ Bucket: 'b', ServerSideEncryptionConfiguration: { Rules: [rule] } })))).toEqual({
      name: 'InvalidArgument',
      status: 400,
    });
  });

  it('lists buckets by pages when asked for a page or a region', async () => {
    strict();
    for (const n of ['a', 'b', 'c']) fake.addBucket(n);
    fake.addBucket('d', { region: 'us-east-1' });
    const first = await client().send(new ListBucketsCommand({ MaxBuckets: 2, BucketRegion: REGION }));
    expect(first.Buckets?.map((b) => b.Name)).toEqual(['a', 'b']);
    const second = await client().send(new ListBucketsCommand({ MaxBuckets: 2, BucketRegion: REGION, ContinuationToken: first.ContinuationToken }));
    expect(second.Buckets?.map((b) => b.Name)).toEqual(['c']);
    expect(second.ContinuationToken).toBeUndefined();
  });
});

describe('fake S3: objects, versions and deletes', () => {
  it('ListObjectVersions pages by MaxKeys with NextKeyMarker/NextVersionIdMarker, keys ascending, newest version first', async () => {
    strict();
    fake.addBucket('b', { versioning: 'Enabled' });
    fake.addObject('b', 'x', { versions: 2 });
    fake.addObject('b', 'a', { versions: 1, deleteMarker: true });
    const s3 = client();
    const p1 = await s3.send(new ListObjectVersionsCommand({ Bucket: 'b', MaxKeys: 3 }));
    expect(p1.IsTruncated).toBe(true);
    expect(p1.DeleteMarkers?.map((v) => v.Key)).toEqual(['a']);
    expect(p1.Versions?.map((v) => [v.Key, v.IsLatest])).toEqual([
      ['a', false],
      ['x', true],
    ]);
    const p2 = await s3.send(new ListObjectVersionsCommand({ Bucket: 'b', MaxKeys: 3, KeyMarker: p1.NextKeyMarker, VersionIdMarker: p1.NextVersionIdMarker }));
    expect(p2.IsTruncated).toBe(false);
    expect(p2.Versions?.map((v) => [v.Key, v.IsLatest])).toEqual([['x', false]]);
    expect(await refusal(s3.send(new ListObjectVersionsCommand({ Bucket: 'b', VersionIdMarker: 'v1' })))).toEqual({ name: 'InvalidArgument', status: 400 });
  });

  it('DeleteObjects takes at most 1,000 keys (MalformedXML beyond), and answers 200 with Errors for keys under Object Lock', async () => {
    strict();
    fake.addBucket('b', { versioning: 'Enabled' });
    fake.addObject('b', 'free');
    fake.addObject('b', 'held', { lock: 'retention' });
    const s3 = client();
    const Objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
    expect(await refusal(s3.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects } })))).toEqual({ name: 'MalformedXML', status: 400 });
    const { Versions = [] } = await s3.send(new ListObjectVersionsCommand({ Bucket: 'b' }));
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: Versions.map(({ Key, VersionId }) => ({ Key, VersionId })), Quiet: true } }),
    );
    expect(out.Deleted).toBeUndefined();
    expect(out.Errors).toEqual([expect.objectContaining({ Key: 'held', Code: 'AccessDenied' })]);
    expect(fake.versionCount('b')).toBe(1);
  });

  it('DeleteBucket refuses while versions remain (BucketNotEmpty, 409); DeleteBucketPolicy removes the policy', async () => {
    strict();
    fake.addBucket('b', { policy: '{}' });
    fake.addObject('b', 'k');
    const s3 = client();
    expect(await refusal(s3.send(new DeleteBucketCommand({ Bucket: 'b' })))).toEqual({ name: 'BucketNotEmpty', status: 409 });
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'b' }));
    expect(fake.buckets.get('b')?.policy).toBeUndefined();
  });

  it('without s3:DeleteObjectVersion, each versioned delete is an AccessDenied entry in Errors', async () => {
    strict({ deny: ['s3:DeleteObjectVersion'] });
    fake.addBucket('b', { versioning: 'Enabled' });
    fake.addObject('b', 'k');
    const s3 = client();
    const { Versions = [] } = await s3.send(new ListObjectVersionsCommand({ Bucket: 'b' }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'b', Delete: { Objects: [{ Key: 'k', VersionId: Versions[0]!.VersionId }], Quiet: true } }));
    expect(out.Errors).toEqual([expect.objectContaining({ Key: 'k', Code: 'AccessDenied' })]);
  });
});
