import { DeleteTagsCommand, type DeleteTagsCommandInput } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CW_AGENT_TAG } from '../../src/steps/agents/index.js';
import { PROFILE_ASSOCIATED_TAG } from '../../src/steps/instance-role/read.js';
import { policyArnOf, profileArnOf } from '../helpers/fake-iam.js';
import { readAll, type TeardownAccount, teardownAccount, teardownContext } from './fake-teardown.js';

const OURS = { ManagedBy: 'ssm-setup' };
const ROLE = 'SSMSessionManagerInstanceRole';
const INSTANCE_POLICY = 'SSMSessionManagerInstancePolicy';
const CW = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
const DOC = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:UpdateInstanceInformation', Resource: '*' }] });

let account: TeardownAccount;
beforeEach(() => {
  account = teardownAccount();
});
afterEach(() => account.restore());

/** What init leaves: our instance policy, and our role in our profile with that policy and the CloudWatch agent's. */
function ourSetup() {
  account.iam.addPolicy(INSTANCE_POLICY, [DOC], { tags: OURS });
  account.iam.addRole(ROLE, [policyArnOf(INSTANCE_POLICY), CW]).tags = { ...OURS };
  account.iam.addProfile(ROLE, [ROLE]).tags = { ...OURS };
}
/** An instance with our profile; `tagged`: ssm-setup associated it (instance-role's marker tag). */
const instanceWithProfile = (tagged: boolean, profile = ROLE) =>
  account.fleet.add({ target: { profileArn: profileArnOf(profile) }, tags: tagged ? { [PROFILE_ASSOCIATED_TAG]: ROLE } : { Team: 'web' } });

/** Reads, runs every removal in order; the removals, what was kept and the writes made. */
async function destroy() {
  const before = account.writes().length;
  const { removals, kept } = await readAll(await teardownContext());
  for (const r of removals) await r.run();
  return { removals, kept, writes: account.writes().slice(before) };
}

describe('destroy: the instance profile comes off only where ssm-setup associated it', () => {
  it('takes it off the tagged instance (and the tag), leaves it where someone else attached it, and keeps profile and role for that one', async () => {
    ourSetup();
    const ours = instanceWithProfile(true);
    const theirs = instanceWithProfile(false);

    const { kept } = await destroy();

    expect(account.ec2.associationOf(ours)).toBeUndefined();
    expect(account.ec2.tags(ours)).not.toHaveProperty(PROFILE_ASSOCIATED_TAG);
    expect(account.ec2.associationOf(theirs)?.profileArn).toBe(profileArnOf(ROLE));
    // Deleting the profile or its role would break the instance that still uses it.
    expect(account.iam.profiles.get(ROLE)?.roles).toEqual([ROLE]);
    expect(account.iam.roles.has(ROLE)).toBe(true);
    expect(kept.filter((k) => k.step === 'instance-role')).toEqual([
      { step: 'instance-role', resource: `instance profile ${ROLE}`, why: expect.stringContaining(theirs) },
      { step: 'instance-role', resource: `IAM role ${ROLE}`, why: expect.any(String) },
    ]);
    expect((await destroy()).writes).toEqual([]);
  });

  it('a tagged instance whose profile someone replaced keeps it; only the stale tag goes', async () => {
    ourSetup();
    account.iam.addProfile('app-profile');
    const replaced = account.fleet.add({ target: { profileArn: profileArnOf('app-profile') }, tags: { [PROFILE_ASSOCIATED_TAG]: ROLE } });
    await destroy();
    expect(account.ec2.associationOf(replaced)?.profileArn).toBe(profileArnOf('app-profile'));
    expect(account.ec2.tags(replaced)).toEqual({});
  });
});

describe('destroy: a policy someone else put inline on ssm-setup’s role keeps the role', () => {
  it('the role, its inline policy and its profile stay, with the reason in the plan; our managed policy still goes', async () => {
    ourSetup();
    account.putInline(ROLE, 'TeamExtra');

    const { kept } = await destroy();

    expect(account.inline.get(ROLE)?.has('TeamExtra')).toBe(true);
    expect(account.iam.roles.has(ROLE)).toBe(true);
    expect(account.iam.profiles.get(ROLE)?.roles).toEqual([ROLE]);
    expect(account.iam.policies.has(policyArnOf(INSTANCE_POLICY))).toBe(false);
    expect(kept).toContainEqual({ step: 'instance-role', resource: `IAM role ${ROLE}`, why: expect.stringContaining('TeamExtra') });
    expect((await destroy()).writes).toEqual([]);
  });

  it('without one, role and profile go after the tagged instance lost the profile; a rerun writes nothing', async () => {
    ourSetup();
    const ours = instanceWithProfile(true);
    const { writes } = await destroy();
    expect(account.iam.roles.has(ROLE)).toBe(false);
    expect(account.iam.profiles.has(ROLE)).toBe(false);
    expect(account.ec2.associationOf(ours)).toBeUndefined();
    expect(writes.indexOf('EC2.DisassociateIamInstanceProfile')).toBeLessThan(writes.indexOf('IAM.DeleteInstanceProfile'));
    expect((await destroy()).writes).toEqual([]);
  });
});

describe('destroy: the CloudWatch agent marker tag comes off the instances', () => {
  it('DeleteTags on every instance that has it, 50 per call; other tags stay', async () => {
    const tagged = account.fleet.addMany(120, { tags: { [CW_AGENT_TAG]: 'installed', Team: 'web' } });
    const other = account.fleet.add({ tags: { Team: 'db' } });

    const { removals } = await destroy();

    expect(removals.filter((r) => r.step === 'agents')).toHaveLength(1);
    for (const id of tagged) expect(account.ec2.tags(id)).toEqual({ Team: 'web' });
    expect(account.ec2.tags(other)).toEqual({ Team: 'db' });
    const calls = account.ec2.ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input as DeleteTagsCommandInput);
    expect(calls.map((c) => c.Resources?.length)).toEqual([50, 50, 20]);
    expect(calls.every((c) => c.Tags?.length === 1 && c.Tags[0]?.Key === CW_AGENT_TAG && c.Tags[0].Value === undefined)).toBe(true);
    expect((await destroy()).writes).toEqual([]);
  });
});
