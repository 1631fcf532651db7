import {
  AddTagsToResourceCommand,
  CreateDocumentCommand,
  GetDocumentCommand,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consistency } from '../../../src/aws/retry.js';
import { StepError } from '../../../src/base/errors.js';
import type { InputRequest } from '../../../src/core/io.js';
import type { StepContext } from '../../../src/core/step.js';
import { PREFERENCES_DOCUMENT as Name, type PreferencesDocument } from '../../../src/policies/preferences-document.js';
import { preferencesStep } from '../../../src/steps/preferences/index.js';
import { desiredPreferences } from '../../../src/steps/preferences/plan.js';
import { ORIGINAL_DEFAULT_TAG } from '../../../src/steps/preferences/read.js';
import { applyPlanned, kinds, planned } from '../../helpers/aws.js';
import { fakeSsm } from '../../helpers/fake-ssm.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

type Flags = Record<string, unknown>;

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffffff-0000-0000-0000-000000000000`;
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const MANAGED = { ManagedBy: 'ssm-setup' };
const PREFIX = `preferences ${Name}`;

let ssm: ReturnType<typeof fakeSsm>;
const timing = { ...consistency };

beforeEach(() => {
  ssm = fakeSsm();
  consistency.delayMs = 0;
});
afterEach(() => {
  ssm.mock.restore();
  Object.assign(consistency, timing);
});

/** A context whose earlier steps published the key and the bucket. */
async function context(flags: Flags = {}, io?: TestIo): Promise<StepContext> {
  const ctx = await makeContext(flags, io);
  Object.assign(ctx.outputs, { kmsKeyArn: KEY_ARN, kmsKeyId: KEY_ID, bucketName: BUCKET });
  return ctx;
}
const desiredFor = async (flags: Flags = {}) => desiredPreferences(await context(flags));
const withInputs = (d: PreferencesDocument, inputs: Record<string, unknown>): PreferencesDocument => ({
  ...d,
  inputs: { ...d.inputs, ...inputs } as PreferencesDocument['inputs'],
});
/** The desired document for these flags with some inputs changed (a drifted version). */
const docWith = async (flags: Flags, inputs: Record<string, unknown>) => withInputs(await desiredFor(flags), inputs);
/** Byte for byte what the step writes. */
const written = (doc: PreferencesDocument) => JSON.stringify(doc, null, 2);
/** The same document with every boolean as a "true"/"false" string. */
const stringly = (doc: PreferencesDocument) => JSON.stringify(doc).replace(/:(true|false)/g, ':"$1"');

async function plan(flags: Flags = {}) {
  const ctx = await context(flags);
  return { ctx, ...(await planned(preferencesStep, ctx)) };
}
/** read → plan → apply, as the runner does it; `applyCalls` are the calls made by apply alone. */
async function converge(flags: Flags = {}) {
  const p = await plan(flags);
  const before = ssm.calls().length;
  const outputs = await applyPlanned(preferencesStep, p.ctx, p);
  return { changes: p.changes, outputs, applyCalls: ssm.calls().slice(before) };
}
const createInput = () => ssm.mock.commandCalls(CreateDocumentCommand)[0]!.args[0].input;
const updateInput = (i = 0) => ssm.mock.commandCalls(UpdateDocumentCommand)[i]!.args[0].input;
const updateLines = (fields: [string, string][]) =>
  fields.map(([field, detail]) => ({ kind: 'update-field', action: 'update', resource: `${PREFIX} ${field}`, detail }));

describe('preferences: absent document', () => {
  it('creates it as a Session document holding the desired JSON, tagged, then reads it back', async () => {
    const flags = { cloudwatchLogs: true, runAs: 'ec2-user', idleTimeout: 30, maxSessionDuration: 120, tags: ['Team=infra'] };
    const { changes, outputs, applyCalls } = await converge(flags);
    expect(changes).toEqual([
      {
        kind: 'create-document',
        action: 'create',
        resource: PREFIX,
        detail: `logs to s3://${BUCKET}/session-logs/, CloudWatch /aws/ssm/session-logs; encrypted with alias/ssm-session-manager; idle 30 min; Run As ec2-user`,
      },
    ]);
    expect(ssm.writes()).toEqual(['CreateDocumentCommand']);
    const create = createInput();
    expect(create).toMatchObject({ Name, DocumentType: 'Session', DocumentFormat: 'JSON' });
    expect(create.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'ManagedBy', Value: 'ssm-setup' },
        { Key: 'Team', Value: 'infra' },
      ]),
    );
    const content = JSON.parse(create.Content!);
    expect(content).toEqual(await desiredFor(flags));
    expect(content).toMatchObject({ schemaVersion: '1.0', sessionType: 'Standard_Stream' });
    expect(content.inputs).toEqual({
      s3BucketName: BUCKET,
      s3KeyPrefix: 'session-logs/',
      s3EncryptionEnabled: true,
      cloudWatchLogGroupName: '/aws/ssm/session-logs',
      cloudWatchEncryptionEnabled: true,
      cloudWatchStreamingEnabled: true,
      kmsKeyId: KEY_ARN,
      runAsEnabled: true,
      runAsDefaultUser: 'ec2-user',
      idleSessionTimeout: '30',
      maxSessionDuration: '120',
      shellProfile: { windows: '', linux: '' },
    });
    // Wait for Active; that description names version 1 the default, and its content is what was
    // just sent: nothing is read back (a converged rerun reads it).
    expect(applyCalls).toEqual(['CreateDocumentCommand', 'DescribeDocumentCommand']);
    expect(outputs).toEqual({ preferencesVersion: '1' });
  });

  it('is idempotent: after apply, read + plan find no change and nothing more is written', async () => {
    await converge({ cloudwatchLogs: true });
    expect(ssm.writes()).toEqual(['CreateDocumentCommand']);
    const second = await converge({ cloudwatchLogs: true });
    expect(second.changes).toEqual([]);
    expect(second.outputs).toEqual({ preferencesVersion: '1' });
    expect(ssm.writes()).toEqual(['CreateDocumentCommand']);
  });

  it('waits while the document is not yet Active', async () => {
    const { ctx, state, changes } = await plan();
    ssm.nextStatuses('Creating', 'Creating');
    await expect(preferencesStep.apply(ctx, state, changes)).resolves.toEqual({ preferencesVersion: '1' });
    expect(ssm.calls().filter((c) => c === 'DescribeDocumentCommand')).toHaveLength(1 + 3);
  });

  it('fails with a StepError when the document ends up Failed', async () => {
    const { ctx, state, changes } = await plan();
    ssm.nextStatuses('Failed');
    const error = await preferencesStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('DOCUMENT_NOT_ACTIVE');
  });

  it('refuses to apply without the session key ARN, before any write', async () => {
    const ctx = await makeContext();
    Object.assign(ctx.outputs, { bucketName: BUCKET });
    const { state, changes } = await planned(preferencesStep, ctx);
    const error = await preferencesStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).stepId).toBe('preferences');
    expect((error as StepError).code).toBe('KEY_UNKNOWN');
    expect((error as StepError).hint).toContain('ssm-setup run kms-key');
    expect(ssm.writes()).toEqual([]);
  });
});

describe('preferences: present document', () => {
  it('plans nothing and writes nothing for an identical document', async () => {
    ssm.seed(Name, [await desiredFor({ runAs: 'ec2-user' })], { tags: { Owner: 'someone' } });
    const { changes, note, state } = await plan({ runAs: 'ec2-user' });
    expect(changes).toEqual([]);
    expect(note).toBeUndefined();
    expect(preferencesStep.outputs(state)).toEqual({ preferencesVersion: '1' });
    expect(ssm.writes()).toEqual([]);
  });

  it('plans nothing when the document names the key by its id or alias', async () => {
    ssm.seed(Name, [await docWith({}, { kmsKeyId: KEY_ID }), await docWith({}, { kmsKeyId: 'alias/ssm-session-manager' })], { defaultVersion: 2 });
    expect((await plan()).changes).toEqual([]);
    ssm.setDefault(Name, 1);
    expect((await plan()).changes).toEqual([]);
  });

  it.each([
    ['idle timeout', {}, { idleSessionTimeout: '45' }, [['idleSessionTimeout', '"45" → "20"']]],
    ['max duration set', { maxSessionDuration: 120 }, { maxSessionDuration: '' }, [['maxSessionDuration', '"" → "120"']]],
    ['max duration removed', {}, { maxSessionDuration: '60' }, [['maxSessionDuration', '"60" → ""']]],
    ['run-as user', { runAs: 'ec2-user' }, { runAsEnabled: true, runAsDefaultUser: 'admin' }, [['runAsDefaultUser', '"admin" → "ec2-user"']]],
    [
      'run-as turned on',
      { runAs: 'ec2-user' },
      { runAsEnabled: false, runAsDefaultUser: '' },
      [
        ['runAsEnabled', 'false → true'],
        ['runAsDefaultUser', '"" → "ec2-user"'],
      ],
    ],
    [
      'run-as turned off',
      {},
      { runAsEnabled: true, runAsDefaultUser: 'admin' },
      [
        ['runAsEnabled', 'true → false'],
        ['runAsDefaultUser', '"admin" → ""'],
      ],
    ],
    [
      'shell profile linux',
      { shellProfileLinux: 'exec bash -l' },
      { shellProfile: { linux: '', windows: '' } },
      [['shellProfile.linux', '"" → "exec bash -l"']],
    ],
    ['shell profile windows', {}, { shellProfile: { linux: '', windows: 'cd C:\\' } }, [['shellProfile.windows', '"cd C:\\\\" → ""']]],
    ['bucket', {}, { s3BucketName: 'another-bucket' }, [['s3BucketName', `"another-bucket" → "${BUCKET}"`]]],
    ['prefix', {}, { s3KeyPrefix: 'old/' }, [['s3KeyPrefix', '"old/" → "session-logs/"']]],
    ['S3 encryption', {}, { s3EncryptionEnabled: false }, [['s3EncryptionEnabled', 'false → true']]],
    ['key', {}, { kmsKeyId: OTHER_KEY_ARN }, [['kmsKeyId', `"${OTHER_KEY_ARN}" → "${KEY_ARN}"`]]],
    [
      'log group on',
      { cloudwatchLogs: true },
      { cloudWatchLogGroupName: '', cloudWatchEncryptionEnabled: false, cloudWatchStreamingEnabled: false },
      [
        ['cloudWatchLogGroupName', '"" → "/aws/ssm/session-logs"'],
        ['cloudWatchEncryptionEnabled', 'false → true'],
        ['cloudWatchStreamingEnabled', 'false → true'],
      ],
    ],
    [
      'log group off',
      {},
      { cloudWatchLogGroupName: '/aws/ssm/session-logs', cloudWatchEncryptionEnabled: true, cloudWatchStreamingEnabled: true },
      [
        ['cloudWatchLogGroupName', '"/aws/ssm/session-logs" → ""'],
        ['cloudWatchEncryptionEnabled', 'true → false'],
        ['cloudWatchStreamingEnabled', 'true → false'],
      ],
    ],
    [
      'log group name',
      { logGroup: '/ssm/other' },
      { cloudWatchLogGroupName: '/aws/ssm/session-logs', cloudWatchEncryptionEnabled: true, cloudWatchStreamingEnabled: true },
      [['cloudWatchLogGroupName', '"/aws/ssm/session-logs" → "/ssm/other"']],
    ],
  ] as [string, Flags, Record<string, unknown>, [string, string][]][])(
    'drift in %s: one update-field line per field; UpdateDocument on the latest version, default set to the new one, read back',
    async (_, flags, drift, lines) => {
      ssm.seed(Name, [await docWith(flags, { idleSessionTimeout: '59' }), await docWith(flags, drift)], { tags: MANAGED });
      const desired = await desiredFor(flags);
      const { changes, outputs, applyCalls } = await converge(flags);
      // What a change weakens is its mark, tested in test/steps/weakening.test.ts.
      expect(changes.map(({ risk: _, ...c }) => c)).toEqual(updateLines(lines));
      expect(applyCalls).toEqual([
        'UpdateDocumentCommand',
        'DescribeDocumentCommand',
        'UpdateDocumentDefaultVersionCommand',
        'DescribeDocumentCommand',
        'GetDocumentCommand',
      ]);
      const update = updateInput();
      expect(update).toMatchObject({ Name, DocumentVersion: '2', DocumentFormat: 'JSON' });
      expect(JSON.parse(update.Content!)).toEqual(desired);
      expect(ssm.mock).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name, DocumentVersion: '3' });
      expect(ssm.mock.commandCalls(GetDocumentCommand).at(-1)!.args[0].input).toEqual({ Name, DocumentVersion: '3' });
      expect(outputs).toEqual({ preferencesVersion: '3' });
      expect(ssm.docs.get(Name)!.defaultVersion).toBe(3);
      expect(ssm.content(Name, 3).inputs).toEqual(desired.inputs);
      // Idempotent: the next read + plan find nothing, and nothing more is written.
      expect((await plan(flags)).changes).toEqual([]);
      expect(ssm.writes()).toEqual(['UpdateDocumentCommand', 'UpdateDocumentDefaultVersionCommand']);
    },
  );

  it('plans an unknown input key of the document away', async () => {
    ssm.seed(Name, [{ ...(await desiredFor()), inputs: { ...(await desiredFor()).inputs, customSetting: 'x' } }], { tags: MANAGED });
    expect((await plan()).changes).toEqual(updateLines([['customSetting', '"x" → (unset)']]));
  });
});

describe('preferences: string booleans', () => {
  const STRING_FIELDS = 's3EncryptionEnabled, cloudWatchEncryptionEnabled, cloudWatchStreamingEnabled, runAsEnabled';

  it('are equal in meaning: no change, no write, and the note points to --normalize', async () => {
    ssm.seed(Name, [stringly(await desiredFor())], { tags: MANAGED });
    expect(ssm.content(Name).inputs.s3EncryptionEnabled).toBe('true');
    const { changes, note } = await plan();
    expect(changes).toEqual([]);
    expect(note).toContain('--normalize');
    expect(note).toContain(STRING_FIELDS);
    expect(ssm.writes()).toEqual([]);
  });

  it('with --normalize: a normalize change rewriting them as real booleans', async () => {
    ssm.seed(Name, [stringly(await desiredFor())], { tags: MANAGED });
    const { changes, outputs } = await converge({ normalize: true });
    expect(changes).toEqual([{ kind: 'normalize', action: 'update', resource: PREFIX, detail: `rewrite ${STRING_FIELDS} as real JSON values (--normalize)` }]);
    expect((await plan({ normalize: true })).note).toBeUndefined();
    expect(ssm.writes()).toEqual(['UpdateDocumentCommand', 'UpdateDocumentDefaultVersionCommand']);
    expect(outputs).toEqual({ preferencesVersion: '2' });
    const inputs = ssm.content(Name).inputs;
    expect(inputs).toEqual((await desiredFor()).inputs);
    expect(typeof inputs.s3EncryptionEnabled).toBe('boolean');
    expect((await plan({ normalize: true })).changes).toEqual([]);
  });

  it('with real drift: the plan says it also rewrites them, and the update writes real booleans', async () => {
    ssm.seed(Name, [stringly(await docWith({}, { idleSessionTimeout: '45' }))], { tags: MANAGED });
    const { changes, note } = await plan();
    expect(note).toBeUndefined();
    expect(changes).toEqual([
      ...updateLines([['idleSessionTimeout', '"45" → "20"']]),
      { kind: 'normalize', action: 'update', resource: PREFIX, detail: `also rewrites ${STRING_FIELDS} as real JSON values` },
    ]);
    await converge();
    expect(ssm.content(Name).inputs).toEqual((await desiredFor()).inputs);
  });
});

describe('preferences: default version lagging the latest', () => {
  it('heals a default left behind an already correct latest: only UpdateDocumentDefaultVersion is written', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' }), await desiredFor()], { defaultVersion: 1, tags: MANAGED });
    const { changes, outputs } = await converge();
    expect(changes).toEqual([
      { kind: 'set-default', action: 'update', resource: PREFIX, detail: 'default version 1 → 2 (the latest, left behind by an interrupted update)' },
    ]);
    expect(ssm.writes()).toEqual(['UpdateDocumentDefaultVersionCommand']);
    expect(ssm.mock).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name, DocumentVersion: '2' });
    expect(outputs).toEqual({ preferencesVersion: '2' });
    expect((await plan()).changes).toEqual([]);
  });

  it.each([
    ['names the key by its id', async () => docWith({}, { kmsKeyId: KEY_ID })],
    ['holds string booleans', async () => stringly(await desiredFor())],
  ])('heals a default left behind a latest that is correct but %s', async (_, latest) => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' }), await latest()], { defaultVersion: 1, tags: MANAGED });
    const { ctx, state, changes } = await plan();
    expect(kinds(changes)).toEqual(['set-default']);
    await expect(preferencesStep.apply(ctx, state, changes)).resolves.toEqual({ preferencesVersion: '2' });
    expect((await plan()).changes).toEqual([]);
  });

  it('updates on top of an incorrect latest, then makes the new version the default', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' }), await docWith({}, { idleSessionTimeout: '50' })], { defaultVersion: 1, tags: MANAGED });
    const { changes, outputs } = await converge();
    // The diff is against the default version: what sessions use now.
    expect(changes).toEqual(updateLines([['idleSessionTimeout', '"45" → "20"']]));
    expect(updateInput().DocumentVersion).toBe('2');
    expect(ssm.mock).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name, DocumentVersion: '3' });
    expect(outputs).toEqual({ preferencesVersion: '3' });
    expect((await plan()).changes).toEqual([]);
  });

  it('plans nothing when the default is correct, whatever the latest holds', async () => {
    ssm.seed(Name, [await desiredFor(), await docWith({}, { idleSessionTimeout: '50' })], { defaultVersion: 1, tags: MANAGED });
    expect((await plan()).changes).toEqual([]);
  });
});

describe('preferences: another writer', () => {
  it('a version error from a racing writer: rereads the latest and retries once on it, and converges', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { ctx, state, changes } = await plan();
    ssm.beforeNextUpdate(() =>
      ssm.addVersion(Name, { schemaVersion: '1.0', description: 'someone else', sessionType: 'Standard_Stream', inputs: { idleSessionTimeout: '5' } }),
    );
    const before = ssm.calls().length;
    await expect(preferencesStep.apply(ctx, state, changes)).resolves.toEqual({ preferencesVersion: '3' });
    expect(ssm.calls().slice(before, before + 3)).toEqual(['UpdateDocumentCommand', 'DescribeDocumentCommand', 'UpdateDocumentCommand']);
    expect(ssm.mock.commandCalls(UpdateDocumentCommand).map((c) => c.args[0].input.DocumentVersion)).toEqual(['1', '2']);
    expect(ssm.mock).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name, DocumentVersion: '3' });
    expect(ssm.docs.get(Name)).toMatchObject({ defaultVersion: 3 });
    expect((await plan()).changes).toEqual([]);
  });

  it('a second version error in a row propagates, and the default is not touched', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { ctx, state, changes } = await plan();
    const other = (n: number) => () => void ssm.addVersion(Name, { description: `someone else ${n}`, inputs: {} });
    ssm.beforeNextUpdate(other(1));
    ssm.beforeNextUpdate(other(2));
    await expect(preferencesStep.apply(ctx, state, changes)).rejects.toMatchObject({ name: 'InvalidDocumentVersion' });
    expect(ssm.mock).toHaveReceivedCommandTimes(UpdateDocumentCommand, 2);
    expect(ssm.mock).not.toHaveReceivedCommand(UpdateDocumentDefaultVersionCommand);
    expect(ssm.docs.get(Name)).toMatchObject({ defaultVersion: 1 });
  });

  it('a racing ssm-setup that wrote the same content first: its version becomes the default', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { ctx, state, changes } = await plan();
    const same = written(await desiredFor());
    ssm.beforeNextUpdate(() => void ssm.addVersion(Name, same));
    await expect(preferencesStep.apply(ctx, state, changes)).resolves.toEqual({ preferencesVersion: '2' });
    expect(ssm.docs.get(Name)).toMatchObject({ defaultVersion: 2 });
  });

  it('DuplicateDocumentContent: the older version holding the content becomes the default', async () => {
    ssm.seed(Name, [written(await desiredFor()), await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { changes, outputs } = await converge();
    expect(changes).toEqual(updateLines([['idleSessionTimeout', '"45" → "20"']]));
    expect(ssm.writes()).toEqual(['UpdateDocumentCommand', 'UpdateDocumentDefaultVersionCommand']);
    expect(ssm.mock).toHaveReceivedCommandWith(UpdateDocumentDefaultVersionCommand, { Name, DocumentVersion: '1' });
    expect(outputs).toEqual({ preferencesVersion: '1' });
    expect(ssm.docs.get(Name)).toMatchObject({ defaultVersion: 1, versions: { length: 2 } });
    expect((await plan()).changes).toEqual([]);
  });

  it('verification: another default version after the update is a StepError', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { ctx, state, changes } = await plan();
    ssm.afterNextSetDefault(() => ssm.setDefault(Name, 1));
    const error = await preferencesStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('DEFAULT_VERSION_MISMATCH');
    expect((error as StepError).hint).toContain('rerun');
  });

  it('verification: a default version not holding what was written is a StepError', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags: MANAGED });
    const { ctx, state, changes } = await plan();
    ssm.afterNextSetDefault(() => {
      ssm.docs.get(Name)!.versions[1] = written(withInputs(ssm.content(Name, 2) as unknown as PreferencesDocument, { idleSessionTimeout: '7' }));
    });
    const error = await preferencesStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('DOCUMENT_VERIFY_FAILED');
  });
});

describe('preferences: the original default version is recorded for destroy', () => {
  it('tags a document it did not create with its default version before the first UpdateDocument', async () => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' }), await docWith({}, { idleSessionTimeout: '50' })], {
      defaultVersion: 1,
      tags: { Owner: 'platform' },
    });
    await converge();
    expect(ssm.writes()).toEqual(['AddTagsToResourceCommand', 'UpdateDocumentCommand', 'UpdateDocumentDefaultVersionCommand']);
    expect(ssm.mock).toHaveReceivedCommandWith(AddTagsToResourceCommand, {
      ResourceType: 'Document',
      ResourceId: Name,
      Tags: [{ Key: ORIGINAL_DEFAULT_TAG, Value: '1' }],
    });
    expect(ssm.docs.get(Name)!.tags).toEqual({ Owner: 'platform', [ORIGINAL_DEFAULT_TAG]: '1' });

    // A later change keeps the first record.
    await converge({ idleTimeout: 30 });
    expect(ssm.mock).toHaveReceivedCommandTimes(AddTagsToResourceCommand, 1);
    expect(ssm.mock).toHaveReceivedCommandTimes(UpdateDocumentCommand, 2);
    expect(ssm.docs.get(Name)!.tags[ORIGINAL_DEFAULT_TAG]).toBe('1');
  });

  it.each([
    ['created by ssm-setup', MANAGED],
    ['already carrying the record', { [ORIGINAL_DEFAULT_TAG]: '4' }],
  ])('does not tag a document %s', async (_, tags) => {
    ssm.seed(Name, [await docWith({}, { idleSessionTimeout: '45' })], { tags });
    await converge();
    expect(ssm.writes()).toEqual(['UpdateDocumentCommand', 'UpdateDocumentDefaultVersionCommand']);
    expect(ssm.docs.get(Name)!.tags).toEqual(tags);
  });
});

/** TestIo that also keeps the input requests, to see the defaults offered. */
class RecordingIo extends TestIo {
  readonly requests: InputRequest[] = [];
  override async input(req: InputRequest) {
    this.requests.push(req);
    return super.input(req);
  }
}
const KEEP = { 'preferences.idle-timeout': '20', 'preferences.max-session-duration': '', 'preferences.run-as': '', 'preferences.shell-profile-linux': '' };

describe('preferences wizard', () => {
  it('offers the current document values as defaults, and shows them', async () => {
    ssm.seed(Name, [
      stringly(
        await docWith(
          {},
          {
            idleSessionTimeout: '45',
            maxSessionDuration: '120',
            runAsEnabled: true,
            runAsDefaultUser: 'admin',
            shellProfile: { linux: 'exec bash', windows: '' },
          },
        ),
      ),
    ]);
    const io = new RecordingIo({
      'preferences.idle-timeout': '45',
      'preferences.max-session-duration': '120',
      'preferences.run-as': 'admin',
      'preferences.shell-profile-linux': 'exec bash',
    });
    const answers = await preferencesStep.ask!(await context({}, io));
    expect(io.requests.map((r) => [r.id, r.default])).toEqual([
      ['preferences.idle-timeout', '45'],
      ['preferences.max-session-duration', '120'],
      ['preferences.run-as', 'admin'],
      ['preferences.shell-profile-linux', 'exec bash'],
    ]);
    expect(io.requests.map((r) => r.flag)).toEqual(['--idle-timeout', '--max-session-duration', '--run-as', '--shell-profile-linux']);
    expect(answers).toEqual({ idleTimeout: 45, maxSessionDuration: 120, runAs: 'admin', shellProfileLinux: 'exec bash' });
    // A table, one setting a line, not raw JSON.
    const shown = io.lines.find((l) => l.startsWith('Current Session Manager preferences (version 1):'))!.split('\n');
    expect(shown).toContainEqual(expect.stringMatching(/^ {2}Idle timeout +45 minutes$/));
    expect(shown).toContainEqual(expect.stringMatching(/^ {2}Run As +admin$/));
    expect(shown.join('\n')).not.toContain('{');
    expect(ssm.writes()).toEqual([]);
  });

  it('offers the built-in defaults without a document, and warns that SSH is not content-logged', async () => {
    const io = new RecordingIo(KEEP);
    const answers = await preferencesStep.ask!(await context({}, io));
    expect(io.requests.map((r) => [r.id, r.default])).toEqual([
      ['preferences.idle-timeout', '20'],
      ['preferences.max-session-duration', ''],
      ['preferences.run-as', ''],
      ['preferences.shell-profile-linux', ''],
    ]);
    expect(answers).toEqual({ idleTimeout: 20, shellProfileLinux: '' });
    expect(io.lines.filter((l) => l.startsWith('warn:') && l.includes('SSH'))).toHaveLength(1);
    expect(io.requests.find((r) => r.id === 'preferences.run-as')!.message).toContain('must exist on every instance');
  });

  it('does not offer a Run As user that is disabled in the document', async () => {
    ssm.seed(Name, [await docWith({}, { runAsEnabled: 'false', runAsDefaultUser: 'admin' })]);
    const io = new RecordingIo(KEEP);
    await preferencesStep.ask!(await context({}, io));
    expect(io.requests.find((r) => r.id === 'preferences.run-as')!.default).toBe('');
  });

  it('an empty maximum duration means none', async () => {
    ssm.seed(Name, [await docWith({}, { maxSessionDuration: '120' })]);
    const io = new RecordingIo(KEEP);
    const answers = await preferencesStep.ask!(await context({}, io));
    expect(io.requests.find((r) => r.id === 'preferences.max-session-duration')!.default).toBe('120');
    expect(answers).not.toHaveProperty('maxSessionDuration');
    expect(answers).toEqual({ idleTimeout: 20, shellProfileLinux: '' });
  });

  it.each([
    ['preferences.run-as', 'root', /root is refused/],
    ['preferences.run-as', 'Admin User', /Linux user name/],
    ['preferences.idle-timeout', '61', /from 1 to 60/],
    ['preferences.idle-timeout', 'ten', /whole number/],
    ['preferences.max-session-duration', '1441', /from 1 to 1440/],
    ['preferences.max-session-duration', '0', /from 1 to 1440/],
  ])('%s rejects %j', async (id, value, message) => {
    const io = new RecordingIo({ ...KEEP, [id]: value });
    await expect(preferencesStep.ask!(await context({}, io))).rejects.toThrow(message);
  });

  it('asks nothing about settings given as flags', async () => {
    const io = new RecordingIo({});
    const answers = await preferencesStep.ask!(
      await context({ idleTimeout: 30, maxSessionDuration: 60, runAs: 'ec2-user', shellProfileLinux: 'exec bash' }, io),
    );
    expect(answers).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(io.lines.some((l) => l.startsWith('warn:') && l.includes('SSH'))).toBe(true);
  });

  it('asks only about what flags left open', async () => {
    const io = new RecordingIo({ 'preferences.run-as': 'ec2-user' });
    const answers = await preferencesStep.ask!(await context({ idleTimeout: 30, maxSessionDuration: 60, shellProfileLinux: '' }, io));
    expect(io.prompts).toEqual(['preferences.run-as']);
    expect(answers).toEqual({ runAs: 'ec2-user' });
  });
});
