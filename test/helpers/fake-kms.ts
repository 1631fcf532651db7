import {
  AlreadyExistsException,
  CreateAliasCommand,
  type CreateAliasCommandInput,
  CreateKeyCommand,
  type CreateKeyCommandInput,
  DescribeKeyCommand,
  type DescribeKeyCommandInput,
  DisabledException,
  EnableKeyRotationCommand,
  type EnableKeyRotationCommandInput,
  GetKeyPolicyCommand,
  type GetKeyPolicyCommandInput,
  GetKeyRotationStatusCommand,
  type GetKeyRotationStatusCommandInput,
  type KeyMetadata,
  KMSClient,
  KMSInvalidStateException,
  KMSServiceException,
  LimitExceededException,
  ListAliasesCommand,
  type ListAliasesCommandInput,
  ListKeysCommand,
  type ListKeysCommandInput,
  ListResourceTagsCommand,
  type ListResourceTagsCommandInput,
  MalformedPolicyDocumentException,
  NotFoundException,
  PutKeyPolicyCommand,
  type PutKeyPolicyCommandInput,
  ScheduleKeyDeletionCommand,
  type ScheduleKeyDeletionCommandInput,
  type Tag,
  TagException,
  TagResourceCommand,
  type TagResourceCommandInput,
  UnsupportedOperationException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { ACCOUNT, IDENTITY, REGION } from './fixtures.js';
import { type LossOptions, lossyAnswers } from './lost-answer.js';

export interface FakeKey {
  meta: KeyMetadata;
  rotation: boolean;
  tags: Record<string, string>;
  policy: string;
  /** Just made by CreateKey: the first KMS call that names it answers NotFoundException. */
  unseen: boolean;
  /** Just made by CreateKey: the next ListKeys does not list it yet. */
  unlisted?: boolean;
  /** Just created, or its policy just changed: CloudWatch Logs cannot use it yet (once). */
  logsLag: boolean;
}

export interface FakeKmsOptions {
  /** Model KMS eventual consistency (default on): see `FakeKey.unseen` and `logsLag`. */
  readonly consistency?: boolean;
  /** The caller, for the lockout safety check (default: IDENTITY, an IAM user of ACCOUNT). */
  readonly caller?: string;
  /** Page size of ListAliases, ListKeys and ListResourceTags when the request gives no Limit. */
  readonly pageSize?: number;
  /** The region of the keys' and aliases' ARNs (default REGION): the region of the clients under test. */
  readonly region?: string;
}

/** The key policy KMS gives a key created without one: the account root holds kms:*. */
export const DEFAULT_KEY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
});

const meta = { $metadata: {} };
const notFound = (message: string) => new NotFoundException({ message, ...meta });
const malformed = (message: string) => new MalformedPolicyDocumentException({ message, ...meta });
const unsupported = (message: string) => new UnsupportedOperationException({ message, ...meta });

interface Statement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(value);

/** The principals of a statement (`*` as `*`), by kind: AWS, Service. */
function principals(p: unknown, kind: 'AWS' | 'Service'): string[] {
  if (p === '*') return ['*'];
  return list((p as Record<string, unknown> | undefined)?.[kind]);
}

/**
 * A small reading of a key policy, as strict as KMS where the tests need it: is `action` allowed
 * to one of `who` (of `kind`) under `context`? An explicit Deny wins; a condition on a key
 * missing from the context does not hold.
 */
export function keyPolicyAllows(
  policy: string,
  kind: 'AWS' | 'Service',
  who: readonly string[],
  action: string,
  context: Record<string, string> = {},
): boolean {
  const doc = JSON.parse(policy) as { Statement: Statement | Statement[] };
  const all = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const applies = (s: Statement) =>
    principals(s.Principal, kind).some((p) => p === '*' || who.includes(p)) &&
    list(s.Action).some((a) => glob(a, action)) &&
    Object.entries(s.Condition ?? {}).every(([op, keys]) =>
      Object.entries(keys).every(([key, want]) => {
        const have = context[key];
        if (have === undefined) return false;
        const like = /Like$/.test(op);
        return list(want).some((w) => (like ? glob(w, have) : w === have));
      }),
    );
  if (all.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return all.some((s) => s.Effect === 'Allow' && applies(s));
}

/**
 * A stateful KMS behind aws-sdk-client-mock, as strict as KMS where the steps could go wrong:
 * a just-created key is not visible at once (eventual consistency), rotation is refused for
 * keys that cannot rotate, policies are validated (JSON, 32 KB, lockout safety check), tags are
 * limited (50, no `aws:`), and the only policy name is `default`. Enough to prove that apply
 * converges: apply, then read again, and the plan is empty.
 */
export function fakeKms(opts: FakeKmsOptions = {}) {
  const consistency = opts.consistency ?? true;
  const caller = opts.caller ?? IDENTITY.arn;
  const region = opts.region ?? REGION;
  const mock = mockClient(KMSClient);
  const keys = new Map<string, FakeKey>();
  const aliases = new Map<string, string>();
  let n = 0;
  const lookup = (id: string | undefined) => keys.get(aliases.get(id ?? '') ?? id ?? '') ?? [...keys.values()].find((k) => k.meta.Arn === id);
  /** The key a call names; the first call naming a just-created key does not find it. */
  const find = (id: string | undefined) => {
    const key = lookup(id);
    if (!key) throw notFound(`Invalid keyId ${id}`);
    if (key.unseen) {
      key.unseen = false;
      throw notFound(`Key '${key.meta.Arn}' does not exist`);
    }
    return key;
  };

  const checkPolicy = (policy: string, bypass?: boolean) => {
    if (Buffer.byteLength(policy, 'utf8') > 32 * 1024) throw new LimitExceededException({ message: 'Policy exceeds 32768 bytes', ...meta });
    try {
      JSON.parse(policy);
    } catch {
      throw malformed('The policy is not valid JSON');
    }
    if (bypass) return;
    // Lockout safety check: the caller (or the account root, which delegates to IAM) must keep kms:PutKeyPolicy.
    // An assumed-role session is named in key policies by its role's ARN.
    const role = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(caller);
    const who = [`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT, caller, ...(role ? [`arn:aws:iam::${role[1]}:role/${role[2]}`] : [])];
    if (!keyPolicyAllows(policy, 'AWS', who, 'kms:PutKeyPolicy')) {
      throw malformed('The new key policy will not allow you to update the key policy in the future.');
    }
  };

  const checkTags = (current: Record<string, string>, tags: readonly Tag[]) => {
    for (const { TagKey = '', TagValue = '' } of tags) {
      if (/^aws:/i.test(TagKey)) throw new TagException({ message: `Tag key ${TagKey}: the aws: prefix is reserved`, ...meta });
      if (!TagKey || TagKey.length > 128 || TagValue.length > 256) throw new TagException({ message: `Tag ${TagKey} is too long`, ...meta });
    }
    const next = { ...current, ...Object.fromEntries(tags.map((t) => [t.TagKey!, t.TagValue!])) };
    if (Object.keys(next).filter((k) => !/^aws:/i.test(k)).length > 50) throw new TagException({ message: 'A key can have at most 50 tags', ...meta });
    return next;
  };

  /** A key whose key material is imported, or in a custom key store: KMS cannot rotate it. */
  const foreignMaterial = (m: KeyMetadata) =>
    m.Origin === 'EXTERNAL' || !!m.CustomKeyStoreId || m.Origin === 'AWS_CLOUDHSM' || m.Origin === 'EXTERNAL_KEY_STORE';

  const addKey = (o: Partial<KeyMetadata> & { tags?: Record<string, string>; rotation?: boolean; policy?: string } = {}) => {
    const KeyId = `key-${++n}`;
    const { tags = {}, rotation = false, policy = DEFAULT_KEY_POLICY, ...rest } = o;
    keys.set(KeyId, {
      meta: {
        KeyId,
        Arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${KeyId}`,
        AWSAccountId: ACCOUNT,
        KeyState: 'Enabled',
        Enabled: true,
        KeyManager: 'CUSTOMER',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Origin: 'AWS_KMS',
        ...rest,
      },
      rotation,
      tags,
      policy,
      unseen: false,
      logsLag: false,
    });
    return KeyId;
  };

  /** One page of `items` after `marker` (KMS's Truncated/NextMarker). */
  const page = <T>(items: T[], limit: number | undefined, marker: string | undefined, fallback: number) => {
    const size = limit ?? opts.pageSize ?? fallback;
    const start = marker ? Number(marker) : 0;
    const next = start + size;
    return { items: items.slice(start, next), Truncated: next < items.length, ...(next < items.length ? { NextMarker: String(next) } : {}) };
  };

  const losses = lossyAnswers();
  /** Every handler goes through `losses`, so any call can lose its answer. */
  const on = <I>(command: { name: string }, fn: (input: I) => unknown) =>
    (mock.on as (c: unknown) => { callsFake(f: unknown): unknown })(command).callsFake(losses.wrap(command, fn));

  on(DescribeKeyCommand, async (i: DescribeKeyCommandInput) => ({ KeyMetadata: find(i.KeyId).meta }));
  on(CreateKeyCommand, async (i: CreateKeyCommandInput) => {
    if ((i.Description ?? '').length > 8192)
      throw new KMSServiceException({ name: 'ValidationException', $fault: 'client', message: 'Description is longer than 8192', ...meta });
    const policy = i.Policy ?? DEFAULT_KEY_POLICY;
    checkPolicy(policy, i.BypassPolicyLockoutSafetyCheck);
    const tags = checkTags({}, i.Tags ?? []);
    const id = addKey({ tags, policy, ...(i.Description ? { Description: i.Description } : {}) });
    const key = keys.get(id)!;
    key.unseen = consistency;
    key.unlisted = consistency;
    key.logsLag = consistency;
    return { KeyMetadata: key.meta };
  });
  on(CreateAliasCommand, async (i: CreateAliasCommandInput) => {
    const name = i.AliasName ?? '';
    if (aliases.has(name)) throw new AlreadyExistsException({ message: 'exists', ...meta });
    aliases.set(name, find(i.TargetKeyId).meta.KeyId!);
    return {};
  });
  on(EnableKeyRotationCommand, async (i: EnableKeyRotationCommandInput) => {
    const key = find(i.KeyId);
    if (key.meta.KeyState === 'Disabled') throw new DisabledException({ message: `${key.meta.Arn} is disabled.`, ...meta });
    if (key.meta.KeyState !== 'Enabled') throw new KMSInvalidStateException({ message: `${key.meta.Arn} is ${key.meta.KeyState}`, ...meta });
    if (foreignMaterial(key.meta)) throw unsupported(`${key.meta.Arn} origin is ${key.meta.Origin} which is not valid for this operation.`);
    if (key.meta.MultiRegionConfiguration?.MultiRegionKeyType === 'REPLICA') {
      throw unsupported(`${key.meta.Arn} is a multi-Region replica key: rotation is managed on its primary key.`);
    }
    if (key.meta.KeySpec !== 'SYMMETRIC_DEFAULT') throw unsupported('You cannot perform this operation on a non-symmetric key.');
    key.rotation = true;
    return {};
  });
  on(GetKeyRotationStatusCommand, async (i: GetKeyRotationStatusCommandInput) => {
    const key = find(i.KeyId);
    // KMS refuses the question itself for imported material and custom key stores.
    if (foreignMaterial(key.meta)) throw unsupported(`${key.meta.Arn} origin is ${key.meta.Origin} which is not valid for this operation.`);
    return { KeyId: key.meta.KeyId, KeyRotationEnabled: key.rotation };
  });
  on(ListResourceTagsCommand, async (i: ListResourceTagsCommandInput) => {
    const all = Object.entries(find(i.KeyId).tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const { items, ...rest } = page(all, i.Limit, i.Marker, 50);
    return { Tags: items, ...rest };
  });
  on(TagResourceCommand, async (i: TagResourceCommandInput) => {
    const key = find(i.KeyId);
    key.tags = checkTags(key.tags, i.Tags ?? []);
    return {};
  });
  on(GetKeyPolicyCommand, async (i: GetKeyPolicyCommandInput) => {
    const key = find(i.KeyId);
    if ((i.PolicyName ?? 'default') !== 'default') throw notFound(`No such policy: ${i.PolicyName}`);
    return { Policy: key.policy, PolicyName: 'default' };
  });
  on(PutKeyPolicyCommand, async (i: PutKeyPolicyCommandInput) => {
    const key = find(i.KeyId);
    if ((i.PolicyName ?? 'default') !== 'default') throw notFound(`No such policy: ${i.PolicyName}`);
    checkPolicy(i.Policy ?? '', i.BypassPolicyLockoutSafetyCheck);
    key.policy = i.Policy!;
    key.logsLag = consistency;
    return {};
  });
  on(ListAliasesCommand, async (i: ListAliasesCommandInput) => {
    const all = [...aliases].map(([AliasName, TargetKeyId]) => ({ AliasName, AliasArn: `arn:aws:kms:${region}:${ACCOUNT}:${AliasName}`, TargetKeyId }));
    const { items, ...rest } = page(all, i.Limit, i.Marker, 50);
    return { Aliases: items, ...rest };
  });
  on(ListKeysCommand, async (i: ListKeysCommandInput) => {
    // A listing (its first page) does not show a key created a moment ago; the next one does.
    const listed = [...keys.values()].filter((k) => {
      if (i.Marker || !k.unlisted) return true;
      k.unlisted = false;
      return false;
    });
    const all = listed.map((k) => ({ KeyId: k.meta.KeyId, KeyArn: k.meta.Arn }));
    const { items, ...rest } = page(all, i.Limit, i.Marker, 100);
    return { Keys: items, ...rest };
  });
  on(ScheduleKeyDeletionCommand, async (i: ScheduleKeyDeletionCommandInput) => {
    const key = find(i.KeyId);
    const days = i.PendingWindowInDays ?? 30;
    if (days < 7 || days > 30)
      throw new KMSServiceException({ name: 'ValidationException', $fault: 'client', message: 'PendingWindowInDays must be 7 to 30', ...meta });
    // A key already pending deletion (or otherwise not Enabled/Disabled) cannot be scheduled again.
    if (key.meta.KeyState !== 'Enabled' && key.meta.KeyState !== 'Disabled')
      throw new KMSInvalidStateException({ message: `${key.meta.Arn} is pending deletion.`, ...meta });
    const DeletionDate = new Date(Date.UTC(2024, 0, 1) + days * 86_400_000);
    key.meta = { ...key.meta, KeyState: 'PendingDeletion', Enabled: false, DeletionDate, PendingDeletionWindowInDays: days };
    return { KeyId: key.meta.Arn, KeyState: 'PendingDeletion', DeletionDate, PendingWindowInDays: days };
  });

  return {
    mock,
    /** The region of the keys (fake-logs admits `logs.<region>` for them). */
    region,
    keys,
    aliases,
    addKey,
    /** The key an id, ARN or alias names, as it is now (no consistency effect). */
    key: (id: string) => lookup(id),
    /** Keys of this account that carry `tags` (all of them), as they are now. */
    keysTagged: (tags: Record<string, string>) => [...keys.values()].filter((k) => Object.entries(tags).every(([key, value]) => k.tags[key] === value)),
    /**
     * The next call(s) of `command` are carried out, then their answer is lost (a reset
     * connection, or a 500): see test/helpers/lost-answer.ts for what the client then sees.
     */
    loseAnswerOnce: (command: { name: string }, opts?: LossOptions) => losses.lose(command, opts),
    /** Requests of `command` that reached KMS, the SDK's retries included. */
    attempts: (command: { name: string }) => losses.attempts(command),
    /** Write calls made so far (CreateKey, CreateAlias, …). */
    writes: () =>
      mock
        .calls()
        .map((c) => (c.args[0] as object).constructor.name)
        .filter(isWriteCall),
  };
}

export type FakeKms = ReturnType<typeof fakeKms>;
