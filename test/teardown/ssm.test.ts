import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consistency } from '../../src/aws/retry.js';
import type { StepContext } from '../../src/core/step.js';
import { PREFERENCES_DOCUMENT as Name } from '../../src/policies/preferences-document.js';
import { preferencesStep } from '../../src/steps/preferences/index.js';
import { ORIGINAL_DEFAULT_TAG } from '../../src/steps/preferences/read.js';
import { converge } from '../helpers/aws.js';
import { ACCOUNT, makeContext, REGION } from '../helpers/fixtures.js';
import { TestIo } from '../helpers/test-io.js';
import { readAll, type TeardownAccount, teardownAccount, teardownContext } from './fake-teardown.js';

const OURS = { ManagedBy: 'ssm-setup' };
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
/** What the console writes: its own description, and strings for the booleans. */
const CONSOLE = {
  schemaVersion: '1.0',
  description: 'Document to hold regional settings for Session Manager',
  sessionType: 'Standard_Stream',
  inputs: { s3BucketName: '', s3EncryptionEnabled: 'true', idleSessionTimeout: '45', kmsKeyId: '', runAsEnabled: 'false' },
};

let account: TeardownAccount;
const timing = { ...consistency };
beforeEach(() => {
  account = teardownAccount();
  consistency.delayMs = 0;
});
afterEach(() => {
  account.restore();
  Object.assign(consistency, timing);
});

/** A run of the preferences step, as init makes it (the key and the bucket published by the earlier steps). */
async function preferencesRun(flags: Record<string, unknown> = {}) {
  const ctx: StepContext = await makeContext(flags);
  Object.assign(ctx.outputs, { kmsKeyArn: KEY_ARN, bucketName: BUCKET });
  await converge(preferencesStep, ctx);
}

/** The removals of one step, run in order; what was kept. */
async function destroyStep(step: string) {
  const before = account.writes().length;
  const { removals, kept } = await readAll(await teardownContext());
  const mine = removals.filter((r) => r.step === step);
  for (const r of mine) await r.run();
  return { removals: mine, kept: kept.filter((k) => k.step === step), writes: account.writes().slice(before) };
}

describe('destroy: associations are ssm-setup’s by their ManagedBy tag, not by their name', () => {
  const add = (AssociationName: string, tags: Record<string, string>) =>
    account.fleet.addAssociation({ Name: 'AWS-UpdateSSMAgent', AssociationName, Targets: [{ Key: 'tag:Env', Values: ['dev'] }], tags });

  it('deletes the tagged ones and keeps one only named like them, saying so; a rerun removes nothing', async () => {
    add('ssm-setup-UpdateSSMAgent', OURS);
    const foreign = add('ssm-setup-Foreign', { Owner: 'ops' });
    const untagged = add('ssm-setup-Untagged', {});
    const team = add('team-inventory', {});

    const first = await destroyStep('host-management');

    expect(first.removals.map((r) => r.resource)).toEqual(['association ssm-setup-UpdateSSMAgent']);
    expect([...account.fleet.associations.keys()].sort()).toEqual([foreign, untagged, team].sort());
    expect(first.kept.map((k) => k.resource).sort()).toEqual(['association ssm-setup-Foreign', 'association ssm-setup-Untagged']);
    const again = await destroyStep('host-management');
    expect(again.removals).toEqual([]);
    expect(first.writes).toEqual(['SSM.DeleteAssociation']);
    expect(again.writes).toEqual([]);
  });
});

describe('destroy: the preferences are touched only while their default is the version ssm-setup wrote', () => {
  it('a document ssm-setup created, still as it wrote it: deleted', async () => {
    await preferencesRun({ idleTimeout: 30, runAs: 'ops' });
    const { removals } = await destroyStep('preferences');
    expect(removals.map((r) => r.action)).toEqual(['delete']);
    expect(account.ssm.docs.has(Name)).toBe(false);
  });

  it('a document ssm-setup created whose default someone else moved to their version: kept, and the plan says why', async () => {
    await preferencesRun();
    const theirs = account.ssm.addVersion(Name, CONSOLE);
    account.ssm.setDefault(Name, Number(theirs));

    const { removals, kept, writes } = await destroyStep('preferences');

    expect(removals).toEqual([]);
    expect(writes).toEqual([]);
    // The plan names the version that is not ssm-setup's.
    expect(kept).toEqual([{ step: 'preferences', resource: `preferences ${Name}`, why: expect.stringContaining(`version ${theirs}`) }]);
    expect(account.ssm.docs.get(Name)?.defaultVersion).toBe(Number(theirs));
  });

  it('an adopted document still at the version ssm-setup wrote: its recorded default comes back and the tag goes', async () => {
    account.ssm.seed(Name, [CONSOLE]);
    await preferencesRun();
    expect(account.ssm.docs.get(Name)?.defaultVersion).toBe(2);

    await destroyStep('preferences');

    expect(account.ssm.docs.get(Name)).toMatchObject({ defaultVersion: 1 });
    expect(account.ssm.docs.get(Name)?.tags).not.toHaveProperty(ORIGINAL_DEFAULT_TAG);
    expect((await destroyStep('preferences')).removals).toEqual([]);
  });

  it('an adopted document whose default someone moved past ssm-setup’s version: left as it is, tag and all', async () => {
    account.ssm.seed(Name, [CONSOLE]);
    await preferencesRun();
    const theirs = account.ssm.addVersion(Name, { ...CONSOLE, inputs: { ...CONSOLE.inputs, idleSessionTimeout: '60' } });
    account.ssm.setDefault(Name, Number(theirs));

    const { removals, kept, writes } = await destroyStep('preferences');

    expect(removals).toEqual([]);
    expect(writes).toEqual([]);
    expect(kept.map((k) => k.resource)).toEqual([`preferences ${Name}`]);
    expect(account.ssm.docs.get(Name)).toMatchObject({ defaultVersion: Number(theirs), tags: { [ORIGINAL_DEFAULT_TAG]: '1' } });
  });

  it('a default moved between the plan and the run (an open prompt): left as it is, with a warning', async () => {
    await preferencesRun();
    const io = new TestIo();
    const { removals } = await readAll(await teardownContext({}, { io }));
    account.ssm.setDefault(Name, Number(account.ssm.addVersion(Name, CONSOLE)));
    await removals.find((r) => r.step === 'preferences')!.run();
    expect(account.ssm.docs.has(Name)).toBe(true);
    expect(io.lines.filter((l) => l.startsWith('warn:'))).toHaveLength(1);
  });

  it('a version in ssm-setup’s form but edited by hand (a boolean as a string) is not ssm-setup’s', async () => {
    await preferencesRun();
    const mine = account.ssm.content(Name);
    const edited = account.ssm.addVersion(Name, { ...mine, inputs: { ...mine.inputs, runAsEnabled: 'false' } });
    account.ssm.setDefault(Name, Number(edited));
    expect((await destroyStep('preferences')).removals).toEqual([]);
    expect(account.ssm.docs.has(Name)).toBe(true);
  });
});
