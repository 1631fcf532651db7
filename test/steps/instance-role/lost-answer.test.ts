// Issue 13 item 12: creates whose answer is lost (the fake IAM carries the call out and loses the
// answer; the SDK's retry then meets what the first attempt made: test/helpers/lost-answer.ts),
// and the record of the profiles ssm-setup associates (PROFILE_ASSOCIATED_TAG) that `destroy` reads.
import { AssociateIamInstanceProfileCommand, CreateTagsCommand } from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import type { StepContext, TargetInstance } from '../../../src/core/step.js';
import { instanceRoleStep } from '../../../src/steps/instance-role/index.js';
import { PROFILE_ASSOCIATED_TAG } from '../../../src/steps/instance-role/read.js';
import { converge, kinds, planned } from '../../helpers/aws.js';
import { ec2Error, type FakeEc2 } from '../../helpers/fake-ec2.js';
import { type FakeIam, profileArnOf } from '../../helpers/fake-iam.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import { iamAndEc2Each } from '../../helpers/iam-ec2.js';
import { TestIo } from '../../helpers/test-io.js';

const ROLE = 'SSMSessionManagerInstanceRole';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BARE = 'i-0bbbbbbbbbbbbbbb2';
const FULL = 'i-0ccccccccccccccc3';

let fake: FakeIam;
let ec2: FakeEc2;
iamAndEc2Each((iam, e) => {
  fake = iam;
  ec2 = e;
});

const target = (id: string, tags: Record<string, string> = {}): TargetInstance => {
  ec2.addInstance({ InstanceId: id }, { tags });
  return ec2.targets([id])[0]!;
};
const context = async (targets: readonly TargetInstance[], io?: TestIo): Promise<StepContext> => ({
  ...(await makeContext({}, io, targets)),
  outputs: { kmsKeyArn: KEY_ARN, bucketName: 'team-session-logs' },
});
/** Converged: the next plan is empty and reading it writes nothing. */
async function expectConverged(targets: readonly TargetInstance[]) {
  ec2.completeAssociations();
  const writes = fake.writes().length + ec2.writes().length;
  expect((await planned(instanceRoleStep, await context(targets.map((t) => ec2.targets([t.id])[0]!)))).changes).toEqual([]);
  expect(fake.writes().length + ec2.writes().length).toBe(writes);
}

describe('instance-role: IAM creates whose answer is lost', () => {
  it.each([
    ['CreateRole', CreateRoleCommand],
    ['CreateInstanceProfile', CreateInstanceProfileCommand],
    ['AddRoleToInstanceProfile', AddRoleToInstanceProfileCommand],
  ])('%s: the retry meets "already there" for what we asked for, which is success: the run goes on and converges', async (_name, command) => {
    const bare = target(BARE);
    fake.loseAnswerOnce(command);
    const { changes } = await converge(instanceRoleStep, await context([bare]));
    expect(kinds(changes)).toEqual(['create-policy', 'create-role', 'create-profile', 'associate']);
    expect(fake.attempts(command)).toBe(2); // the SDK's retry, as modelled
    expect(fake.profiles.get(ROLE)!.roles).toEqual([ROLE]);
    expect(fake.roles.get(ROLE)!.attached.size).toBe(2);
    expect(ec2.associationOf(BARE)?.profileArn).toBe(profileArnOf(ROLE));
    await expectConverged([bare]);
  });

  it('a role of that name that is not ours (another trust policy, no ManagedBy): EntityAlreadyExists is passed on', async () => {
    const bare = target(BARE);
    fake.iam.on(CreateRoleCommand).callsFakeOnce(async () => {
      fake.addRole(ROLE); // someone else, between our read and our create
      throw Object.assign(new Error('exists'), { name: 'EntityAlreadyExistsException', $fault: 'client', $metadata: { httpStatusCode: 409 } });
    });
    await expect(converge(instanceRoleStep, await context([bare]))).rejects.toMatchObject({ name: 'EntityAlreadyExistsException' });
  });

  it('a profile that holds another role: the LimitExceeded of AddRoleToInstanceProfile is passed on', async () => {
    const bare = target(BARE);
    fake.addRole('Other');
    fake.iam.on(AddRoleToInstanceProfileCommand).callsFakeOnce(async () => {
      fake.profiles.get(ROLE)!.roles.push('Other');
      throw Object.assign(new Error('Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1'), {
        name: 'LimitExceededException',
        $fault: 'client',
        $metadata: { httpStatusCode: 409 },
      });
    });
    await expect(converge(instanceRoleStep, await context([bare]))).rejects.toMatchObject({ name: 'LimitExceededException' });
  });

  it('AssociateIamInstanceProfile: the retry meets IncorrectState for an association with our profile, which is success', async () => {
    const bare = target(BARE);
    const ctx = await context([bare]);
    const plan = await planned(instanceRoleStep, ctx);
    // The first attempt associated our profile; its answer was lost, and the SDK's retry was refused.
    ec2.ec2.on(AssociateIamInstanceProfileCommand).callsFakeOnce(async () => {
      ec2.addAssociation(BARE, profileArnOf(ROLE), 'associating');
      throw ec2Error('IncorrectState', `There is an existing association for instance ${BARE}`);
    });
    await instanceRoleStep.apply(ctx, plan.state, plan.changes);
    expect(ec2.associationOf(BARE)?.profileArn).toBe(profileArnOf(ROLE));
    expect(ec2.tags(BARE)[PROFILE_ASSOCIATED_TAG]).toBe(ROLE);
  });

  it('an existing association with another profile is not ours: IncorrectState is passed on', async () => {
    const bare = target(BARE);
    const ctx = await context([bare]);
    const plan = await planned(instanceRoleStep, ctx);
    ec2.ec2.on(AssociateIamInstanceProfileCommand).callsFakeOnce(async () => {
      ec2.addAssociation(BARE, profileArnOf('SomeoneElse'), 'associating');
      throw ec2Error('IncorrectState', `There is an existing association for instance ${BARE}`);
    });
    await expect(instanceRoleStep.apply(ctx, plan.state, plan.changes)).rejects.toMatchObject({ name: 'IncorrectState' });
  });
});

describe('instance-role: the instances it associates its profile with are tagged for destroy', () => {
  it(`tags each with ${PROFILE_ASSOCIATED_TAG}=<profile>, 50 instances per CreateTags call`, async () => {
    const bare = Array.from({ length: 51 }, (_, n) => target(`i-${(n + 1).toString(16).padStart(17, '0')}`));
    await converge(instanceRoleStep, await context(bare));
    for (const t of bare) expect(ec2.tags(t.id)[PROFILE_ASSOCIATED_TAG]).toBe(ROLE);
    const tagCalls = ec2.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input);
    expect(tagCalls.map((i) => i.Resources!.length)).toEqual([50, 1]);
    expect(tagCalls[0]!.Tags).toEqual([{ Key: PROFILE_ASSOCIATED_TAG, Value: ROLE }]);
  });

  it('an instance already at 50 tags cannot take the tag: not tried, the run does not fail, and the note says destroy will leave it', async () => {
    const full = target(FULL, Object.fromEntries(Array.from({ length: 50 }, (_, n) => [`k${n}`, 'v'])));
    const bare = target(BARE);
    const io = new TestIo();
    const ctx = await context([full, bare], io);
    const { note, outputs } = await converge(instanceRoleStep, ctx);
    expect(note).toContain(FULL);
    expect(note).toContain('destroy');
    expect(ec2.associationOf(FULL)?.profileArn).toBe(profileArnOf(ROLE));
    expect(ec2.tags(FULL)[PROFILE_ASSOCIATED_TAG]).toBeUndefined();
    expect(ec2.tags(BARE)[PROFILE_ASSOCIATED_TAG]).toBe(ROLE);
    expect(outputs?.instanceProfiles).toMatchObject({ [FULL]: ROLE, [BARE]: ROLE });
  });

  it('an instance that reached 50 tags after the read: the batch is refused, the others are tagged one by one, and a warning names it', async () => {
    const late = target(FULL);
    const bare = target(BARE);
    const io = new TestIo();
    const ctx = await context([late, bare], io);
    const plan = await planned(instanceRoleStep, ctx);
    Object.assign(ec2.tags(FULL), Object.fromEntries(Array.from({ length: 50 }, (_, n) => [`k${n}`, 'v'])));
    await instanceRoleStep.apply(ctx, plan.state, plan.changes);
    expect(ec2.tags(BARE)[PROFILE_ASSOCIATED_TAG]).toBe(ROLE);
    expect(ec2.tags(FULL)[PROFILE_ASSOCIATED_TAG]).toBeUndefined();
    expect(io.lines.some((l) => l.startsWith('warn:') && l.includes(FULL) && l.includes('destroy'))).toBe(true);
  });
});
