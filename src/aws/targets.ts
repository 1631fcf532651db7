import { EC2Client, type Filter, type Instance, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { chunks } from '../base/batch.js';
import { UsageError } from '../base/errors.js';
import type { Settings } from '../config/schema.js';
import type { Clients } from '../core/clients.js';
import type { TargetInstance } from '../core/step.js';
import { tagRecord } from '../policies/tags.js';

const STATES: Filter = { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] };

export function toTarget(i: Instance): TargetInstance {
  const tags = tagRecord(i.Tags);
  return {
    id: i.InstanceId!,
    name: tags.Name,
    state: i.State?.Name ?? 'unknown',
    platform: i.PlatformDetails ?? (i.Platform ? 'Windows' : 'Linux/UNIX'),
    profileArn: i.IamInstanceProfile?.Arn,
    vpcId: i.VpcId,
    subnetId: i.SubnetId,
    imageId: i.ImageId,
    architecture: i.Architecture,
    privateIp: i.PrivateIpAddress,
    publicIp: i.PublicIpAddress,
    securityGroupIds: (i.SecurityGroups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
    ...(i.MetadataOptions
      ? {
          metadata: {
            httpEndpoint: i.MetadataOptions.HttpEndpoint,
            httpTokens: i.MetadataOptions.HttpTokens,
            hopLimit: i.MetadataOptions.HttpPutResponseHopLimit,
          },
        }
      : {}),
    tags,
  };
}

/** The region's live instances matching `filters` (paginated). */
export async function describeInstances(aws: Clients, filters: Filter[] = []): Promise<TargetInstance[]> {
  const found: TargetInstance[] = [];
  const pages = paginateDescribeInstances({ client: aws.get(EC2Client), pageSize: 1000 }, { Filters: [STATES, ...filters] });
  for await (const page of pages) for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) found.push(toTarget(i));
  return found;
}

/**
 * The target instances of these settings: the listed ids plus every instance carrying all of
 * the `--tag`s, live (not terminated) in the region. Ids go by 50 per call, as filters, so an
 * unknown id is reported (exit 2) instead of failing the whole call.
 */
export async function resolveTargets(aws: Clients, settings: Pick<Settings, 'instanceIds' | 'tag'>, region: string): Promise<TargetInstance[]> {
  const byId = new Map<string, TargetInstance>();
  for (const ids of chunks(settings.instanceIds)) {
    for (const t of await describeInstances(aws, [{ Name: 'instance-id', Values: ids }])) byId.set(t.id, t);
  }
  const unknown = settings.instanceIds.filter((id) => !byId.has(id));
  if (unknown.length) {
    throw new UsageError('UNKNOWN_INSTANCE', `--instance-ids: not found in ${region} (or terminated): ${unknown.join(', ')}`, {
      hint: 'check the ids and the region (--region); nothing was changed',
    });
  }
  if (settings.tag.length) {
    const filters = settings.tag.map((t) => ({ Name: `tag:${t.key}`, Values: [t.value] }));
    for (const t of await describeInstances(aws, filters)) byId.set(t.id, t);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
