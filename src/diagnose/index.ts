import type { EC2Client, IpPermission, RouteTable, SecurityGroup, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { DEFAULTS } from '../config/load.js';
import type { TargetInstance } from '../core/step.js';
import {
  agentInstallCommands,
  agentLogPath,
  agentPlatform,
  agentPreinstalled,
  agentStatusCommand,
  platformLabel,
} from '../policies/agent-install.js';
import { chunks } from '../base/batch.js';
import type { Clients } from '../core/clients.js';
import { isAccessDenied, isNotFound } from '../aws/errors.js';

/** One thing that was checked about an instance; `check` prints them as a row. */
export interface Finding {
  /** Which check: one of {@link CHECKS}. */
  readonly check: string;
  readonly status: 'ok' | 'warning' | 'error';
  readonly detail: string;
  /** One line that fixes it (a command, or what to do). */
  readonly fix?: string;
}

/** Why an instance that Systems Manager does not list is not managed, and what to do. */
export interface Diagnosis {
  readonly instanceId: string;
  /** The most likely cause, in the order: stopped, no profile, role rights, network, no agent, agent not running. */
  readonly cause: string;
  /** The steps to take, in order: the fix of the cause first, then those of the other errors found. */
  readonly fix: string[];
  /** A launch script that installs the agent, when the platform has none. */
  readonly userData?: string;
  /** Everything that was checked, ok ones included. */
  readonly findings: Finding[];
}

export interface DiagnoseContext {
  readonly region: string;
  readonly partition: string;
  /**
   * The ssm-setup instance policy (`--instance-policy`). A role with it attached, or with any
   * customer policy of the same name, has the agent's rights. Defaults to the default name.
   */
  readonly instancePolicyArn?: string;
  /**
   * What the session preferences use: KMS encryption, CloudWatch Logs, S3 logging. An instance
   * without a route out then also needs the `kms` and `logs` interface endpoints and the S3
   * gateway endpoint. None by default.
   */
  readonly needs?: { readonly kms?: boolean; readonly logs?: boolean; readonly s3?: boolean };
}

/** The `check` of each finding. */
export const CHECKS = {
  state: 'state',
  profile: 'instance-profile',
  rights: 'role-rights',
  route: 'route',
  endpoints: 'endpoints',
  endpoint: <S extends EndpointService | FeatureEndpointService>(service: S) => `endpoint:${service}` as const,
  /** The security groups of the interface endpoints the instance uses admit TCP 443 from it. */
  endpointSg: 'endpoint-sg',
  agent: 'agent',
} as const;

/**
 * The interface endpoints a private subnet needs to reach Systems Manager: ssm and ssmmessages
 * always; ec2messages for agents older than 3.3.40.0 (a warning only).
 */
export const ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];
const REQUIRED: ReadonlySet<EndpointService> = new Set(['ssm', 'ssmmessages']);

/**
 * Endpoints needed only for what the session preferences use ({@link DiagnoseContext.needs}):
 * `kms` and `logs` are interface endpoints, `s3` a gateway endpoint on the subnet's route table.
 */
export const FEATURE_ENDPOINT_SERVICES = ['kms', 'logs', 's3'] as const;
export type FeatureEndpointService = (typeof FEATURE_ENDPOINT_SERVICES)[number];
type InterfaceService = EndpointService | 'kms' | 'logs';

/** The interface endpoints an instance of this context may use: the Systems Manager ones, then kms and logs when needed. */
function interfaceServices(ctx: DiagnoseContext): InterfaceService[] {
  return [...ENDPOINT_SERVICES, ...(ctx.needs?.kms ? (['kms'] as const) : []), ...(ctx.needs?.logs ? (['logs'] as const) : [])];
}

/** AWS managed policies that give the agent what it needs to register and open sessions. */
export const AGENT_MANAGED_POLICIES = ['AmazonSSMManagedInstanceCore', 'AmazonSSMManagedEC2InstanceDefaultPolicy'] as const;
/** Deprecated, but it grants the agent's rights: a warning, not a cause. */
const DEPRECATED_AGENT_POLICY = 'AmazonEC2RoleforSSM';

/** How many IAM reads run at once (IAM throttles early; the client retries adaptively). */
const IAM_CONCURRENCY = 8;

/**
 * Explains, for each instance that Systems Manager does not list as managed, the most likely
 * reason, from what can be read: EC2 state, instance profile and its role's policies, the
 * subnet's route table and the VPC's endpoints, and the AMI. Reads scale with the fleet, not
 * with the instances: one call per batch of 50 distinct subnets, VPCs, images or endpoint
 * security groups, and one IAM read per distinct profile and role. A read the caller may not
 * make becomes a warning finding ("could not read … (missing <action>)"); other errors are
 * thrown. Read-only.
 */
export async function diagnoseUnmanaged(aws: Clients, ctx: DiagnoseContext, instances: readonly TargetInstance[]): Promise<Diagnosis[]> {
  if (!instances.length) return [];
  const reads = await readAll(aws, ctx, instances);
  return instances.map((t) => diagnose(t, reads, ctx));
}

// ---------------------------------------------------------------------------------------------
// Reads

/** A read the caller is not allowed to make, with the IAM action it lacks. */
interface Denied {
  readonly denied: string;
}
const isDenied = (v: unknown): v is Denied => typeof v === 'object' && v !== null && 'denied' in v;

/** `allowed` for a read repeated per profile or role: once denied, the next ones are not attempted. */
function allowedOnce(action: string): <T>(read: () => Promise<T>) => Promise<T | Denied> {
  let denied: Denied | undefined;
  return async (read) => {
    if (denied) return denied;
    const out = await allowed(action, read);
    if (isDenied(out)) denied = out;
    return out;
  };
}

async function allowed<T>(action: string, read: () => Promise<T>): Promise<T | Denied> {
  try {
    return await read();
  } catch (err) {
    if (isAccessDenied(err)) return { denied: action };
    throw err;
  }
}

type ProfileRead = { readonly name: string; readonly roles: readonly string[] } | 'missing' | Denied;
interface RoleRead {
  readonly attached: readonly string[] | Denied;
  /** Read only when no attached policy gives the rights. */
  readonly inline?: readonly string[] | Denied;
}
interface RouteInfo {
  readonly tableId: string;
  /** The VPC's main table (the subnet has no table of its own). */
  readonly main: boolean;
  /** Where 0.0.0.0/0 goes: an internet or NAT gateway, something else (transit gateway, appliance…), nowhere. */
  readonly egress: 'internet' | 'other' | 'none';
  /** For `internet`: a NAT gateway, or an internet gateway (which serves only instances with a public IP). */
  readonly via?: 'nat' | 'igw';
  readonly target?: string;
}
interface ImageInfo {
  readonly name: string;
  readonly description: string;
}
interface Reads {
  readonly profiles: ReadonlyMap<string, ProfileRead>;
  readonly roles: ReadonlyMap<string, RoleRead>;
  readonly routes: ReadonlyMap<string, RouteInfo> | Denied;
  readonly endpoints: ReadonlyMap<string, readonly VpcEndpoint[]> | Denied;
  /** The security groups of the usable interface endpoints, by id (a group that could not be found is absent). */
  readonly groups: ReadonlyMap<string, SecurityGroup> | Denied;
  readonly images: ReadonlyMap<string, ImageInfo> | Denied;
}

const distinct = (values: readonly (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];
const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

async function readAll(aws: Clients, ctx: DiagnoseContext, instances: readonly TargetInstance[]): Promise<Reads> {
  // The EC2 client costs half a second to load: only now that there is something to diagnose.
  const ec2mod = await import('@aws-sdk/client-ec2');
  const ec2 = aws.get(ec2mod.EC2Client);
  const imageIds = distinct(instances.filter((t) => agentPlatform(t.platform) === 'linux').map((t) => t.imageId));
  const vpcIds = distinct(instances.map((t) => t.vpcId));
  const [routes, { endpoints, groups }, images, iam] = await Promise.all([
    allowed('ec2:DescribeRouteTables', () => readRoutes(ec2mod, ec2, instances)),
    readEndpointsAndGroups(ec2mod, ec2, vpcIds, ctx),
    allowed('ec2:DescribeImages', () => readImages(ec2mod, ec2, imageIds)),
    readIam(aws, ctx, distinct(instances.map((t) => t.profileArn))),
  ]);
  return { routes, endpoints, groups, images, ...iam };
}

/** The endpoints, then the security groups of those the instances use (private DNS sends the whole VPC to them). */
async function readEndpointsAndGroups(mod: Ec2Module, ec2: EC2Client, vpcIds: string[], ctx: DiagnoseContext): Promise<Pick<Reads, 'endpoints' | 'groups'>> {
  const endpoints = await allowed('ec2:DescribeVpcEndpoints', () => readEndpoints(mod, ec2, vpcIds, ctx));
  if (isDenied(endpoints)) return { endpoints, groups: new Map() };
  const groupIds = distinct([...endpoints.values()].flatMap((inVpc) => usedEndpoints(inVpc, ctx).flatMap(({ endpoint }) => endpointGroups(endpoint))));
  const groups = groupIds.length ? await allowed('ec2:DescribeSecurityGroups', () => readGroups(mod, ec2, groupIds)) : new Map<string, SecurityGroup>();
  return { endpoints, groups };
}

type Ec2Module = typeof import('@aws-sdk/client-ec2');

/** Subnet → its route table: the explicitly associated one, else the VPC's main table. */
async function readRoutes(mod: Ec2Module, ec2: EC2Client, instances: readonly TargetInstance[]): Promise<Map<string, RouteInfo>> {
  const found = new Map<string, RouteInfo>();
  const vpcOf = new Map(instances.filter((t) => t.subnetId && t.vpcId).map((t) => [t.subnetId!, t.vpcId!]));
  for (const batch of chunks([...vpcOf.keys()])) {
    const wanted = new Set(batch);
    const pages = mod.paginateDescribeRouteTables({ client: ec2 }, { Filters: [{ Name: 'association.subnet-id', Values: batch }] });
    for await (const page of pages) {
      for (const table of page.RouteTables ?? []) {
        for (const a of table.Associations ?? []) if (a.SubnetId && wanted.has(a.SubnetId)) found.set(a.SubnetId, routeInfo(table, false));
      }
    }
  }
  const fallback = distinct([...vpcOf].filter(([subnet]) => !found.has(subnet)).map(([, vpc]) => vpc));
  const mainOf = new Map<string, RouteInfo>();
  for (const batch of chunks(fallback)) {
    const Filters = [{ Name: 'vpc-id', Values: batch }, { Name: 'association.main', Values: ['true'] }];
    for await (const page of mod.paginateDescribeRouteTables({ client: ec2 }, { Filters })) {
      for (const table of page.RouteTables ?? []) if (table.VpcId) mainOf.set(table.VpcId, routeInfo(table, true));
    }
  }
  for (const [subnet, vpc] of vpcOf) {
    const main = mainOf.get(vpc);
    if (!found.has(subnet) && main) found.set(subnet, main);
  }
  return found;
}

function routeInfo(table: RouteTable, main: boolean): RouteInfo {
  const tableId = table.RouteTableId ?? '?';
  const route = (table.Routes ?? []).find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole');
  if (!route) return { tableId, main, egress: 'none' };
  if (route.NatGatewayId) return { tableId, main, egress: 'internet', via: 'nat', target: route.NatGatewayId };
  if (route.GatewayId?.startsWith('igw-')) return { tableId, main, egress: 'internet', via: 'igw', target: route.GatewayId };
  const target =
    route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? route.VpcPeeringConnectionId ?? route.GatewayId ??
    route.LocalGatewayId ?? route.CarrierGatewayId ?? route.CoreNetworkArn ?? 'another target';
  return { tableId, main, egress: 'other', target };
}

/** Endpoint service names: `com.amazonaws.<region>.<svc>`; China also has `cn.com.amazonaws.…` ones. */
function serviceNames(region: string, service: string): string[] {
  const name = `com.amazonaws.${region}.${service}`;
  return region.startsWith('cn-') ? [name, `cn.${name}`] : [name];
}

/** VPC → its endpoints for the Systems Manager services, and for kms, logs and s3 when needed. */
async function readEndpoints(mod: Ec2Module, ec2: EC2Client, vpcIds: string[], ctx: DiagnoseContext): Promise<Map<string, VpcEndpoint[]>> {
  const found = new Map<string, VpcEndpoint[]>(vpcIds.map((v) => [v, []]));
  const services = [...interfaceServices(ctx), ...(ctx.needs?.s3 ? ['s3'] : [])];
  const names = services.flatMap((s) => serviceNames(ctx.region, s));
  for (const batch of chunks(vpcIds)) {
    const Filters = [{ Name: 'vpc-id', Values: batch }, { Name: 'service-name', Values: names }];
    for await (const page of mod.paginateDescribeVpcEndpoints({ client: ec2 }, { Filters })) {
      for (const e of page.VpcEndpoints ?? []) if (e.VpcId) found.get(e.VpcId)?.push(e);
    }
  }
  return found;
}

/** Security group id → the group. A filter, not GroupIds: a group that is gone is just absent. */
async function readGroups(mod: Ec2Module, ec2: EC2Client, groupIds: string[]): Promise<Map<string, SecurityGroup>> {
  const found = new Map<string, SecurityGroup>();
  for (const batch of chunks(groupIds)) {
    for await (const page of mod.paginateDescribeSecurityGroups({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: batch }] })) {
      for (const g of page.SecurityGroups ?? []) if (g.GroupId) found.set(g.GroupId, g);
    }
  }
  return found;
}

/** Image id → name and description. A filter, not ImageIds: a deregistered AMI is just absent. */
async function readImages(mod: Ec2Module, ec2: EC2Client, imageIds: string[]): Promise<Map<string, ImageInfo>> {
  const found = new Map<string, ImageInfo>();
  for (const batch of chunks(imageIds)) {
    const input = { Filters: [{ Name: 'image-id', Values: batch }], IncludeDeprecated: true, IncludeDisabled: true };
    for await (const page of mod.paginateDescribeImages({ client: ec2 }, input)) {
      for (const i of page.Images ?? []) if (i.ImageId) found.set(i.ImageId, { name: i.Name ?? '', description: i.Description ?? '' });
    }
  }
  return found;
}

/** Each distinct profile once, each distinct role once; inline policies only where attached ones fall short. */
async function readIam(aws: Clients, ctx: DiagnoseContext, profileArns: string[]): Promise<Pick<Reads, 'profiles' | 'roles'>> {
  const profiles = new Map<string, ProfileRead>();
  const roles = new Map<string, RoleRead>();
  if (!profileArns.length) return { profiles, roles };
  const mod = await import('@aws-sdk/client-iam');
  const iam: IAMClient = aws.get(mod.IAMClient);

  const getProfile = allowedOnce('iam:GetInstanceProfile');
  await eachLimited(profileArns, async (arn) => {
    const read = await getProfile(async () => {
      try {
        const out = await iam.send(new mod.GetInstanceProfileCommand({ InstanceProfileName: lastSegment(arn) }));
        return { name: lastSegment(arn), roles: (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? '').filter(Boolean) };
      } catch (err) {
        if (isNotFound(err)) return 'missing' as const;
        throw err;
      }
    });
    profiles.set(arn, read);
  });

  const roleNames = distinct([...profiles.values()].flatMap((p) => (typeof p === 'object' && !isDenied(p) ? p.roles : [])));
  const listAttached = allowedOnce('iam:ListAttachedRolePolicies');
  const listInline = allowedOnce('iam:ListRolePolicies');
  await eachLimited(roleNames, async (RoleName) => {
    const attached = await listAttached(async () => {
      const arns: string[] = [];
      for await (const page of mod.paginateListAttachedRolePolicies({ client: iam }, { RoleName })) {
        for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
      }
      return arns;
    });
    if (isDenied(attached) || agentPolicy(attached, ctx)) {
      roles.set(RoleName, { attached });
      return;
    }
    const inline = await listInline(async () => {
      const names: string[] = [];
      for await (const page of mod.paginateListRolePolicies({ client: iam }, { RoleName })) names.push(...(page.PolicyNames ?? []));
      return names;
    });
    roles.set(RoleName, { attached, inline });
  });
  return { profiles, roles };
}

async function eachLimited<T>(items: readonly T[], work: (item: T) => Promise<void>, limit = IAM_CONCURRENCY): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The attached policy that gives the agent its rights, if any (the deprecated one last). */
function agentPolicy(attached: readonly string[], ctx: DiagnoseContext): { arn: string; deprecated: boolean } | undefined {
  const ours = ctx.instancePolicyArn;
  const ourName = ours ? lastSegment(ours) : DEFAULTS.instancePolicy;
  const awsManaged = new Set(AGENT_MANAGED_POLICIES.map((n) => `arn:${ctx.partition}:iam::aws:policy/${n}`));
  const good = attached.find((arn) => awsManaged.has(arn) || arn === ours || (!arn.includes(':iam::aws:') && lastSegment(arn) === ourName));
  if (good) return { arn: good, deprecated: false };
  const old = attached.find((arn) => arn.includes(':iam::aws:') && lastSegment(arn) === DEPRECATED_AGENT_POLICY);
  return old ? { arn: old, deprecated: true } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Diagnosis (pure, from the reads)

interface Cause {
  readonly text: string;
  readonly fix: readonly string[];
}
interface Checked {
  readonly findings: Finding[];
  readonly cause?: Cause;
  readonly userData?: string;
}

const missing = (what: string, d: Denied) => `could not read ${what} (missing ${d.denied})`;

function diagnose(t: TargetInstance, reads: Reads, ctx: DiagnoseContext): Diagnosis {
  const os = resolveOs(t, reads, ctx);
  const checked = [checkState(t, ctx), ...checkIam(t, reads, ctx), ...checkNetwork(t, reads, ctx), checkAgent(t, os, ctx)];
  const findings = checked.flatMap((c) => c.findings);
  const causes = checked.flatMap((c) => (c.cause ? [c.cause] : []));
  const userData = checked.find((c) => c.userData)?.userData;
  const primary = causes[0] ?? agentNotRunning('platform' in os ? os.platform : t.platform, findings);
  const fix = [...new Set([...primary.fix, ...causes.slice(1).flatMap((c) => c.fix)])];
  return { instanceId: t.id, cause: primary.text, fix, ...(userData ? { userData } : {}), findings };
}

function checkState(t: TargetInstance, ctx: DiagnoseContext): Checked {
  const check = CHECKS.state;
  if (t.state === 'running') return { findings: [{ check, status: 'ok', detail: 'running' }] };
  if (t.state === 'stopped' || t.state === 'stopping') {
    const fix = `aws ec2 start-instances --instance-ids ${t.id} --region ${ctx.region}`;
    return {
      findings: [{ check, status: 'error', detail: `${t.state}: only running instances register with Systems Manager`, fix }],
      cause: { text: `the instance is ${t.state}`, fix: [fix] },
    };
  }
  if (t.state === 'pending') return { findings: [{ check, status: 'warning', detail: 'starting: the agent registers a minute or two after boot' }] };
  return { findings: [{ check, status: 'warning', detail: `state ${t.state}` }] };
}

function checkIam(t: TargetInstance, reads: Reads, ctx: DiagnoseContext): Checked[] {
  const runRole = `ssm-setup run instance-role --instance-ids ${t.id}`;
  if (!t.profileArn) {
    const dhmc = 'or, without any profile: Default Host Management Configuration, `ssm-setup run host-management --dhmc` (agent 3.2.582.0 or later, IMDSv2)';
    return [{
      findings: [{ check: CHECKS.profile, status: 'error', detail: 'no instance profile: the agent has no credentials to register with', fix: runRole }],
      cause: { text: 'no instance profile: the agent has no AWS credentials to register with', fix: [runRole, dhmc] },
    }];
  }
  const name = lastSegment(t.profileArn);
  const profile = reads.profiles.get(t.profileArn);
  if (!profile || isDenied(profile)) {
    const denied = profile ?? { denied: 'iam:GetInstanceProfile' };
    return [
      { findings: [{ check: CHECKS.profile, status: 'ok', detail: `instance profile ${name}` }] },
      { findings: [{ check: CHECKS.rights, status: 'warning', detail: missing(`instance profile ${name}`, denied) }] },
    ];
  }
  if (profile === 'missing') {
    return [{
      findings: [{ check: CHECKS.profile, status: 'error', detail: `instance profile ${name} no longer exists`, fix: runRole }],
      cause: { text: `the instance profile ${name} no longer exists`, fix: [runRole] },
    }];
  }
  const role = profile.roles[0];
  if (!role) {
    const fix = `aws iam add-role-to-instance-profile --instance-profile-name ${name} --role-name <role>`;
    return [{
      findings: [{ check: CHECKS.profile, status: 'error', detail: `instance profile ${name} has no role`, fix }],
      cause: { text: `the instance profile ${name} has no role`, fix: [fix, `or: ${runRole}`] },
    }];
  }
  return [{ findings: [{ check: CHECKS.profile, status: 'ok', detail: `instance profile ${name} (role ${role})` }] }, checkRights(role, reads.roles.get(role), runRole, ctx)];
}

function checkRights(role: string, read: RoleRead | undefined, runRole: string, ctx: DiagnoseContext): Checked {
  const check = CHECKS.rights;
  const core = `arn:${ctx.partition}:iam::aws:policy/${AGENT_MANAGED_POLICIES[0]}`;
  const attach = `aws iam attach-role-policy --role-name ${role} --policy-arn ${core}`;
  if (!read) return { findings: [{ check, status: 'warning', detail: `role ${role} was not read` }] };
  if (isDenied(read.attached)) return { findings: [{ check, status: 'warning', detail: missing(`the policies of role ${role}`, read.attached) }] };
  const found = agentPolicy(read.attached, ctx);
  if (found?.deprecated) {
    return { findings: [{ check, status: 'warning', detail: `role ${role} relies on ${DEPRECATED_AGENT_POLICY}, which is deprecated and grants far more`, fix: attach }] };
  }
  if (found) return { findings: [{ check, status: 'ok', detail: `role ${role} has ${lastSegment(found.arn)}` }] };
  const expected = [...AGENT_MANAGED_POLICIES, ctx.instancePolicyArn ? lastSegment(ctx.instancePolicyArn) : DEFAULTS.instancePolicy].join(', ');
  if (read.inline && isDenied(read.inline)) {
    return { findings: [{ check, status: 'warning', detail: `role ${role} has none of ${expected} attached; ${missing('its inline policies', read.inline)}`, fix: runRole }] };
  }
  if (read.inline?.length) {
    return {
      findings: [{ check, status: 'warning', detail: `role ${role} has none of ${expected} attached; its inline policies (${read.inline.join(', ')}) may grant the agent's rights`, fix: runRole }],
    };
  }
  return {
    findings: [{ check, status: 'error', detail: `role ${role} has none of ${expected}: the agent cannot register (ssm:UpdateInstanceInformation) or open sessions (ssmmessages:*)`, fix: runRole }],
    cause: { text: `the role ${role} lacks the rights the agent needs to register`, fix: [runRole, `or: ${attach}`] },
  };
}

/** The usable endpoint for a service, else the closest one (to say what is wrong with it). */
function endpointFor(endpoints: readonly VpcEndpoint[], region: string, service: InterfaceService): { endpoint?: VpcEndpoint; usable: boolean; pending: boolean } {
  const names = new Set(serviceNames(region, service));
  const mine = endpoints.filter((e) => !!e.ServiceName && names.has(e.ServiceName));
  const usable = mine.find((e) => isAvailable(e) && e.PrivateDnsEnabled === true);
  if (usable) return { endpoint: usable, usable: true, pending: false };
  const pending = mine.find((e) => /^pending/i.test(e.State ?? ''));
  if (pending) return { endpoint: pending, usable: false, pending: true };
  return { endpoint: mine.find(isAvailable) ?? mine[0], usable: false, pending: false };
}

/** EC2 answers `available` although the SDK enum says `Available`: compared case-insensitively. */
const isAvailable = (e: VpcEndpoint) => (e.State ?? '').toLowerCase() === 'available';
const endpointGroups = (e: VpcEndpoint) => distinct((e.Groups ?? []).map((g) => g.GroupId));

/**
 * The interface endpoints the instances of a VPC use: the usable ones (available, private DNS
 * on). Private DNS points the service's name at the endpoint for the whole VPC, so instances
 * with an internet route go through them too.
 */
function usedEndpoints(inVpc: readonly VpcEndpoint[], ctx: DiagnoseContext): { service: InterfaceService; endpoint: VpcEndpoint }[] {
  return interfaceServices(ctx).flatMap((service) => {
    const { endpoint, usable } = endpointFor(inVpc, ctx.region, service);
    return usable && endpoint ? [{ service, endpoint }] : [];
  });
}

const FEATURE_NEED: Readonly<Record<FeatureEndpointService, string>> = {
  kms: 'KMS session encryption needs it',
  logs: 'CloudWatch Logs session logging needs it',
  s3: 'S3 session logging needs it',
};

function checkNetwork(t: TargetInstance, reads: Reads, ctx: DiagnoseContext): Checked[] {
  if (!t.subnetId || !t.vpcId) return [{ findings: [{ check: CHECKS.route, status: 'warning', detail: 'no VPC subnet known for this instance' }] }];
  const region = `--region ${ctx.region}`;
  const read = isDenied(reads.routes) ? reads.routes : reads.routes.get(t.subnetId);
  const route = read && !isDenied(read) ? read : undefined;
  const where = route ? `${route.tableId}${route.main ? ` (main table of ${t.vpcId})` : ''}` : '';
  // An internet gateway carries only instances with a public IP. Judged on running instances whose
  // addresses are known (a private IP): a stopped instance has no public IP until it starts.
  const noPublicIp = route?.via === 'igw' && t.state === 'running' && !!t.privateIp && !t.publicIp;
  const internet = route?.egress === 'internet' && !noPublicIp ? route.target : undefined;
  const noEgress = route?.egress === 'none' || noPublicIp;

  // The endpoints matter only where the subnet has no route out; they are listed either way.
  const findings: Finding[] = [];
  const missingRequired: EndpointService[] = [];
  const endpointFixes: string[] = [];
  let requiredUsable = false;
  let groups: Checked | undefined;
  if (isDenied(reads.endpoints)) {
    findings.push({ check: CHECKS.endpoints, status: 'warning', detail: missing(`the VPC endpoints of ${t.vpcId}`, reads.endpoints) });
  } else {
    const inVpc = reads.endpoints.get(t.vpcId) ?? [];
    requiredUsable = [...REQUIRED].every((s) => endpointFor(inVpc, ctx.region, s).usable);
    for (const service of interfaceServices(ctx)) {
      const check = CHECKS.endpoint(service);
      const { endpoint, usable, pending } = endpointFor(inVpc, ctx.region, service);
      const id = endpoint?.VpcEndpointId;
      if (usable) {
        findings.push({ check, status: 'ok', detail: `${id} available, private DNS on` });
        continue;
      }
      const dnsOff = !!endpoint && !pending && isAvailable(endpoint);
      const problem = !endpoint ? 'no interface endpoint' : dnsOff ? `${id} has private DNS off` : `${id} is ${endpoint.State}`;
      if (internet) {
        findings.push({ check, status: 'ok', detail: `${problem} (not needed: via the internet route to ${internet})` });
        continue;
      }
      const fix = dnsOff
        ? `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --private-dns-enabled ${region}`
        : pending
          ? `wait until ${id} is available: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${id} ${region}`
          : `aws ec2 create-vpc-endpoint --vpc-id ${t.vpcId} --vpc-endpoint-type Interface --service-name com.amazonaws.${ctx.region}.${service} --subnet-ids ${t.subnetId} --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled ${region}`;
      const feature = service === 'kms' || service === 'logs';
      // With no route out, a missing ssm/ssmmessages endpoint is the cause, and a missing kms/logs
      // one breaks the sessions that use them; with an unknown route, a suspicion only.
      const status = noEgress && (REQUIRED.has(service as EndpointService) || feature) && !pending ? 'error' : 'warning';
      const why = service === 'ec2messages' ? ' (agents older than 3.3.40.0 need it)' : feature ? ` (${FEATURE_NEED[service]})` : '';
      findings.push({ check, status, detail: `${problem}${why}`, fix });
      if (status === 'error' && !feature) {
        missingRequired.push(service as EndpointService);
        endpointFixes.push(fix);
      }
    }
    if (ctx.needs?.s3) findings.push(checkS3Gateway(t, inVpc, route, internet, noEgress, ctx));
    groups = checkEndpointGroups(t, inVpc, reads, ctx);
  }
  const after = groups ? [groups] : [];

  // The route, first in the row.
  const check = CHECKS.route;
  if (!route) {
    const detail = read ? missing(`the route table of ${t.subnetId}`, read as Denied) : `no route table found for ${t.subnetId}`;
    return [{ findings: [{ check, status: 'warning', detail }, ...findings] }, ...after];
  }
  if (internet) return [{ findings: [{ check, status: 'ok', detail: `${where} sends 0.0.0.0/0 to ${internet}` }, ...findings] }, ...after];
  if (route.egress === 'other') {
    const detail = `${where} sends 0.0.0.0/0 to ${route.target}: it reaches Systems Manager only if that path has a NAT or the endpoints`;
    return [{ findings: [{ check, status: requiredUsable ? 'ok' : 'warning', detail }, ...findings] }, ...after];
  }
  const noWayOut = noPublicIp
    ? `${where} sends 0.0.0.0/0 to the internet gateway ${route.target}, but the instance has no public IP (public subnet route but no public IP)`
    : `${where} has no 0.0.0.0/0 route to an internet or NAT gateway (private subnet)`;
  if (requiredUsable) return [{ findings: [{ check, status: 'ok', detail: `${noWayOut}: the VPC endpoints are used` }, ...findings] }, ...after];
  if (!missingRequired.length) {
    const detail = `${noWayOut}, and the ssm and ssmmessages endpoints are not all usable yet or could not be read`;
    return [{ findings: [{ check, status: 'warning', detail }, ...findings] }, ...after];
  }
  const noEndpoint = `VPC ${t.vpcId} has no usable ${missingRequired.join(' or ')} interface endpoint`;
  if (noPublicIp) {
    const eip = `aws ec2 associate-address --instance-id ${t.id} --allocation-id <eipalloc-id> ${region}`;
    return [
      {
        findings: [{ check, status: 'error', detail: noWayOut, fix: eip }, ...findings],
        cause: {
          text: `public subnet route but no public IP: subnet ${t.subnetId} routes to ${route.target}, which carries only instances with a public IP, and ${noEndpoint}`,
          fix: [
            `associate an Elastic IP: aws ec2 allocate-address --domain vpc ${region}, then ${eip}`,
            `or use a NAT gateway: give subnet ${t.subnetId} a route table whose 0.0.0.0/0 goes to a NAT gateway (aws ec2 associate-route-table --subnet-id ${t.subnetId} --route-table-id <table-with-nat-route> ${region}), or move the instance to such a subnet`,
            ...endpointFixes.map((f, i) => (i ? f : `or add the endpoints: ${f}`)),
          ],
        },
      },
      ...after,
    ];
  }
  const fix = `aws ec2 create-route --route-table-id ${route.tableId} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id> ${region}`;
  return [
    {
      findings: [{ check, status: 'error', detail: noWayOut, fix }, ...findings],
      cause: {
        text: `no route to the SSM endpoints: subnet ${t.subnetId} has no internet or NAT route and ${noEndpoint}`,
        fix: [...endpointFixes, `or give the subnet a route through a NAT gateway: ${fix}`],
      },
    },
    ...after,
  ];
}

/** S3 logging without a route out: a gateway endpoint for S3 on the subnet's route table. */
function checkS3Gateway(t: TargetInstance, inVpc: readonly VpcEndpoint[], route: RouteInfo | undefined, internet: string | undefined, noEgress: boolean, ctx: DiagnoseContext): Finding {
  const check = CHECKS.endpoint('s3');
  const region = `--region ${ctx.region}`;
  const names = new Set(serviceNames(ctx.region, 's3'));
  const gateways = inVpc.filter((e) => !!e.ServiceName && names.has(e.ServiceName) && (e.VpcEndpointType ?? '').toLowerCase() === 'gateway');
  const table = route?.tableId;
  const onTable = (e: VpcEndpoint) => !!table && (e.RouteTableIds ?? []).includes(table);
  const good = gateways.find((e) => isAvailable(e) && onTable(e));
  if (good) return { check, status: 'ok', detail: `${good.VpcEndpointId} (gateway) available, on route table ${table}` };
  const pending = gateways.find((e) => /^pending/i.test(e.State ?? '') && (onTable(e) || !table));
  const elsewhere = gateways.find(isAvailable);
  const tables = (e: VpcEndpoint) => (e.RouteTableIds?.length ? `it is on ${e.RouteTableIds.join(', ')}` : 'it is on no route table');
  const problem = pending
    ? `${pending.VpcEndpointId} (gateway) is ${pending.State}`
    : elsewhere
      ? table
        ? `${elsewhere.VpcEndpointId} (gateway) is not on route table ${table}: ${tables(elsewhere)}`
        : `${elsewhere.VpcEndpointId} (gateway) exists, but the route table of ${t.subnetId} is unknown`
      : gateways[0]
        ? `${gateways[0].VpcEndpointId} (gateway) is ${gateways[0].State}`
        : 'no S3 gateway endpoint';
  if (internet) return { check, status: 'ok', detail: `${problem} (not needed: via the internet route to ${internet})` };
  const tableArg = table ?? '<route-table-id>';
  const fix = pending
    ? `wait until ${pending.VpcEndpointId} is available: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${pending.VpcEndpointId} ${region}`
    : elsewhere
      ? `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${elsewhere.VpcEndpointId} --add-route-table-ids ${tableArg} ${region}`
      : `aws ec2 create-vpc-endpoint --vpc-id ${t.vpcId} --vpc-endpoint-type Gateway --service-name com.amazonaws.${ctx.region}.s3 --route-table-ids ${tableArg} ${region}`;
  return { check, status: noEgress && !pending ? 'error' : 'warning', detail: `${problem} (${FEATURE_NEED.s3})`, fix };
}

/** Whether a security group admits TCP 443 from the instance: by which source, or why it cannot be told. */
type Admission = { readonly open: string } | { readonly unsure: string } | { readonly closed: true };

/** An ingress rule whose protocol and ports take TCP 443. */
function takes443(rule: IpPermission): boolean {
  const protocol = (rule.IpProtocol ?? '').toLowerCase();
  if (protocol === '-1' || protocol === 'all') return true;
  if (protocol !== 'tcp' && protocol !== '6') return false;
  return (rule.FromPort ?? 0) <= 443 && 443 <= (rule.ToPort ?? 65535);
}

function admission(groupId: string, group: SecurityGroup | undefined, t: TargetInstance): Admission {
  if (!group) return { unsure: `${groupId} was not found` };
  const unsure: string[] = [];
  for (const rule of (group.IpPermissions ?? []).filter(takes443)) {
    for (const { CidrIp } of rule.IpRanges ?? []) {
      if (!CidrIp) continue;
      if (/\/0$/.test(CidrIp.trim())) return { open: `${groupId} (${CidrIp})` };
      if (!t.privateIp) unsure.push(`${groupId} admits ${CidrIp}, and the instance's private IP is unknown`);
      else if (ipv4InCidr(t.privateIp, CidrIp)) return { open: `${groupId} (${CidrIp})` };
    }
    for (const { GroupId } of rule.UserIdGroupPairs ?? []) {
      if (!GroupId) continue;
      if (t.securityGroupIds?.includes(GroupId)) return { open: `${groupId} (${GroupId})` };
      if (!t.securityGroupIds) unsure.push(`${groupId} admits ${GroupId}, and the instance's security groups are unknown`);
    }
    for (const { PrefixListId } of rule.PrefixListIds ?? []) unsure.push(`${groupId} admits prefix list ${PrefixListId}, which is not resolved here`);
  }
  return unsure[0] ? { unsure: unsure[0] } : { closed: true };
}

/**
 * Each interface endpoint the instance uses needs a security group admitting TCP 443 from it.
 * EC2 always lists an interface endpoint's groups (the VPC's default one when none was given):
 * an endpoint listed without any is not judged. Undefined when there is nothing to judge.
 */
function checkEndpointGroups(t: TargetInstance, inVpc: readonly VpcEndpoint[], reads: Reads, ctx: DiagnoseContext): Checked | undefined {
  const used = usedEndpoints(inVpc, ctx).filter(({ endpoint }) => endpointGroups(endpoint).length);
  if (!used.length) return undefined;
  const check = CHECKS.endpointSg;
  const label = ({ service, endpoint }: (typeof used)[number]) => `${endpoint.VpcEndpointId} (${service})`;
  if (isDenied(reads.groups)) return { findings: [{ check, status: 'warning', detail: missing(`the security groups of ${used.map(label).join(', ')}`, reads.groups) }] };
  const known = reads.groups;
  const from = `the instance${t.privateIp ? ` (${t.privateIp})` : ''}`;
  const open: string[] = [];
  const unsure: string[] = [];
  const closed: { service: InterfaceService; endpoint: VpcEndpoint; groupIds: string[] }[] = [];
  for (const u of used) {
    const groupIds = endpointGroups(u.endpoint);
    const verdicts = groupIds.map((id) => admission(id, known.get(id), t));
    const yes = verdicts.find((v): v is { open: string } => 'open' in v);
    if (yes) {
      open.push(`${label(u)} by ${yes.open}`);
      continue;
    }
    const maybe = verdicts.find((v): v is { unsure: string } => 'unsure' in v);
    if (maybe) unsure.push(`${label(u)}: ${maybe.unsure}`);
    else closed.push({ ...u, groupIds });
  }
  if (closed.length) {
    const which = closed.map((c) => `${label(c)} with ${c.groupIds.join(', ')}`).join('; ');
    // One group per endpoint is enough: the first one listed.
    const fixes = distinct(closed.map((c) => c.groupIds[0])).map(
      (id) => `aws ec2 authorize-security-group-ingress --group-id ${id} --protocol tcp --port 443 --cidr <CIDR of ${t.vpcId} or ${t.subnetId}> --region ${ctx.region}`,
    );
    const finding: Finding = { check, status: 'error', detail: `no security group admits TCP 443 from ${from}: ${which}`, fix: fixes.join(' && ') };
    const blocking = closed.filter((c) => REQUIRED.has(c.service as EndpointService));
    if (!blocking.length) return { findings: [finding] };
    const groupsOf = distinct(blocking.flatMap((c) => c.groupIds)).join(', ');
    return {
      findings: [finding],
      cause: {
        text: `the ${blocking.map((c) => c.service).join(' and ')} endpoint${blocking.length > 1 ? 's' : ''} of VPC ${t.vpcId} (security groups ${groupsOf}) do not admit TCP 443 from the instance, and private DNS sends the agent there`,
        fix: fixes,
      },
    };
  }
  if (unsure.length) return { findings: [{ check, status: 'warning', detail: `could not tell whether TCP 443 from ${from} is admitted: ${unsure.join('; ')}` }] };
  return { findings: [{ check, status: 'ok', detail: `TCP 443 from ${from} is admitted: ${open.join('; ')}` }] };
}

/** The number of an IPv4 address in dotted-quad form, or undefined. */
function ipv4(address: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address.trim());
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets.reduce((n, o) => n * 256 + o, 0) : undefined;
}

/** Whether an IPv4 address lies in an IPv4 CIDR block (`10.0.0.0/16`; no prefix means /32). False for anything malformed. */
export function ipv4InCidr(address: string, cidr: string): boolean {
  const [base = '', bits, ...rest] = cidr.trim().split('/');
  const prefix = bits === undefined ? 32 : /^\d{1,2}$/.test(bits) ? Number(bits) : NaN;
  if (rest.length || !(prefix >= 0 && prefix <= 32)) return false;
  const ip = ipv4(address);
  const net = ipv4(base);
  if (ip === undefined || net === undefined) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(ip / size) === Math.floor(net / size);
}

const NETWORK_CHECKS: ReadonlySet<string> = new Set([CHECKS.route, CHECKS.endpoints, CHECKS.endpointSg]);

/** The network findings of a diagnosis (route, endpoints, endpoint security groups), in their order. */
export function networkFindings(diagnosis: Diagnosis): Finding[] {
  return diagnosis.findings.filter((f) => NETWORK_CHECKS.has(f.check) || f.check.startsWith('endpoint:'));
}

/** The OS behind an instance: PlatformDetails when it names one, else its AMI's name or description. */
type Os = { readonly platform: string; readonly from: string } | { readonly unknown: Finding };

function resolveOs(t: TargetInstance, reads: Reads, ctx: DiagnoseContext): Os {
  const check = CHECKS.agent;
  if (agentPlatform(t.platform) !== 'linux') return { platform: t.platform, from: `platform "${t.platform}"` };
  if (!t.imageId) return { unknown: { check, status: 'warning', detail: `"${t.platform}" does not tell the distribution, and the AMI is unknown` } };
  if (isDenied(reads.images)) return { unknown: { check, status: 'warning', detail: missing(`AMI ${t.imageId}`, reads.images) } };
  const image = reads.images.get(t.imageId);
  if (!image) return { unknown: { check, status: 'warning', detail: `AMI ${t.imageId} is no longer available: the distribution is unknown` } };
  const platform = agentPlatform(image.name) !== 'linux' ? image.name : image.description;
  const from = `AMI ${t.imageId} "${image.name || image.description}"`;
  if (agentPlatform(platform) !== 'linux') return { platform, from };
  const { docs } = agentInstallCommands(platform, ctx.region, t.architecture);
  return { unknown: { check, status: 'warning', detail: `${from}: distribution not recognised, the agent may not be installed`, fix: docs } };
}

function checkAgent(t: TargetInstance, os: Os, ctx: DiagnoseContext): Checked {
  if ('unknown' in os) return { findings: [os.unknown] };
  const { platform, from } = os;
  const label = platformLabel(platform);
  if (agentPreinstalled(platform)) return { findings: [{ check: CHECKS.agent, status: 'ok', detail: `${label} AMIs ship the SSM Agent (${from})` }] };
  const install = agentInstallCommands(platform, ctx.region, t.architecture);
  return {
    findings: [{ check: CHECKS.agent, status: 'error', detail: `${label} AMIs do not include the SSM Agent (${from})`, fix: install.commands[0] }],
    cause: {
      text: `the SSM Agent is not installed: ${label} AMIs do not include it`,
      fix: [...install.commands, 'new instances: launch them with the user data below (user data runs at first boot only)', `docs: ${install.docs}`],
    },
    userData: install.userData,
  };
}

/** Nothing found wrong: the agent is there but does not run or does not get through. */
function agentNotRunning(platform: string, findings: readonly Finding[]): Cause {
  const unsure = findings.some((f) => f.status === 'warning') ? ' (some checks were inconclusive: see the warnings)' : '';
  const kind = agentPlatform(platform);
  const restart =
    kind === 'windows' ? 'Restart-Service AmazonSSMAgent'
      : kind === 'ubuntu' ? 'sudo snap restart amazon-ssm-agent'
        : kind === 'macos' ? 'sudo launchctl kickstart -k system/com.amazon.aws.ssm'
          : 'sudo systemctl restart amazon-ssm-agent';
  return {
    text: `the agent is not running or cannot register${unsure}`,
    fix: [
      agentStatusCommand(platform),
      `read ${agentLogPath(platform)}${kind === 'windows' ? '' : ' (and errors.log beside it)'} on the instance`,
      restart,
    ],
  };
}
