import { posix } from 'node:path';
import { CloudWatchLogsClient, paginateDescribeLogStreams } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, type HeadObjectCommandOutput, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import { errorName, isAccessDenied, isNotFound, unlessMissing } from '../aws/errors.js';
import { pool } from '../base/batch.js';
import type { Clients } from '../core/clients.js';
import { readPreferences } from '../steps/preferences/read.js';

/**
 * Where a shell session leaves its records, and whether they are there: the one matching that
 * `audit` and `check --live` share. The agent uploads `<s3KeyPrefix>/<SessionId>.log` (joined
 * as Go's path.Join does) to the preferences' bucket at the end of the session, and writes the
 * CloudWatch Logs stream named `<SessionId>` in the preferences' log group.
 */

/** The destinations the preferences (or a Standard_Stream document's inputs) configure. */
export interface RecordPlaces {
  readonly s3?: {
    readonly bucket: string;
    readonly prefix: string;
    /** `s3EncryptionEnabled`: the object must be server-side encrypted. */
    readonly encrypted: boolean;
    /** The key the object must be encrypted with (aws:kms), when one is known. */
    readonly keyArn?: string;
  };
  readonly cloudwatch?: { readonly logGroup: string };
}

/** What was found for one session, per configured destination. */
export interface SessionRecords {
  readonly s3?: { readonly bucket: string; readonly key: string; readonly exists: boolean; readonly encryption?: string; readonly kmsKeyId?: string };
  readonly cloudwatch?: { readonly logGroup: string; readonly stream: string; readonly exists: boolean };
}

const isTrue = (v: unknown) => v === true || v === 'true';
const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** Pure: the destinations of these preference inputs; `keyArn` is the resolved ARN of their kmsKeyId. */
export function placesFrom(inputs: Readonly<Record<string, unknown>> | undefined, keyArn?: string): RecordPlaces {
  const bucket = text(inputs?.s3BucketName);
  const logGroup = text(inputs?.cloudWatchLogGroupName);
  const prefix = typeof inputs?.s3KeyPrefix === 'string' ? inputs.s3KeyPrefix : '';
  return {
    ...(bucket ? { s3: { bucket, prefix, encrypted: isTrue(inputs?.s3EncryptionEnabled), ...(keyArn ? { keyArn } : {}) } } : {}),
    ...(logGroup ? { cloudwatch: { logGroup } } : {}),
  };
}

/** The preferences' destinations, read from SSM-SessionManagerRunShell (and KMS for the key's ARN); undefined without preferences. */
export async function readPlaces(aws: Clients): Promise<RecordPlaces | undefined> {
  const prefs = await readPreferences({ aws });
  if (prefs.kind === 'absent') return undefined;
  const inputs = prefs.doc.defaultInputs ?? {};
  return placesFrom(inputs, await keyArnOf(aws, text(inputs.kmsKeyId)));
}

/** The ARN of a key id, alias or ARN (kms:DescribeKey); undefined when there is none or it does not exist. */
export async function keyArnOf(aws: Clients, keyId: string | undefined): Promise<string | undefined> {
  if (!keyId) return undefined;
  const out = await unlessMissing(aws.get(KMSClient).send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException');
  return out?.KeyMetadata?.Arn;
}

/** `<prefix>` joined with `<SessionId>.log` as the agent joins them (Go's path.Join): the object's key. */
export const objectKey = (prefix: string, sessionId: string) => posix.join(prefix, `${sessionId}.log`);

/** What goes before the session id in every key of this prefix. */
const keyDir = (prefix: string) => objectKey(prefix, 'x').slice(0, -'x.log'.length);

/**
 * The listing prefixes for these session ids: an id whose owner part (`alice-` of
 * `alice-0123…`) no other id shares is looked up alone; ids that share one are listed together,
 * one listing for all of that owner's records instead of one call per session.
 */
export function lookupPrefixes(ids: readonly string[]): string[] {
  const owner = (id: string) => id.slice(0, id.lastIndexOf('-') + 1);
  const byOwner = new Map<string, string[]>();
  for (const id of ids) byOwner.set(owner(id), [...(byOwner.get(owner(id)) ?? []), id]);
  return [...byOwner.entries()].flatMap(([part, of]) => (of.length > 1 && part ? [part] : of));
}

/** Listings and HeadObjects in flight at once. */
const CONCURRENCY = 8;

/**
 * The records of these sessions, batched and bounded: one ListObjectsV2 per page of each
 * lookup prefix, HeadObject (a few at a time) only for the objects found when the preferences
 * require encryption, and one DescribeLogStreams per page of each prefix. A bucket or log group
 * that does not exist holds no record; any other failure is the caller's (read permissions).
 */
export async function findRecords(aws: Clients, places: RecordPlaces, ids: readonly string[]): Promise<Map<string, SessionRecords>> {
  const prefixes = lookupPrefixes(ids);
  const [objects, streams] = await Promise.all([
    places.s3 ? findObjects(aws, places.s3, ids, prefixes) : undefined,
    places.cloudwatch ? findStreams(aws, places.cloudwatch.logGroup, ids, prefixes) : undefined,
  ]);
  const out = new Map<string, SessionRecords>();
  for (const id of ids) {
    const s3 = places.s3 && { bucket: places.s3.bucket, key: objectKey(places.s3.prefix, id), exists: false, ...objects?.get(id) };
    const cloudwatch = places.cloudwatch && { logGroup: places.cloudwatch.logGroup, stream: id, exists: streams?.has(id) ?? false };
    out.set(id, { ...(s3 ? { s3 } : {}), ...(cloudwatch ? { cloudwatch } : {}) });
  }
  return out;
}

type Found = { exists: true; encryption?: string; kmsKeyId?: string };

async function findObjects(
  aws: Clients,
  s3: NonNullable<RecordPlaces['s3']>,
  ids: readonly string[],
  prefixes: readonly string[],
): Promise<Map<string, Found>> {
  const client = aws.get(S3Client);
  const wanted = new Map(ids.map((id) => [objectKey(s3.prefix, id), id]));
  const found = new Map<string, Found>();
  const dir = keyDir(s3.prefix);
  try {
    await pool(prefixes, CONCURRENCY, async (p) => {
      // An id alone is listed by its whole key: one page, at most one object.
      const Prefix = wanted.has(objectKey(s3.prefix, p)) ? objectKey(s3.prefix, p) : `${dir}${p}`;
      for await (const page of paginateListObjectsV2({ client, pageSize: 1000 }, { Bucket: s3.bucket, Prefix })) {
        for (const o of page.Contents ?? []) {
          const id = wanted.get(o.Key ?? '');
          if (id) found.set(id, { exists: true });
        }
      }
    });
  } catch (err) {
    if (errorName(err) === 'NoSuchBucket') return found;
    throw err;
  }
  if (s3.encrypted) {
    await pool([...found.keys()], CONCURRENCY, async (id) => {
      let head: HeadObjectCommandOutput;
      try {
        head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: objectKey(s3.prefix, id) }));
      } catch (err) {
        // Listed, then gone (expired, deleted): no record. Not readable (no s3:GetObject): it
        // exists, its encryption unknown. Either way the other sessions are still matched.
        if (isNotFound(err)) return void found.delete(id);
        if (isAccessDenied(err)) return;
        throw err;
      }
      found.set(id, {
        exists: true,
        ...(head.ServerSideEncryption ? { encryption: head.ServerSideEncryption } : {}),
        ...(head.SSEKMSKeyId ? { kmsKeyId: head.SSEKMSKeyId } : {}),
      });
    });
  }
  return found;
}

async function findStreams(aws: Clients, logGroupName: string, ids: readonly string[], prefixes: readonly string[]): Promise<Set<string>> {
  const client = aws.get(CloudWatchLogsClient);
  const wanted = new Set(ids);
  const found = new Set<string>();
  try {
    await pool(prefixes, CONCURRENCY, async (logStreamNamePrefix) => {
      for await (const page of paginateDescribeLogStreams({ client, pageSize: 50 }, { logGroupName, logStreamNamePrefix })) {
        for (const s of page.logStreams ?? []) if (s.logStreamName && wanted.has(s.logStreamName)) found.add(s.logStreamName);
      }
    });
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return found;
    throw err;
  }
  return found;
}

/**
 * Pure: what is wrong with a session's records, one line per configured destination that lacks
 * its record (an object encrypted otherwise than the preferences require counts as lacking).
 */
export function recordGaps(places: RecordPlaces, records: SessionRecords | undefined): RecordGap[] {
  const gaps: RecordGap[] = [];
  const s3 = records?.s3;
  if (places.s3) {
    const where = `s3://${places.s3.bucket}/${s3?.key ?? ''}`;
    if (!s3?.exists) gaps.push({ destination: 's3', kind: 'absent', problem: `no S3 object ${where}` });
    else if (places.s3.encrypted) {
      const wrong = encryptionProblem(places.s3.keyArn, s3.encryption, s3.kmsKeyId);
      if (wrong) gaps.push({ destination: 's3', kind: 'encryption', problem: `${where} ${wrong}` });
    }
  }
  if (places.cloudwatch && !records?.cloudwatch?.exists) {
    gaps.push({ destination: 'cloudwatch', kind: 'absent', problem: `no log stream ${records?.cloudwatch?.stream ?? ''} in ${places.cloudwatch.logGroup}` });
  }
  return gaps;
}

/** A record a destination lacks: not there, or (S3) not encrypted as the preferences require. */
export interface RecordGap {
  readonly destination: 's3' | 'cloudwatch';
  readonly kind: 'absent' | 'encryption';
  readonly problem: string;
}

/** The same KMS key: equal ARNs, or a key id and the ARN that ends with it. */
export const sameKey = (a: string, b: string) => a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);

function encryptionProblem(keyArn: string | undefined, algorithm: string | undefined, kmsKeyId: string | undefined): string | undefined {
  if (keyArn) {
    if (algorithm !== 'aws:kms') return `is ${algorithm ? `encrypted with ${algorithm}` : 'not encrypted'}, not with the session key ${keyArn} (aws:kms)`;
    if (!kmsKeyId || !sameKey(kmsKeyId, keyArn)) return `is encrypted with another key (${kmsKeyId ?? 'unknown'}), not the session key ${keyArn}`;
    return undefined;
  }
  // Without a session key, the agent accepts either kind of default encryption.
  return algorithm === 'aws:kms' || algorithm === 'AES256' ? undefined : 'is not server-side encrypted, while the preferences require it';
}
