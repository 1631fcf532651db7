import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Instance, Route, SecurityGroup, State, VpcEndpoint } from '@aws-sdk/client-ec2';
import {
  type EvaluationResult,
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
  type PolicyEvaluationDecisionType,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, type KeyState, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type PublicAccessBlockConfiguration,
  S3Client,
  type ServerSideEncryptionByDefault,
} from '@aws-sdk/client-s3';
import {
  DescribeDocumentCommand,
  DescribeInstanceInformationCommand,
  GetConnectionStatusCommand,
  GetDocumentCommand,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, expect } from 'vitest';
import { type CheckResult, runChecks } from '../../src/check/index.js';
import type { Finding } from '../../src/core/report.js';
import { instancePolicy } from '../../src/policies/instance-policy.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock, tlsOnlyStatement } from '../../src/policies/log-bucket.js';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import { PREFERENCES_DOCUMENT, type PreferenceInputs, preferencesDocument } from '../../src/policies/preferences-document.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { mockIdentity } from '../helpers/aws.js';
import { type FakeEc2, fakeEc2 } from '../helpers/fake-ec2.js';
import { headError } from '../helpers/fake-s3.js';
import { ACCOUNT, IDENTITY, makeContext, REGION } from '../helpers/fixtures.js';

/**
 * The world of the check tests: a fully set-up account behind aws-sdk-client-mock, and what
 * each test breaks in it (`useWorld()` at the top of a test file):
 *
 * - the preferences document (default = latest), S3 logging to an SSE-KMS bucket with public
 *   access blocked, CloudWatch streaming to a log group encrypted with the session key, whose
 *   policy admits the logs service principal;
 * - two running instances, each in its own VPC (the endpoints of a VPC serve all of it) and
 *   subnet with a NAT route, each with its own instance profile and role (role rights are per
 *   role), managed and Online with a recent agent, GetConnectionStatus connected; their EC2 side
 *   is the shared fake of test/helpers/fake-ec2.ts;
 * - the caller, IAM user alice; iam:SimulatePrincipalPolicy allows everything unless told.
 *
 * The EC2, SSM, Logs and IAM fakes apply the request filters as AWS does, so a wrong filter
 * returns nothing and a test fails; a command no fake implements is rejected.
 */
export const iam = mockClient(IAMClient);
export const ssm = mockClient(SSMClient);
export const kms = mockClient(KMSClient);
export const s3 = mockClient(S3Client);
export const logs = mockClient(CloudWatchLogsClient);

export const A = 'i-0aaaaaaaaaaaaaaa1';
export const B = 'i-0bbbbbbbbbbbbbbb2';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
export const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
export const PREFIX = 'session-logs/';
export const GROUP = '/aws/ssm/session-logs';
export const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}`;
export const USER_ARN = IDENTITY.arn;
export const INSTANCE_POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;
export const OPERATOR_POLICY_ARN = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerOperatorPolicy`;
export const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;
export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const instanceArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`;
export const RECENT_AGENT = '3.3.1142.0';
export const READ_NOTE = ' (read from its policies; iam:SimulatePrincipalPolicy not available)';

export const NAT: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };

export type Decision = PolicyEvaluationDecisionType;

export interface World {
  prefs?: { defaultVersion: string; latestVersion: string; inputs: Record<string, unknown> };
  /** `policyUnreadable`: GetKeyPolicy is refused (AccessDeniedException), as for a caller without kms:GetKeyPolicy. */
  key?: { state: KeyState; policy: PolicyDocument; policyUnreadable?: boolean };
  /** `elsewhere`: the bucket lives in that region, and HeadBucket answers 301 or 400 with the region header, as S3 does. */
  bucket: {
    exists: boolean;
    sse?: ServerSideEncryptionByDefault;
    pab?: PublicAccessBlockConfiguration;
    elsewhere?: { region: string; status: 301 | 400 };
    /** The bucket policy (GetBucketPolicy answers NoSuchBucketPolicy without one). */
    policy?: PolicyDocument;
    /** Owned by another account: HeadBucket answers 403, as S3 does to a caller the owner has not granted. */
    foreign?: boolean;
  };
  /** Other keys of the account, by alias (DescribeKey by alias), besides the session key. */
  otherKeys?: Record<string, string>;
  logGroups: LogGroup[];
  /** EC2 (test/helpers/fake-ec2.ts): the two instances, their VPCs, subnets and route tables, the AMI; endpoints and groups a test adds. */
  net: FakeEc2;
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

export const defaultInputs = (over: Partial<PreferenceInputs> = {}): PreferenceInputs => ({
  ...preferencesDocument({
    bucketName: BUCKET,
    s3Prefix: PREFIX,
    keyArn: KEY_ARN,
    logGroupName: GROUP,
    idleTimeout: 20,
    shellProfileLinux: '',
    shellProfileWindows: '',
  }).inputs,
  ...over,
});

export function ec2Instance(id: string, n: 1 | 2, over: Partial<Instance> = {}): Instance & { InstanceId: string } {
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
    MetadataOptions: { State: 'applied', HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
    Tags: [{ Key: 'Name', Value: `app-${n}` }],
    ...over,
  };
}

/** An interface endpoint (or gateway, for s3) of VPC vpc-a, available with private DNS on. */
export function vpcEndpoint(service: string, over: Partial<VpcEndpoint> = {}): VpcEndpoint {
  const gateway = service === 's3';
  return {
    VpcEndpointId: `vpce-a-${service}`,
    VpcEndpointType: gateway ? 'Gateway' : 'Interface',
    VpcId: 'vpc-a',
    ServiceName: `com.amazonaws.${REGION}.${service}`,
    State: 'available' as State,
    ...(gateway
      ? { RouteTableIds: ['rtb-1'] }
      : { PrivateDnsEnabled: true, Groups: [{ GroupId: 'sg-vpce-a', GroupName: 'endpoints' }], SubnetIds: ['subnet-1'] }),
    ...over,
  };
}

/** The endpoints' security group, admitting TCP 443 from `cidr`. */
export const endpointGroup = (cidr: string): SecurityGroup => ({
  GroupId: 'sg-vpce-a',
  VpcId: 'vpc-a',
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }],
});

/** The EC2 side: vpc-a and vpc-b, each subnet with its own table routing 0.0.0.0/0 to a NAT gateway, the AMI, A and B. */
function ec2World(): FakeEc2 {
  const net = fakeEc2();
  net
    .addVpc('vpc-a', { cidr: '10.1.0.0/16' })
    .addVpc('vpc-b', { cidr: '10.2.0.0/16' })
    .addSubnet('subnet-1', 'vpc-a', { cidr: '10.1.1.0/24' })
    .addSubnet('subnet-2', 'vpc-b', { cidr: '10.2.1.0/24' })
    .addRouteTable('rtb-1', 'vpc-a', { subnets: ['subnet-1'], routes: [NAT] })
    .addRouteTable('rtb-2', 'vpc-b', { subnets: ['subnet-2'], routes: [{ ...NAT, NatGatewayId: 'nat-2' }] })
    .addImage({ ImageId: 'ami-al2023', Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', Description: 'Amazon Linux 2023 AMI' });
  net.addInstance(ec2Instance(A, 1));
  net.addInstance(ec2Instance(B, 2));
  return net;
}

/** Adds these endpoints, and these security groups, to the EC2 world. */
export function addEndpoints(w: World, endpoints: readonly VpcEndpoint[]) {
  for (const e of endpoints) w.net.addEndpoint(e as VpcEndpoint & { VpcId: string; ServiceName: string });
}
export function addGroups(w: World, groups: readonly SecurityGroup[]) {
  for (const g of groups) w.net.addSecurityGroup(g as SecurityGroup & { GroupId: string });
}

export let world: World;

export function fullySetUp(): World {
  const instanceDoc = instancePolicy({
    partition: 'aws',
    account: ACCOUNT,
    region: REGION,
    keyArn: KEY_ARN,
    bucketName: BUCKET,
    s3Prefix: PREFIX,
    logGroupArn: GROUP_ARN,
  });
  return {
    prefs: { defaultVersion: '3', latestVersion: '3', inputs: { ...defaultInputs() } },
    key: { state: 'Enabled', policy: sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, cloudWatchLogs: true }) },
    bucket: {
      exists: true,
      sse: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
      pab: fullPublicAccessBlock(),
      policy: { Version: '2012-10-17', Statement: [tlsOnlyStatement('aws', BUCKET)] },
    },
    logGroups: [{ logGroupName: GROUP, arn: `${GROUP_ARN}:*`, kmsKeyId: KEY_ARN }],
    net: ec2World(),
    profiles: { 'app-1-profile': 'app-1-role', 'app-2-profile': 'app-2-role' },
    attached: { 'app-1-role': [INSTANCE_POLICY_ARN], 'app-2-role': [INSTANCE_POLICY_ARN], alice: [] },
    inline: {},
    userGroups: { alice: ['operators'] },
    groupAttached: { operators: [OPERATOR_POLICY_ARN] },
    managed: {
      [INSTANCE_POLICY_ARN]: instanceDoc,
      // The broad variant: every right of the check is plainly granted (no conditions).
      [OPERATOR_POLICY_ARN]: operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'full', denyUnlogged: true }),
    },
    simulate: () => 'allowed',
    inventory: { [A]: { PingStatus: 'Online', AgentVersion: RECENT_AGENT }, [B]: { PingStatus: 'Online', AgentVersion: RECENT_AGENT } },
    connection: { [A]: 'connected', [B]: 'connected' },
    refuse: {},
  };
}

export const notFound = (what: string) => new NoSuchEntityException({ message: `${what} cannot be found.`, $metadata: { httpStatusCode: 404 } });
export const sdkError = (name: string, message: string, status: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

/** Every fake answers from `world` again, with no call recorded (the EC2 world keeps its state). */
export function install() {
  for (const m of [iam, ssm, kms, s3, logs]) {
    m.reset();
    m.rejects(sdkError('FakeNotImplemented', 'fake: command not implemented', 500));
  }
  world.net.ec2.resetHistory();
  mockIdentity(USER_ARN, IDENTITY.userId);

  // SSM: the preferences document, the inventory, connection status, sessions.
  ssm.on(DescribeDocumentCommand, { Name: PREFERENCES_DOCUMENT }).callsFake(async () => {
    if (!world.prefs) throw sdkError('InvalidDocument', 'The specified document does not exist.', 400);
    return {
      Document: {
        Name: PREFERENCES_DOCUMENT,
        DefaultVersion: world.prefs.defaultVersion,
        LatestVersion: world.prefs.latestVersion,
        Status: 'Active',
        Tags: [],
      },
    };
  });
  ssm.on(GetDocumentCommand, { Name: PREFERENCES_DOCUMENT }).callsFake(async () => ({
    Content: JSON.stringify({ schemaVersion: '1.0', description: 'prefs', sessionType: 'Standard_Stream', inputs: world.prefs!.inputs }),
  }));
  ssm.on(DescribeInstanceInformationCommand).callsFake(async ({ Filters }: { Filters?: InstanceInformationStringFilter[] }) => {
    const ids = Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
    return {
      InstanceInformationList: ids
        .filter((id) => world.inventory[id])
        .map((id) => ({ InstanceId: id, ResourceType: 'EC2Instance', PlatformType: 'Linux', IsLatestVersion: false, ...world.inventory[id] })),
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
    const other = world.otherKeys?.[KeyId];
    if (other) return { KeyMetadata: { KeyId: other.split('/').pop(), Arn: other, KeyState: 'Enabled', Enabled: true, KeyManager: 'CUSTOMER' } };
    if (!world.key || (KeyId !== KEY_ARN && KeyId !== KEY_ID)) throw sdkError('NotFoundException', `Key '${KeyId}' does not exist`, 400);
    return { KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: world.key.state, Enabled: world.key.state === 'Enabled', KeyManager: 'CUSTOMER' } };
  });
  kms.on(GetKeyPolicyCommand, { KeyId: KEY_ID, PolicyName: 'default' }).callsFake(async () => {
    if (world.key!.policyUnreadable)
      throw Object.assign(new Error('not authorized to perform: kms:GetKeyPolicy'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    return { Policy: JSON.stringify(world.key!.policy) };
  });
  s3.on(HeadBucketCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.exists) throw sdkError('NotFound', '', 404);
    if (world.bucket.foreign) throw headError(403, {});
    const away = world.bucket.elsewhere;
    if (away) throw headError(away.status, { 'x-amz-bucket-region': away.region });
    return { BucketRegion: REGION };
  });
  s3.on(GetBucketEncryptionCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.sse) throw sdkError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found', 404);
    return { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: world.bucket.sse, BucketKeyEnabled: true }] } };
  });
  s3.on(GetBucketPolicyCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.policy) throw sdkError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404);
    return { Policy: JSON.stringify(world.bucket.policy) };
  });
  s3.on(GetPublicAccessBlockCommand, { Bucket: BUCKET }).callsFake(async () => {
    if (!world.bucket.pab) throw sdkError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', 404);
    return { PublicAccessBlockConfiguration: world.bucket.pab };
  });
  logs.on(DescribeLogGroupsCommand).callsFake(async ({ logGroupNamePrefix }: { logGroupNamePrefix?: string }) => ({
    logGroups: world.logGroups.filter((g) => g.logGroupName!.startsWith(logGroupNamePrefix ?? '')),
  }));

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
  iam
    .on(GetRoleCommand)
    .callsFake(async ({ RoleName }: { RoleName: string }) => ({ Role: { RoleName, Arn: `arn:aws:iam::${ACCOUNT}:role/team/${RoleName}`, Path: '/team/' } }));
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
  iam
    .on(GetRolePolicyCommand)
    .callsFake(async ({ RoleName, PolicyName }: { RoleName: string; PolicyName: string }) => ({ RoleName, ...inlineDoc(RoleName, PolicyName) }));
  iam.on(ListAttachedUserPoliciesCommand).callsFake(async ({ UserName }: { UserName: string }) => attachedOf(UserName));
  iam.on(ListUserPoliciesCommand).callsFake(async ({ UserName }: { UserName: string }) => inlineNames(UserName));
  iam
    .on(GetUserPolicyCommand)
    .callsFake(async ({ UserName, PolicyName }: { UserName: string; PolicyName: string }) => ({ UserName, ...inlineDoc(UserName, PolicyName) }));
  iam.on(ListGroupsForUserCommand).callsFake(async ({ UserName }: { UserName: string }) => ({
    Groups: (world.userGroups[UserName] ?? []).map((GroupName) => ({
      GroupName,
      Arn: `arn:aws:iam::${ACCOUNT}:group/${GroupName}`,
      Path: '/',
      GroupId: 'AGPA',
      CreateDate: new Date(),
    })),
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

/** A fully set-up account before each test of the file; the EC2 fake is restored after it. */
export function useWorld(): void {
  beforeEach(() => {
    world = fullySetUp();
    install();
  });
  afterEach(() => world.net.restore());
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The targets as DescribeInstances shows them now. */
export const targetsOf = () => world.net.targets();
export async function check(flags: Record<string, unknown> = {}): Promise<CheckResult> {
  const ctx = await makeContext(flags);
  return runChecks(ctx, targetsOf());
}
export const row = (r: { targets: readonly { instanceId: string; ready: boolean; findings: readonly Finding[] }[] }, id: string) => {
  const t = r.targets.find((x) => x.instanceId === id);
  if (!t) throw new Error(`no row for ${id}`);
  return t;
};
export const errors = (findings: readonly Finding[]) => findings.filter((f) => f.status === 'error');
export const problems = (findings: readonly Finding[]) => findings.filter((f) => f.status !== 'ok');
export const checks = (findings: readonly Finding[]) => findings.map((f) => f.check);
/** Simulation: `principal` is refused `action` (on every resource, or on `resource`); everything else allowed. */
export const refuse =
  (principal: string, action: string, resource?: string, decision: Decision = 'implicitDeny') =>
  (p: string, a: string, r: string): Decision =>
    p === principal && a === action && (!resource || r === resource) ? decision : 'allowed';

/** Everything in the result is ok: no warning, no error, in any row or section. */
export function expectAllOk(r: CheckResult) {
  for (const t of r.targets) expect(problems(t.findings), t.instanceId).toEqual([]);
  expect(problems(r.account)).toEqual([]);
  expect(problems(r.operator)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// What a broken link must produce

export interface ExpectedError {
  readonly check: string;
  /** The fix, exactly (a string) or as a pattern. */
  readonly fix: string | RegExp;
  readonly detail?: string | RegExp;
}

export function expectErrors(found: readonly Finding[], expected: readonly ExpectedError[]) {
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

export const createEndpoint = (service: string) =>
  new RegExp(
    `^aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com\\.amazonaws\\.${REGION}\\.${service} --subnet-ids subnet-1 `,
  );

export interface SectionCase {
  readonly name: string;
  readonly breakIt: (w: World) => void;
  readonly section: 'account' | 'operator';
  readonly errors: readonly ExpectedError[];
  readonly warnings?: readonly ExpectedError[];
}

/** The case's section turns to exactly these errors (and warnings); the other section and the rows stay clean. */
export async function expectSection({ breakIt, section, errors: expected, warnings }: SectionCase) {
  breakIt(world);
  const r = await check();
  expectErrors(r[section], expected);
  const other = section === 'account' ? r.operator : r.account;
  expect(problems(other)).toEqual([]);
  if (warnings) {
    const found = r[section].filter((f) => f.status === 'warning');
    expectErrors(
      found.map((f) => ({ ...f, status: 'error' as const })),
      warnings,
    );
  }
  // The target rows are not touched: both stay ready.
  for (const t of r.targets) expect(errors(t.findings), t.instanceId).toEqual([]);
}
