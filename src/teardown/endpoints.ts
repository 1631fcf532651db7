import {
  DeleteSecurityGroupCommand,
  DeleteVpcEndpointsCommand,
  EC2Client,
  paginateDescribeSecurityGroups,
  paginateDescribeVpcEndpoints,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { errorName } from '../aws/errors.js';
import { sleep } from '../base/batch.js';
import { MANAGED_BY_TAG } from '../config/schema.js';
import { tagRecord } from '../policies/tags.js';
import { endpointGroupName } from '../policies/vpc-endpoints.js';
import { isLive } from '../steps/vpc-endpoints/read.js';
import { isOurs, type Kept, type Removal, type Teardown, type TeardownContext } from './types.js';

/** How long a security group's delete waits for the network interfaces of deleted endpoints to go (DependencyViolation). */
export const groupDeleteWait = { timeoutMs: 5 * 60_000, delayMs: 5_000 };

/**
 * The VPC endpoints and security groups the vpc-endpoints step made: tagged ManagedBy=ssm-setup
 * (a group also named `ssm-setup-endpoints-<vpc>`). Endpoints first, then the groups, which EC2
 * refuses to delete (DependencyViolation) until the endpoints' network interfaces are gone: the
 * delete waits for them, for a bounded time. A foreign endpoint is never listed; a group only
 * named like ours is kept, and the plan says so.
 */
export async function endpointsTeardown(ctx: TeardownContext): Promise<Teardown> {
  const ec2 = ctx.aws.get(EC2Client);
  const tag = { Name: `tag:${MANAGED_BY_TAG.key}`, Values: [MANAGED_BY_TAG.value] };
  const endpoints: VpcEndpoint[] = [];
  for await (const page of paginateDescribeVpcEndpoints({ client: ec2 }, { Filters: [tag] })) {
    endpoints.push(...(page.VpcEndpoints ?? []).filter((e) => e.VpcEndpointId && isLive(e) && isOurs(tagRecord(e.Tags))));
  }
  const removals: Removal[] = endpoints.map((e) => {
    const service = e.ServiceName?.slice(e.ServiceName.lastIndexOf('.') + 1) ?? '?';
    const id = e.VpcEndpointId!;
    return {
      step: 'vpc-endpoints',
      action: 'delete',
      resource: `VPC endpoint ${id} (${service})`,
      detail: `${e.VpcEndpointType ?? 'Interface'} endpoint in ${e.VpcId}; delete it`,
      run: async () => {
        const out = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
        const failed = (out.Unsuccessful ?? []).find(
          (u) => u.Error?.Code !== 'InvalidVpcEndpoint.NotFound' && u.Error?.Code !== 'InvalidVpcEndpointId.NotFound',
        );
        if (failed)
          throw Object.assign(new Error(failed.Error?.Message ?? `could not delete ${id}`), { name: failed.Error?.Code ?? 'DeleteVpcEndpointsFailed' });
      },
    };
  });
  const kept: Kept[] = [];
  const Filters = [{ Name: 'group-name', Values: ['ssm-setup-endpoints-vpc-*'] }];
  for await (const page of paginateDescribeSecurityGroups({ client: ec2 }, { Filters })) {
    for (const g of page.SecurityGroups ?? []) {
      if (!g.GroupId || !g.VpcId || g.GroupName !== endpointGroupName(g.VpcId)) continue;
      const resource = `security group ${g.GroupName} (${g.GroupId})`;
      if (!isOurs(tagRecord(g.Tags))) {
        kept.push({ step: 'vpc-endpoints', resource, why: 'named like ssm-setup’s but not tagged ManagedBy=ssm-setup: someone else’s, left as it is' });
        continue;
      }
      const GroupId = g.GroupId;
      removals.push({ step: 'vpc-endpoints', action: 'delete', resource, detail: 'TCP 443 to the endpoints; delete it', run: () => deleteGroup(ec2, GroupId) });
    }
  }
  return { removals, kept };
}

/** DeleteSecurityGroup, again while the deleted endpoints' interfaces still use it; gone already is done. */
async function deleteGroup(ec2: EC2Client, GroupId: string): Promise<void> {
  const deadline = Date.now() + groupDeleteWait.timeoutMs;
  for (;;) {
    try {
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId }));
      return;
    } catch (err) {
      if (errorName(err) === 'InvalidGroup.NotFound') return;
      if (errorName(err) !== 'DependencyViolation' || Date.now() + groupDeleteWait.delayMs > deadline) throw err;
      await sleep(groupDeleteWait.delayMs);
    }
  }
}
