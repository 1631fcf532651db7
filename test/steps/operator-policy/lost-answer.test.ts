// Issue 13 item 12: a create whose answer is lost. The fake IAM carries the call out and loses
// the answer; a client that retries (the SDK's default) sends it again and meets what the first
// attempt made (test/helpers/lost-answer.ts). "Already exists, and it is what we wanted" is
// success; CreatePolicyVersion, which a retry would make twice, is not resent blindly.
import { CreatePolicyCommand, CreatePolicyVersionCommand, DeletePolicyVersionCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StepContext } from '../../../src/core/step.js';
import { operatorPolicy } from '../../../src/policies/operator-policy.js';
import { operatorPolicyStep } from '../../../src/steps/operator-policy/index.js';
import { converge, planned } from '../../helpers/aws.js';
import { fakeIam, policyArnOf } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';

const POLICY = 'SSMSessionManagerOperatorPolicy';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const desired = operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'restricted' });
const old = { ...desired, Statement: desired.Statement.slice(1) };

let fake: ReturnType<typeof fakeIam>;
beforeEach(() => {
  fake = fakeIam();
  fake.addUser('alice');
});
afterEach(() => fake.restore());

const context = async (): Promise<StepContext> => ({ ...(await makeContext({ operatorUsers: ['alice'] })), outputs: { kmsKeyArn: KEY_ARN } });
/** Converged: the next plan is empty, and reading it writes nothing. */
async function expectConverged() {
  const writes = fake.writes().length;
  expect((await planned(operatorPolicyStep, await context())).changes).toEqual([]);
  expect(fake.writes()).toHaveLength(writes);
}

describe('operator-policy: CreatePolicy whose answer is lost', () => {
  it('the retry meets EntityAlreadyExists for our policy with the wanted document: done, and attached', async () => {
    fake.loseAnswerOnce(CreatePolicyCommand);
    const { outputs } = await converge(operatorPolicyStep, await context());
    expect(outputs?.operatorPolicyArn).toBe(policyArnOf(POLICY));
    expect(fake.users.get('alice')!.attached.has(policyArnOf(POLICY))).toBe(true);
    expect(fake.policies.get(policyArnOf(POLICY))!.versions).toHaveLength(1);
    await expectConverged();
  });

  it('a policy of that name that is not ours (no ManagedBy tag): EntityAlreadyExists is passed on', async () => {
    fake.iam.on(CreatePolicyCommand).callsFakeOnce(async () => {
      fake.addPolicy(POLICY, [desired]); // someone else, between our read and our create
      throw Object.assign(new Error('exists'), { name: 'EntityAlreadyExistsException', $fault: 'client', $metadata: { httpStatusCode: 409 } });
    });
    await expect(converge(operatorPolicyStep, await context())).rejects.toMatchObject({ name: 'EntityAlreadyExistsException' });
  });
});

describe('operator-policy: CreatePolicyVersion whose answer is lost', () => {
  beforeEach(() => {
    fake.addPolicy(POLICY, [old], { tags: { ManagedBy: 'ssm-setup' } });
  });

  it('is sent without automatic retries; the versions are read again, the desired default is found: one new version, not two', async () => {
    fake.loseAnswerOnce(CreatePolicyVersionCommand);
    const ctx = await context();
    await converge(operatorPolicyStep, ctx);
    const policy = fake.policies.get(policyArnOf(POLICY))!;
    expect(policy.versions).toHaveLength(2);
    expect(fake.defaultDocument(POLICY)).toEqual(desired);
    expect(fake.attempts(CreatePolicyVersionCommand)).toBe(1);
    expect(fake.iam.commandCalls(CreatePolicyVersionCommand)[0]!.thisValue).toBe(ctx.aws.once(IAMClient));
    await expectConverged();
  });

  it('an ambiguous failure that made nothing: the default is still the old one, so it is sent once more', async () => {
    fake.loseAnswerOnce(CreatePolicyVersionCommand, { carriedOut: false });
    await converge(operatorPolicyStep, await context());
    expect(fake.policies.get(policyArnOf(POLICY))!.versions).toHaveLength(2);
    expect(fake.defaultDocument(POLICY)).toEqual(desired);
    expect(fake.iam).toHaveReceivedCommandTimes(CreatePolicyVersionCommand, 2);
  });

  it('twice, and nothing made: LOST_ANSWER, the old default in place; a rerun converges', async () => {
    fake.loseAnswerOnce(CreatePolicyVersionCommand, { carriedOut: false, times: 2 });
    await expect(converge(operatorPolicyStep, await context())).rejects.toMatchObject({ code: 'LOST_ANSWER', stepId: 'operator-policy' });
    expect(fake.defaultDocument(POLICY)).toEqual(old);
    await converge(operatorPolicyStep, await context());
    expect(fake.defaultDocument(POLICY)).toEqual(desired);
  });

  it('a lost DeletePolicyVersion answer (a policy at five versions): the retry meets NoSuchEntity for the version now gone, which is done', async () => {
    fake.restore();
    fake = fakeIam();
    fake.addUser('alice');
    fake.addPolicy(POLICY, [old, { ...old, Id: 'b' }, { ...old, Id: 'c' }, { ...old, Id: 'd' }, { ...old, Id: 'e' }], { tags: { ManagedBy: 'ssm-setup' } });
    fake.loseAnswerOnce(DeletePolicyVersionCommand);
    await converge(operatorPolicyStep, await context());
    expect(fake.defaultDocument(POLICY)).toEqual(desired);
    expect(fake.policies.get(policyArnOf(POLICY))!.versions).toHaveLength(5);
  });
});
