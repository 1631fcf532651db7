// Issue 12, "Done when": `init --yes` completes in ONE run against every strict fake at once
// (test/helpers/fake-account.ts), in us-east-1, with s3:TagResource denied, and a rerun writes
// nothing. Timers are faked: the retries and Run Command polls take no real time.
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Route } from '@aws-sdk/client-ec2';
import { AttachRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { sessionKeyPolicy } from '../../src/policies/kms-key-policy.js';
import { fullPublicAccessBlock, hasTlsDeny, LIFECYCLE_RULE_ID, sseKmsRule } from '../../src/policies/log-bucket.js';
import { PREFERENCES_DOCUMENT } from '../../src/policies/preferences-document.js';
import { CW_AGENT_TAG } from '../../src/steps/agents/index.js';
import { captureOutput } from '../helpers/capture.js';
import { type FakeAccount, fakeAccount } from '../helpers/fake-account.js';
import { settle } from '../helpers/fake-fleet.js';
import { otherPolicies, policyArnOf, profileArnOf } from '../helpers/fake-iam.js';
import { keyPolicyAllows } from '../helpers/fake-kms.js';
import { groupArnOf } from '../helpers/fake-logs.js';
import { type FakeParameters, fakeParameters } from '../helpers/fake-parameters.js';
import { ACCOUNT } from '../helpers/fixtures.js';

const REGION = 'us-east-1';
const ALIAS = 'alias/ssm-session-manager';
const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
const GROUP = '/aws/ssm/session-logs';
const ROLE = 'SSMSessionManagerInstanceRole';
const TAGS = { ManagedBy: 'ssm-setup', Team: 'infra' };
const CORE = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
const CW = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
const INSTANCE_POLICY = policyArnOf('SSMSessionManagerInstancePolicy');
const ASSOCIATIONS = ['ssm-setup-UpdateSSMAgent', 'ssm-setup-SoftwareInventory', 'ssm-setup-UpdateCloudWatchAgent'];
const IGW: Route = { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' };
const NET = { vpcId: 'vpc-app', subnetId: 'subnet-app', imageId: 'ami-al2023', architecture: 'x86_64' };
const STEPS = [
  'kms-key',
  'log-bucket',
  'log-group',
  'instance-role',
  'operator-policy',
  'preferences',
  'vpc-endpoints',
  'agents',
  'host-management',
  'ssh-config',
  'check',
];
const statuses = (first: string, last: string) =>
  Object.fromEntries(STEPS.map((id) => [id, id === 'ssh-config' || id === 'vpc-endpoints' ? 'skipped' : id === 'check' ? last : first]));

let account: FakeAccount;
/** The lease's Parameter Store, on the account's one SSM stub. */
let parameters: FakeParameters;
let managed: string;
let bare: string;
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  account = fakeAccount({ region: REGION, s3: { deny: ['s3:TagResource'] } });
  parameters = fakeParameters({ mock: account.fleet.ssm, region: REGION });
  account.ec2
    .addRouteTable('rtb-app', 'vpc-app', { subnets: ['subnet-app'], routes: [IGW] })
    .addImage({ ImageId: 'ami-al2023', Name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', Description: 'Amazon Linux 2023 AMI' });
  account.iam.addUser('alice');
  account.iam.addRole('app-role', [CORE]);
  account.iam.addProfile('app-profile', ['app-role']);
  managed = account.fleet.add({ target: { ...NET, name: 'app-1', profileArn: profileArnOf('app-profile'), publicIp: '203.0.113.10' } });
  bare = account.fleet.add({ managed: false, target: { ...NET, name: 'app-2', publicIp: '203.0.113.11' } });
});
afterEach(() => {
  account.restore();
  vi.useRealTimers();
});

describe('init --yes against every strict fake at once', () => {
  const { out, err, clear } = captureOutput();
  const init = async () => {
    clear();
    const flags = ['--region', REGION, '--cloudwatch-logs', '--tags', 'Team=infra', '--operator-users', 'alice', '--instance-ids', `${managed},${bare}`];
    const code = await settle(main(['node', 'ssm-setup', 'init', '--yes', '--json', ...flags]), tick);
    const report = JSON.parse(out()) as RunReport;
    return { code, report, statuses: Object.fromEntries(report.steps.map((s) => [s.id, s.status])) };
  };
  /** The calls made to one service, in order, each with the error it was answered with: `CreateAlias:NotFoundException`. */
  const answered = async (service: string) =>
    (await account.answers())
      .filter((a) => a.call.startsWith(`${service}.`))
      .map((a) => `${a.call.slice(service.length + 1)}${a.error ? `:${a.error}` : ''}`)
      .join(' ');

  it('converges in one run: exit 0, and the account holds what the contract says', async () => {
    const { code, report, statuses: got } = await init();
    expect(code, err()).toBe(0);
    expect(got).toEqual(statuses('created', 'unchanged'));
    expect(report.steps.find((s) => s.id === 'check')!.outputs.readiness).toMatchObject({ [managed]: 'ready' });

    const key = account.kms.key(ALIAS)!;
    expect(key).toMatchObject({ rotation: true, tags: { ...TAGS, 'ssm-setup:alias': ALIAS }, meta: { Arn: expect.stringMatching(/^arn:aws:kms:us-east-1:/) } });
    const logsContext = { 'kms:EncryptionContext:aws:logs:arn': groupArnOf(GROUP, REGION) };
    expect(['kms:GenerateDataKey', 'kms:Decrypt'].every((a) => keyPolicyAllows(key.policy, 'Service', [`logs.${REGION}.amazonaws.com`], a, logsContext))).toBe(
      true,
    );
    const bucket = account.s3.buckets.get(BUCKET)!;
    expect(bucket).toMatchObject({
      region: REGION,
      tags: TAGS,
      encryption: sseKmsRule(key.meta.Arn!),
      publicAccess: fullPublicAccessBlock(),
      versioning: 'Enabled',
    });
    expect(hasTlsDeny(JSON.parse(bucket.policy!))).toBe(true);
    expect(bucket.rules!.map((r) => r.ID)).toEqual([LIFECYCLE_RULE_ID]);
    expect(account.logs.groups.get(GROUP)).toMatchObject({ kmsKeyId: key.meta.Arn, retentionDays: 365, tags: TAGS });

    expect(account.iam.roles.get(ROLE)).toMatchObject({ tags: TAGS, attached: new Set([INSTANCE_POLICY, CW]) });
    expect(account.iam.roles.get('app-role')!.attached).toEqual(new Set([CORE, INSTANCE_POLICY, CW]));
    expect(account.iam.profiles.get(ROLE)).toMatchObject({ roles: [ROLE], tags: TAGS });
    expect(account.ec2.associationOf(bare)).toMatchObject({ profileArn: profileArnOf(ROLE) });
    expect(account.iam.users.get('alice')!.attached).toEqual(new Set([policyArnOf('SSMSessionManagerOperatorPolicy')]));

    expect(account.ssm.docs.get(PREFERENCES_DOCUMENT)).toMatchObject({ defaultVersion: 1, tags: TAGS });
    expect(account.ssm.content(PREFERENCES_DOCUMENT).inputs).toMatchObject({
      s3BucketName: BUCKET,
      s3EncryptionEnabled: true,
      kmsKeyId: key.meta.Arn,
      cloudWatchLogGroupName: GROUP,
      cloudWatchEncryptionEnabled: true,
    });
    for (const name of ASSOCIATIONS)
      expect(account.fleet.named(name)).toEqual([expect.objectContaining({ Targets: [{ Key: 'InstanceIds', Values: [managed, bare] }], tags: TAGS })]);
    expect(account.fleet.instances.get(managed)).toMatchObject({ isLatest: true, packages: new Set(['AmazonCloudWatchAgent']) });
    expect(account.ec2.tags(managed)[CW_AGENT_TAG]).toBe('installed');
    // The lease was taken before the first write and released at the end: the parameter stays, released.
    expect(parameters.writes()).toEqual(['PutParameterCommand', 'PutParameterCommand']);
    expect(parameters.value('/app/ssm-setup/lease')).toHaveProperty('released');
  });

  it.each([
    ['while EC2 is still associating the new profile', false],
    ['once EC2 has finished the association', true],
  ])('a second run %s plans no change and writes nothing to any fake', async (_when, associated) => {
    expect((await init()).code, err()).toBe(0);
    const first = account.writes();
    const leaseCalls = parameters.calls().length;
    expect(new Set(first.map((w) => w.split('.')[0]))).toEqual(new Set(['KMS', 'S3', 'CloudWatchLogs', 'IAM', 'EC2', 'SSM']));
    if (associated) account.ec2.completeAssociations();
    const { code, report, statuses: got } = await init();
    expect(code, err()).toBe(0);
    expect(got).toEqual(statuses('unchanged', 'unchanged'));
    expect(report.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(account.writes().slice(first.length)).toEqual([]);
    // Nothing to apply, so no lease either: one read of it (beside the identity), no write.
    expect(parameters.calls().slice(leaseCalls)).toEqual(['GetParameterCommand']);
  });

  // Each strict rule that the run meets, seen in the fakes' answers: refused once, then done.
  // Independent writes go out together, so a retry may follow the calls sent beside it.
  it.each([
    ['KMS: a just-created key is not visible for one call', 'KMS', 'CreateKey CreateAlias:NotFoundException EnableKeyRotation CreateAlias'],
    ['CloudWatch Logs: a just-created key is not usable for one call', 'CloudWatchLogs', 'CreateLogGroup:AccessDeniedException CreateLogGroup'],
    ['S3: without s3:TagResource the tagged CreateBucket is refused', 'S3', 'CreateBucket:AccessDenied CreateBucket PutBucketTagging'],
    ['S3: a just-created bucket is not seen for one call', 'S3', 'CreateBucket PutBucketTagging:NoSuchBucket PutBucketTagging'],
    [
      'IAM: a just-created role and policy are unknown for one call each',
      'IAM',
      'AttachRolePolicy:NoSuchEntityException AttachRolePolicy AttachRolePolicy:NoSuchEntityException AttachRolePolicy',
    ],
    ['IAM: a just-created instance profile is unknown for one call', 'IAM', 'CreateInstanceProfile AddRoleToInstanceProfile:NoSuchEntityException'],
    ['IAM: a just-created operator policy is unknown for one call', 'IAM', 'AttachUserPolicy:NoSuchEntityException AttachUserPolicy'],
    ['EC2: a just-created instance profile is not seen for one call', 'EC2', 'AssociateIamInstanceProfile:InvalidParameterValue AssociateIamInstanceProfile'],
  ])('%s', async (_rule, service, sequence) => {
    expect((await init()).code, err()).toBe(0);
    expect(await answered(service)).toContain(sequence);
  });

  it('S3 in us-east-1: the untagged CreateBucket sends no CreateBucketConfiguration at all', async () => {
    expect((await init()).code, err()).toBe(0);
    const sent = account.s3.mock.commandCalls(CreateBucketCommand).map((c) => c.args[0].input.CreateBucketConfiguration);
    expect(sent).toEqual([
      {
        Tags: expect.arrayContaining([
          { Key: 'ManagedBy', Value: 'ssm-setup' },
          { Key: 'Team', Value: 'infra' },
        ]),
      },
      undefined,
    ]);
  });

  it('SSM: the new preferences version is Creating at first, and the run waits for Active', async () => {
    expect((await init()).code, err()).toBe(0);
    const seen = await Promise.all(
      account.fleet.ssm.commandCalls(DescribeDocumentCommand).map(async (c) => (await c.returnValue.catch(() => undefined))?.Document?.Status),
    );
    expect(seen).toContain('Creating');
    expect(seen.at(-1)).toBe('Active');
  });

  // The rules the code keeps, broken on purpose against the same fakes after the run: each is on.
  it.each([
    [
      'S3: LocationConstraint us-east-1',
      'InvalidLocationConstraint',
      () =>
        new S3Client({ region: REGION }).send(
          new CreateBucketCommand({ Bucket: 'probe-a', CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } }),
        ),
    ],
    [
      'S3: an empty CreateBucketConfiguration',
      'MalformedXML',
      () => new S3Client({ region: REGION }).send(new CreateBucketCommand({ Bucket: 'probe-b', CreateBucketConfiguration: {} })),
    ],
    [
      'KMS: a key policy that locks the caller out',
      'MalformedPolicyDocumentException',
      () =>
        new KMSClient({ region: REGION }).send(
          new PutKeyPolicyCommand({ KeyId: ALIAS, PolicyName: 'default', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) }),
        ),
    ],
    [
      'CloudWatch Logs: a key that admits logs of another region only',
      'AccessDeniedException',
      () => {
        const id = account.kms.addKey({
          policy: JSON.stringify(sessionKeyPolicy({ partition: 'aws', account: ACCOUNT, region: 'eu-west-1', cloudWatchLogs: true })),
        });
        return new CloudWatchLogsClient({ region: REGION }).send(
          new CreateLogGroupCommand({ logGroupName: '/probe', kmsKeyId: account.kms.keys.get(id)!.meta.Arn }),
        );
      },
    ],
    [
      'IAM: an 11th managed policy on a role',
      'LimitExceededException',
      async () => {
        for (const PolicyArn of otherPolicies(8))
          await new IAMClient({ region: REGION }).send(new AttachRolePolicyCommand({ RoleName: 'app-role', PolicyArn }));
      },
    ],
    [
      'Run Command: an instance that is not managed',
      'InvalidInstanceId',
      () => new SSMClient({ region: REGION }).send(new SendCommandCommand({ DocumentName: 'AWS-UpdateSSMAgent', InstanceIds: [bare] })),
    ],
  ])('%s is refused', async (_rule, code, probe: () => Promise<unknown>) => {
    expect((await init()).code, err()).toBe(0);
    await expect(probe()).rejects.toMatchObject({ name: code });
  });
});
