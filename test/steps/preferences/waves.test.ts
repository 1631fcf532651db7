// Issue 15: the round trips of the preferences read, one after the other (each wave waits for an
// answer of the one before), at no more calls on a converged rerun.
import { GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PREFERENCES_DOCUMENT as Name } from '../../../src/policies/preferences-document.js';
import { readPreferences } from '../../../src/steps/preferences/read.js';
import { fakeSsm } from '../../helpers/fake-ssm.js';
import { makeContext } from '../../helpers/fixtures.js';
import { callWaves } from '../../helpers/waves.js';

let ssm: ReturnType<typeof fakeSsm>;
beforeEach(() => {
  ssm = fakeSsm();
});
afterEach(() => ssm.mock.restore());

const doc = (idle: string) => ({ schemaVersion: '1.0', description: 'prefs', sessionType: 'Standard_Stream', inputs: { idleSessionTimeout: idle } });
const gets = () => ssm.mock.commandCalls(GetDocumentCommand).map((c) => c.args[0].input);

async function read() {
  const ctx = await makeContext();
  const waves = callWaves(ctx.aws.get(SSMClient));
  return { state: await readPreferences(ctx), waves: waves.waves() };
}

describe('preferences read: round trips', () => {
  it('default = latest (a converged rerun): DescribeDocument and GetDocument of the default at once, two calls', async () => {
    ssm.seed(Name, [doc('20'), doc('30')], { tags: { ManagedBy: 'ssm-setup' } });
    const { state, waves } = await read();
    expect(waves).toEqual([['DescribeDocument', 'GetDocument']]);
    expect(gets()).toEqual([{ Name }]);
    expect(state).toEqual({
      kind: 'present',
      doc: { defaultVersion: '2', latestVersion: '2', status: 'Active', tags: { ManagedBy: 'ssm-setup' }, defaultInputs: { idleSessionTimeout: '30' } },
    });
  });

  it('no document (a first run): one wave, both answered InvalidDocument', async () => {
    const { state, waves } = await read();
    expect(state).toEqual({ kind: 'absent' });
    expect(waves).toEqual([['DescribeDocument', 'GetDocument']]);
  });

  it('a latest version that is not the default: read by its number once the description names it', async () => {
    ssm.seed(Name, [doc('20'), doc('30')], { defaultVersion: 1 });
    const { state, waves } = await read();
    expect(waves).toEqual([['DescribeDocument', 'GetDocument'], ['GetDocument']]);
    expect(gets()).toEqual([{ Name }, { Name, DocumentVersion: '2' }]);
    expect(state).toMatchObject({
      doc: { defaultVersion: '1', latestVersion: '2', defaultInputs: { idleSessionTimeout: '20' }, latestInputs: { idleSessionTimeout: '30' } },
    });
  });

  it('the default moved between the two answers: the default the description names is read by its number', async () => {
    ssm.seed(Name, [doc('20'), doc('30')]);
    // GetDocument answered for version 1, the default a moment before DescribeDocument said 2.
    ssm.mock.on(GetDocumentCommand, { Name }, true).resolves({ Name, Content: JSON.stringify(doc('20')), DocumentVersion: '1' });
    const { state } = await read();
    expect(gets()).toEqual([{ Name }, { Name, DocumentVersion: '2' }]);
    expect(state).toMatchObject({ doc: { defaultVersion: '2', latestVersion: '2', defaultInputs: { idleSessionTimeout: '30' } } });
  });

  it('made between the two answers (GetDocument said InvalidDocument): the default is read by its number', async () => {
    ssm.seed(Name, [doc('25')]);
    ssm.mock.on(GetDocumentCommand, { Name }, true).rejects({ name: 'InvalidDocument', message: 'does not exist', $metadata: { httpStatusCode: 400 } });
    const { state } = await read();
    expect(gets()).toEqual([{ Name }, { Name, DocumentVersion: '1' }]);
    expect(state).toMatchObject({ kind: 'present', doc: { defaultVersion: '1', defaultInputs: { idleSessionTimeout: '25' } } });
  });

  it('GetDocument refused on a document that exists: the read fails with that error', async () => {
    ssm.seed(Name, [doc('20')]);
    ssm.mock.on(GetDocumentCommand).rejects({ name: 'AccessDeniedException', message: 'not authorized', $metadata: { httpStatusCode: 400 } });
    await expect(read()).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
