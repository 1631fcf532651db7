import type { KeyMetadata } from '@aws-sdk/client-kms';
import { errorName } from '../../aws/errors.js';
import type { ReadContext } from '../../core/step.js';
import { isSameKey } from '../../policies/kms-ref.js';

/**
 * A key ssm-setup created for this alias that has no alias while another of its keys holds it:
 * what a lost CreateKey answer left (the SDK's retry made a second key, which got the alias).
 */
export interface StrayKey {
  readonly id: string;
  readonly arn: string;
  /** What names the key (the bucket's default encryption, the log group, the preferences): it is kept. */
  readonly usedBy: readonly string[];
  /** Why it could not be made sure that nothing names it (a read failed): it is kept. */
  readonly unsure?: string;
}

/** What one place of the setup names as its key, or why it could not be read. */
type Found = { readonly where: string; readonly refs: readonly string[] } | { readonly unsure: string };

/**
 * The strays, each with what of the setup still names it: the bucket's default encryption, the
 * log group's key and the preferences' kmsKeyId (default and latest version), read here because
 * kms-key is read before those steps. A read that fails leaves every stray `unsure` (kept).
 */
export async function readStrays(ctx: Pick<ReadContext, 'aws' | 'settings' | 'identity' | 'region'>, keys: readonly KeyMetadata[]): Promise<StrayKey[]> {
  if (!keys.length) return [];
  const found = await Promise.all([bucketKey(ctx), logGroupKey(ctx), preferencesKey(ctx)]);
  const unsure = found.flatMap((f) => ('unsure' in f ? [f.unsure] : []));
  return keys.map((meta) => {
    const key = { id: meta.KeyId ?? '', arn: meta.Arn ?? '', alias: '' };
    const usedBy = found.flatMap((f) => ('where' in f && f.refs.some((ref) => isSameKey(ref, key)) ? [f.where] : []));
    return { id: key.id, arn: key.arn, usedBy, ...(unsure.length ? { unsure: unsure.join('; ') } : {}) };
  });
}

const unsureOf = (what: string, err: unknown): Found => ({ unsure: `${what} could not be read (${errorName(err) || (err as Error).message})` });

async function bucketKey(ctx: Pick<ReadContext, 'aws' | 'settings' | 'identity' | 'region'>): Promise<Found> {
  const [{ GetBucketEncryptionCommand, S3Client }, { bucketNameFor }] = await Promise.all([import('@aws-sdk/client-s3'), import('../log-bucket/read.js')]);
  const Bucket = bucketNameFor(ctx.settings, ctx.identity.account, ctx.region);
  const where = `bucket ${Bucket}`;
  try {
    const out = await ctx.aws.get(S3Client).send(new GetBucketEncryptionCommand({ Bucket }));
    const refs = (out.ServerSideEncryptionConfiguration?.Rules ?? []).map((r) => r.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID ?? '');
    return { where, refs };
  } catch (err) {
    if (['NoSuchBucket', 'ServerSideEncryptionConfigurationNotFoundError'].includes(errorName(err))) return { where, refs: [] };
    return unsureOf(`the encryption of ${where}`, err);
  }
}

async function logGroupKey(ctx: Pick<ReadContext, 'aws' | 'settings'>): Promise<Found> {
  const { CloudWatchLogsClient, DescribeLogGroupsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const name = ctx.settings.logGroup;
  const where = `log group ${name}`;
  try {
    const logs = ctx.aws.get(CloudWatchLogsClient);
    // The exact name sorts first among those it prefixes: one page holds it.
    const out = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, limit: 1 }));
    const group = out.logGroups?.find((g) => g.logGroupName === name);
    return { where, refs: group?.kmsKeyId ? [group.kmsKeyId] : [] };
  } catch (err) {
    return unsureOf(where, err);
  }
}

async function preferencesKey(ctx: Pick<ReadContext, 'aws'>): Promise<Found> {
  const { readPreferences } = await import('../preferences/read.js');
  const where = 'the Session Manager preferences';
  try {
    const state = await readPreferences(ctx);
    if (state.kind === 'absent') return { where, refs: [] };
    const refs = [state.doc.defaultInputs, state.doc.latestInputs].map((inputs) => String(inputs?.kmsKeyId ?? ''));
    return { where, refs };
  } catch (err) {
    return unsureOf(where, err);
  }
}
