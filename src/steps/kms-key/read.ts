import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type KeyMetadata,
  KMSClient,
  paginateListAliases,
  paginateListKeys,
  paginateListResourceTags,
} from '@aws-sdk/client-kms';
import { errorName, isAccessDenied, unlessMissing } from '../../aws/errors.js';
import { pool } from '../../base/batch.js';
import { MANAGED_BY_TAG } from '../../config/schema.js';
import type { ReadContext } from '../../core/step.js';
import { type PolicyDocument, parsePolicy } from '../../policies/types.js';
import { readStrays, type StrayKey } from './strays.js';

export type { StrayKey };

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
  /** Where the key material is: AWS_KMS, EXTERNAL (imported), AWS_CLOUDHSM, EXTERNAL_KEY_STORE. */
  readonly origin: string;
  /** Set for a key in a custom key store (CloudHSM or external). */
  readonly customKeyStoreId?: string;
  /** For a multi-Region replica: the ARN of its primary key, which owns the rotation. */
  readonly replicaOf?: string;
  /** Read only for usable keys; undefined also where KMS cannot tell (keys that cannot rotate). */
  readonly rotation?: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** Read only when a log group needs the CloudWatch Logs statement. */
  readonly policy?: PolicyDocument;
}

export type KmsKeyState =
  | { readonly kind: 'absent' }
  /** A key this tool created whose alias was never made (the run stopped in between). */
  | { readonly kind: 'orphan'; readonly alias: string; readonly key: KeyInfo; readonly strays: readonly StrayKey[] }
  | { readonly kind: 'present'; readonly alias: string; readonly key: KeyInfo; readonly strays: readonly StrayKey[] };

/**
 * The key behind the alias (or the orphan an interrupted run left), with what the plan needs to
 * know of it, and, when kms-key is planned, the other keys of ours for this alias that have no
 * alias (`strays`: what a lost CreateKey answer left), with what still names them.
 */
export async function readKmsKey(ctx: Pick<ReadContext, 'aws' | 'settings' | 'selected' | 'identity' | 'region'>): Promise<KmsKeyState> {
  const kms = ctx.aws.get(KMSClient);
  const alias = ctx.settings.keyAlias;
  // The policy matters when this step plans the CloudWatch Logs statement: not when it is only read for its ARN.
  const planned = ctx.selected?.has('kms-key') ?? true;
  const withPolicy = ctx.settings.cloudwatchLogs && planned;
  const describe = async () => {
    try {
      return (await kms.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata;
    } catch (err) {
      if (errorName(err) !== 'NotFoundException') throw err;
      return undefined;
    }
  };
  // When this step is planned, the alias and key lists (for strays and orphans) and the key
  // behind the alias are read at once: one round trip, not two, for a DescribeKey a rerun makes
  // anyway (a first run pays one NotFound). Where the lists do not show the alias, a refused
  // DescribeKey is not a failed read (it was not sent there before); a key it finds all the
  // same (an alias made since the lists) is the one.
  let lists = planned ? keyLists(kms) : undefined;
  const listed = () => (lists ??= keyLists(kms));
  let meta: KeyMetadata | undefined;
  if (lists) {
    const described = describe();
    described.catch(() => {}); // awaited below, or passed over when the lists do not show the alias
    meta = (await lists).names.has(alias) ? await described : await described.catch(() => undefined);
  } else {
    meta = await describe();
  }
  if (meta) {
    const key = await keyInfo(kms, meta, withPolicy);
    // Our key behind the alias: an alias-less twin (a lost CreateKey answer) is looked for.
    const strays = planned && isOurKeyFor(key.tags, alias) ? await readStrays(ctx, await ourKeysWithoutAlias(kms, alias, await listed())) : [];
    return { kind: 'present', alias, key, strays };
  }
  const [orphan, ...others] = await ourKeysWithoutAlias(kms, alias, await listed());
  if (!orphan) return { kind: 'absent' };
  return { kind: 'orphan', alias, key: await keyInfo(kms, orphan, withPolicy), strays: planned ? await readStrays(ctx, others) : [] };
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
    origin: meta.Origin ?? 'AWS_KMS',
    ...(meta.CustomKeyStoreId ? { customKeyStoreId: meta.CustomKeyStoreId } : {}),
    ...(meta.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA' ? { replicaOf: meta.MultiRegionConfiguration.PrimaryKey?.Arn ?? 'unknown' } : {}),
    tags: {},
  };
  // A key the plan will refuse needs no more reads.
  if (base.state !== 'Enabled' || base.manager !== 'CUSTOMER' || base.spec !== 'SYMMETRIC_DEFAULT') return base;
  const [rotation, tags, policy] = await Promise.all([readRotation(kms, base), keyTags(kms, id), withPolicy ? readKeyPolicy(kms, id) : undefined]);
  return { ...base, rotation, tags, policy };
}

/** The key policy (KMS keys have one, named `default`). */
export async function readKeyPolicy(kms: KMSClient, keyId: string): Promise<PolicyDocument | undefined> {
  return parsePolicy((await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy);
}

/**
 * Whether automatic rotation is on, or undefined where KMS cannot answer: GetKeyRotationStatus
 * fails with UnsupportedOperationException for imported key material and custom key stores,
 * so it is not asked there, and its refusal elsewhere (a replica) is not a failed read.
 */
async function readRotation(kms: KMSClient, key: Pick<KeyInfo, 'id' | 'origin' | 'customKeyStoreId'>): Promise<boolean | undefined> {
  if (key.origin !== 'AWS_KMS' || key.customKeyStoreId) return undefined;
  const out = await unlessMissing(kms.send(new GetKeyRotationStatusCommand({ KeyId: key.id })), 'UnsupportedOperationException');
  return out ? out.KeyRotationEnabled === true : undefined;
}

/** A key's tags as a map (KMS names them TagKey/TagValue). */
export async function keyTags(kms: KMSClient, keyId: string): Promise<Record<string, string>> {
  // 50 tags per key at most, but tags AWS sets (aws:cloudformation:…) do not count: follow the pages.
  const tags: Record<string, string> = {};
  for await (const page of paginateListResourceTags({ client: kms }, { KeyId: keyId, Limit: 50 })) {
    for (const t of page.Tags ?? []) tags[t.TagKey ?? ''] = t.TagValue ?? '';
  }
  return tags;
}

/** Whether a key carries the tags ssm-setup gives a key it creates for `alias`. */
export const isOurKeyFor = (tags: Readonly<Record<string, string>>, alias: string) =>
  tags[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value && tags[ALIAS_TAG] === alias;

/**
 * Enabled keys without any alias that carry our ManagedBy and alias tags, in ListKeys order:
 * what an interrupted run (or a lost CreateKey answer) left. Only alias-less keys are looked at,
 * so an ordinary account costs two list calls; keys we may not read are not ours and are passed
 * over, and so are keys KMS lists but does not answer for (NotFoundException: just created, or
 * just deleted): right after a lost CreateKey the caller repeats the search while it finds none.
 */
export async function ourKeysWithoutAlias(kms: KMSClient, alias: string, known?: KeyLists): Promise<KeyMetadata[]> {
  const { aliased, keys } = known ?? (await keyLists(kms));
  const candidates = keys.filter((k) => !aliased.has(k));
  const found: (KeyMetadata | undefined)[] = new Array(candidates.length);
  // A few at a time: one ListResourceTags per alias-less key.
  await pool(
    candidates.map((KeyId, n) => [n, KeyId] as const),
    5,
    async ([n, KeyId]) => {
      const passOver = (err: unknown) => {
        if (isAccessDenied(err) || errorName(err) === 'NotFoundException') return undefined;
        throw err;
      };
      const tags = await keyTags(kms, KeyId).catch(passOver);
      if (!tags || !isOurKeyFor(tags, alias)) return;
      const meta = (await kms.send(new DescribeKeyCommand({ KeyId })).catch(passOver))?.KeyMetadata;
      if (meta?.KeyState === 'Enabled') found[n] = meta;
    },
  );
  return found.filter((m): m is KeyMetadata => m !== undefined);
}

/** The key ids that have an alias, the alias names, and every key id of the region (both lists, read at once). */
interface KeyLists {
  readonly aliased: ReadonlySet<string>;
  /** The names of the aliases that name a key. */
  readonly names: ReadonlySet<string>;
  readonly keys: readonly string[];
}

async function keyLists(kms: KMSClient): Promise<KeyLists> {
  const aliased = new Set<string>();
  const names = new Set<string>();
  const keys: string[] = [];
  await Promise.all([
    (async () => {
      for await (const page of paginateListAliases({ client: kms }, {}))
        for (const a of page.Aliases ?? []) {
          if (!a.TargetKeyId) continue;
          aliased.add(a.TargetKeyId);
          if (a.AliasName) names.add(a.AliasName);
        }
    })(),
    (async () => {
      for await (const page of paginateListKeys({ client: kms }, {})) for (const k of page.Keys ?? []) if (k.KeyId) keys.push(k.KeyId);
    })(),
  ]);
  return { aliased, names, keys };
}

/**
 * The customer aliases of one key, sorted. Read from the whole list, as the step reads it, so
 * inside a read-cache span it costs no call of its own.
 */
export async function aliasesOfKey(kms: KMSClient, keyId: string): Promise<string[]> {
  const aliases: string[] = [];
  for await (const page of paginateListAliases({ client: kms }, {})) {
    for (const a of page.Aliases ?? []) {
      if (a.AliasName && a.TargetKeyId === keyId && !a.AliasName.startsWith('alias/aws/')) aliases.push(a.AliasName);
    }
  }
  return aliases.sort();
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
