// Issue 15: the round trips of the kms-key read, one after the other (each wave waits for an
// answer of the one before), at no more calls on a converged rerun.
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALIAS_TAG, readKmsKey } from '../../../src/steps/kms-key/read.js';
import { fakeKms } from '../../helpers/fake-kms.js';
import { makeContext } from '../../helpers/fixtures.js';
import { callWaves } from '../../helpers/waves.js';

const ALIAS = 'alias/ssm-session-manager';
const OURS = { ManagedBy: 'ssm-setup', [ALIAS_TAG]: ALIAS };
let kms: ReturnType<typeof fakeKms>;

beforeEach(() => {
  kms = fakeKms();
});
afterEach(() => kms.mock.restore());

async function read(flags: Record<string, unknown> = {}, selected?: ReadonlySet<string>) {
  const ctx = { ...(await makeContext(flags)), ...(selected ? { selected } : {}) };
  const waves = callWaves(ctx.aws.get(KMSClient));
  return { state: await readKmsKey(ctx), waves: waves.waves() };
}

describe('kms-key read: round trips', () => {
  it('planned, our key behind the alias: DescribeKey of the alias goes out with the two lists, then its rotation and tags', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ tags: OURS, rotation: true }));
    const { state, waves } = await read();
    expect(state.kind).toBe('present');
    expect(waves).toEqual([
      ['DescribeKey', 'ListAliases', 'ListKeys'],
      ['GetKeyRotationStatus', 'ListResourceTags'],
    ]);
  });

  it('planned, nothing there: one wave, the DescribeKey of the alias (NotFound) with the lists', async () => {
    const { state, waves } = await read();
    expect(state).toEqual({ kind: 'absent' });
    expect(waves).toEqual([['DescribeKey', 'ListAliases', 'ListKeys']]);
  });

  it('planned, the orphan an interrupted run left: found from the lists, as before', async () => {
    const orphan = kms.addKey({ tags: OURS, rotation: true });
    const { state } = await read();
    expect(state).toMatchObject({ kind: 'orphan', key: { id: orphan } });
  });

  it('planned, an alias the lists do not show: a DescribeKey refused (AccessDenied) does not fail the read', async () => {
    kms.mock.on(ListAliasesCommand).resolves({ Aliases: [] });
    const id = kms.addKey({ rotation: true });
    kms.aliases.set(ALIAS, id);
    // DescribeKey is refused only for the alias: the lists said it is not there.
    kms.mock.on(DescribeKeyCommand, { KeyId: ALIAS }).rejects({ name: 'AccessDeniedException', message: 'not authorized', $metadata: { httpStatusCode: 400 } });
    const { state } = await read();
    expect(state).toEqual({ kind: 'absent' });
  });

  it('planned, an alias the lists show: a DescribeKey refused (AccessDenied) fails the read, as before', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ tags: OURS, rotation: true }));
    kms.mock.on(DescribeKeyCommand, { KeyId: ALIAS }).rejects({ name: 'AccessDeniedException', message: 'not authorized', $metadata: { httpStatusCode: 400 } });
    await expect(read()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('only read for its ARN (another step runs): DescribeKey of the alias alone, no lists', async () => {
    kms.aliases.set(ALIAS, kms.addKey({ tags: OURS, rotation: true }));
    const { state, waves } = await read({}, new Set(['log-group']));
    expect(state.kind).toBe('present');
    expect(waves).toEqual([['DescribeKey'], ['GetKeyRotationStatus', 'ListResourceTags']]);
  });
});
