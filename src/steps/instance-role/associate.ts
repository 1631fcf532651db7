import type { EC2Client } from '@aws-sdk/client-ec2';
import { errorName } from '../../aws/errors.js';
import { createOrFind } from '../../aws/lost-answers.js';
import { profileNotYetVisible, retryWhile } from '../../aws/retry.js';
import { chunks } from '../../base/batch.js';
import type { StepContext, TargetInstance } from '../../core/step.js';
import { PROFILE_ASSOCIATED_TAG } from './read.js';

/** EC2 takes at most 50 tags per resource; tags AWS sets (`aws:`) do not count. */
const MAX_INSTANCE_TAGS = 50;

/** The instance has no room for PROFILE_ASSOCIATED_TAG (it does not have it already, and has 50 tags). */
export function cannotTakeTag(t: Pick<TargetInstance, 'tags'>): boolean {
  const keys = Object.keys(t.tags).filter((k) => !k.toLowerCase().startsWith('aws:'));
  return !keys.includes(PROFILE_ASSOCIATED_TAG) && keys.length >= MAX_INSTANCE_TAGS;
}

/** What `destroy` does with an association ssm-setup could not record: the note and the warning say it. */
export const unrecordedWhy = (ids: readonly string[], profile: string) =>
  `${ids.join(', ')} ${ids.length === 1 ? 'has' : 'have'} ${MAX_INSTANCE_TAGS} tags, so ssm-setup cannot record (tag ${PROFILE_ASSOCIATED_TAG}) that it associates instance profile ${profile} there: destroy will leave ${ids.length === 1 ? 'that association' : 'those associations'} alone`;

/**
 * Associates our profile with each instance (which has none), then records it on them: the tag
 * PROFILE_ASSOCIATED_TAG=<profile> tells `destroy` where ssm-setup put the profile. Tagged 50
 * instances per CreateTags call, also those done before an association failed; an instance at
 * EC2's 50-tag limit cannot take the tag, which does not fail the run (a warning names it).
 */
export async function associateAndRecord(ctx: StepContext, instances: readonly TargetInstance[], profile: string): Promise<void> {
  const { EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  const done: TargetInstance[] = [];
  let failure: unknown;
  for (const t of instances) {
    try {
      await associate(ctx, ec2, t.id, profile);
      done.push(t);
    } catch (err) {
      failure = err;
      break;
    }
  }
  try {
    // Even after Ctrl-C: an association made and not recorded would be left behind by destroy.
    await ctx.aws.evenIfInterrupted(() => record(ctx, ec2, done, profile));
  } catch (err) {
    if (!failure) throw err;
    ctx.io.warn(`could not tag ${done.map((t) => t.id).join(', ')} with ${PROFILE_ASSOCIATED_TAG}: ${(err as Error).message}`);
  }
  if (failure) throw failure;
}

/**
 * Associates our profile with an instance that has none, waiting (up to 2 min) until EC2 sees a
 * new profile. Retried by the SDK after a lost answer, the call meets IncorrectState ("existing
 * association"): that is success when the association is our profile's.
 */
async function associate(ctx: StepContext, ec2: EC2Client, InstanceId: string, profile: string): Promise<void> {
  const { AssociateIamInstanceProfileCommand, DescribeIamInstanceProfileAssociationsCommand } = await import('@aws-sdk/client-ec2');
  const ours = async () => {
    const Filters = [
      { Name: 'instance-id', Values: [InstanceId] },
      { Name: 'state', Values: ['associating', 'associated'] },
    ];
    const out = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters }));
    return out.IamInstanceProfileAssociations?.find((a) => a.IamInstanceProfile?.Arn?.endsWith(`:instance-profile/${profile}`));
  };
  await retryWhile(
    () => createOrFind(() => ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId, IamInstanceProfile: { Name: profile } })), ['IncorrectState'], ours),
    profileNotYetVisible,
    (waited) => ctx.io.info(`  waiting for EC2 to see instance profile ${profile} (${Math.round(waited / 1000)}s)…`),
  );
}

async function record(ctx: StepContext, ec2: EC2Client, done: readonly TargetInstance[], profile: string): Promise<void> {
  const { CreateTagsCommand } = await import('@aws-sdk/client-ec2');
  const Tags = [{ Key: PROFILE_ASSOCIATED_TAG, Value: profile }];
  const tag = (Resources: string[]) => ec2.send(new CreateTagsCommand({ Resources, Tags }));
  // Known full at the read: not tried (the plan's note said so already).
  const refused = done.filter(cannotTakeTag).map((t) => t.id);
  for (const batch of chunks(done.filter((t) => !cannotTakeTag(t)).map((t) => t.id))) {
    try {
      await tag(batch);
    } catch (err) {
      if (errorName(err) !== 'TagLimitExceeded') throw err;
      // One of them reached 50 tags since the read, and EC2 refused the whole call: one by one.
      for (const id of batch) {
        await tag([id]).catch((e: unknown) => {
          if (errorName(e) !== 'TagLimitExceeded') throw e;
          refused.push(id);
        });
      }
    }
  }
  if (refused.length) ctx.io.warn(unrecordedWhy(refused, profile));
}
