import {
  DeleteTagsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  paginateDescribeIamInstanceProfileAssociations,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { unlessMissing } from '../aws/errors.js';
import { chunks } from '../base/batch.js';
import { CW_AGENT_TAG } from '../steps/agents/index.js';
import { PROFILE_ASSOCIATED_TAG } from '../steps/instance-role/read.js';
import { type Removal, someOf, type Teardown, type TeardownContext } from './types.js';

/** The marker tags ssm-setup put on instances, as read once per destroy. */
export interface InstanceMarks {
  /** Instance id → the instance profile its PROFILE_ASSOCIATED_TAG says ssm-setup associated. */
  readonly associated: ReadonlyMap<string, string>;
  /** Instances carrying CW_AGENT_TAG. */
  readonly cwAgent: readonly string[];
}

/** Instances that are not gone for good (a terminated one still lists for a while, and keeps no tag). */
const LIVE = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

export async function readInstanceMarks(ctx: TeardownContext): Promise<InstanceMarks> {
  const ec2 = ctx.aws.get(EC2Client);
  const associated = new Map<string, string>();
  const cwAgent: string[] = [];
  const Filters = [
    { Name: 'tag-key', Values: [PROFILE_ASSOCIATED_TAG, CW_AGENT_TAG] },
    { Name: 'instance-state-name', Values: LIVE },
  ];
  for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 1000 }, { Filters })) {
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (!i.InstanceId) continue;
      const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      if (tags[PROFILE_ASSOCIATED_TAG]) associated.set(i.InstanceId, tags[PROFILE_ASSOCIATED_TAG]);
      if (CW_AGENT_TAG in tags) cwAgent.push(i.InstanceId);
    }
  }
  return { associated, cwAgent };
}

/** DeleteTags of one key on these instances, 50 a call (a value given: only where it matches). */
async function deleteTag(ec2: EC2Client, ids: readonly string[], Key: string, Value?: string): Promise<void> {
  for (const Resources of chunks(ids)) {
    await ec2.send(new DeleteTagsCommand({ Resources, Tags: [{ Key, ...(Value !== undefined ? { Value } : {}) }] }));
  }
}

/** The CloudWatch agent marker (`agents` wrote it after installing the agent) comes off. */
export function cwAgentTeardown(ctx: TeardownContext, marks: InstanceMarks): Teardown {
  if (!marks.cwAgent.length) return { removals: [], kept: [] };
  const ids = marks.cwAgent;
  const removal: Removal = {
    step: 'agents',
    action: 'update',
    resource: `tag ${CW_AGENT_TAG} on ${ids.length} instance${ids.length === 1 ? '' : 's'}`,
    detail: `remove it from ${someOf(ids)} (the agent itself stays installed)`,
    run: () => deleteTag(ctx.aws.get(EC2Client), ids, CW_AGENT_TAG),
  };
  return { removals: [removal], kept: [] };
}

export interface ProfileUse extends Teardown {
  /** Instances that have the profile although ssm-setup did not associate it there: it must stay. */
  readonly others: readonly string[];
}

/**
 * The instance profile comes off the instances ssm-setup associated it with (tagged
 * PROFILE_ASSOCIATED_TAG = its name), and the tag too; where someone else attached it, it stays.
 * A tagged instance that now has another profile (or none) only loses the stale tag.
 */
export async function profileUse(ctx: TeardownContext, marks: InstanceMarks, profileArn: string | undefined): Promise<ProfileUse> {
  const name = ctx.settings.instanceRole;
  const ec2 = ctx.aws.get(EC2Client);
  const tagged = [...marks.associated].filter(([, profile]) => profile === name).map(([id]) => id);
  const removals: Removal[] = [];
  const others: string[] = [];
  if (profileArn) {
    const Filters = [{ Name: 'state', Values: ['associating', 'associated'] }];
    for await (const page of paginateDescribeIamInstanceProfileAssociations({ client: ec2, pageSize: 1000 }, { Filters })) {
      for (const a of page.IamInstanceProfileAssociations ?? []) {
        if (a.IamInstanceProfile?.Arn !== profileArn || !a.AssociationId || !a.InstanceId) continue;
        if (!tagged.includes(a.InstanceId)) {
          others.push(a.InstanceId);
          continue;
        }
        const AssociationId = a.AssociationId;
        removals.push({
          step: 'instance-role',
          action: 'update',
          resource: `instance ${a.InstanceId}`,
          detail: `take off instance profile ${name} (ssm-setup associated it)`,
          run: async () => void (await unlessMissing(ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId })), 'InvalidAssociationID.NotFound')),
        });
      }
    }
  }
  if (tagged.length) {
    removals.push({
      step: 'instance-role',
      action: 'update',
      resource: `tag ${PROFILE_ASSOCIATED_TAG} on ${tagged.length} instance${tagged.length === 1 ? '' : 's'}`,
      detail: `remove it from ${someOf(tagged)}`,
      run: () => deleteTag(ec2, tagged, PROFILE_ASSOCIATED_TAG, name),
    });
  }
  return { removals, kept: [], others };
}
