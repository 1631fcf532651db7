import {
  AuthorizeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  CreateSecurityGroupCommand,
  type CreateSecurityGroupCommandInput,
  CreateVpcEndpointCommand,
  type CreateVpcEndpointCommandInput,
  DeleteSecurityGroupCommand,
  type DeleteSecurityGroupCommandInput,
  DeleteVpcEndpointsCommand,
  type DeleteVpcEndpointsCommandInput,
  DescribeSubnetsCommand,
  type DescribeSubnetsCommandInput,
  DescribeVpcAttributeCommand,
  type DescribeVpcAttributeCommandInput,
  DescribeVpcsCommand,
  type DescribeVpcsCommandInput,
  type EC2Client,
  ModifyVpcEndpointCommand,
  type ModifyVpcEndpointCommandInput,
  type SecurityGroup,
  type State,
  type TagSpecification,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Answer, Filtered, Page } from './fake-ec2-types.js';
import { ACCOUNT, REGION } from './fixtures.js';

/**
 * The VPC-endpoint side of the stateful EC2 fake (fake-ec2.ts wires it into its world, on the
 * same stores): DescribeVpcs, DescribeVpcAttribute (the DNS attributes), DescribeSubnets (each
 * subnet in a zone), CreateSecurityGroup / AuthorizeSecurityGroupIngress / DeleteSecurityGroup,
 * CreateVpcEndpoint / ModifyVpcEndpoint / DeleteVpcEndpoints. As strict as EC2 where the code
 * relies on it (EC2 API reference, CreateVpcEndpoint and the interface-endpoint guide):
 *
 * - an interface endpoint takes one subnet per Availability Zone (DuplicateSubnetsInSameZone),
 *   subnets and groups of its own VPC; a gateway endpoint takes route tables and no subnet;
 * - private DNS (the default for an interface endpoint of an AWS service) needs the VPC's
 *   enableDnsSupport and enableDnsHostnames (InvalidParameter), and a second endpoint with
 *   private DNS for the same service in one VPC is a conflicting DNS domain (InvalidParameter);
 * - a route table takes one S3 gateway endpoint (RouteAlreadyExists);
 * - tags come only through TagSpecifications of the right ResourceType;
 * - a ClientToken seen before returns the endpoint it made (IdempotentParameterMismatch when
 *   the request differs);
 * - security group names are unique per VPC (InvalidGroup.Duplicate), may not start with
 *   `sg-`; a rule already there is InvalidPermission.Duplicate; a group an endpoint still uses
 *   (or, for `eniLag` attempts, a deleted endpoint's interfaces) is DependencyViolation;
 * - DeleteVpcEndpoints answers unknown ids in Unsuccessful; deleted endpoints stay listed
 *   as `deleted`, as EC2 lists them for a while.
 */

export interface EndpointStores {
  readonly ec2: AwsClientStub<EC2Client>;
  readonly vpcs: ReadonlyMap<string, { readonly id: string; readonly cidr: string }>;
  readonly subnets: ReadonlyMap<string, { readonly id: string; readonly vpcId: string; readonly cidr?: string }>;
  readonly routeTables: ReadonlyMap<string, { readonly id: string; readonly vpcId: string }>;
  readonly endpoints: Map<string, VpcEndpoint>;
  readonly groups: Map<string, SecurityGroup>;
  readonly answer: Answer;
  readonly page: Page;
  readonly filtered: Filtered;
  readonly nextId: (prefix: string) => string;
  readonly ec2Error: (name: string, message: string) => Error;
}

export interface FakeEndpointOptions {
  /** DeleteSecurityGroup attempts refused (DependencyViolation) after its last endpoint was deleted: the interfaces linger. */
  readonly eniLag?: number;
}

const KNOWN_SERVICES = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'];
const tagsOf = (list: readonly { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

export function fakeEc2Endpoints(s: EndpointStores, opts: FakeEndpointOptions = {}) {
  const { ec2, answer, page, filtered, ec2Error } = s;
  const dns = new Map<string, { support: boolean; hostnames: boolean }>();
  const zones = new Map<string, string>();
  const extraCidrs = new Map<string, string[]>();
  const tokens = new Map<string, { id: string; request: string }>();
  const lag = new Map<string, number>();
  const dnsOf = (vpcId: string) => dns.get(vpcId) ?? { support: true, hostnames: true };
  const zoneOf = (subnetId: string) => zones.get(subnetId) ?? `${REGION}a`;
  const cidrsOf = (vpcId: string) => [s.vpcs.get(vpcId)!.cidr, ...(extraCidrs.get(vpcId) ?? [])];
  const vpc = (VpcId: string | undefined) => {
    if (!VpcId || !s.vpcs.has(VpcId)) throw ec2Error('InvalidVpcID.NotFound', `The vpc ID '${VpcId}' does not exist`);
    return VpcId;
  };
  const tagsFor = (specs: readonly TagSpecification[] | undefined, type: string) => {
    for (const t of specs ?? [])
      if (t.ResourceType !== type) throw ec2Error('InvalidParameterValue', `'${t.ResourceType}' is not a valid taggable resource type for this operation.`);
    return (specs ?? []).flatMap((t) => t.Tags ?? []);
  };
  const live = (e: VpcEndpoint) => !['deleted', 'deleting'].includes(String(e.State).toLowerCase());
  const interfaceOf = (e: VpcEndpoint) => String(e.VpcEndpointType).toLowerCase() === 'interface';

  ec2.on(DescribeVpcsCommand).callsFake(
    answer(DescribeVpcsCommand, (i: DescribeVpcsCommandInput) => {
      const base = i.VpcIds?.length ? i.VpcIds.map((id) => s.vpcs.get(vpc(id))!) : [...s.vpcs.values()];
      const found = filtered(base, i.Filters, { 'vpc-id': (v) => [v.id], 'cidr-block-association.cidr-block': (v) => cidrsOf(v.id) });
      const { items, NextToken } = page('DescribeVpcs', found, i, { min: 5, max: 1000 }, !!i.VpcIds?.length);
      const view = (id: string) => ({
        VpcId: id,
        OwnerId: ACCOUNT,
        State: 'available' as const,
        CidrBlock: s.vpcs.get(id)!.cidr,
        CidrBlockAssociationSet: cidrsOf(id).map((CidrBlock, n) => ({
          AssociationId: `vpc-cidr-assoc-${n}-${id}`,
          CidrBlock,
          CidrBlockState: { State: 'associated' as const },
        })),
      });
      return { Vpcs: items.map((v) => view(v.id)), NextToken };
    }),
  );

  ec2.on(DescribeVpcAttributeCommand).callsFake(
    answer(DescribeVpcAttributeCommand, (i: DescribeVpcAttributeCommandInput) => {
      const id = vpc(i.VpcId);
      if (i.Attribute === 'enableDnsSupport') return { VpcId: id, EnableDnsSupport: { Value: dnsOf(id).support } };
      if (i.Attribute === 'enableDnsHostnames') return { VpcId: id, EnableDnsHostnames: { Value: dnsOf(id).hostnames } };
      if (i.Attribute === 'enableNetworkAddressUsageMetrics') return { VpcId: id, EnableNetworkAddressUsageMetrics: { Value: false } };
      throw ec2Error('InvalidParameterValue', `Value (${i.Attribute}) for parameter attribute is invalid.`);
    }),
  );

  ec2.on(DescribeSubnetsCommand).callsFake(
    answer(DescribeSubnetsCommand, (i: DescribeSubnetsCommandInput) => {
      const base = i.SubnetIds?.length
        ? i.SubnetIds.map((id) => {
            if (!s.subnets.has(id)) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
            return s.subnets.get(id)!;
          })
        : [...s.subnets.values()];
      const found = filtered(base, i.Filters, { 'subnet-id': (x) => [x.id], 'vpc-id': (x) => [x.vpcId], 'availability-zone': (x) => [zoneOf(x.id)] });
      const { items, NextToken } = page('DescribeSubnets', found, i, { min: 5, max: 1000 }, !!i.SubnetIds?.length);
      return {
        Subnets: items.map((x) => ({
          SubnetId: x.id,
          VpcId: x.vpcId,
          CidrBlock: x.cidr,
          AvailabilityZone: zoneOf(x.id),
          OwnerId: ACCOUNT,
          State: 'available',
        })),
        NextToken,
      };
    }),
  );

  // --- Security groups ------------------------------------------------------------------------

  const group = (GroupId: string | undefined) => {
    const g = GroupId ? s.groups.get(GroupId) : undefined;
    if (!g) throw ec2Error('InvalidGroup.NotFound', `The security group '${GroupId}' does not exist`);
    return g;
  };

  ec2.on(CreateSecurityGroupCommand).callsFake(
    answer(CreateSecurityGroupCommand, (i: CreateSecurityGroupCommandInput) => {
      const VpcId = vpc(i.VpcId);
      const name = i.GroupName ?? '';
      if (!name || name.length > 255 || /^sg-/i.test(name)) throw ec2Error('InvalidParameterValue', `Invalid security group name: ${name}`);
      if (!i.Description || i.Description.length > 255) throw ec2Error('InvalidParameterValue', 'The group description must be 1 to 255 characters');
      if ([...s.groups.values()].some((g) => g.VpcId === VpcId && g.GroupName === name))
        throw ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${VpcId}'`);
      const GroupId = s.nextId('sg');
      const Tags = tagsFor(i.TagSpecifications, 'security-group');
      s.groups.set(GroupId, {
        GroupId,
        GroupName: name,
        Description: i.Description,
        VpcId,
        OwnerId: ACCOUNT,
        IpPermissions: [],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        ...(Tags.length ? { Tags } : {}),
      });
      return { GroupId, ...(Tags.length ? { Tags } : {}) };
    }),
  );

  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake(
    answer(AuthorizeSecurityGroupIngressCommand, (i: AuthorizeSecurityGroupIngressCommandInput) => {
      const g = group(i.GroupId);
      if (!i.IpPermissions?.length) throw ec2Error('MissingParameter', 'The request must contain the parameter ipPermissions');
      const rules = g.IpPermissions ?? [];
      for (const p of i.IpPermissions) {
        const same = rules.find((r) => r.IpProtocol === p.IpProtocol && r.FromPort === p.FromPort && r.ToPort === p.ToPort);
        const have = new Set((same?.IpRanges ?? []).map((r) => r.CidrIp));
        const dup = (p.IpRanges ?? []).find((r) => have.has(r.CidrIp));
        if (dup)
          throw ec2Error(
            'InvalidPermission.Duplicate',
            `the specified rule "peer: ${dup.CidrIp}, TCP, from port: ${p.FromPort}, to port: ${p.ToPort}, ALLOW" already exists`,
          );
      }
      for (const p of i.IpPermissions) {
        const same = rules.find((r) => r.IpProtocol === p.IpProtocol && r.FromPort === p.FromPort && r.ToPort === p.ToPort);
        if (same) same.IpRanges = [...(same.IpRanges ?? []), ...(p.IpRanges ?? [])];
        else
          rules.push({
            IpProtocol: p.IpProtocol,
            FromPort: p.FromPort,
            ToPort: p.ToPort,
            IpRanges: [...(p.IpRanges ?? [])],
            UserIdGroupPairs: [],
            PrefixListIds: [],
          });
      }
      g.IpPermissions = rules;
      return { Return: true };
    }),
  );

  ec2.on(DeleteSecurityGroupCommand).callsFake(
    answer(DeleteSecurityGroupCommand, (i: DeleteSecurityGroupCommandInput) => {
      const g = group(i.GroupId);
      const users = [...s.endpoints.values()].filter((e) => (e.Groups ?? []).some((x) => x.GroupId === g.GroupId));
      const inUse = users.some(live);
      const lingering = (lag.get(g.GroupId!) ?? 0) < (opts.eniLag ?? 0) && users.length > 0;
      if (inUse || lingering) {
        if (!inUse) lag.set(g.GroupId!, (lag.get(g.GroupId!) ?? 0) + 1);
        throw ec2Error('DependencyViolation', `resource ${g.GroupId} has a dependent object`);
      }
      s.groups.delete(g.GroupId!);
      return {};
    }),
  );

  // --- VPC endpoints --------------------------------------------------------------------------

  /** The checks every create and modify share: one subnet per zone, of the VPC; groups of the VPC; private DNS allowed. */
  const checkInterface = (e: VpcEndpoint) => {
    const seen = new Map<string, string>();
    for (const id of e.SubnetIds ?? []) {
      const sub = s.subnets.get(id);
      if (!sub) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      if (sub.vpcId !== e.VpcId) throw ec2Error('InvalidParameter', `The subnet ${id} is not in ${e.VpcId}`);
      const az = zoneOf(id);
      if (seen.has(az))
        throw ec2Error(
          'DuplicateSubnetsInSameZone',
          `Found another VPC endpoint subnet in the availability zone of ${id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
        );
      seen.set(az, id);
    }
    for (const g of e.Groups ?? [])
      if (group(g.GroupId).VpcId !== e.VpcId) throw ec2Error('InvalidParameter', `The security group ${g.GroupId} is not in ${e.VpcId}`);
    if (e.PrivateDnsEnabled) {
      const d = dnsOf(e.VpcId!);
      if (!d.support || !d.hostnames)
        throw ec2Error(
          'InvalidParameter',
          `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${e.VpcId}`,
        );
      const clash = [...s.endpoints.values()].find(
        (o) =>
          o !== e &&
          o.VpcEndpointId !== e.VpcEndpointId &&
          live(o) &&
          o.VpcId === e.VpcId &&
          o.ServiceName === e.ServiceName &&
          interfaceOf(o) &&
          o.PrivateDnsEnabled,
      );
      if (clash)
        throw ec2Error(
          'InvalidParameter',
          `private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${e.ServiceName} in the VPC ${e.VpcId}`,
        );
    }
  };
  const checkGateway = (e: VpcEndpoint) => {
    for (const t of e.RouteTableIds ?? []) {
      const table = s.routeTables.get(t);
      if (!table) throw ec2Error('InvalidRouteTableId.NotFound', `The routeTable ID '${t}' does not exist`);
      if (table.vpcId !== e.VpcId) throw ec2Error('InvalidParameter', `The route table ${t} is not in ${e.VpcId}`);
      const other = [...s.endpoints.values()].find(
        (o) => o.VpcEndpointId !== e.VpcEndpointId && live(o) && o.ServiceName === e.ServiceName && (o.RouteTableIds ?? []).includes(t),
      );
      if (other)
        throw ec2Error(
          'RouteAlreadyExists',
          `route table ${t} already has a route with destination-prefix-list-id of ${e.ServiceName} (${other.VpcEndpointId})`,
        );
    }
  };

  ec2.on(CreateVpcEndpointCommand).callsFake(
    answer(CreateVpcEndpointCommand, (i: CreateVpcEndpointCommandInput) => {
      const request = JSON.stringify({ ...i, ClientToken: undefined });
      if (i.ClientToken && tokens.has(i.ClientToken)) {
        const seen = tokens.get(i.ClientToken)!;
        if (seen.request !== request) throw ec2Error('IdempotentParameterMismatch', 'The client token has been used with different parameters');
        return { VpcEndpoint: s.endpoints.get(seen.id), ClientToken: i.ClientToken };
      }
      const VpcId = vpc(i.VpcId);
      const m = /^com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9]+)$/.exec(i.ServiceName ?? '');
      if (!m || !KNOWN_SERVICES.includes(m[2]!)) throw ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${i.ServiceName}' does not exist`);
      const type = i.VpcEndpointType ?? 'Gateway';
      const gateway = type === 'Gateway';
      if (gateway && m[2] !== 's3') throw ec2Error('InvalidParameter', `${i.ServiceName} does not support gateway endpoints`);
      if (gateway && (i.SubnetIds?.length || i.SecurityGroupIds?.length || i.PrivateDnsEnabled))
        throw ec2Error('InvalidParameter', 'a gateway endpoint takes route tables, not subnets, security groups or private DNS');
      if (!gateway && i.RouteTableIds?.length) throw ec2Error('InvalidParameter', 'an interface endpoint takes subnets, not route tables');
      const defaultGroup = [...s.groups.values()].find((g) => g.VpcId === VpcId && g.GroupName === 'default');
      const groupIds = i.SecurityGroupIds?.length ? i.SecurityGroupIds : defaultGroup ? [defaultGroup.GroupId!] : [];
      const Tags = tagsFor(i.TagSpecifications, 'vpc-endpoint');
      const e: VpcEndpoint = {
        VpcEndpointId: s.nextId('vpce'),
        VpcEndpointType: type,
        VpcId,
        ServiceName: i.ServiceName,
        State: 'available' as State,
        OwnerId: ACCOUNT,
        RouteTableIds: gateway ? [...(i.RouteTableIds ?? [])] : [],
        SubnetIds: gateway ? [] : [...(i.SubnetIds ?? [])],
        Groups: gateway ? [] : groupIds.map((GroupId) => ({ GroupId, GroupName: group(GroupId).GroupName })),
        // Private DNS is on by default for an interface endpoint of an AWS service.
        PrivateDnsEnabled: gateway ? false : (i.PrivateDnsEnabled ?? true),
        ...(Tags.length ? { Tags } : {}),
      };
      if (gateway) checkGateway(e);
      else checkInterface(e);
      s.endpoints.set(e.VpcEndpointId!, e);
      if (i.ClientToken) tokens.set(i.ClientToken, { id: e.VpcEndpointId!, request });
      return { VpcEndpoint: e, ClientToken: i.ClientToken };
    }),
  );

  ec2.on(ModifyVpcEndpointCommand).callsFake(
    answer(ModifyVpcEndpointCommand, (i: ModifyVpcEndpointCommandInput) => {
      const e = s.endpoints.get(i.VpcEndpointId ?? '');
      if (!e || !live(e)) throw ec2Error('InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${i.VpcEndpointId}' does not exist`);
      const next: VpcEndpoint = structuredClone(e);
      const gateway = !interfaceOf(e);
      if (gateway && (i.AddSubnetIds?.length || i.AddSecurityGroupIds?.length || i.PrivateDnsEnabled))
        throw ec2Error('InvalidParameter', 'a gateway endpoint has no subnets, security groups or private DNS');
      if (!gateway && i.AddRouteTableIds?.length) throw ec2Error('InvalidParameter', 'an interface endpoint has no route tables');
      next.SubnetIds = [...new Set([...(e.SubnetIds ?? []), ...(i.AddSubnetIds ?? [])])].filter((x) => !(i.RemoveSubnetIds ?? []).includes(x));
      const groups = [...new Set([...(e.Groups ?? []).map((g) => g.GroupId!), ...(i.AddSecurityGroupIds ?? [])])].filter(
        (x) => !(i.RemoveSecurityGroupIds ?? []).includes(x),
      );
      next.Groups = groups.map((GroupId) => ({ GroupId, GroupName: group(GroupId).GroupName }));
      next.RouteTableIds = [...new Set([...(e.RouteTableIds ?? []), ...(i.AddRouteTableIds ?? [])])].filter((x) => !(i.RemoveRouteTableIds ?? []).includes(x));
      if (i.PrivateDnsEnabled !== undefined) next.PrivateDnsEnabled = i.PrivateDnsEnabled;
      if (gateway) checkGateway(next);
      else checkInterface(next);
      s.endpoints.set(e.VpcEndpointId!, next);
      return { Return: true };
    }),
  );

  ec2.on(DeleteVpcEndpointsCommand).callsFake(
    answer(DeleteVpcEndpointsCommand, (i: DeleteVpcEndpointsCommandInput) => {
      const ids = i.VpcEndpointIds ?? [];
      if (!ids.length) throw ec2Error('MissingParameter', 'The request must contain the parameter VpcEndpointId');
      if (ids.length > 25) throw ec2Error('InvalidParameterValue', 'DeleteVpcEndpoints takes at most 25 endpoints');
      const Unsuccessful = [];
      for (const id of ids) {
        const e = s.endpoints.get(id);
        if (!e || !live(e)) {
          Unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: `The VPC endpoint '${id}' does not exist` } });
          continue;
        }
        e.State = 'deleted' as State;
      }
      return { Unsuccessful };
    }),
  );

  return {
    /** The DNS attributes of a VPC (both on unless set here). */
    setVpcDns(vpcId: string, d: { support: boolean; hostnames: boolean }) {
      dns.set(vpcId, d);
    },
    /** Puts a subnet in an Availability Zone (default `<REGION>a`). */
    setZone(subnetId: string, az: string) {
      zones.set(subnetId, az);
    },
    /** A second CIDR block associated with a VPC. */
    addVpcCidr(vpcId: string, cidr: string) {
      extraCidrs.set(vpcId, [...(extraCidrs.get(vpcId) ?? []), cidr]);
    },
    /** The endpoints carrying ManagedBy=ssm-setup and not deleted. */
    ourEndpoints: () => [...s.endpoints.values()].filter((e) => live(e) && tagsOf(e.Tags).ManagedBy === 'ssm-setup'),
  };
}
