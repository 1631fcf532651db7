import {
  AssociateIamInstanceProfileCommand,
  type AssociateIamInstanceProfileCommandInput,
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandInput,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  DescribeRouteTablesCommand,
  type DescribeRouteTablesCommandInput,
  DescribeSecurityGroupsCommand,
  type DescribeSecurityGroupsCommandInput,
  DescribeVpcEndpointsCommand,
  type DescribeVpcEndpointsCommandInput,
  EC2Client,
  type Filter,
  type IamInstanceProfileAssociation,
  type IamInstanceProfileAssociationState,
  type Image,
  type Instance,
  type Route,
  type RouteTable,
  type SecurityGroup,
  type State,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { isWriteCall } from '../../src/aws/calls.js';
import { toTarget } from '../../src/aws/targets.js';
import type { TargetInstance } from '../../src/core/step.js';
import { type FakeEndpointOptions, fakeEc2Endpoints } from './fake-ec2-endpoints.js';
import { ALLOW_ALL_EGRESS, fakeEc2Network } from './fake-ec2-network.js';
import { ACCOUNT } from './fixtures.js';

/**
 * The one stateful EC2 world of the unit tests, behind aws-sdk-client-mock: VPCs (each with its
 * main route table, as EC2 creates it), subnets, route tables, VPC endpoints, security groups,
 * AMIs, instances and their instance-profile associations.
 *
 * It answers the reads the code makes, with the request filters applied the way EC2 does
 * (filters AND, values OR, `*`/`?` wildcards; a wrong filter returns nothing and the test fails):
 *
 * - DescribeInstances: InstanceIds or the filters `instance-id`, `instance-state-name`, `tag:<K>`,
 *   `tag-key`, `vpc-id`, `subnet-id`, `image-id`; one reservation per instance.
 * - DescribeRouteTables: `route-table-id`, `vpc-id`, `association.subnet-id`, `association.main`.
 * - DescribeVpcEndpoints: `vpc-id`, `service-name`, `vpc-endpoint-id`, `vpc-endpoint-type`,
 *   `vpc-endpoint-state` (states and types compared case-insensitively: EC2 answers `available`
 *   although the SDK enum says `Available`, and the world keeps whatever case a test stored).
 * - DescribeSecurityGroups: GroupIds or `group-id`, `group-name`, `vpc-id`.
 * - DescribeImages: ImageIds or `image-id`, `name`; disabled AMIs only with IncludeDisabled,
 *   deprecated ones only with IncludeDeprecated or by ImageIds.
 * - DescribeIamInstanceProfileAssociations: AssociationIds or `instance-id`, `state`.
 *
 * And the writes: AssociateIamInstanceProfile (one live association per instance, the profile
 * must exist: `profiles` option, and a just-created one is not seen at once: `profileLag`; the
 * association stays `associating` until `completeAssociations()`), CreateTags (on instances).
 *
 * As strict as EC2 where the code relies on it: more than 200 filter values in one call is
 * FilterLimitExceeded; an unknown filter name is InvalidParameterValue; MaxResults outside the
 * documented range, or with the ids parameter, is refused; unknown ids in an ids parameter
 * (InstanceIds, GroupIds, ImageIds…) are `*.NotFound` while the same ids in a filter just
 * match nothing; CreateTags takes 1 to 1000 resources and 50 tags per resource (`aws:` tags not counted): one
 * resource over the limit fails the whole call with TagLimitExceeded naming none, and nothing
 * is tagged. Errors carry
 * only a code as their name, as the EC2 query protocol has no modelled exceptions. Any other
 * command is rejected. Every call is recorded: `calls()`, `writes()`.
 */

/** An EC2 error: its code as the name (the query protocol has no modelled exceptions). */
export const ec2Error = (name: string, message: string, status = 400) =>
  Object.assign(new Error(message), { name, $fault: 'client' as const, $metadata: { httpStatusCode: status } });

export interface FakeRouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly main: boolean;
  /** Subnets explicitly associated with it. */
  subnets: string[];
  /** Routes besides the VPC's local route. */
  routes: Route[];
}

export interface FakeAssociation {
  readonly id: string;
  readonly instanceId: string;
  readonly profileArn: string;
  state: IamInstanceProfileAssociationState;
}

interface FakeVpc {
  readonly id: string;
  readonly cidr: string;
  readonly mainTable: string;
}

interface StoredInstance {
  data: Instance;
  /** Kept as given to addInstance (not copied): CreateTags writes into it. */
  tags: Record<string, string>;
}

export interface FakeEc2Options {
  /** Instance profile name → its ARN, or undefined when it does not exist (AssociateIamInstanceProfile). Default: every name exists. */
  readonly profiles?: (name: string) => string | undefined;
  /** A page size below what the caller asks for, to force pagination. */
  readonly pageSize?: number;
  /**
   * IAM → EC2 propagation: EC2 does not see an instance profile created a moment ago in IAM
   * ("it can take several seconds", EC2 user guide, IAM roles for EC2; Terraform's provider
   * retries AssociateIamInstanceProfile on this error for that reason). The first `calls`
   * AssociateIamInstanceProfile naming a profile that `fresh(name)` says was just created
   * answer InvalidParameterValue "Invalid IAM Instance Profile name", as for a profile that
   * does not exist. `fresh` defaults to every name. Default: no lag.
   */
  readonly profileLag?: { readonly calls: number; readonly fresh?: (name: string) => boolean };
  /** The endpoint side's strict options (fake-ec2-endpoints.ts). */
  readonly endpoints?: FakeEndpointOptions;
}

const FILTER_VALUE_LIMIT = 200;
/** User tags per EC2 resource; `aws:` tags do not count. */
export const TAG_LIMIT = 50;
const LIVE: readonly IamInstanceProfileAssociationState[] = ['associating', 'associated'];
const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

type Fields<T> = Readonly<Record<string, (item: T) => readonly (string | undefined)[]>>;
/** Filter names whose values EC2 compares without case (states, endpoint types). */
const NO_CASE = new Set(['vpc-endpoint-state', 'vpc-endpoint-type', 'instance-state-name', 'state']);

const glob = (pattern: string, noCase: boolean) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    noCase ? 'i' : '',
  );

/** The items matching every filter (AND), each filter any of its values (OR), as EC2 applies them. */
function filtered<T>(items: readonly T[], filters: readonly Filter[] | undefined, fields: Fields<T>, tags?: (item: T) => Record<string, string>): T[] {
  const all = filters ?? [];
  const count = all.reduce((n, f) => n + (f.Values?.length ?? 0), 0);
  if (count > FILTER_VALUE_LIMIT)
    throw ec2Error('FilterLimitExceeded', `The maximum number of filter values specified on a single call is ${FILTER_VALUE_LIMIT}`);
  const tests = all.map((f) => {
    const name = f.Name ?? '';
    const field =
      fields[name] ??
      (tags && name.startsWith('tag:') ? (i: T) => [tags(i)[name.slice(4)]] : tags && name === 'tag-key' ? (i: T) => Object.keys(tags(i)) : undefined);
    if (!field) throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    if (!f.Values?.length) throw ec2Error('InvalidParameterValue', `The filter '${name}' has no values`);
    const patterns = f.Values.map((v) => glob(v, NO_CASE.has(name)));
    return (item: T) => field(item).some((v) => v !== undefined && patterns.some((p) => p.test(v)));
  });
  return items.filter((item) => tests.every((t) => t(item)));
}

export function fakeEc2(opts: FakeEc2Options = {}) {
  const ec2: AwsClientStub<EC2Client> = mockClient(EC2Client);
  const vpcs = new Map<string, FakeVpc>();
  const subnets = new Map<string, { readonly id: string; readonly vpcId: string; readonly cidr?: string }>();
  const routeTables = new Map<string, FakeRouteTable>();
  const endpoints = new Map<string, VpcEndpoint>();
  const groups = new Map<string, SecurityGroup>();
  const images = new Map<string, Image>();
  const instances = new Map<string, StoredInstance>();
  const associations = new Map<string, FakeAssociation>();
  const failures = new Map<string, Error[]>();
  const refusals = new Map<string, Error>();
  /** AssociateIamInstanceProfile calls refused so far per profile name (`profileLag`). */
  const lagged = new Map<string, number>();
  let seq = 0;
  const nextId = (prefix: string) => `${prefix}-${(++seq).toString(16).padStart(17, '0')}`;
  const setup = (message: string) => new Error(`fake EC2 setup: ${message}`);

  ec2.rejects(Object.assign(new Error('fake EC2: command not implemented'), { name: 'FakeNotImplemented' }));

  /** Async (aws-sdk-client-mock hands a sync fake's value back as is), scripted failures first, input copied. */
  const answer =
    <I extends object>(command: { name: string }, fn: (input: I) => unknown) =>
    async (input: I) => {
      const failure = failures.get(command.name)?.shift() ?? refusals.get(command.name);
      if (failure) throw failure;
      return structuredClone(fn(structuredClone(input)));
    };

  /** One page of `items`: MaxResults checked against the operation's range, NextToken an offset. */
  const page = <T>(
    op: string,
    items: readonly T[],
    input: { MaxResults?: number; NextToken?: string },
    range?: { min: number; max: number },
    idsGiven = false,
  ) => {
    if (input.MaxResults !== undefined) {
      if (idsGiven) throw ec2Error('InvalidParameterCombination', `${op}: MaxResults cannot be combined with the ids parameter`);
      if (range && (input.MaxResults < range.min || input.MaxResults > range.max)) {
        throw ec2Error(
          'InvalidParameterValue',
          `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between ${range.min} and ${range.max}.`,
        );
      }
    }
    let start = 0;
    if (input.NextToken !== undefined) {
      const m = new RegExp(`^${op}:(\\d+)$`).exec(input.NextToken);
      if (!m) throw ec2Error('InvalidPaginationToken', `Invalid pagination token: ${input.NextToken}`);
      start = Number(m[1]);
    }
    const size = Math.min(input.MaxResults ?? Infinity, opts.pageSize ?? Infinity);
    const end = Math.min(start + size, items.length);
    return { items: items.slice(start, end), NextToken: end < items.length ? `${op}:${end}` : undefined };
  };
  /** The items of an ids parameter, in order; unknown ones are `<code>` naming them all, as EC2 does. */
  const byIds = <T>(ids: readonly string[], store: ReadonlyMap<string, T>, code: string, what: (missing: string[]) => string): T[] => {
    const unknown = ids.filter((id) => !store.has(id));
    if (unknown.length) throw ec2Error(code, what(unknown));
    return [...new Set(ids)].map((id) => store.get(id)!);
  };

  // Network ACLs and the instances' security groups live in their own file.
  const network = fakeEc2Network({ ec2, vpcs, subnets, groups, answer, page, filtered, ec2Error });

  // --- Instances -------------------------------------------------------------------------------

  const instanceView = (s: StoredInstance): Instance => {
    const tags = Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value }));
    return { ...s.data, ...(tags.length ? { Tags: tags } : {}) };
  };
  const stored = (id: string) => {
    const s = instances.get(id);
    if (!s) throw setup(`no instance ${id}`);
    return s;
  };
  const liveAssociation = (instanceId: string) => [...associations.values()].find((a) => a.instanceId === instanceId && LIVE.includes(a.state));

  ec2.on(DescribeInstancesCommand).callsFake(
    answer(DescribeInstancesCommand, (i: DescribeInstancesCommandInput) => {
      for (const id of i.InstanceIds ?? []) if (!INSTANCE_ID.test(id)) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      const base = i.InstanceIds?.length
        ? byIds(i.InstanceIds, instances, 'InvalidInstanceID.NotFound', (ids) =>
            ids.length > 1 ? `The instance IDs '${ids.join(', ')}' do not exist` : `The instance ID '${ids[0]}' does not exist`,
          )
        : [...instances.values()];
      const found = filtered(
        base,
        i.Filters,
        {
          'instance-id': (s) => [s.data.InstanceId],
          'instance-state-name': (s) => [s.data.State?.Name],
          'vpc-id': (s) => [s.data.VpcId],
          'subnet-id': (s) => [s.data.SubnetId],
          'image-id': (s) => [s.data.ImageId],
          'iam-instance-profile.arn': (s) => [s.data.IamInstanceProfile?.Arn],
        },
        (s) => s.tags,
      );
      const { items, NextToken } = page('DescribeInstances', found, i, { min: 5, max: 1000 }, !!i.InstanceIds?.length);
      return {
        Reservations: items.map((s, n) => ({ ReservationId: `r-${n.toString(16).padStart(17, '0')}`, OwnerId: ACCOUNT, Instances: [instanceView(s)] })),
        NextToken,
      };
    }),
  );

  ec2.on(CreateTagsCommand).callsFake(
    answer(CreateTagsCommand, (i: CreateTagsCommandInput) => {
      const ids = i.Resources ?? [];
      if (!ids.length || ids.length > 1000) throw ec2Error('InvalidParameterValue', 'CreateTags takes 1 to 1000 resources');
      if (!i.Tags?.length) throw ec2Error('MissingParameter', 'The request must contain the parameter tagSet');
      for (const t of i.Tags)
        if (/^aws:/i.test(t.Key ?? '')) throw ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use: ${t.Key}`);
      const other = ids.filter((id) => !id.startsWith('i-'));
      if (other.length) throw ec2Error('InvalidID', `The ID '${other[0]}' is not valid (the fake tags instances only)`);
      const unknown = ids.filter((id) => !instances.has(id));
      if (unknown.length) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
      // 50 tags per resource, `aws:` ones not counted, a key it has already only overwritten.
      // One resource over the limit fails the whole call, before any is tagged, and the answer
      // names none of them (as EC2 does; moto models the same).
      for (const id of ids) {
        const tags = instances.get(id)!.tags;
        const keys = new Set([...Object.keys(tags), ...i.Tags.map((t) => t.Key ?? '')].filter((k) => !/^aws:/i.test(k)));
        if (keys.size > TAG_LIMIT) throw ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
      }
      for (const id of ids) for (const t of i.Tags) instances.get(id)!.tags[t.Key ?? ''] = t.Value ?? '';
      return {};
    }),
  );

  // --- Instance profile associations ---------------------------------------------------------

  const associationView = (a: FakeAssociation): IamInstanceProfileAssociation => ({
    AssociationId: a.id,
    InstanceId: a.instanceId,
    IamInstanceProfile: { Arn: a.profileArn, Id: `AIPA${a.profileArn.slice(a.profileArn.lastIndexOf('/') + 1).toUpperCase()}` },
    State: a.state,
  });
  const profileArn = (name: string) => (opts.profiles ? opts.profiles(name) : `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`);

  ec2.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
    answer(DescribeIamInstanceProfileAssociationsCommand, (i: DescribeIamInstanceProfileAssociationsCommandInput) => {
      const base = i.AssociationIds?.length
        ? byIds(i.AssociationIds, associations, 'InvalidAssociationID.NotFound', (ids) => `The association ID '${ids[0]}' does not exist`)
        : [...associations.values()];
      const found = filtered(base, i.Filters, { 'instance-id': (a) => [a.instanceId], state: (a) => [a.state] });
      const { items, NextToken } = page('DescribeIamInstanceProfileAssociations', found, i, { min: 5, max: 1000 }, !!i.AssociationIds?.length);
      return { IamInstanceProfileAssociations: items.map(associationView), NextToken };
    }),
  );

  ec2.on(AssociateIamInstanceProfileCommand).callsFake(
    answer(AssociateIamInstanceProfileCommand, (i: AssociateIamInstanceProfileCommandInput) => {
      const instanceId = i.InstanceId ?? '';
      if (!INSTANCE_ID.test(instanceId)) throw ec2Error('InvalidParameterValue', `Value (${instanceId}) for parameter instanceId is invalid.`);
      const inst = instances.get(instanceId);
      if (!inst) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
      const state = inst.data.State?.Name;
      if (state !== 'running' && state !== 'stopped')
        throw ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in the 'running' or 'stopped' state.`);
      if (liveAssociation(instanceId)) throw ec2Error('IncorrectState', `There is an existing association for instance ${instanceId}`);
      const name = i.IamInstanceProfile?.Name ?? (i.IamInstanceProfile?.Arn ?? '').slice((i.IamInstanceProfile?.Arn ?? '').lastIndexOf('/') + 1);
      const arn = profileArn(name);
      const invalid = () =>
        ec2Error('InvalidParameterValue', `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
      if (!arn) throw invalid();
      const lag = opts.profileLag;
      if (lag && (lag.fresh?.(name) ?? true) && (lagged.get(name) ?? 0) < lag.calls) {
        lagged.set(name, (lagged.get(name) ?? 0) + 1);
        throw invalid();
      }
      const a: FakeAssociation = { id: `iip-assoc-${(++seq).toString(16).padStart(17, '0')}`, instanceId, profileArn: arn, state: 'associating' };
      associations.set(a.id, a);
      return { IamInstanceProfileAssociation: associationView(a) };
    }),
  );

  // --- Route tables ----------------------------------------------------------------------------

  const localRoute = (vpcId: string): Route => ({
    DestinationCidrBlock: vpcs.get(vpcId)!.cidr,
    GatewayId: 'local',
    State: 'active',
    Origin: 'CreateRouteTable',
  });
  const tableView = (t: FakeRouteTable): RouteTable => ({
    RouteTableId: t.id,
    VpcId: t.vpcId,
    OwnerId: ACCOUNT,
    Associations: [
      ...(t.main
        ? [{ Main: true, RouteTableId: t.id, RouteTableAssociationId: `rtbassoc-main-${t.id}`, AssociationState: { State: 'associated' as const } }]
        : []),
      ...t.subnets.map((SubnetId) => ({
        Main: false,
        SubnetId,
        RouteTableId: t.id,
        RouteTableAssociationId: `rtbassoc-${SubnetId}`,
        AssociationState: { State: 'associated' as const },
      })),
    ],
    Routes: [localRoute(t.vpcId), ...t.routes],
  });

  ec2.on(DescribeRouteTablesCommand).callsFake(
    answer(DescribeRouteTablesCommand, (i: DescribeRouteTablesCommandInput) => {
      const base = i.RouteTableIds?.length
        ? byIds(i.RouteTableIds, routeTables, 'InvalidRouteTableID.NotFound', (ids) => `The routeTable ID '${ids[0]}' does not exist`)
        : [...routeTables.values()];
      const found = filtered(base, i.Filters, {
        'route-table-id': (t) => [t.id],
        'vpc-id': (t) => [t.vpcId],
        'association.subnet-id': (t) => t.subnets,
        // A table matches `true` when it is the main one, `false` when a subnet is associated with it.
        'association.main': (t) => [...(t.main ? ['true'] : []), ...(t.subnets.length ? ['false'] : [])],
      });
      const { items, NextToken } = page('DescribeRouteTables', found, i, { min: 5, max: 100 }, !!i.RouteTableIds?.length);
      return { RouteTables: items.map(tableView), NextToken };
    }),
  );

  // --- VPC endpoints, security groups, images ------------------------------------------------

  ec2.on(DescribeVpcEndpointsCommand).callsFake(
    answer(DescribeVpcEndpointsCommand, (i: DescribeVpcEndpointsCommandInput) => {
      const base = i.VpcEndpointIds?.length
        ? byIds(i.VpcEndpointIds, endpoints, 'InvalidVpcEndpointId.NotFound', (ids) => `The Vpc Endpoint Id '${ids[0]}' does not exist`)
        : [...endpoints.values()];
      const found = filtered(
        base,
        i.Filters,
        {
          'vpc-id': (e) => [e.VpcId],
          'service-name': (e) => [e.ServiceName],
          'vpc-endpoint-id': (e) => [e.VpcEndpointId],
          'vpc-endpoint-type': (e) => [e.VpcEndpointType],
          'vpc-endpoint-state': (e) => [e.State],
        },
        (e) => Object.fromEntries((e.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      );
      // "If the value is greater than 1,000, we return only 1,000 items."
      const { items, NextToken } = page('DescribeVpcEndpoints', found, {
        ...i,
        MaxResults: i.MaxResults === undefined ? undefined : Math.min(i.MaxResults, 1000),
      });
      return { VpcEndpoints: items, NextToken };
    }),
  );

  ec2.on(DescribeSecurityGroupsCommand).callsFake(
    answer(DescribeSecurityGroupsCommand, (i: DescribeSecurityGroupsCommandInput) => {
      const base = i.GroupIds?.length
        ? byIds(i.GroupIds, groups, 'InvalidGroup.NotFound', (ids) => `The security group '${ids[0]}' does not exist`)
        : [...groups.values()];
      const found = filtered(base, i.Filters, { 'group-id': (g) => [g.GroupId], 'group-name': (g) => [g.GroupName], 'vpc-id': (g) => [g.VpcId] });
      const { items, NextToken } = page('DescribeSecurityGroups', found, i, { min: 5, max: 1000 }, !!i.GroupIds?.length);
      return { SecurityGroups: items, NextToken };
    }),
  );

  ec2.on(DescribeImagesCommand).callsFake(
    answer(DescribeImagesCommand, (i: DescribeImagesCommandInput) => {
      const byId = !!i.ImageIds?.length;
      const base = byId
        ? byIds(i.ImageIds!, images, 'InvalidAMIID.NotFound', (ids) => `The image id '[${ids.join(', ')}]' does not exist`)
        : [...images.values()];
      const now = Date.now();
      const shown = base.filter(
        (img) =>
          (img.State !== 'disabled' || i.IncludeDisabled === true) &&
          (!img.DeprecationTime || Date.parse(img.DeprecationTime) > now || i.IncludeDeprecated === true || byId),
      );
      const found = filtered(shown, i.Filters, { 'image-id': (img) => [img.ImageId], name: (img) => [img.Name] });
      const { items, NextToken } = page('DescribeImages', found, i, { min: 5, max: 1000 }, byId);
      return { Images: items, NextToken };
    }),
  );

  // --- Building the world ----------------------------------------------------------------------

  const world = {
    /** The aws-sdk-client-mock stub: assertions on calls go here. */
    ec2,
    vpcs,
    subnets,
    routeTables,
    endpoints,
    groups,
    images,
    associations,

    /** A VPC and its main route table (the local route, plus `routes`). */
    addVpc(id: string, o: { cidr?: string; mainTable?: string; routes?: Route[] } = {}) {
      if (vpcs.has(id)) throw setup(`VPC ${id} exists`);
      const mainTable = o.mainTable ?? `rtb-main-${id}`;
      vpcs.set(id, { id, cidr: o.cidr ?? '10.0.0.0/16', mainTable });
      routeTables.set(mainTable, { id: mainTable, vpcId: id, main: true, subnets: [], routes: [...(o.routes ?? [])] });
      return world;
    },
    /** A subnet of a VPC (made if new), explicitly associated with `table` when given. */
    addSubnet(id: string, vpcId: string, o: { table?: string; cidr?: string } = {}) {
      if (!vpcs.has(vpcId)) world.addVpc(vpcId);
      const known = subnets.get(id);
      if (known && known.vpcId !== vpcId) throw setup(`subnet ${id} is in ${known.vpcId}, not ${vpcId}`);
      // Its IPv4 range (DescribeSubnets' CidrBlock): the VPC's unless given.
      subnets.set(id, { id, vpcId, cidr: o.cidr ?? known?.cidr ?? vpcs.get(vpcId)!.cidr });
      if (o.table) world.associate(o.table, id);
      return world;
    },
    /** A route table of a VPC (made if new) with these routes besides the local one, associated with `subnets` (made if new). */
    addRouteTable(id: string, vpcId: string, o: { subnets?: string[]; routes?: Route[] } = {}) {
      if (!vpcs.has(vpcId)) world.addVpc(vpcId);
      if (routeTables.has(id)) throw setup(`route table ${id} exists`);
      routeTables.set(id, { id, vpcId, main: false, subnets: [], routes: [...(o.routes ?? [])] });
      for (const s of o.subnets ?? []) world.addSubnet(s, vpcId, { table: id });
      return world;
    },
    /** Associates a subnet with a table of its VPC; a subnet has at most one explicit association. */
    associate(tableId: string, subnetId: string) {
      const t = routeTables.get(tableId);
      const s = subnets.get(subnetId);
      if (!t || !s) throw setup(`no route table ${tableId} or subnet ${subnetId}`);
      if (t.vpcId !== s.vpcId) throw setup(`subnet ${subnetId} and route table ${tableId} are in different VPCs`);
      if ([...routeTables.values()].some((x) => x.subnets.includes(subnetId)))
        throw setup(`subnet ${subnetId} is already associated (Resource.AlreadyAssociated)`);
      t.subnets.push(subnetId);
    },
    /** Replaces a table's routes (the local route stays). */
    setRoutes(tableId: string, routes: Route[]) {
      const t = routeTables.get(tableId);
      if (!t) throw setup(`no route table ${tableId}`);
      t.routes = [...routes];
    },
    /** A VPC endpoint, as EC2 lists it: an id, Interface, `available` (lower case) and private DNS on for an interface one unless given. */
    addEndpoint(e: Partial<VpcEndpoint> & { VpcId: string; ServiceName: string }): VpcEndpoint {
      const type = e.VpcEndpointType ?? 'Interface';
      const endpoint: VpcEndpoint = {
        VpcEndpointId: nextId('vpce'),
        VpcEndpointType: type,
        State: 'available' as State,
        ...(String(type).toLowerCase() === 'interface' ? { PrivateDnsEnabled: true } : {}),
        OwnerId: ACCOUNT,
        ...e,
      };
      if (endpoints.has(endpoint.VpcEndpointId!)) throw setup(`endpoint ${endpoint.VpcEndpointId} exists`);
      endpoints.set(endpoint.VpcEndpointId!, endpoint);
      return endpoint;
    },
    addSecurityGroup(g: SecurityGroup & { GroupId: string }) {
      // As EC2 creates a group: egress to anywhere unless given.
      groups.set(g.GroupId, { GroupName: g.GroupId, OwnerId: ACCOUNT, IpPermissionsEgress: [ALLOW_ALL_EGRESS], ...g });
      return world;
    },
    addImage(i: Image & { ImageId: string }) {
      images.set(i.ImageId, { State: 'available', ...i });
      return world;
    },
    /**
     * An instance (replaced when its id exists): running on Linux/UNIX unless given, its VPC
     * taken from a known subnet. With IamInstanceProfile it has an `associated` association; a
     * replacement without one ends an `associated` one. `tags` is kept, not copied.
     */
    addInstance(i: Partial<Instance> & { InstanceId: string }, o: { tags?: Record<string, string> } = {}): string {
      const subnet = i.SubnetId ? subnets.get(i.SubnetId) : undefined;
      if (subnet && i.VpcId && subnet.vpcId !== i.VpcId) throw setup(`subnet ${i.SubnetId} is in ${subnet.vpcId}, not ${i.VpcId}`);
      network.ensureGroups((i.SecurityGroups ?? []).map((g) => g.GroupId ?? '').filter(Boolean), i.VpcId ?? subnet?.vpcId);
      const { Tags, ...data } = i;
      const tags = o.tags ?? Object.fromEntries((Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
      instances.set(i.InstanceId, {
        data: { State: { Name: 'running', Code: 16 }, PlatformDetails: 'Linux/UNIX', ...(subnet ? { VpcId: subnet.vpcId } : {}), ...data },
        tags,
      });
      // An `associating` association does not show in DescribeInstances yet: a record without a
      // profile leaves it alone, but it ends an `associated` one (and another profile ends either).
      const arn = i.IamInstanceProfile?.Arn;
      const live = liveAssociation(i.InstanceId);
      if (live && live.profileArn !== arn && (arn || live.state === 'associated')) live.state = 'disassociated';
      if (arn && !liveAssociation(i.InstanceId)) world.addAssociation(i.InstanceId, arn, 'associated');
      return i.InstanceId;
    },
    /** The stored instance (mutable; its tags are `tags(id)`). */
    instance: (id: string) => stored(id).data,
    tags: (id: string) => stored(id).tags,
    /** An association made outside the code under test (another tool, an earlier run). */
    addAssociation(instanceId: string, profileArn: string, state: IamInstanceProfileAssociationState = 'associated'): FakeAssociation {
      if (!instances.has(instanceId)) throw setup(`no instance ${instanceId}`);
      const a: FakeAssociation = { id: `iip-assoc-${(++seq).toString(16).padStart(17, '0')}`, instanceId, profileArn, state };
      associations.set(a.id, a);
      return a;
    },
    /** The live (associating or associated) association of an instance, if any. */
    associationOf: liveAssociation,
    /** Every `associating` association becomes `associated`, and DescribeInstances shows the profile. */
    completeAssociations() {
      for (const a of associations.values()) {
        if (a.state !== 'associating') continue;
        a.state = 'associated';
        const inst = instances.get(a.instanceId);
        if (inst) inst.data.IamInstanceProfile = { Arn: a.profileArn, Id: associationView(a).IamInstanceProfile!.Id };
      }
    },
    /** The instances as ctx.targets() resolves them now (src/aws/targets.ts toTarget). */
    targets: (ids: readonly string[] = [...instances.keys()]): TargetInstance[] => ids.map((id) => toTarget(instanceView(stored(id)))),
    /** The next `times` calls of `command` fail with `error`, then the fake answers again. */
    failNext(command: { name: string }, error: Error, times = 1) {
      failures.set(command.name, [...(failures.get(command.name) ?? []), ...Array.from({ length: times }, () => error)]);
    },
    /** Every call of `command` fails with `error` from now on (access denied, say). */
    refuse(command: { name: string }, error: Error) {
      refusals.set(command.name, error);
    },
    /** Operation names of the calls so far, in order (`DescribeInstances`…). */
    calls: () => ec2.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, '')),
    count: (op: string) => world.calls().filter((c) => c === op).length,
    /** Write calls so far, in order (CreateTags, AssociateIamInstanceProfile). */
    writes: () => world.calls().filter(isWriteCall),
    restore: () => ec2.restore(),
  };
  // The endpoint calls (and the VPC, subnet and security-group writes they need) live in their own file.
  return Object.assign(
    world,
    fakeEc2Endpoints({ ec2, vpcs, subnets, routeTables, endpoints, groups, answer, page, filtered, nextId, ec2Error }, opts.endpoints),
    network,
  );
}

export type FakeEc2 = ReturnType<typeof fakeEc2>;

/** The command names of every call to these stubs, in the order they were made (`CreateRoleCommand`…). */
export function callOrder(...stubs: AwsClientStub<any>[]): string[] {
  return stubs
    .flatMap((s) => s.calls())
    .sort((a, b) => (a.calledBefore(b) ? -1 : 1))
    .map((c) => (c.args[0] as object).constructor.name);
}
