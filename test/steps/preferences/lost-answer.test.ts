// Issue 13 item 12: a preferences write whose answer is lost. The fake SSM carries it out and
// loses the answer; the SDK's retry then meets what the first attempt made
// (test/helpers/lost-answer.ts): DocumentAlreadyExists for CreateDocument, an old version number
// (InvalidDocumentVersion) then DuplicateDocumentContent for UpdateDocument. Our content there
// is success.
import { CreateDocumentCommand, UpdateDocumentCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consistency } from '../../../src/aws/retry.js';
import type { StepContext } from '../../../src/core/step.js';
import { PREFERENCES_DOCUMENT as Name } from '../../../src/policies/preferences-document.js';
import { preferencesStep } from '../../../src/steps/preferences/index.js';
import { desiredPreferences } from '../../../src/steps/preferences/plan.js';
import { converge, planned } from '../../helpers/aws.js';
import { fakeSsm } from '../../helpers/fake-ssm.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
let ssm: ReturnType<typeof fakeSsm>;
const timing = { ...consistency };
beforeEach(() => {
  ssm = fakeSsm({ settling: true });
  consistency.delayMs = 0;
});
afterEach(() => {
  ssm.mock.restore();
  Object.assign(consistency, timing);
});

async function context(flags: Record<string, unknown> = {}): Promise<StepContext> {
  const ctx = await makeContext(flags);
  Object.assign(ctx.outputs, { kmsKeyArn: KEY_ARN, kmsKeyId: KEY_ID, bucketName: `ssm-session-logs-${ACCOUNT}-${REGION}` });
  return ctx;
}
async function expectConverged(flags: Record<string, unknown> = {}) {
  const writes = ssm.writes().length;
  expect((await planned(preferencesStep, await context(flags))).changes).toEqual([]);
  expect(ssm.writes()).toHaveLength(writes);
}

describe('preferences: a write whose answer is lost', () => {
  it('CreateDocument: the retry meets DocumentAlreadyExists for our document with our content: done, verified, one version', async () => {
    ssm.loseAnswerOnce(CreateDocumentCommand);
    const { outputs } = await converge(preferencesStep, await context());
    expect(ssm.attempts(CreateDocumentCommand)).toBe(2);
    expect(outputs).toEqual({ preferencesVersion: '1' });
    expect(ssm.docs.get(Name)!.versions).toHaveLength(1);
    expect(ssm.docs.get(Name)!.tags).toMatchObject({ ManagedBy: 'ssm-setup' });
    await expectConverged();
  });

  it('CreateDocument: a document of that name with other content (someone else, meanwhile): DocumentAlreadyExists is passed on', async () => {
    ssm.mock.on(CreateDocumentCommand).callsFakeOnce(async () => {
      ssm.seed(Name, [{ schemaVersion: '1.0', sessionType: 'Standard_Stream', inputs: { idleSessionTimeout: '5' } }]);
      throw Object.assign(new Error('exists'), { name: 'DocumentAlreadyExists', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    });
    await expect(converge(preferencesStep, await context())).rejects.toMatchObject({ name: 'DocumentAlreadyExists' });
  });

  it('UpdateDocument: the retry is refused, the version it made is found by its content and becomes the default: one new version', async () => {
    const old = desiredPreferences(await context({ idleTimeout: 5 }));
    ssm.seed(Name, [old], { tags: { ManagedBy: 'ssm-setup' } });
    ssm.loseAnswerOnce(UpdateDocumentCommand);
    const { outputs } = await converge(preferencesStep, await context());
    expect(ssm.docs.get(Name)!.versions).toHaveLength(2);
    expect(outputs).toEqual({ preferencesVersion: '2' });
    expect(ssm.docs.get(Name)!.defaultVersion).toBe(2);
    await expectConverged();
  });
});
