// Issue 13 item 12: a CreateLogGroup whose answer is lost. The fake carries it out and loses the
// answer; the SDK's retry then meets ResourceAlreadyExistsException (test/helpers/lost-answer.ts).
// The group being ours (our key, our tags) is success: the run goes on to the retention.
import { CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../../src/core/step.js';
import { sessionKeyPolicy } from '../../../src/policies/kms-key-policy.js';
import { logGroupStep } from '../../../src/steps/log-group/index.js';
import { converge, planned } from '../../helpers/aws.js';
import { type FakeKms, fakeKms } from '../../helpers/fake-kms.js';
import { type FakeLogs, fakeLogs } from '../../helpers/fake-logs.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';

const GROUP = '/aws/ssm/session-logs';
let kms: FakeKms;
let logs: FakeLogs;
let KEY_ARN: string;
beforeEach(() => {
  kms = fakeKms();
  logs = fakeLogs(kms);
  const id = kms.addKey({ policy: JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true })) });
  kms.aliases.set('alias/ssm-session-manager', id);
  KEY_ARN = kms.keys.get(id)!.meta.Arn!;
});
afterEach(() => {
  logs.mock.restore();
  kms.mock.restore();
});

const context = async (): Promise<StepContext> => ({
  ...(await makeContext({ cloudwatchLogs: true })),
  selected: new Set(['kms-key', 'log-group']),
  outputs: { kmsKeyArn: KEY_ARN },
});

describe('log-group: CreateLogGroup whose answer is lost', () => {
  it('the retry meets ResourceAlreadyExists for our group with our key: done, retention set, and then nothing to do', async () => {
    logs.loseAnswerOnce(CreateLogGroupCommand);
    await converge(logGroupStep, await context());
    expect(logs.attempts(CreateLogGroupCommand)).toBe(2);
    expect(logs.groups.get(GROUP)).toMatchObject({ kmsKeyId: KEY_ARN, retentionDays: 365, tags: { ManagedBy: 'ssm-setup' } });
    expect(logs.mock).toHaveReceivedCommandTimes(PutRetentionPolicyCommand, 1);
    const writes = logs.writes().length;
    expect((await planned(logGroupStep, await context())).changes).toEqual([]);
    expect(logs.writes()).toHaveLength(writes);
  });

  it('a group of that name made by someone else meanwhile (no key, no tags): ResourceAlreadyExists is passed on', async () => {
    logs.mock.on(CreateLogGroupCommand).callsFakeOnce(async () => {
      logs.addGroup(GROUP);
      throw Object.assign(new Error('The specified log group already exists'), {
        name: 'ResourceAlreadyExistsException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    });
    await expect(converge(logGroupStep, await context())).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
  });
});
