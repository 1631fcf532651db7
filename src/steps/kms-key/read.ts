import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListResourceTagsCommand,
  paginateListAliases,
  paginateListKeys,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { errorName, isAccessDenied } from '../../aws/errors.js';
import { MANAGED_BY_TAG } from '../../config/schema.js';
import type { ReadContext } from '../../core/step.js';
import { parsePolicy, type PolicyDocument } from '../../policies/types.js';

/** Tag written at CreateKey time, before the alias exists: it lets a rerun find a key an interrupted run left without its alias. */
export const ALIAS_TAG = 'ssm-setup:alias';

export interface KeyInfo {
  readonly id: string;
  readonly arn: string;
  /** Enabled, Disabled, PendingDeletion… */
  readonly state: string;
  readonly manager: string;
  readonly spec: string;
  readonly usage: string;
  /** Read only for usable keys. */
  readonly rotation?: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** Read only when a log group needs the CloudWatch Logs statement. */
  readonly policy?: PolicyDocument;
}

export type KmsKeyState =
  | { readonly kind: 'absent' }
  /** A key this tool created whose alias was never made (the run stopped in between). */
  | { readonly kind: 'orphan'; readonly alias: string; readonly key: KeyInfo }
  | { readonly kind: 'present'; readonly alias: string; readonly key: KeyInfo };

export async function readKmsKey(ctx: Pick<ReadContext, 'aws' | 'settings'>): Promise<KmsKeyState> {
  const kms = ctx.aws.get(KMSClient);
  const alias = ctx.settings.keyAlias;
  let meta: KeyMetadata | undefined;
  try {
    meta = (await kms.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata;
  } catch (err) {
    if (errorName(err) !== 'NotFoundException') throw err;
  }
  if (meta) return { kind: 'present', alias, key: await keyInfo(kms, meta, ctx.settings.cloudwatchLogs) };
  const orphan = await findOrphan(kms, alias);
  return orphan ? { kind: 'orphan', alias, key: await keyInfo(kms, orphan, ctx.settings.cloudwatchLogs) } : { kind: 'absent' };
}

async function keyInfo(kms: KMSClient, meta: KeyMetadata, withPolicy: boolean): Promise<KeyInfo> {
  const id = meta.KeyId!;
  const base = {
    id,
    arn: meta.Arn!,
    state: meta.KeyState ?? 'Unknown',
    manager: meta.KeyManager ?? 'CUSTOMER',
    spec: meta.KeySpec ?? 'SYMMETRIC_DEFAULT',
    usage: meta.KeyUsage ?? 'ENCRYPT_DECRYPT',
    tags: {},
  };
  // A key the plan will refuse needs no more reads.
  if (base.state !== 'Enabled' || base.manager !== 'CUSTOMER' || base.spec !== 'SYMMETRIC_DEFAULT') return base;
  const [rotation, tags, policy] = await Promise.all([
    kms.send(new GetKeyRotationStatusCommand({ KeyId: id })).then((o) => o.KeyRotationEnabled === true),
    keyTags(kms, id),
    withPolicy
      ? kms.send(new GetKeyPolicyCommand({ KeyId: id, PolicyName: 'default' })).then((o) => parsePolicy(o.Policy))
      : undefined,
  ]);
  return { ...base, rotation, tags, policy };
}

/** A key's tags as a map (KMS names them TagKey/TagValue). */
export async function keyTags(kms: KMSClient, keyId: string): Promise<Record<string, string>> {
  // 50 tags per key at most, so one page holds them all.
  const out = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 50 }));
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? '']));
}

/**
 * Keys without any alias that carry our ManagedBy and alias tags. Only alias-less keys are looked at, so an
 * ordinary account costs two list calls; keys we may not read are not ours and are passed over.
 */
async function findOrphan(kms: KMSClient, alias: string): Promise<KeyMetadata | undefined> {
  const aliased = new Set<string>();
  for await (const page of paginateListAliases({ client: kms }, {})) {
    for (const a of page.Aliases ?? []) if (a.TargetKeyId) aliased.add(a.TargetKeyId);
  }
  for await (const page of paginateListKeys({ client: kms }, {})) {
    for (const k of page.Keys ?? []) {
      if (!k.KeyId || aliased.has(k.KeyId)) continue;
      const tags = await keyTags(kms, k.KeyId).catch((err: unknown) => {
        if (isAccessDenied(err)) return {} as Record<string, string>;
        throw err;
      });
      if (tags[MANAGED_BY_TAG.key] !== MANAGED_BY_TAG.value || tags[ALIAS_TAG] !== alias) continue;
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
      if (meta?.KeyState === 'Enabled') return meta;
    }
  }
  return undefined;
}

/** Customer-managed aliases of the region, for the wizard's choice list. */
export async function listKeyAliases(kms: KMSClient): Promise<string[]> {
  const aliases: string[] = [];
  for await (const page of paginateListAliases({ client: kms }, {})) {
    for (const a of page.Aliases ?? []) {
      if (a.AliasName && a.TargetKeyId && !a.AliasName.startsWith('alias/aws/')) aliases.push(a.AliasName);
    }
  }
  return aliases.sort();
}
