import {
  DescribeNetworkAclsCommand,
  type DescribeNetworkAclsCommandInput,
  type EC2Client,
  type IpPermission,
  type NetworkAcl,
  type NetworkAclEntry,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Answer, Filtered, Page } from './fake-ec2-types.js';
import { ACCOUNT } from './fixtures.js';

/**
 * The network side of the stateful EC2 fake (fake-ec2.ts wires it into its world, on the same
 * stores): network ACLs and the security groups of instances. As EC2 does (VPC user guide,
 * "Control subnet traffic with network access control lists" and "Security group rules"):
 *
 * - every VPC has a default network ACL that allows all traffic in and out (rules 100, then the
 *   `*` deny, 32767, which cannot be changed); every subnet is associated with exactly one ACL:
 *   the default one until `associateNacl`; DescribeNetworkAcls takes the filters
 *   `association.subnet-id`, `network-acl-id`, `vpc-id` and `default` (and `NetworkAclIds`, whose
 *   unknown ids are InvalidNetworkAclID.NotFound), MaxResults 5..100;
 * - rule numbers are 1..32766 and unique per direction of an ACL (NetworkAclEntryAlreadyExists);
 * - a security group is created with one egress rule allowing all traffic to 0.0.0.0/0; an
 *   instance's groups exist (EC2 refuses to launch with an unknown one), so an instance added
 *   with a group the world lacks gets it, as `default` would be, with that egress rule.
 */

export interface NetworkStores {
  readonly ec2: AwsClientStub<EC2Client>;
  readonly vpcs: ReadonlyMap<string, { readonly id: string }>;
  readonly subnets: ReadonlyMap<string, { readonly id: string; readonly vpcId: string }>;
  readonly groups: Map<string, SecurityGroup>;
  readonly answer: Answer;
  readonly page: Page;
  readonly filtered: Filtered;
  readonly ec2Error: (name: string, message: string) => Error;
}

/** The egress rule EC2 gives every new security group. */
export const ALLOW_ALL_EGRESS: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

interface FakeAcl {
  readonly id: string;
  readonly vpcId: string;
  readonly isDefault: boolean;
  entries: NetworkAclEntry[];
}

/** The rules of a default ACL: all traffic allowed (100), then the `*` rule (32767) denying it. */
const openEntries = (): NetworkAclEntry[] =>
  [true, false].flatMap((Egress) => [
    { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow' as const, Egress, CidrBlock: '0.0.0.0/0' },
    { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny' as const, Egress, CidrBlock: '0.0.0.0/0' },
  ]);

export function fakeEc2Network(s: NetworkStores) {
  const { ec2, answer, page, filtered, ec2Error } = s;
  const acls = new Map<string, FakeAcl>();
  /** Subnet id → the ACL it is explicitly associated with. */
  const associated = new Map<string, string>();
  const setup = (message: string) => new Error(`fake EC2 setup: ${message}`);

  /** The VPC's default ACL, made on first use (EC2 makes it with the VPC). */
  const defaultAcl = (vpcId: string): FakeAcl => {
    const id = `acl-default-${vpcId}`;
    if (!acls.has(id)) acls.set(id, { id, vpcId, isDefault: true, entries: openEntries() });
    return acls.get(id)!;
  };
  const aclOf = (subnetId: string): FakeAcl | undefined => {
    const subnet = s.subnets.get(subnetId);
    if (!subnet) return undefined;
    return acls.get(associated.get(subnetId) ?? '') ?? defaultAcl(subnet.vpcId);
  };
  const subnetsOf = (acl: FakeAcl) => [...s.subnets.values()].filter((x) => aclOf(x.id)?.id === acl.id).map((x) => x.id);
  const view = (acl: FakeAcl): NetworkAcl => ({
    NetworkAclId: acl.id,
    VpcId: acl.vpcId,
    IsDefault: acl.isDefault,
    OwnerId: ACCOUNT,
    Entries: structuredClone(acl.entries),
    Associations: subnetsOf(acl).map((SubnetId) => ({ NetworkAclAssociationId: `aclassoc-${SubnetId}`, NetworkAclId: acl.id, SubnetId })),
  });

  ec2.on(DescribeNetworkAclsCommand).callsFake(
    answer(DescribeNetworkAclsCommand, (i: DescribeNetworkAclsCommandInput) => {
      for (const v of s.vpcs.keys()) defaultAcl(v);
      const base = i.NetworkAclIds?.length
        ? i.NetworkAclIds.map((id) => {
            if (!acls.has(id)) throw ec2Error('InvalidNetworkAclID.NotFound', `The network ACL ID '${id}' does not exist`);
            return acls.get(id)!;
          })
        : [...acls.values()];
      const found = filtered(base, i.Filters, {
        'association.subnet-id': (a) => subnetsOf(a),
        'network-acl-id': (a) => [a.id],
        'vpc-id': (a) => [a.vpcId],
        default: (a) => [String(a.isDefault)],
      });
      const { items, NextToken } = page('DescribeNetworkAcls', found, i, { min: 5, max: 100 }, !!i.NetworkAclIds?.length);
      return { NetworkAcls: items.map(view), NextToken };
    }),
  );

  const entry = (aclId: string) => {
    const acl = acls.get(aclId);
    if (!acl) throw setup(`no network ACL ${aclId}`);
    return acl;
  };

  const net = {
    /**
     * A network ACL of a VPC with these rules (the `*` deny rules are added, as EC2 shows them),
     * associated with `subnets`. A new ACL without rules denies everything.
     */
    addNacl(id: string, vpcId: string, o: { entries?: NetworkAclEntry[]; subnets?: string[] } = {}) {
      if (acls.has(id)) throw setup(`network ACL ${id} exists`);
      if (!s.vpcs.has(vpcId)) throw setup(`no VPC ${vpcId}`);
      acls.set(id, { id, vpcId, isDefault: false, entries: [] });
      for (const e of o.entries ?? []) net.addNaclEntry(id, e);
      for (const d of [true, false]) acls.get(id)!.entries.push({ RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: d, CidrBlock: '0.0.0.0/0' });
      for (const subnet of o.subnets ?? []) net.associateNacl(id, subnet);
    },
    /** One rule (CreateNetworkAclEntry's rules: 1..32766, unique per direction). */
    addNaclEntry(aclId: string, e: NetworkAclEntry) {
      const acl = entry(aclId);
      const n = e.RuleNumber ?? 0;
      if (n < 1 || n > 32766) throw setup(`rule number ${n} outside 1..32766`);
      if (acl.entries.some((x) => x.RuleNumber === n && !!x.Egress === !!e.Egress)) throw setup(`NetworkAclEntryAlreadyExists: rule ${n} of ${aclId}`);
      acl.entries.push({ ...e });
    },
    /** Replaces the subnet's association (the default ACL's until now). */
    associateNacl(aclId: string, subnetId: string) {
      const acl = entry(aclId);
      const subnet = s.subnets.get(subnetId);
      if (!subnet) throw setup(`no subnet ${subnetId}`);
      if (subnet.vpcId !== acl.vpcId) throw setup(`subnet ${subnetId} and ${aclId} are in different VPCs`);
      associated.set(subnetId, aclId);
    },
    /** The ACL a subnet is associated with now (its VPC's default one unless associated). */
    naclOf: (subnetId: string) => aclOf(subnetId)?.id,
    /** The rules of a VPC's default ACL, to break one (the `*` rules stay). */
    defaultNacl: (vpcId: string) => defaultAcl(vpcId).id,
    /** Replaces every user rule of an ACL (the `*` rules stay). */
    setNaclEntries(aclId: string, entries: NetworkAclEntry[]) {
      const acl = entry(aclId);
      acl.entries = acl.entries.filter((x) => x.RuleNumber === 32767);
      for (const e of entries) net.addNaclEntry(aclId, e);
    },
    /** The egress rules of a security group, replaced (to close 443, say). */
    setEgress(groupId: string, rules: IpPermission[]) {
      const g = s.groups.get(groupId);
      if (!g) throw setup(`no security group ${groupId}`);
      g.IpPermissionsEgress = structuredClone(rules);
    },
    /** The groups an instance names exist: those the world lacks are made, with EC2's default egress. */
    ensureGroups(groupIds: readonly string[], vpcId: string | undefined) {
      for (const GroupId of groupIds) {
        if (!s.groups.has(GroupId)) {
          s.groups.set(GroupId, { GroupId, GroupName: GroupId, OwnerId: ACCOUNT, VpcId: vpcId, IpPermissions: [], IpPermissionsEgress: [ALLOW_ALL_EGRESS] });
        }
      }
    },
  };
  return net;
}
