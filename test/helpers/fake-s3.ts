import {
  CreateBucketCommand,
  type CreateBucketRequest,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  type DeleteObjectsRequest,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListBucketsCommand,
  type ListBucketsRequest,
  ListObjectVersionsCommand,
  type ListObjectVersionsRequest,
  type PublicAccessBlockConfiguration,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  type ServerSideEncryptionRule,
  type Tag,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { iamActionFor } from '../../src/aws/errors.js';
import { REGION } from './fixtures.js';

/** One version of an object (or a delete marker), as ListObjectVersions lists it. */
export interface FakeVersion {
  readonly id: string;
  readonly deleteMarker: boolean;
  /** Object Lock: a retention period or a legal hold refuses the deletion of this version. */
  readonly lock?: 'retention' | 'legal-hold';
  /** Bytes (a version, not a delete marker): ListObjectVersions lists it as `Size`. */
  readonly size?: number;
}

export interface FakeBucket {
  region: string;
  tags?: Record<string, string>;
  publicAccess?: PublicAccessBlockConfiguration;
  encryption?: ServerSideEncryptionRule;
  policy?: string;
  rules?: LifecycleRule[];
  /** The lifecycle's `TransitionDefaultMinimumObjectSize`, kept beside the rules as S3 does. */
  transitionMinimumSize?: string;
  versioning?: 'Enabled' | 'Suspended';
  /** How HeadBucket from another region's client answers: 301, or 400 with the region header (aws-sdk-js-v3#7304). */
  crossRegionHead?: 301 | 400;
  /** Object versions by key, newest first. */
  objects?: Map<string, FakeVersion[]>;
  /** Calls that still answer NoSuchBucket: bucket configuration lags right after CreateBucket. */
  unseen?: number;
}

export interface FakeS3Options {
  /** IAM actions the caller lacks: `s3:TagResource` (tags in CreateBucket), `s3:DeleteObjectVersion`, any call's action. */
  readonly deny?: readonly string[];
  /** How many calls on a just-created bucket answer NoSuchBucket before it is seen (default 0). */
  readonly propagationLag?: number;
  /** Not S3: a test harness stop, so that code looping on S3 fails instead of hanging (default 10,000 calls). */
  readonly callBudget?: number;
  /** The region of the buckets `addBucket` adds when it is not given (default REGION). */
  readonly region?: string;
}

/** An S3 error as the SDK throws it: an S3ServiceException with a name, a fault and an HTTP status. */
export const s3Error = (name: string, httpStatusCode: number, message = '') =>
  new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode }, message });

/**
 * HeadBucket has no body: the SDK names the error `NotFound` (404) or `Unknown`, with the message
 * `UnknownError`, and keeps the raw response, headers lower-cased, in the non-enumerable
 * `$response` (@smithy/core schemaDeserializationMiddleware), as a real client does.
 */
export function headError(status: number, headers: Record<string, string> = {}) {
  const err = s3Error(status === 404 ? 'NotFound' : 'Unknown', status, 'UnknownError');
  Object.defineProperty(err, '$response', { value: { statusCode: status, headers }, enumerable: false, writable: false });
  return err;
}

const MALFORMED = 'The XML you provided was not well-formed or did not validate against our published schema';
const malformed = () => s3Error('MalformedXML', 400, MALFORMED);
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const POLICY_MAX_BYTES = 20 * 1024;
const PAGE = 1000;

/** S3's bucket tag rules: the same for CreateBucket's Tags and PutBucketTagging. */
function checkTags(tags: readonly Tag[], current: Readonly<Record<string, string>> = {}) {
  for (const { Key = '', Value = '' } of tags) {
    if (Key.length < 1 || Key.length > 128 || !TAG_CHARS.test(Key)) throw s3Error('InvalidTag', 400, 'The TagKey you have provided is invalid');
    if (Value.length > 256 || !TAG_CHARS.test(Value)) throw s3Error('InvalidTag', 400, 'The TagValue you have provided is invalid');
    // System tags (aws:cloudformation:…) may only be sent back unchanged.
    if (Key.toLowerCase().startsWith('aws:') && current[Key] !== Value) throw s3Error('InvalidTag', 400, 'User-defined tag keys can\'t start with "aws:"');
  }
  const keys = new Set(tags.map((t) => t.Key));
  if (Object.keys(current).some((k) => k.toLowerCase().startsWith('aws:') && !keys.has(k)))
    throw s3Error('InvalidTag', 400, 'System tags cannot be removed by requester');
  if (tags.length > 50) throw s3Error('BadRequest', 400, 'Bucket tag count cannot be greater than 50');
}

/** S3's lifecycle rules: each rule has exactly one of Filter and Prefix, a status, a unique ID and an action. */
function checkRules(rules: readonly LifecycleRule[] | undefined) {
  if (!rules?.length) throw malformed();
  const ids = new Set<string>();
  for (const r of rules) {
    if ((r.Filter === undefined) === (r.Prefix === undefined)) throw malformed();
    if (r.Status !== 'Enabled' && r.Status !== 'Disabled') throw malformed();
    if (r.ID !== undefined && (r.ID.length > 255 || ids.has(r.ID))) throw s3Error('InvalidArgument', 400, 'Rule ID must be unique and at most 255 characters');
    if (r.ID !== undefined) ids.add(r.ID);
    const actions = [
      r.Expiration,
      r.Transitions?.length,
      r.NoncurrentVersionExpiration,
      r.NoncurrentVersionTransitions?.length,
      r.AbortIncompleteMultipartUpload,
    ];
    if (!actions.some(Boolean)) throw s3Error('InvalidRequest', 400, 'At least one action needs to be specified in a rule');
  }
}

function checkEncryption(rules: readonly ServerSideEncryptionRule[] | undefined) {
  if (rules?.length !== 1) throw malformed();
  const sse = rules[0]!.ApplyServerSideEncryptionByDefault;
  if (!sse || !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(sse.SSEAlgorithm ?? '')) throw malformed();
  if (sse.SSEAlgorithm === 'AES256' && sse.KMSMasterKeyID)
    throw s3Error('InvalidArgument', 400, 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse');
}

const lockMessage = 'Access Denied because object protected by object lock.';

/**
 * A stateful S3 behind aws-sdk-client-mock, as strict as S3 on what the code sends: apply, read
 * again, and the plan is empty; send what S3 refuses, and the fake refuses it with S3's error
 * name and status. It knows the client's region (`getClient().config.region()`): CreateBucket
 * checks the location constraint against it, and a bucket of another region answers HeadBucket
 * with 301 or 400 plus `x-amz-bucket-region`, and other calls with PermanentRedirect.
 * New buckets get S3's defaults since 2023 (all public access blocked, SSE-S3); `foreign` names
 * belong to another account. `failOnce(command)` makes the next call of that command fail.
 */
export function fakeS3(opts: FakeS3Options = {}) {
  const mock = mockClient(S3Client);
  const buckets = new Map<string, FakeBucket>();
  const foreign = new Set<string>();
  const failures = new Map<string, Error>();
  const denied = (action: string) => opts.deny?.includes(action) ?? false;
  let versionCounter = 0;
  let calls = 0;
  // Version ids stay ordered after their version is deleted: a listing marker is a position, not an entry.
  const seq = new Map<string, number>();
  const newVersionId = (id = `v${String(versionCounter + 1).padStart(6, '0')}`) => {
    seq.set(id, ++versionCounter);
    return id;
  };

  type Handler<I> = (input: I, region: string) => unknown;
  const on = <I extends object>(command: { name: string }, fn: Handler<I>) =>
    mock.on(command as never).callsFake(async (input: I, getClient: () => S3Client) => {
      // Mocked calls resolve as microtasks: a loop without end would starve vitest's timeout.
      if (++calls > (opts.callBudget ?? 10_000)) throw new Error(`fake-s3: more than ${opts.callBudget ?? 10_000} calls`);
      const failure = failures.get(command.name);
      if (failure) {
        failures.delete(command.name);
        throw failure;
      }
      const operation = command.name.replace(/Command$/, '');
      const action = operation === 'ListObjectVersions' ? 's3:ListBucketVersions' : iamActionFor(`S3.${operation}`);
      // DeleteObjects is authorised per key (s3:DeleteObject, s3:DeleteObjectVersion), below.
      if (operation !== 'DeleteObjects' && denied(action ?? '')) {
        throw operation === 'HeadBucket' ? headError(403) : s3Error('AccessDenied', 403, 'Access Denied');
      }
      return fn(structuredClone(input), await getClient().config.region());
    });

  /** The bucket a call names, as the client of `region` sees it. */
  const find = (name: string | undefined, region: string) => {
    if (foreign.has(name ?? '')) throw s3Error('AccessDenied', 403, 'Access Denied');
    const bucket = buckets.get(name ?? '');
    if (!bucket) throw s3Error('NoSuchBucket', 404, 'The specified bucket does not exist');
    if (bucket.unseen) {
      bucket.unseen--;
      throw s3Error('NoSuchBucket', 404, 'The specified bucket does not exist');
    }
    if (bucket.region !== region) {
      const err = s3Error('PermanentRedirect', 301, 'The bucket you are attempting to access must be addressed using the specified endpoint.');
      Object.defineProperty(err, '$response', { value: { statusCode: 301, headers: { 'x-amz-bucket-region': bucket.region } }, enumerable: false });
      throw err;
    }
    return bucket;
  };
  const missing = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw s3Error(name, 404, name);
    return value;
  };
  const tagSet = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

  on(HeadBucketCommand, (i: { Bucket?: string }, region) => {
    if (foreign.has(i.Bucket ?? '')) throw headError(403);
    const bucket = buckets.get(i.Bucket ?? '');
    if (!bucket) throw headError(404);
    if (bucket.region !== region) throw headError(bucket.crossRegionHead ?? 301, { 'x-amz-bucket-region': bucket.region });
    return { BucketRegion: bucket.region, AccessPointAlias: false };
  });

  on(CreateBucketCommand, (i: CreateBucketRequest, region) => {
    const name = i.Bucket ?? '';
    const config = i.CreateBucketConfiguration;
    // An element with no member is not valid XML for S3 (what `CreateBucketConfiguration: {}` sends).
    if (config && !Object.values(config).some((v) => v !== undefined && !(Array.isArray(v) && !v.length))) throw malformed();
    const location = config?.LocationConstraint as string | undefined;
    if (location === 'us-east-1') throw s3Error('InvalidLocationConstraint', 400, 'The specified location-constraint is not valid');
    if ((location ?? 'us-east-1') !== region) {
      throw s3Error(
        'IllegalLocationConstraintException',
        400,
        `The ${location ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    if (config?.Tags) {
      if (denied('s3:TagResource')) throw s3Error('AccessDenied', 403, 'User is not authorized to perform: s3:TagResource');
      checkTags(config.Tags);
    }
    if (foreign.has(name)) throw s3Error('BucketAlreadyExists', 409, 'The requested bucket name is not available.');
    const existing = buckets.get(name);
    if (existing) {
      if (existing.region === 'us-east-1' && region === 'us-east-1') return {}; // us-east-1 answers 200 to its owner
      throw s3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.');
    }
    buckets.set(name, {
      region,
      publicAccess: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      encryption: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
      ...(config?.Tags ? { tags: Object.fromEntries(config.Tags.map((t) => [t.Key ?? '', t.Value ?? ''])) } : {}),
      unseen: opts.propagationLag ?? 0,
    });
    return { Location: `/${name}` };
  });

  // Paginated when asked for a page, a region, a prefix or a continuation (10,000 a page by default).
  on(ListBucketsCommand, (i: ListBucketsRequest & { ContinuationToken?: string; BucketRegion?: string; Prefix?: string }) => {
    const all = [...buckets]
      .filter(([n, b]) => (!i.BucketRegion || b.region === i.BucketRegion) && n.startsWith(i.Prefix ?? ''))
      .sort(([a], [b]) => a.localeCompare(b));
    const paged = i.MaxBuckets !== undefined || i.BucketRegion || i.Prefix || i.ContinuationToken;
    const after = i.ContinuationToken ? Buffer.from(i.ContinuationToken, 'base64').toString() : '';
    const rest = all.filter(([n]) => n > after);
    const page = paged ? rest.slice(0, i.MaxBuckets ?? 10_000) : rest;
    return {
      Buckets: page.map(([Name, b]) => ({ Name, BucketRegion: b.region })),
      ...(page.length < rest.length ? { ContinuationToken: Buffer.from(page.at(-1)![0]).toString('base64') } : {}),
    };
  });

  on(GetBucketTaggingCommand, (i: { Bucket?: string }, region) => ({ TagSet: tagSet(missing(find(i.Bucket, region).tags, 'NoSuchTagSet')) }));
  on(PutBucketTaggingCommand, (i: { Bucket?: string; Tagging?: { TagSet?: Tag[] } }, region) => {
    const bucket = find(i.Bucket, region);
    if (!i.Tagging?.TagSet) throw malformed();
    checkTags(i.Tagging.TagSet, bucket.tags);
    bucket.tags = Object.fromEntries(i.Tagging.TagSet.map((t) => [t.Key ?? '', t.Value ?? ''])); // replaces the whole set
    return {};
  });
  on(GetPublicAccessBlockCommand, (i: { Bucket?: string }, region) => ({
    PublicAccessBlockConfiguration: missing(find(i.Bucket, region).publicAccess, 'NoSuchPublicAccessBlockConfiguration'),
  }));
  on(PutPublicAccessBlockCommand, (i: { Bucket?: string; PublicAccessBlockConfiguration?: PublicAccessBlockConfiguration }, region) => {
    find(i.Bucket, region).publicAccess = i.PublicAccessBlockConfiguration;
    return {};
  });
  on(GetBucketEncryptionCommand, (i: { Bucket?: string }, region) => ({
    ServerSideEncryptionConfiguration: { Rules: [missing(find(i.Bucket, region).encryption, 'ServerSideEncryptionConfigurationNotFoundError')] },
  }));
  on(PutBucketEncryptionCommand, (i: { Bucket?: string; ServerSideEncryptionConfiguration?: { Rules?: ServerSideEncryptionRule[] } }, region) => {
    const bucket = find(i.Bucket, region);
    checkEncryption(i.ServerSideEncryptionConfiguration?.Rules);
    bucket.encryption = i.ServerSideEncryptionConfiguration?.Rules?.[0];
    return {};
  });
  on(GetBucketPolicyCommand, (i: { Bucket?: string }, region) => ({ Policy: missing(find(i.Bucket, region).policy, 'NoSuchBucketPolicy') }));
  on(PutBucketPolicyCommand, (i: { Bucket?: string; Policy?: string }, region) => {
    const bucket = find(i.Bucket, region);
    if (Buffer.byteLength(i.Policy ?? '') > POLICY_MAX_BYTES) throw s3Error('MalformedPolicy', 400, 'Policy exceeds the maximum allowed document size.');
    try {
      JSON.parse(i.Policy ?? '');
    } catch {
      throw s3Error('MalformedPolicy', 400, "Policies must be valid JSON and the first byte must be '{'");
    }
    bucket.policy = i.Policy;
    return {};
  });
  on(DeleteBucketPolicyCommand, (i: { Bucket?: string }, region) => {
    delete find(i.Bucket, region).policy; // 204 whether or not there was one
    return {};
  });
  on(GetBucketLifecycleConfigurationCommand, (i: { Bucket?: string }, region) => {
    const bucket = find(i.Bucket, region);
    return {
      Rules: missing(bucket.rules, 'NoSuchLifecycleConfiguration'),
      TransitionDefaultMinimumObjectSize: bucket.transitionMinimumSize ?? 'all_storage_classes_128K',
    };
  });
  on(
    PutBucketLifecycleConfigurationCommand,
    (i: { Bucket?: string; LifecycleConfiguration?: { Rules?: LifecycleRule[] }; TransitionDefaultMinimumObjectSize?: string }, region) => {
      const bucket = find(i.Bucket, region);
      checkRules(i.LifecycleConfiguration?.Rules);
      bucket.rules = i.LifecycleConfiguration!.Rules; // replaces the whole configuration
      bucket.transitionMinimumSize = i.TransitionDefaultMinimumObjectSize ?? 'all_storage_classes_128K'; // S3's default when not sent
      return { TransitionDefaultMinimumObjectSize: bucket.transitionMinimumSize };
    },
  );
  on(GetBucketVersioningCommand, (i: { Bucket?: string }, region) => {
    const status = find(i.Bucket, region).versioning;
    return status ? { Status: status } : {};
  });
  on(PutBucketVersioningCommand, (i: { Bucket?: string; VersioningConfiguration?: { Status?: string } }, region) => {
    const bucket = find(i.Bucket, region);
    const status = i.VersioningConfiguration?.Status;
    if (status !== 'Enabled' && status !== 'Suspended') throw malformed();
    bucket.versioning = status;
    return {};
  });

  /** Every version in S3's listing order: keys ascending, each key's versions newest first. */
  const entries = (bucket: FakeBucket) =>
    [...(bucket.objects ?? new Map<string, FakeVersion[]>())]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([key, versions]) => versions.map((v, n) => ({ key, v, latest: n === 0 })));

  on(ListObjectVersionsCommand, (i: ListObjectVersionsRequest, region) => {
    const bucket = find(i.Bucket, region);
    if (i.VersionIdMarker && !i.KeyMarker) throw s3Error('InvalidArgument', 400, 'A version-id marker cannot be specified without a key marker.');
    const all = entries(bucket).filter((e) => e.key.startsWith(i.Prefix ?? ''));
    // After the marker: a later key, or an older version of the marker's key (even if the marker version is gone).
    const marker = i.VersionIdMarker ? (seq.get(i.VersionIdMarker) ?? 0) : 0;
    const after = (e: (typeof all)[number]) => !i.KeyMarker || e.key > i.KeyMarker || (e.key === i.KeyMarker && (seq.get(e.v.id) ?? 0) < marker);
    let start = all.findIndex(after);
    if (start < 0) start = all.length;
    const max = Math.min(i.MaxKeys ?? PAGE, PAGE);
    const page = all.slice(start, start + max);
    const truncated = start + max < all.length;
    const last = page.at(-1);
    const shape = (e: (typeof all)[number]) => ({ Key: e.key, VersionId: e.v.id, IsLatest: e.latest });
    const versions = page.filter((e) => !e.v.deleteMarker).map((e) => ({ ...shape(e), Size: e.v.size ?? 0 }));
    const markers = page.filter((e) => e.v.deleteMarker).map(shape);
    return {
      Name: i.Bucket,
      MaxKeys: max,
      IsTruncated: truncated,
      ...(i.KeyMarker ? { KeyMarker: i.KeyMarker } : {}),
      ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.v.id } : {}),
      ...(versions.length ? { Versions: versions } : {}),
      ...(markers.length ? { DeleteMarkers: markers } : {}),
    };
  });

  // Per key, as S3 authorises each one: the answer is 200 and lists the refused keys in Errors.
  on(DeleteObjectsCommand, (i: DeleteObjectsRequest, region) => {
    const bucket = find(i.Bucket, region);
    const objects = i.Delete?.Objects ?? [];
    if (!objects.length || objects.length > PAGE) throw malformed();
    const Deleted: { Key?: string; VersionId?: string; DeleteMarker?: boolean; DeleteMarkerVersionId?: string }[] = [];
    const Errors: { Key?: string; VersionId?: string; Code: string; Message: string }[] = [];
    bucket.objects ??= new Map();
    for (const { Key = '', VersionId } of objects) {
      const versions = bucket.objects.get(Key) ?? [];
      if (VersionId) {
        const version = versions.find((v) => v.id === VersionId);
        if (denied('s3:DeleteObjectVersion')) Errors.push({ Key, VersionId, Code: 'AccessDenied', Message: 'Access Denied' });
        else if (version?.lock) Errors.push({ Key, VersionId, Code: 'AccessDenied', Message: lockMessage });
        else {
          const left = versions.filter((v) => v.id !== VersionId);
          if (left.length) bucket.objects.set(Key, left);
          else bucket.objects.delete(Key);
          Deleted.push({ Key, VersionId, ...(version?.deleteMarker ? { DeleteMarker: true, DeleteMarkerVersionId: VersionId } : {}) });
        }
      } else if (denied('s3:DeleteObject')) {
        Errors.push({ Key, Code: 'AccessDenied', Message: 'Access Denied' });
      } else if (bucket.versioning) {
        const id = newVersionId(bucket.versioning === 'Enabled' ? undefined : 'null');
        bucket.objects.set(Key, [{ id, deleteMarker: true }, ...versions.filter((v) => v.id !== 'null' || id !== 'null')]);
        Deleted.push({ Key, DeleteMarker: true, DeleteMarkerVersionId: id });
      } else {
        bucket.objects.delete(Key);
        Deleted.push({ Key });
      }
    }
    return { ...(!i.Delete?.Quiet && Deleted.length ? { Deleted } : {}), ...(Errors.length ? { Errors } : {}) };
  });

  on(DeleteBucketCommand, (i: { Bucket?: string }, region) => {
    const bucket = find(i.Bucket, region);
    if (bucket.objects?.size) throw s3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.');
    buckets.delete(i.Bucket ?? '');
    return {};
  });

  return {
    mock,
    buckets,
    foreign,
    addBucket(name: string, bucket: Partial<FakeBucket> = {}) {
      buckets.set(name, { region: opts.region ?? REGION, ...structuredClone(bucket) });
    },
    /** Puts `versions` versions of `key` of `size` bytes each (the newest a delete marker with `deleteMarker`), each under `lock` if given. */
    addObject(bucket: string, key: string, o: { versions?: number; deleteMarker?: boolean; lock?: FakeVersion['lock']; size?: number } = {}) {
      const b = buckets.get(bucket);
      if (!b) throw new Error(`fake-s3: no bucket ${bucket}`);
      b.objects ??= new Map();
      const made: FakeVersion[] = Array.from({ length: o.versions ?? 1 }, () => ({
        id: newVersionId(),
        deleteMarker: false,
        size: o.size ?? 0,
        ...(o.lock ? { lock: o.lock } : {}),
      })).reverse();
      if (o.deleteMarker) made.unshift({ id: newVersionId(), deleteMarker: true });
      b.objects.set(key, [...made, ...(b.objects.get(key) ?? [])]);
    },
    /** How many versions and delete markers `bucket` holds. */
    versionCount: (bucket: string) => [...(buckets.get(bucket)?.objects?.values() ?? [])].reduce((n, v) => n + v.length, 0),
    /** The next call of `command` fails with `error` (default: a network error). */
    failOnce(command: { name: string }, error: Error = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })) {
      failures.set(command.name, error);
    },
    /** Write calls made so far (CreateBucket, PutBucketPolicy, …), in order. */
    writes: () =>
      mock
        .calls()
        .map((c) => (c.args[0] as object).constructor.name)
        .filter(isWriteCall),
  };
}
