import { randomUUID } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcEndpointCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyVpcEndpointCommand,
  type TagSpecification,
} from '@aws-sdk/client-ec2';
import { errorName } from '../../aws/errors.js';
import { createOrFind } from '../../aws/lost-answers.js';
import { MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Change, StepContext, StepOutputs } from '../../core/step.js';
import { tagList, tagRecord } from '../../policies/tags.js';
import { endpointGroupName, endpointIngress, endpointServiceName } from '../../policies/vpc-endpoints.js';
import { analyse, type EndpointsChange, vpcEndpointsOutputs, type Work } from './plan.js';
import type { VpcEndpointsState } from './read.js';

/**
 * Makes exactly the planned changes, in order: the security groups first (the interface
 * endpoints are created with them), then the interface endpoints, then the S3 gateways.
 * CreateVpcEndpoint carries a ClientToken, so the SDK's retry after a lost answer gets the
 * same endpoint back instead of a second one; a security group is unique by name in its VPC,
 * so a retry that meets InvalidGroup.Duplicate looks for ours.
 */
export async function applyVpcEndpoints(ctx: StepContext, state: VpcEndpointsState, changes: readonly Change<EndpointsChange>[]): Promise<StepOutputs> {
  const ec2 = ctx.aws.get(EC2Client);
  const tags = tagList(resourceTagsFor(ctx.settings));
  const spec = (ResourceType: 'vpc-endpoint' | 'security-group'): TagSpecification[] => [{ ResourceType, Tags: tags }];
  const work = new Map(analyse(state, ctx).work.map((w) => [`${w.kind} ${w.subject}`, w]));
  const groupOf = new Map(state.scopes.flatMap((s) => (s.group?.GroupId ? [[s.vpcId, s.group.GroupId] as const] : [])));

  const authorize = async (GroupId: string, cidrs: readonly string[]) => {
    try {
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: endpointIngress(cidrs) }));
    } catch (err) {
      // A retry after a lost answer meets the rule the first attempt added. EC2 refuses the whole
      // request for one rule already there, so the others go one by one.
      if (errorName(err) !== 'InvalidPermission.Duplicate') throw err;
      if (cidrs.length > 1) for (const cidr of cidrs) await authorize(GroupId, [cidr]);
    }
  };
  const findOurGroup = async (vpcId: string) => {
    const Filters = [
      { Name: 'vpc-id', Values: [vpcId] },
      { Name: 'group-name', Values: [endpointGroupName(vpcId)] },
    ];
    const g = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters }))).SecurityGroups?.[0];
    return g?.GroupId && tagRecord(g.Tags)[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value ? { GroupId: g.GroupId } : undefined;
  };

  for (const change of changes) {
    const w: Work | undefined = work.get(`${change.kind} ${change.subject}`);
    if (!w) continue; // the account changed since the plan: the next run plans it again
    const ServiceName = w.service ? endpointServiceName(ctx.region, w.service) : undefined;
    switch (w.kind) {
      case 'create-group': {
        const made = await createOrFind(
          () =>
            ec2.send(
              new CreateSecurityGroupCommand({
                GroupName: endpointGroupName(w.vpcId),
                Description: 'TCP 443 to the Session Manager VPC endpoints (ssm-setup)',
                VpcId: w.vpcId,
                TagSpecifications: spec('security-group'),
              }),
            ),
          ['InvalidGroup.Duplicate'],
          () => findOurGroup(w.vpcId),
        );
        groupOf.set(w.vpcId, made.GroupId!);
        await authorize(made.GroupId!, w.cidrs ?? []);
        break;
      }
      case 'authorize-group':
        await authorize(groupOf.get(w.vpcId)!, w.cidrs ?? []);
        break;
      case 'create-endpoint':
        await ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: w.vpcId,
            ServiceName,
            VpcEndpointType: 'Interface',
            SubnetIds: [...(w.subnetIds ?? [])],
            SecurityGroupIds: groupOf.has(w.vpcId) ? [groupOf.get(w.vpcId)!] : undefined,
            PrivateDnsEnabled: true,
            ClientToken: randomUUID(),
            TagSpecifications: spec('vpc-endpoint'),
          }),
        );
        break;
      case 'modify-endpoint':
        await ec2.send(
          new ModifyVpcEndpointCommand({
            VpcEndpointId: w.endpointId,
            ...(w.subnetIds?.length ? { AddSubnetIds: [...w.subnetIds] } : {}),
            ...(w.addGroup && groupOf.has(w.vpcId) ? { AddSecurityGroupIds: [groupOf.get(w.vpcId)!] } : {}),
            ...(w.privateDns ? { PrivateDnsEnabled: true } : {}),
          }),
        );
        break;
      case 'create-gateway':
        await ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: w.vpcId,
            ServiceName,
            VpcEndpointType: 'Gateway',
            RouteTableIds: [...(w.routeTableIds ?? [])],
            ClientToken: randomUUID(),
            TagSpecifications: spec('vpc-endpoint'),
          }),
        );
        break;
      case 'modify-gateway':
        await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: w.endpointId, AddRouteTableIds: [...(w.routeTableIds ?? [])] }));
        break;
    }
  }
  return vpcEndpointsOutputs(state) ?? {};
}
