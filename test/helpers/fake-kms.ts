import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  NotFoundException,
  PutKeyPolicyCommand,
  TagResourceCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { ACCOUNT, REGION } from './fixtures.js';

interface FakeKey {
  meta: KeyMetadata;
  rotation: boolean;
  tags: Record<string, string>;
  policy: string;
}

const notFound = (message: string) => new NotFoundException({ message, $metadata: {} });

/**
 * A small stateful KMS behind aws-sdk-client-mock, enough to prove that apply converges:
 * apply, then read again, and the plan is empty.
 */
export function fakeKms() {
  const mock = mockClient(KMSClient);
  const keys = new Map<string, FakeKey>();
  const aliases = new Map<string, string>();
  let n = 0;
  const find = (id: string | undefined) => {
    const key = keys.get(aliases.get(id ?? '') ?? id ?? '') ?? [...keys.values()].find((k) => k.meta.Arn === id);
    if (!key) throw notFound(`Invalid keyId ${id}`);
    return key;
  };

  const addKey = (opts: Partial<KeyMetadata> & { tags?: Record<string, string>; rotation?: boolean; policy?: string } = {}) => {
    const KeyId = `key-${++n}`;
    const { tags = {}, rotation = false, policy = '{"Version":"2012-10-17","Statement":[]}', ...meta } = opts;
    keys.set(KeyId, {
      meta: { KeyId, Arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KeyId}`, KeyState: 'Enabled', Enabled: true, KeyManager: 'CUSTOMER', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', ...meta },
      rotation,
      tags,
      policy,
    });
    return KeyId;
  };

  mock.on(DescribeKeyCommand).callsFake(async (i) => ({ KeyMetadata: find(i.KeyId).meta }));
  mock.on(CreateKeyCommand).callsFake(async (i) => {
    const id = addKey({ tags: Object.fromEntries((i.Tags ?? []).map((t: { TagKey: string; TagValue: string }) => [t.TagKey, t.TagValue])), policy: i.Policy });
    return { KeyMetadata: keys.get(id)!.meta };
  });
  mock.on(CreateAliasCommand).callsFake(async (i) => {
    if (aliases.has(i.AliasName)) throw new AlreadyExistsException({ message: 'exists', $metadata: {} });
    aliases.set(i.AliasName, find(i.TargetKeyId).meta.KeyId!);
    return {};
  });
  mock.on(EnableKeyRotationCommand).callsFake(async (i) => {
    find(i.KeyId).rotation = true;
    return {};
  });
  mock.on(GetKeyRotationStatusCommand).callsFake(async (i) => ({ KeyRotationEnabled: find(i.KeyId).rotation }));
  mock.on(ListResourceTagsCommand).callsFake(async (i) => ({
    Tags: Object.entries(find(i.KeyId).tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
  }));
  mock.on(TagResourceCommand).callsFake(async (i) => {
    const key = find(i.KeyId);
    for (const t of i.Tags ?? []) key.tags[t.TagKey] = t.TagValue;
    return {};
  });
  mock.on(GetKeyPolicyCommand).callsFake(async (i) => ({ Policy: find(i.KeyId).policy }));
  mock.on(PutKeyPolicyCommand).callsFake(async (i) => {
    find(i.KeyId).policy = i.Policy;
    return {};
  });
  mock.on(ListAliasesCommand).callsFake(async () => ({ Aliases: [...aliases].map(([AliasName, TargetKeyId]) => ({ AliasName, TargetKeyId })) }));
  mock.on(ListKeysCommand).callsFake(async () => ({ Keys: [...keys.keys()].map((KeyId) => ({ KeyId })) }));

  return {
    mock,
    keys,
    aliases,
    addKey,
    /** Write calls made so far (CreateKey, CreateAlias, …). */
    writes: () => mock.calls().map((c) => (c.args[0] as object).constructor.name).filter(isWriteCall),
  };
}
