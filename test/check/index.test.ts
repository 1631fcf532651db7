import { CloudWatchLogsClient, DescribeLogGroupsCommand, type LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Filter,
  type Instance,
  type Route,
  type RouteTable,
  type SecurityGroup,
  type State,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import {
  GetGroupPolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type PolicyEvaluationDecisionType,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, type KeyState } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryptionByDefault,
} from '@aws-sdk/client-s3';
import {
  DescribeDocumentCommand,
  DescribeInstanceInformationCommand,
  GetConnectionStatusCommand,
  GetDocumentCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../src/diagnose/index.js';
import { toTarget } from '../../src/aws/targets.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import type { StepContext } from '../../src/core/step.js';
import { instancePolicy } from '../../src/policies/instance-policy.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock } from '../../src/policies/log-bucket.js';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import { preferencesDocument, PREFERENCES_DOCUMENT, type PreferenceInputs } from '../../src/policies/preferences-document.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { checkStep } from '../../src/check/step.js';
import { runChecks, type CheckResult } from '../../src/check/index.js';
import { ACCOUNT, IDENTITY, makeContext, REGION } from '../helpers/fixtures.js';
import { captureOutput } from '../helpers/capture.js';

// The operator's local tools are detected by running `aws --version` and
// `session-manager-plugin --version`: mocked, so the tests do not depend on what is installed.
const tools = vi.hoisted(() => ({ current: { aws: '2.15.30', plugin: '1.2.650.0' } as { aws?: string; plugin?: string } }));
vi.mock('../../src/aws/local-tools.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/aws/local-tools.js')>()),
  detectLocalTools: vi.fn(async () => tools.current),
}));

/**
 * A fully set-up account behind aws-sdk-client-mock, and what each test breaks in it:
 *
 * - the preferences document (default = latest), S3 logging to an SSE-KMS bucket with public
 *   access blocked, CloudWatch streaming to a log group encrypted with the session key, whose
 *   policy admits the logs service principal;
 * - two running instances, each in its own VPC (the endpoints of a VPC serve all of it) and
 *   subnet with a NAT route, each with its own instance profile and role (role rights are per
 *   role), managed and Online with a recent agent, GetConnectionStatus connected;
 * - the caller, IAM user alice; iam:SimulatePrincipalPolicy allows everything unless told.
 *
 * The EC2, SSM, Logs and IAM fakes apply the request filters as AWS does, so a wrong filter
 * returns nothing and a test fails; a command no fake implements is rejected.
 */
const ec2 = mockClient(EC2Client);
const iam = mockClient(IAMClient);
const ssm = mockClient(SSMClient);
const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const logs = mockClient(CloudWatchLogsClient);
const sts = mockClient(STSClient);

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const PREFIX = 'session-logs/';
const GROUP = '/aws/ssm/session-logs';
const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}`;
const USER_ARN = IDENTITY.arn;
const INSTANCE_POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;
const OPERATOR_POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerOperatorPolicy`;
const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const instanceArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`;
const RECENT_AGENT = '3.3.1142.0';
const READ_NOTE = ' (read from its policies; iam:SimulatePrincipalPolicy not available)';

const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };
const LOCAL: Route = { DestinationCidrBlock: '10.0.0.0/8', GatewayId: 'local', State: 'active' };

type Decision = PolicyEvaluationDecisionType;

interface World {
  prefs?: { defaultVersion: string; latestVersion: string; inputs: Record<string, unknown> };
  key?: { state: KeyState; policy: PolicyDocument };
  bucket: { exists: boolean; sse?: ServerSideEncryptionByDefault; pab?: PublicAccessBlockConfiguration };
  logGroups: LogGroup[];
  instances: Instance[];
  /** Route table id → its VPC, its subnets, its default route. */
  tables: Record<string, { vpc: string; subnets: string[]; defaultRoute?: Route }>;
  endpoints: VpcEndpoint[];
  groups: SecurityGroup[];
  /** Instance profile name → its role name (undefined: a profile without a role). */
  profiles: Record<string, string | undefined>;
  /** Role or user name → attached managed policy ARNs. */
  attached: Record<string, string[]>;
  /** Role or user name → inline policies by name. */
  inline: Record<string, Record<string, PolicyDocument>>;
  /** User name → group names; group name → attached policy ARNs. */
  userGroups: Record<string, string[]>;
  groupAttached: Record<string, string[]>;
  /** Managed policy ARN → its default version's document. */
  managed: Record<string, PolicyDocument>;
  /** How iam:SimulatePrincipalPolicy decides, or the error it throws (no permission, an emulator). */
  simulate: ((principal: string, action: string, resource: string) => Decision) | Error;
  /** The managed-instance inventory (DescribeInstanceInformation); stopped instances are not listed. */
  inventory: Record<string, Pick<InstanceInformation, 'PingStatus' | 'AgentVersion'>>;
  connection: Record<string, 'connected' | 'notconnected'>;
  /** StartSession refused for these instances, with this error. */
  refuse: Record<string, Error>;
}

const defaultInputs = (over: Partial<PreferenceInputs> = {}): PreferenceInputs => ({
  ...preferencesDocument({ bucketName: BUCKET, s3Prefix: PREFIX, keyArn: KEY_ARN, logGroupName: GROUP, idleTimeout: 20, shellProfileLinux: '', shellProfileWindows: '' }).inputs,
  ...over,
});

function ec2Instance(id: string, n: 1 | 2, over: Partial<Instance> = {}): Instance {
  const vpc = n === 1 ? 'vpc-a' : 'vpc-b';
  return {
    InstanceId: id,
    State: { Name: 'running' },
    PlatformDetails: 'Linux/UNIX',
    IamInstanceProfile: { Arn: profileArn(`app-${n}-profile`), Id: `AIPA${n}` },
    VpcId: vpc,
    SubnetId: `subnet-${n}`,
    ImageId: 'ami-al2023',
    Architecture: 'x86_64',
    PrivateIpAddress: `10.${n}.1.10`,
    SecurityGroups: [{ GroupId: `sg-app-${n}`, GroupName: 'app' }],
    Tags: [{ Key: 'Name', Value: `app-${n}` }],
    ...over,
  };
}

/** An interface endpoint (or gateway, for s3) of VPC vpc-a, available with private DNS on. */
function vpcEndpoint(service: string, over: Partial<VpcEndpoint> = {}): VpcEndpoint {
  const gateway = service === 's3';
  return {
    VpcEndpointId: `vpce-a-${service}`,
    VpcEndpointType: gateway ? 'Gateway' : 'Interface',
    VpcId: 'vpc-a',
    ServiceName: `com.amazonaws.${REGION}.${service}`,
    State: 'available' as State,
    ...(gateway ? { RouteTableIds: ['rtb-1'] } : { PrivateDnsEnabled: true, Groups: [{ GroupId: 'sg-vpce-a', GroupName: 'endpoints' }], SubnetIds: ['subnet-1'] }),
    ...over,
  };
}

/** The endpoints' security group, admitting TCP 443 from `cidr`. */
const endpointGroup = (cidr: string): SecurityGroup => ({
  GroupId: 'sg-vpce-a',
  VpcId: 'vpc-a',
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }],
});

let world: World;

function fullySetUp(): World {
  const instanceDoc = instancePolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, bucketName: BUCKET, s3Prefix: PREFIX, logGroupArn: GROUP_ARN });
  return {
    prefs: { defaultVersion: '3', latestVersion: '3', inputs: { ...defaultInputs() } },
    key: { state: 'Enabled', policy: sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true }) },
    bucket: { exists: true, sse: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN }, pab: fullPublicAccessBlock() },
    logGroups: [{ logGroupName: GROUP, arn: `${GROUP_ARN}:*`, kmsKeyId: KEY_ARN }],
    instances: [ec2Instance(A, 1), ec2Instance(B, 2)],
    tables: {
      'rtb-1': { vpc: 'vpc-a', subnets: ['subnet-1'], defaultRoute: NAT },
      'rtb-2': { vpc: 'vpc-b', subnets: ['subnet-2'], defaultRoute: { ...NAT, NatGatewayId: 'nat-2' } },
    },
    endpoints: [],
    groups: [],
    profiles: { 'app-1-profile': 'app-1-role', 'app-2-profile': 'app-2-role' },
    attached: { 'app-1-role': [INSTANCE_POLICY_ARN], 'app-2-role': [INSTANCE_POLICY_ARN], alice: [] },
    inline: {},
    userGroups: { alice: ['operators'] },
    groupAttached: { operators: [OPERATOR_POLICY_ARN] },
    managed: {
      [INSTANCE_POLICY_ARN]: instanceDoc,
      // The broad variant: every right of the check is plainly granted (no conditions).
      [OPERATOR_POLICY_ARN]: operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'full' }),
    },
    simulate: () => 'allowed',
    inventory: { [A]: { PingStatus: 'Online', AgentVersion: RECENT_AGENT }, [B]: { PingStatus: 'Online', AgentVersion: RECENT_AGENT } },
    connection: { [A]: 'connected', [B]: 'connected' },
    refuse: {},
  };
}

const values = (filters: { Name?: string; Values?: string[] }[] | undefined, name: string) => filters?.find((f) => f.Name === name)?.Values;
const notFound = (what: string) => new NoSuchEntityException({ message: `${what} cannot be found.`, $metadata: { httpStatusCode: 404 } });
const sdkError = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

function install() {
  for (const m of [ec2, iam, ssm, kms, s3, logs, sts]) {
    m.reset();
    m.rejects(sdkError('FakeNotImplemented', 'fake: command not implemented', 500));
  }
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: USER_ARN, UserId: IDENTITY.userId });

  // SSM: the preferences document, the inventory, connection status, sessions.
  ssm.on(DescribeDocumentCommand, { Name: PREFERENCES_DOCUMENT }).callsFake(async () => {
    if (!world.prefs) throw sdkError('InvalidDocument', 'The specified document does not exist.', 400);
    return { Document: { Name: PREFERENCES_DOCUMENT, DefaultVersion: world.prefs.defaultVersion, LatestVersion: world.prefs.latestVersion, Status: 'Active', Tags: [] } };
  });
  ssm.on(GetDocumentCommand, { Name: PREFERENCES_DOCUMENT }).callsFake(async () => ({
    Content: JSON.stringify({ schemaVersion: '1.0', description: 'prefs', sessionType: 'Standard_Stream', inputs: world.prefs!.inputs }),
  }));
  ssm.on(DescribeInstanceInformationCommand).callsFake(async ({ Filters }: { Filters?: InstanceInformationStringFilter[] }) => {
    const ids = Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
    return {
      InstanceInformationList: ids.filter((id) => world.inventory[id]).map((id) => ({ InstanceId: id, ResourceType: 'EC2Instance', PlatformType: 'Linux', IsLatestVersion: false, ...world.inventory[id] })),
    };
  });
  ssm.on(GetConnectionStatusCommand).callsFake(async ({ Target }: { Target: string }) => ({ Target, Status: world.connection[Target] ?? 'notconnected' }));
  ssm.on(StartSessionCommand).callsFake(async ({ Target }: { Target: string }) => {
    if (world.refuse[Target]) throw world.refuse[Target];
    return { SessionId: `alice-${Target.slice(2)}`, StreamUrl: 'wss://ssmmessages.example/x', TokenValue: 't' };
  });
  ssm.on(TerminateSessionCommand).callsFake(async ({ SessionId }: { SessionId: string }) => ({ SessionId }));

  // KMS, S3, Logs: what the preferences point at.
  kms.on(DescribeKeyCommand).callsFake(async ({ KeyId }: { KeyId: string }) => {
    if (!world.key || (KeyId !== KEY_ARN && KeyId !== KEY_ID)) throw sdkError('NotFoundException', `Key '${KeyId}' does not exist`, 400);
    return { KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: world.key.state, Enabled: world.key.state === 'Enabled', KeyManager: 'CUSTOMER' } };
  });
  kms.on(GetKeyPolicyCommand, { KeyId: KEY_ID, PolicyName: 'default' }).callsFake(async () => ({ Policy: JSON.stringify(world.key!.policy) }));
  s3.on(HeadBucketCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.exists) throw sdkError('NotFound', '', 404);
    return { BucketRegion: REGION };
  });
  s3.on(GetBucketEncryptionCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.sse) throw sdkError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', 404);
    return { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: world.bucket.sse, BucketKeyEnabled: true }] } };
  });
  s3.on(GetPublicAccessBlockCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.pab) throw sdkError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404);
    return { PublicAccessBlockConfiguration: world.bucket.pab };
  });
  logs.on(DescribeLogGroupsCommand).callsFake(async ({ logGroupNamePrefix }: { logGroupNamePrefix?: string }) => ({
    logGroups: world.logGroups.filter((g) => g.logGroupName!.startsWith(logGroupNamePrefix ?? '')),
  }));

  // EC2: instances, route tables, endpoints, security groups, AMIs.
  ec2.on(DescribeInstancesCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const ids = values(Filters, 'instance-id');
    const states = values(Filters, 'instance-state-name');
    const found = world.instances.filter((i) => (!ids || ids.includes(i.InstanceId!)) && (!states || states.includes(i.State!.Name!)));
    return { Reservations: found.map((i) => ({ Instances: [i] })) };
  });
  ec2.on(DescribeRouteTablesCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const subnets = values(Filters, 'association.subnet-id');
    const vpcs = values(Filters, 'vpc-id');
    const RouteTables: RouteTable[] = Object.entries(world.tables)
      .filter(([, t]) => (subnets ? t.subnets.some((s) => subnets.includes(s)) : true))
      .filter(([, t]) => (vpcs ? vpcs.includes(t.vpc) : true))
      .filter(() => !values(Filters, 'association.main')) // no main tables here: every subnet has its own
      .map(([id, t]) => ({
        RouteTableId: id,
        VpcId: t.vpc,
        Associations: t.subnets.map((SubnetId) => ({ Main: false, SubnetId, RouteTableId: id })),
        Routes: [LOCAL, ...(t.defaultRoute ? [t.defaultRoute] : [])],
      }));
    return { RouteTables };
  });
  ec2.on(DescribeVpcEndpointsCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const vpcs = values(Filters, 'vpc-id') ?? [];
    const services = values(Filters, 'service-name') ?? [];
    return { VpcEndpoints: world.endpoints.filter((e) => vpcs.includes(e.VpcId!) && services.includes(e.ServiceName!)) };
  });
  ec2.on(DescribeSecurityGroupsCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const ids = values(Filters, 'group-id') ?? [];
    return { SecurityGroups: world.groups.filter((g) => ids.includes(g.GroupId!)) };
  });
  ec2.on(DescribeImagesCommand).callsFake(async ({ Filters }: { Filters?: Filter[] }) => {
    const ids = values(Filters, 'image-id') ?? [];
    return { Images: ids.includes('ami-al2023') ? [{ ImageId: 'ami-al2023', Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', Description: 'Amazon Linux 2023 AMI' }] : [] };
  });

  // IAM: profiles, roles, users, groups, policies, and the simulator.
  iam.on(GetInstanceProfileCommand).callsFake(async ({ InstanceProfileName }: { InstanceProfileName: string }) => {
    if (!(InstanceProfileName in world.profiles)) throw notFound(`Instance Profile ${InstanceProfileName}`);
    const role = world.profiles[InstanceProfileName];
    return {
      InstanceProfile: {
        InstanceProfileName,
        Arn: profileArn(InstanceProfileName),
        Roles: role ? [{ RoleName: role, Arn: roleArn(role), Path: '/', RoleId: 'AROA', CreateDate: new Date() }] : [],
      },
    };
  });
  iam.on(GetRoleCommand).callsFake(async ({ RoleName }: { RoleName: string }) => ({ Role: { RoleName, Arn: `arn:aws:iam::${ACCOUNT}:role/team/${RoleName}`, Path: '/team/' } }));
  const attachedOf = (name: string) => {
    if (!(name in world.attached)) throw notFound(`The role or user with name ${name}`);
    return { AttachedPolicies: world.attached[name]!.map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })), IsTruncated: false };
  };
  const inlineNames = (name: string) => ({ PolicyNames: Object.keys(world.inline[name] ?? {}), IsTruncated: false });
  const inlineDoc = (name: string, PolicyName: string) => {
    const doc = world.inline[name]?.[PolicyName];
    if (!doc) throw notFound(`The policy ${PolicyName}`);
    // IAM returns policy documents URL-encoded.
    return { PolicyName, PolicyDocument: encodeURIComponent(JSON.stringify(doc)) };
  };
  iam.on(ListAttachedRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => attachedOf(RoleName));
  iam.on(ListRolePoliciesCommand).callsFake(async ({ RoleName }: { RoleName: string }) => inlineNames(RoleName));
  iam.on(GetRolePolicyCommand).callsFake(async ({ RoleName, PolicyName }: { RoleName: string; PolicyName: string }) => ({ RoleName, ...inlineDoc(RoleName, PolicyName) }));
  iam.on(ListAttachedUserPoliciesCommand).callsFake(async ({ UserName }: { UserName: string }) => attachedOf(UserName));
  iam.on(ListUserPoliciesCommand).callsFake(async ({ UserName }: { UserName: string }) => inlineNames(UserName));
  iam.on(GetUserPolicyCommand).callsFake(async ({ UserName, PolicyName }: { UserName: string; PolicyName: string }) => ({ UserName, ...inlineDoc(UserName, PolicyName) }));
  iam.on(ListGroupsForUserCommand).callsFake(async ({ UserName }: { UserName: string }) => ({
    Groups: (world.userGroups[UserName] ?? []).map((GroupName) => ({ GroupName, Arn: `arn:aws:iam::${ACCOUNT}:group/${GroupName}`, Path: '/', GroupId: 'AGPA', CreateDate: new Date() })),
    IsTruncated: false,
  }));
  iam.on(ListAttachedGroupPoliciesCommand).callsFake(async ({ GroupName }: { GroupName: string }) => ({
    AttachedPolicies: (world.groupAttached[GroupName] ?? []).map((PolicyArn) => ({ PolicyArn, PolicyName: PolicyArn.split('/').pop() })),
    IsTruncated: false,
  }));
  iam.on(GetGroupPolicyCommand).rejects(notFound('group inline policy'));
  iam.on(GetPolicyCommand).callsFake(async ({ PolicyArn }: { PolicyArn: string }) => {
    if (!world.managed[PolicyArn]) throw notFound(`Policy ${PolicyArn}`);
    return { Policy: { Arn: PolicyArn, DefaultVersionId: 'v2' } };
  });
  iam.on(GetPolicyVersionCommand).callsFake(async ({ PolicyArn, VersionId }: { PolicyArn: string; VersionId: string }) => {
    if (VersionId !== 'v2') throw notFound(`Policy version ${VersionId}`);
    return { PolicyVersion: { VersionId, IsDefaultVersion: true, Document: encodeURIComponent(JSON.stringify(world.managed[PolicyArn])) } };
  });
  // As documented today: one EvaluationResult per action whatever the number of resources; its
  // EvalDecision is the most restrictive over the resources, and the decision per resource is in
  // ResourceSpecificResults. With a single resource ARN the top level also names it.
  iam.on(SimulatePrincipalPolicyCommand).callsFake(async (input: { PolicySourceArn: string; ActionNames: string[]; ResourceArns?: string[] }) => {
    if (world.simulate instanceof Error) throw world.simulate;
    const decide = world.simulate;
    const resources = input.ResourceArns?.length ? input.ResourceArns : ['*'];
    const EvaluationResults: EvaluationResult[] = input.ActionNames.map((action) => {
      const each = resources.map((r) => ({ EvalResourceName: r, EvalResourceDecision: decide(input.PolicySourceArn, action, r) }));
      const rank: Decision[] = ['explicitDeny', 'implicitDeny', 'allowed'];
      const EvalDecision = rank.find((d) => each.some((e) => e.EvalResourceDecision === d))!;
      return {
        EvalActionName: action,
        ...(resources.length === 1 ? { EvalResourceName: resources[0] } : {}),
        EvalDecision,
        ResourceSpecificResults: each,
      };
    });
    return { EvaluationResults, IsTruncated: false };
  });
}

beforeEach(() => {
  world = fullySetUp();
  install();
  tools.current = { aws: '2.15.30', plugin: '1.2.650.0' };
});

// ---------------------------------------------------------------------------------------------
// Helpers

const targetsOf = () => world.instances.map(toTarget);
async function check(flags: Record<string, unknown> = {}): Promise<CheckResult> {
  const ctx = await makeContext(flags);
  return runChecks(ctx, targetsOf());
}
const row = (r: { targets: readonly { instanceId: string; ready: boolean; findings: readonly Finding[] }[] }, id: string) => {
  const t = r.targets.find((x) => x.instanceId === id);
  if (!t) throw new Error(`no row for ${id}`);
  return t;
};
const errors = (findings: readonly Finding[]) => findings.filter((f) => f.status === 'error');
const problems = (findings: readonly Finding[]) => findings.filter((f) => f.status !== 'ok');
const checks = (findings: readonly Finding[]) => findings.map((f) => f.check);
/** Simulation: `principal` is refused `action` (on every resource, or on `resource`); everything else allowed. */
const refuse = (principal: string, action: string, resource?: string, decision: Decision = 'implicitDeny') =>
  (p: string, a: string, r: string): Decision => (p === principal && a === action && (!resource || r === resource) ? decision : 'allowed');

/** Everything in the result is ok: no warning, no error, in any row or section. */
function expectAllOk(r: CheckResult) {
  for (const t of r.targets) expect(problems(t.findings), t.instanceId).toEqual([]);
  expect(problems(r.account)).toEqual([]);
  expect(problems(r.operator)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

describe('check on a fully set-up account', () => {
  it('reports every target ready, every finding ok, and the connect command for the first ready one', async () => {
    const r = await check();
    expect(r.targets.map((t) => [t.instanceId, t.name, t.ready])).toEqual([[A, 'app-1', true], [B, 'app-2', true]]);
    expectAllOk(r);
    expect(r.connect).toBe(`aws ssm start-session --target ${A} --region ${REGION}`);
  });

  it('checks every link of the chain, in the order of the row', async () => {
    const r = await check();
    const a = row(r, A).findings;
    // state, profile, role rights (one per requirement), managed, agent, network, connection.
    expect(checks(a)).toEqual([
      'state',
      'instance-profile',
      'role-rights', 'role-rights', 'role-rights', 'role-rights', 'role-rights', 'role-rights',
      'managed',
      'agent-version',
      'route',
      'endpoint:ssm', 'endpoint:ssmmessages', 'endpoint:ec2messages', 'endpoint:kms', 'endpoint:logs', 'endpoint:s3',
      'connection',
    ]);
    expect(a.find((f) => f.check === 'route')!.detail).toBe('rtb-1 sends 0.0.0.0/0 to nat-1');
    expect(a.find((f) => f.check === 'managed')!.detail).toBe(`managed, Online, agent ${RECENT_AGENT}`);
    expect(a.find((f) => f.check === 'agent-version')!.detail).toBe(`agent ${RECENT_AGENT} supports KMS encryption, SSH/port forwarding, CloudWatch streaming`);
    expect(a.find((f) => f.check === 'connection')!.detail).toBe('GetConnectionStatus: connected');
    expect(a.filter((f) => f.check === 'role-rights').map((f) => f.detail)).toEqual([
      'session channels (ssmmessages, ssm:UpdateInstanceInformation)',
      'kms:Decrypt on the session key',
      `s3:PutObject on s3://${BUCKET}/${PREFIX}`,
      's3:GetEncryptionConfiguration on the bucket',
      'kms:GenerateDataKey on the bucket key',
      `log stream writes to ${GROUP}`,
    ]);
    expect(checks(r.account)).toEqual(['preferences', 'key', 'key-policy', 'bucket-encryption', 'bucket-public-access', 'log-group']);
    expect(r.operator.map((f) => f.detail)).toEqual([
      'ssm:StartSession on the targets',
      `ssm:StartSession with ${PREFERENCES_DOCUMENT}`,
      'kms:GenerateDataKey on the session key',
      'ending its own sessions (ssm:TerminateSession)',
    ]);
  });

  it('simulates the instance role on the real key, bucket, prefix and log group, and the operator on the targets and the document', async () => {
    await check();
    const sims = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    const role1 = sims.filter((s) => s.PolicySourceArn === roleArn('app-1-role'));
    expect(role1.map((s) => [s.ActionNames, s.ResourceArns])).toEqual([
      [['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel', 'ssm:UpdateInstanceInformation'], ['*']],
      [['kms:Decrypt'], [KEY_ARN]],
      [['s3:PutObject'], [`arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`]],
      [['s3:GetEncryptionConfiguration'], [`arn:aws:s3:::${BUCKET}`]],
      [['kms:GenerateDataKey'], [KEY_ARN]],
      [['logs:CreateLogStream', 'logs:PutLogEvents'], [`${GROUP_ARN}:log-stream:ssm-setup-check`]],
    ]);
    // Each distinct role once.
    expect(sims.filter((s) => s.PolicySourceArn === roleArn('app-2-role'))).toHaveLength(6);
    const op = sims.filter((s) => s.PolicySourceArn === USER_ARN);
    expect(op.map((s) => [s.ActionNames, s.ResourceArns])).toEqual([
      [['ssm:StartSession'], [instanceArn(A), instanceArn(B)]],
      [['ssm:StartSession'], [`arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT}`]],
      [['kms:GenerateDataKey'], [KEY_ARN]],
      [['ssm:TerminateSession'], [`arn:aws:ssm:${REGION}:${ACCOUNT}:session/alice-0123456789abcdef0`]],
    ]);
    expect(op[3]!.ContextEntries).toEqual(expect.arrayContaining([
      { ContextKeyName: 'aws:username', ContextKeyValues: ['alice'], ContextKeyType: 'string' },
      { ContextKeyName: 'aws:userid', ContextKeyValues: [IDENTITY.userId], ContextKeyType: 'string' },
    ]));
  });

  it('is read-only: no call but Describe/Get/List/Head/Simulate', async () => {
    await check();
    const names = [ec2, iam, ssm, kms, s3, logs].flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name));
    expect(names.filter((n) => !/^(Describe|Get|List|Head|Simulate)/.test(n))).toEqual([]);
  });

  it('the connect command carries --profile when one is set', async () => {
    const r = await check({ profile: 'prod' });
    expect(r.connect).toBe(`aws ssm start-session --target ${A} --profile prod --region ${REGION}`);
  });

  it('the connect command names the first ready target, not the first one', async () => {
    world.instances[0] = ec2Instance(A, 1, { IamInstanceProfile: undefined });
    const r = await check();
    expect(r.connect).toBe(`aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('no connect command when no target is ready', async () => {
    world.connection = {};
    const r = await check();
    expect(r.targets.every((t) => !t.ready)).toBe(true);
    expect(r.connect).toBeUndefined();
  });

  it('an assumed role is checked as its role, path included', async () => {
    const ctx: StepContext = { ...(await makeContext()), identity: { ...IDENTITY, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Ops/alice@example.com`, userId: 'AROAOPS:alice@example.com' } };
    const r = await runChecks(ctx, targetsOf());
    expect(iam).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'Ops' });
    const op = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input).filter((s) => s.ActionNames?.[0]?.startsWith('ssm:'));
    expect(new Set(op.map((s) => s.PolicySourceArn))).toEqual(new Set([`arn:aws:iam::${ACCOUNT}:role/team/Ops`]));
    expect(problems(r.operator)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

interface ExpectedError {
  readonly check: string;
  /** The fix, exactly (a string) or as a pattern. */
  readonly fix: string | RegExp;
  readonly detail?: string | RegExp;
}

interface RowCase {
  readonly name: string;
  readonly breakIt: (w: World) => void;
  /** Every error of A's row, in order; B's row stays without error, and so do the sections. */
  readonly errors: readonly ExpectedError[];
}

function expectErrors(found: readonly Finding[], expected: readonly ExpectedError[]) {
  expect(errors(found).map((f) => f.check)).toEqual(expected.map((e) => e.check));
  errors(found).forEach((f, i) => {
    const want = expected[i]!;
    if (typeof want.fix === 'string') expect(f.fix, f.check).toBe(want.fix);
    else expect(f.fix, f.check).toMatch(want.fix);
    if (want.detail !== undefined) {
      if (typeof want.detail === 'string') expect(f.detail, f.check).toBe(want.detail);
      else expect(f.detail, f.check).toMatch(want.detail);
    }
  });
}

const createEndpoint = (service: string) => new RegExp(`^aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com\\.amazonaws\\.${REGION}\\.${service} --subnet-ids subnet-1 `);

const ROW_CASES: readonly RowCase[] = [
  {
    name: 'its role lacks kms:Decrypt on the session key',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt')),
    errors: [{ check: 'role-rights', fix: `grant kms:Decrypt on ${KEY_ARN}`, detail: `kms:Decrypt on the session key: not allowed on ${KEY_ARN}` }],
  },
  {
    name: 'its role is explicitly denied s3:PutObject under the prefix',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 's3:PutObject', undefined, 'explicitDeny')),
    errors: [{
      check: 'role-rights',
      fix: `grant s3:PutObject on arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`,
      detail: `s3:PutObject on s3://${BUCKET}/${PREFIX}: explicitly denied on arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`,
    }],
  },
  {
    name: 'its role may not write log streams',
    breakIt: (w) => (w.simulate = refuse(roleArn('app-1-role'), 'logs:PutLogEvents')),
    errors: [{ check: 'role-rights', fix: `grant logs:CreateLogStream, logs:PutLogEvents on ${GROUP_ARN}:log-stream:ssm-setup-check` }],
  },
  {
    name: 'its subnet is private (no NAT route) and the VPC has no endpoints',
    breakIt: (w) => delete w.tables['rtb-1']!.defaultRoute,
    errors: [
      { check: 'route', fix: /^aws ec2 create-route --route-table-id rtb-1 --destination-cidr-block 0\.0\.0\.0\/0 --nat-gateway-id <nat-gateway-id> --region eu-west-1$/, detail: /private subnet/ },
      { check: 'endpoint:ssm', fix: createEndpoint('ssm'), detail: 'no interface endpoint' },
      { check: 'endpoint:ssmmessages', fix: createEndpoint('ssmmessages') },
      { check: 'endpoint:kms', fix: createEndpoint('kms'), detail: /KMS session encryption needs it/ },
      { check: 'endpoint:logs', fix: createEndpoint('logs'), detail: /CloudWatch Logs session logging needs it/ },
      { check: 'endpoint:s3', fix: /^aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Gateway --service-name com\.amazonaws\.eu-west-1\.s3 --route-table-ids rtb-1 /, detail: /S3 session logging needs it/ },
    ],
  },
  {
    name: 'its subnet is private and the ssm endpoint has private DNS off',
    breakIt: (w) => {
      delete w.tables['rtb-1']!.defaultRoute;
      w.endpoints = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s, s === 'ssm' ? { PrivateDnsEnabled: false } : {}));
      w.groups = [endpointGroup('10.1.0.0/16')];
    },
    errors: [
      { check: 'route', fix: /^aws ec2 create-route --route-table-id rtb-1 /, detail: /private subnet/ },
      { check: 'endpoint:ssm', fix: 'aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-a-ssm --private-dns-enabled --region eu-west-1', detail: 'vpce-a-ssm has private DNS off' },
    ],
  },
  {
    name: 'the endpoints of its private subnet exist, but their security group does not admit 443 from it',
    breakIt: (w) => {
      delete w.tables['rtb-1']!.defaultRoute;
      w.endpoints = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s));
      // The instance is 10.1.1.10: the group admits another range.
      w.groups = [endpointGroup('10.99.0.0/16')];
    },
    errors: [{
      check: 'endpoint-sg',
      fix: /^aws ec2 authorize-security-group-ingress --group-id sg-vpce-a --protocol tcp --port 443 --cidr <CIDR of vpc-a or subnet-1> --region eu-west-1$/,
      detail: /^no security group admits TCP 443 from the instance \(10\.1\.1\.10\): vpce-a-ssm \(ssm\) with sg-vpce-a/,
    }],
  },
  {
    name: 'its agent is too old for Run As (runAsEnabled, agent 2.3.500.0)',
    breakIt: (w) => {
      w.prefs!.inputs = { ...w.prefs!.inputs, runAsEnabled: true, runAsDefaultUser: 'ec2-user' };
      w.inventory[A] = { PingStatus: 'Online', AgentVersion: '2.3.500.0' };
    },
    errors: [{ check: 'agent-version', fix: 'ssm-setup run agents', detail: /^agent 2\.3\.500\.0 is too old for .*Run As ≥ 2\.3\.672\.0/ }],
  },
  {
    name: 'its agent is too old for CloudWatch streaming (3.0.300.0)',
    breakIt: (w) => (w.inventory[A] = { PingStatus: 'Online', AgentVersion: '3.0.300.0' }),
    errors: [{ check: 'agent-version', fix: 'ssm-setup run agents', detail: 'agent 3.0.300.0 is too old for CloudWatch streaming ≥ 3.0.356.0' }],
  },
  {
    name: 'it is stopped (and so not listed as managed)',
    breakIt: (w) => {
      w.instances[0] = ec2Instance(A, 1, { State: { Name: 'stopped' } });
      delete w.inventory[A];
    },
    errors: [
      { check: 'state', fix: `aws ec2 start-instances --instance-ids ${A} --region ${REGION}`, detail: 'stopped' },
      { check: 'managed', fix: `aws ec2 start-instances --instance-ids ${A} --region ${REGION}`, detail: /^not managed by Systems Manager: the instance is stopped/ },
    ],
  },
  {
    name: 'it has no instance profile',
    breakIt: (w) => (w.instances[0] = ec2Instance(A, 1, { IamInstanceProfile: undefined })),
    errors: [{ check: 'instance-profile', fix: `ssm-setup run instance-role --instance-ids ${A}`, detail: 'no instance profile' }],
  },
  {
    name: 'its instance profile has no role',
    breakIt: (w) => (w.profiles['app-1-profile'] = undefined),
    errors: [{ check: 'role-rights', fix: 'aws iam add-role-to-instance-profile --instance-profile-name app-1-profile --role-name <role>', detail: 'instance profile app-1-profile has no role' }],
  },
  {
    name: 'it is not managed by Systems Manager',
    breakIt: (w) => delete w.inventory[A],
    errors: [{ check: 'managed', fix: /sudo systemctl restart amazon-ssm-agent/, detail: /^not managed by Systems Manager: the agent is not running or cannot register/ }],
  },
  {
    name: 'it is managed but ConnectionLost',
    breakIt: (w) => (w.inventory[A] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT }),
    errors: [{ check: 'managed', fix: /amazon-ssm-agent/, detail: /^managed but ConnectionLost/ }],
  },
  {
    name: 'GetConnectionStatus says notconnected',
    breakIt: (w) => (w.connection[A] = 'notconnected'),
    errors: [{ check: 'connection', fix: /\/var\/log\/amazon\/ssm\/amazon-ssm-agent\.log/, detail: 'GetConnectionStatus: notconnected' }],
  },
];

describe('each single broken link turns exactly that target’s row to error, with the fix', () => {
  it.each(ROW_CASES)('$name', async ({ breakIt, errors: expected }) => {
    breakIt(world);
    const r = await check();
    const a = row(r, A);
    expect(a.ready).toBe(false);
    expectErrors(a.findings, expected);
    const b = row(r, B);
    expect(errors(b.findings)).toEqual([]);
    expect(b.ready).toBe(true);
    expect(errors(r.account)).toEqual([]);
    expect(errors(r.operator)).toEqual([]);
    expect(r.connect).toBe(`aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('a private subnet whose endpoints are usable and admit the instance is ready: the route is ok', async () => {
    delete world.tables['rtb-1']!.defaultRoute;
    world.endpoints = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => vpcEndpoint(s));
    world.groups = [endpointGroup('10.1.0.0/16')];
    const r = await check();
    expect(row(r, A).ready).toBe(true);
    expect(problems(row(r, A).findings)).toEqual([]);
    expect(row(r, A).findings.find((f) => f.check === 'route')!.detail).toMatch(/the VPC endpoints are used$/);
    expect(row(r, A).findings.find((f) => f.check === 'endpoint-sg')).toMatchObject({ status: 'ok' });
  });

  it('an agent at exactly 2.3.672.0 is recent enough for Run As', async () => {
    world.prefs!.inputs = { ...world.prefs!.inputs, runAsEnabled: true, runAsDefaultUser: 'ec2-user', cloudWatchStreamingEnabled: false };
    world.inventory[A] = { PingStatus: 'Online', AgentVersion: '2.3.672.0' };
    const r = await check();
    expect(row(r, A).findings.find((f) => f.check === 'agent-version')).toMatchObject({ status: 'ok', detail: 'agent 2.3.672.0 supports KMS encryption, SSH/port forwarding, Run As' });
    expect(row(r, A).ready).toBe(true);
  });

  it.each([
    ['the agent does not run', (w: World) => delete w.inventory[A]],
    ['no instance profile', (w: World) => {
      w.instances[0] = ec2Instance(A, 1, { IamInstanceProfile: undefined });
      delete w.inventory[A];
    }],
  ])('the fix of an unmanaged instance (%s) is one line to run, not prose chained with &&', async (_name, breakIt) => {
    breakIt(world);
    const r = await check();
    const fix = row(r, A).findings.find((f) => f.check === 'managed')!.fix!;
    // Pasted into a shell, every part joined by && must be a command.
    for (const part of fix.split(' && ')) expect(part, fix).toMatch(/^(sudo|aws|ssm-setup) /);
  });

  it('does not ask GetConnectionStatus about an instance that is not Online', async () => {
    world.inventory[A] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT };
    await check();
    expect(ssm).not.toHaveReceivedCommandWith(GetConnectionStatusCommand, { Target: A });
    expect(ssm).toHaveReceivedCommandWith(GetConnectionStatusCommand, { Target: B });
  });

  it('two instances sharing one profile share its role’s verdict, simulated once', async () => {
    world.instances[1] = ec2Instance(B, 2, { IamInstanceProfile: { Arn: profileArn('app-1-profile') } });
    world.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt');
    const r = await check();
    for (const id of [A, B]) expect(errors(row(r, id).findings).map((f) => f.fix)).toEqual([`grant kms:Decrypt on ${KEY_ARN}`]);
    expect(iam.commandCalls(GetInstanceProfileCommand).filter((c) => c.args[0].input.InstanceProfileName === 'app-1-profile').length).toBeGreaterThan(0);
    const sims = iam.commandCalls(SimulatePrincipalPolicyCommand).filter((c) => c.args[0].input.PolicySourceArn === roleArn('app-1-role'));
    expect(sims).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------

interface SectionCase {
  readonly name: string;
  readonly breakIt: (w: World) => void;
  readonly section: 'account' | 'operator';
  readonly errors: readonly ExpectedError[];
  readonly warnings?: readonly ExpectedError[];
}

const SECTION_CASES: readonly SectionCase[] = [
  {
    name: 'the bucket has no default encryption, while the preferences claim it',
    breakIt: (w) => delete w.bucket.sse,
    section: 'account',
    errors: [{ check: 'bucket-encryption', fix: 'ssm-setup run log-bucket', detail: `the preferences require an encrypted bucket, but ${BUCKET} has no default encryption: sessions fail to start` }],
  },
  {
    name: 'the bucket is encrypted with aws:kms:dsse, which the agent does not take',
    breakIt: (w) => (w.bucket.sse = { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: KEY_ARN }),
    section: 'account',
    errors: [{ check: 'bucket-encryption', fix: 'ssm-setup run log-bucket', detail: /has aws:kms:dsse: sessions fail to start$/ }],
  },
  {
    name: 'the key is disabled',
    breakIt: (w) => (w.key!.state = 'Disabled'),
    section: 'account',
    errors: [{ check: 'key', fix: `aws kms enable-key --key-id ${KEY_ID}`, detail: `key ${KEY_ARN} is Disabled` }],
  },
  {
    name: 'the key policy does not admit CloudWatch Logs while the log group is encrypted',
    breakIt: (w) => (w.key!.policy = sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: false })),
    section: 'account',
    errors: [{ check: 'key-policy', fix: 'ssm-setup run kms-key --cloudwatch-logs' }],
  },
  {
    name: 'the log group is not encrypted, while the preferences claim it',
    breakIt: (w) => (w.logGroups = [{ logGroupName: GROUP, arn: `${GROUP_ARN}:*` }]),
    section: 'account',
    errors: [{ check: 'log-group', fix: 'ssm-setup run log-group --cloudwatch-logs', detail: `the preferences require an encrypted log group, but ${GROUP} has no key: sessions fail` }],
  },
  {
    name: 'the log group does not exist',
    breakIt: (w) => (w.logGroups = [{ logGroupName: `${GROUP}-other`, kmsKeyId: KEY_ARN }]),
    section: 'account',
    errors: [{ check: 'log-group', fix: 'ssm-setup run log-group --cloudwatch-logs', detail: /does not exist/ }],
  },
  {
    name: 'the bucket does not exist',
    breakIt: (w) => (w.bucket.exists = false),
    section: 'account',
    errors: [{ check: 'bucket', fix: 'ssm-setup run log-bucket', detail: `the log bucket ${BUCKET} does not exist: session uploads fail` }],
  },
  {
    name: 'the preferences default version lags the latest: a warning, not an error',
    breakIt: (w) => (w.prefs = { ...w.prefs!, defaultVersion: '2', latestVersion: '3' }),
    section: 'account',
    errors: [],
    warnings: [{ check: 'preferences', fix: 'ssm-setup run preferences', detail: 'default version 2 lags the latest 3' }],
  },
  {
    name: 'public access is not fully blocked on the bucket: a warning',
    breakIt: (w) => (w.bucket.pab = { ...fullPublicAccessBlock(), BlockPublicPolicy: false }),
    section: 'account',
    errors: [],
    warnings: [{ check: 'bucket-public-access', fix: 'ssm-setup run log-bucket', detail: /BlockPublicPolicy off/ }],
  },
  {
    name: 'the operator lacks kms:GenerateDataKey on the session key',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'kms:GenerateDataKey')),
    section: 'operator',
    errors: [{ check: 'operator', fix: `grant kms:GenerateDataKey on ${KEY_ARN}`, detail: `kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}` }],
  },
  {
    name: 'the operator may not start sessions with the preferences document',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'ssm:StartSession', `arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT}`)),
    section: 'operator',
    errors: [{ check: 'operator', fix: `grant ssm:StartSession on arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT}` }],
  },
  {
    name: 'the operator may not end its own sessions',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'ssm:TerminateSession')),
    section: 'operator',
    errors: [{ check: 'operator', fix: /^grant ssm:TerminateSession on arn:aws:ssm:eu-west-1:123456789012:session\/alice-/ }],
  },
];

describe('each single broken link of the account or the operator turns that section to error, with the fix', () => {
  it.each(SECTION_CASES)('$name', async ({ breakIt, section, errors: expected, warnings }) => {
    breakIt(world);
    const r = await check();
    expectErrors(r[section], expected);
    const other = section === 'account' ? r.operator : r.account;
    expect(problems(other)).toEqual([]);
    if (warnings) {
      const found = r[section].filter((f) => f.status === 'warning');
      expectErrors(found.map((f) => ({ ...f, status: 'error' as const })), warnings);
    }
    // The target rows are not touched: both stay ready.
    for (const t of r.targets) expect(errors(t.findings), t.instanceId).toEqual([]);
  });

  it('a bucket with AES256 is fine, and then the role needs no data key of a bucket key', async () => {
    world.bucket.sse = { SSEAlgorithm: 'AES256' };
    const r = await check();
    expectAllOk(r);
    expect(row(r, A).findings.map((f) => f.detail)).not.toContain('kms:GenerateDataKey on the bucket key');
  });

  it('without a preferences document: an error with its fix, and no rights of a key or bucket are required', async () => {
    delete world.prefs;
    const r = await check();
    expectErrors(r.account, [{ check: 'preferences', fix: 'ssm-setup run preferences', detail: /SSM-SessionManagerRunShell does not exist/ }]);
    expect(row(r, A).findings.filter((f) => f.check === 'role-rights').map((f) => f.detail)).toEqual(['session channels (ssmmessages, ssm:UpdateInstanceInformation)']);
    expect(kms.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it('the operator denied ssm:StartSession on one target names that target, not the other', async () => {
    world.simulate = refuse(USER_ARN, 'ssm:StartSession', instanceArn(B));
    const r = await check();
    // Simulation answers per action: which of the instances is refused is in ResourceSpecificResults.
    expectErrors(r.operator, [{ check: 'operator', fix: `grant ssm:StartSession on ${instanceArn(B)}`, detail: `ssm:StartSession on the targets: not allowed on ${instanceArn(B)}` }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('without iam:SimulatePrincipalPolicy the policies are read instead, to the same verdicts', () => {
  const accessDenied = () => sdkError('AccessDenied', `User: ${USER_ARN} is not authorized to perform: iam:SimulatePrincipalPolicy`, 403);

  /** The instance policy minus kms:Decrypt (the data-key right stays for the bucket). */
  function withoutDecrypt(doc: PolicyDocument): PolicyDocument {
    return {
      ...doc,
      Statement: doc.Statement.map((s) => (s.Sid === 'SessionKey' ? { ...s, Action: ['kms:GenerateDataKey'] } : s)),
    };
  }

  it('allowed: ssm-setup’s own instance policy (managed) plus an inline one, and the operator’s group, user and inline policies', async () => {
    world.simulate = accessDenied();
    // Role 2 gets the key rights from an inline policy instead of the managed one.
    const doc = world.managed[INSTANCE_POLICY_ARN]!;
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/NoKey`] = { ...doc, Statement: doc.Statement.filter((s) => s.Sid !== 'SessionKey') };
    world.attached['app-2-role'] = [`arn:aws:iam::${ACCOUNT}:policy/NoKey`];
    world.inline['app-2-role'] = { key: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: KEY_ARN }] } };
    // The operator: StartSession through a group, the data key inline, the end of sessions attached to the user.
    world.groupAttached.operators = [`arn:aws:iam::${ACCOUNT}:policy/Start`];
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/Start`] = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`, `arn:aws:ssm:${REGION}:${ACCOUNT}:document/*`] }] };
    world.attached.alice = [`arn:aws:iam::${ACCOUNT}:policy/End`];
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/End`] = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:TerminateSession', Resource: `arn:aws:ssm:*:${ACCOUNT}:session/alice-*` }] };
    world.inline.alice = { key: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY_ARN }] } };

    const r = await check();
    expectAllOk(r);
    expect(r.targets.every((t) => t.ready)).toBe(true);
    for (const f of [...row(r, A).findings, ...row(r, B).findings].filter((x) => x.check === 'role-rights')) expect(f.detail.endsWith(READ_NOTE)).toBe(true);
    for (const f of r.operator) expect(f.detail.endsWith(READ_NOTE)).toBe(true);
    // Tried once per principal, then read.
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input.PolicySourceArn)).toEqual([roleArn('app-1-role'), roleArn('app-2-role'), USER_ARN]);
    expect(iam).toHaveReceivedCommandWith(GetRolePolicyCommand, { RoleName: 'app-2-role', PolicyName: 'key' });
    expect(iam).toHaveReceivedCommandWith(GetPolicyVersionCommand, { PolicyArn: INSTANCE_POLICY_ARN, VersionId: 'v2' });
    expect(iam).toHaveReceivedCommandWith(ListAttachedGroupPoliciesCommand, { GroupName: 'operators' });
    expect(iam).toHaveReceivedCommandWith(GetUserPolicyCommand, { UserName: 'alice', PolicyName: 'key' });
  });

  it('denied: a role lacking kms:Decrypt gets the same error and fix as through the simulator', async () => {
    world.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt');
    const simulated = errors(row(await check(), A).findings);

    install();
    world.simulate = accessDenied();
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/NoDecrypt`] = withoutDecrypt(world.managed[INSTANCE_POLICY_ARN]!);
    world.attached['app-1-role'] = [`arn:aws:iam::${ACCOUNT}:policy/NoDecrypt`];
    const r = await check();
    const read = errors(row(r, A).findings);

    expect(simulated).toHaveLength(1);
    expect(read).toEqual(simulated.map((f) => ({ ...f, detail: `${f.detail}${READ_NOTE}` })));
    expect(row(r, A).ready).toBe(false);
    expect(row(r, B).ready).toBe(true);
  });

  it('denied: an explicit Deny in an inline policy wins over the managed Allow', async () => {
    world.simulate = accessDenied();
    world.inline['app-1-role'] = { guard: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] } };
    const r = await check();
    expectErrors(row(r, A).findings, [{ check: 'role-rights', fix: `grant kms:Decrypt on ${KEY_ARN}`, detail: `kms:Decrypt on the session key: explicitly denied on ${KEY_ARN}${READ_NOTE}` }]);
    expect(row(r, B).ready).toBe(true);
  });

  it('denied: the operator without kms:GenerateDataKey, read from its policies', async () => {
    world.simulate = accessDenied();
    world.managed[OPERATOR_POLICY_ARN] = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ssm:StartSession', 'ssm:TerminateSession'], Resource: '*' }],
    };
    const r = await check();
    expectErrors(r.operator, [{ check: 'operator', fix: `grant kms:GenerateDataKey on ${KEY_ARN}`, detail: `kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}${READ_NOTE}` }]);
  });

  it('an emulator without the API (HTML error page → XML parse error) also falls back', async () => {
    world.simulate = Object.assign(new Error('Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), { name: 'Error', $metadata: { httpStatusCode: 500 }, message: '@aws-sdk XML parse error' });
    const r = await check();
    expectAllOk(r);
    expect(row(r, A).findings.filter((f) => f.check === 'role-rights').every((f) => f.detail.endsWith(READ_NOTE))).toBe(true);
  });

  it('a conditional grant cannot be proven: a warning, not an error (ssm-setup’s restricted operator policy)', async () => {
    world.simulate = accessDenied();
    world.managed[OPERATOR_POLICY_ARN] = operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'restricted' });
    const r = await check();
    expect(errors(r.operator)).toEqual([]);
    const start = r.operator.find((f) => f.detail.startsWith('ssm:StartSession on the targets'))!;
    expect(start).toMatchObject({ status: 'warning', fix: `grant ssm:StartSession on ${instanceArn(A)}, ${instanceArn(B)}` });
    expect(start.detail).toBe(`ssm:StartSession on the targets: could not be proven${READ_NOTE}`);
    expect(r.operator.find((f) => f.detail.startsWith('kms:GenerateDataKey'))!.status).toBe('ok');
  });

  it('policies that cannot be read either: warnings, not errors', async () => {
    world.simulate = accessDenied();
    iam.on(ListAttachedUserPoliciesCommand).rejects(accessDenied());
    const r = await check();
    expect(r.operator.map((f) => f.status)).toEqual(['warning', 'warning', 'warning', 'warning']);
    expect(r.targets.every((t) => t.ready)).toBe(true);
  });

  it('another error of the simulator is not swallowed', async () => {
    world.simulate = sdkError('ThrottlingException', 'Rate exceeded', 400);
    await expect(check()).rejects.toThrow('Rate exceeded');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the check step at the end of init', () => {
  it('is read-only, runs after the changes, and reads the run’s targets', async () => {
    expect(checkStep.id).toBe('check');
    expect(checkStep.afterApply).toBe(true);
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.plan(state, ctx)).toEqual([]);
    expect(state.targets.map((t) => t.instanceId)).toEqual([A, B]);
  });

  it('publishes `ready` per instance, or its first problem with the fix', async () => {
    world.instances[0] = ec2Instance(A, 1, { IamInstanceProfile: undefined });
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.outputs(state)).toEqual({
      readiness: {
        [A]: `instance-profile: no instance profile (fix: ssm-setup run instance-role --instance-ids ${A})`,
        [B]: 'ready',
      },
    });
    expect(checkStep.note!(state, ctx)).toBe(`1 of 2 targets ready; connect: aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('its note lists the account and operator errors', async () => {
    world.key!.state = 'Disabled';
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    // A broken account link stops every session: no connect command is offered.
    expect(checkStep.note!(state, ctx)).toBe(`2 of 2 targets ready\nkey: key ${KEY_ARN} is Disabled`);
  });

  it('its note lists the operator’s errors too', async () => {
    world.simulate = refuse(USER_ARN, 'kms:GenerateDataKey');
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.note!(state, ctx)).toBe(`2 of 2 targets ready\noperator: kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}`);
  });

  it('without targets it says how to check the region', async () => {
    const ctx = await makeContext();
    const state = await checkStep.read(ctx);
    expect(checkStep.outputs(state)).toEqual({ readiness: {} });
    expect(checkStep.note!(state, ctx)).toBe('no target instances; `ssm-setup check --all` checks the whole region');
    expect(ec2.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('ssm-setup check (the command, in-process)', () => {
  const { out, err } = captureOutput();

  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  it('all ready: exit 0, and the JSON report holds every row, finding and section, and the connect command', async () => {
    const code = await run('--instance-ids', `${A},${B}`, '--json');
    expect(code, err()).toBe(0);
    const report = json();
    expect(report).toMatchObject({ command: 'check', account: ACCOUNT, region: REGION, ok: true, connect: `aws ssm start-session --target ${A} --region ${REGION}` });
    expect(report.targets!.map((t) => [t.instanceId, t.name, t.ready])).toEqual([[A, 'app-1', true], [B, 'app-2', true]]);
    for (const t of report.targets!) {
      expect(t.findings.length).toBeGreaterThan(10);
      for (const f of t.findings) {
        expect(Object.keys(f).every((k) => ['check', 'status', 'detail', 'fix'].includes(k))).toBe(true);
        expect(typeof f.check).toBe('string');
        expect(['ok', 'warning', 'error']).toContain(f.status);
        expect(typeof f.detail).toBe('string');
      }
    }
    expect(Object.keys(report.checks!).sort()).toEqual(['account', 'local', 'operator']);
    expect(checks(report.checks!.account)).toEqual(['preferences', 'key', 'key-policy', 'bucket-encryption', 'bucket-public-access', 'log-group']);
    expect(report.checks!.operator).toHaveLength(4);
    expect(report.checks!.local).toEqual([
      { check: 'aws-cli', status: 'ok', detail: 'AWS CLI 2.15.30' },
      { check: 'session-manager-plugin', status: 'ok', detail: 'session-manager-plugin 1.2.650.0' },
      expect.objectContaining({ check: 'ssh-config', status: expect.stringMatching(/^(ok|warning)$/) }),
    ]);
    // Read-only, and no session without --live.
    expect(ssm).not.toHaveReceivedCommand(StartSessionCommand);
  });

  it('a target not ready: exit 3, its row carries the error and the fix', async () => {
    world.inventory[B] = { PingStatus: 'ConnectionLost', AgentVersion: RECENT_AGENT };
    const code = await run('--instance-ids', `${A},${B}`, '--json');
    expect(code).toBe(3);
    const report = json();
    expect(report.targets!.find((t) => t.instanceId === A)!.ready).toBe(true);
    const b = report.targets!.find((t) => t.instanceId === B)!;
    expect(b.ready).toBe(false);
    expect(errors(b.findings)).toEqual([expect.objectContaining({ check: 'managed', status: 'error', detail: expect.stringMatching(/^managed but ConnectionLost/), fix: expect.any(String) })]);
    expect(report.connect).toBe(`aws ssm start-session --target ${A} --region ${REGION}`);
  });

  it('--all checks every instance of the region', async () => {
    const code = await run('--all', '--json');
    expect(code).toBe(0);
    expect(json().targets!.map((t) => t.instanceId)).toEqual([A, B]);
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] });
  });

  it('an unknown instance id is bad input: exit 2 before any check', async () => {
    const code = await run('--instance-ids', 'i-0ccccccccccccccc3', '--json');
    expect(code).toBe(2);
    expect(json().error!.message).toContain('i-0ccccccccccccccc3');
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
  });

  it('the terminal table: each row, its first problem and fix, and the connect line', async () => {
    world.instances[1] = ec2Instance(B, 2, { IamInstanceProfile: undefined });
    const code = await run('--instance-ids', `${A},${B}`);
    expect(code).toBe(3);
    const text = out();
    expect(text).toContain(`Readiness in account ${ACCOUNT}, ${REGION}:`);
    expect(text).toMatch(new RegExp(`${A} \\(app-1\\)\\s+✔ ready`));
    expect(text).toMatch(new RegExp(`${B} \\(app-2\\)\\s+✖ not ready  instance-profile: no instance profile`));
    expect(text).toContain(`fix: ssm-setup run instance-role --instance-ids ${B}`);
    expect(text).toContain('1 of 2 targets ready.');
    expect(text).toContain(`Connect: aws ssm start-session --target ${A} --region ${REGION}`);
  });

  it('a missing session-manager-plugin is a clear error with the install pointer', async () => {
    tools.current = { aws: '2.15.30' };
    await run('--instance-ids', `${A},${B}`, '--json');
    const local = json().checks!.local;
    expect(local.find((f) => f.check === 'session-manager-plugin')).toEqual({
      check: 'session-manager-plugin',
      status: 'error',
      detail: 'session-manager-plugin not found on PATH: `aws ssm start-session` fails without it',
      fix: 'install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html',
    });
    expect(local.find((f) => f.check === 'aws-cli')!.status).toBe('ok');
  });

  it('a missing AWS CLI is a warning with the install pointer', async () => {
    tools.current = { plugin: '1.2.650.0' };
    await run('--instance-ids', A, '--json');
    expect(json().checks!.local.find((f) => f.check === 'aws-cli')).toMatchObject({ status: 'warning', fix: expect.stringContaining('https://docs.aws.amazon.com/cli/') });
  });

  describe('--live', () => {
    it('starts and at once terminates a session on each ready target', async () => {
      const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
      expect(code).toBe(0);
      expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A, B]);
      expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`, `alice-${B.slice(2)}`]);
      for (const t of json().targets!) {
        expect(t.findings.at(-1)).toEqual({ check: 'live-session', status: 'ok', detail: `StartSession accepted (alice-${t.instanceId.slice(2)}), terminated` });
        expect(t.ready).toBe(true);
      }
      // Each session is terminated before the next one starts.
      const order = ssm.calls().map((c) => (c.args[0] as object).constructor.name).filter((n) => /Session/.test(n));
      expect(order).toEqual(['StartSessionCommand', 'TerminateSessionCommand', 'StartSessionCommand', 'TerminateSessionCommand']);
    });

    it('a refused StartSession turns that row to error: exit 3', async () => {
      world.refuse[B] = sdkError('TargetNotConnected', `${B} is not connected.`, 400);
      const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
      expect(code).toBe(3);
      const report = json();
      const b = report.targets!.find((t) => t.instanceId === B)!;
      expect(b.ready).toBe(false);
      expect(errors(b.findings)).toEqual([{ check: 'live-session', status: 'error', detail: `StartSession refused: TargetNotConnected: ${B} is not connected.`, fix: 'see the operator findings' }]);
      expect(report.targets!.find((t) => t.instanceId === A)!.ready).toBe(true);
      expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input.SessionId)).toEqual([`alice-${A.slice(2)}`]);
    });

    it('a target that is not ready is not tried', async () => {
      world.connection[B] = 'notconnected';
      const code = await run('--instance-ids', `${A},${B}`, '--live', '--json');
      expect(code).toBe(3);
      expect(ssm.commandCalls(StartSessionCommand).map((c) => c.args[0].input.Target)).toEqual([A]);
      expect(checks(json().targets!.find((t) => t.instanceId === B)!.findings)).not.toContain('live-session');
    });
  });
});
