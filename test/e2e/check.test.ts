import {
  AllocateAddressCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  DescribeInstancesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { type CliRun, endpoint, reset, runCli, sdk } from './harness.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';

/**
 * `check --json` end to end: the built CLI as a child process, against moto_server for what moto
 * implements (EC2 instances, route tables and endpoints, IAM profiles, roles and policies, KMS,
 * S3, the preferences document), with the rest answered by a loopback proxy in front of moto:
 * DescribeInstanceInformation and GetConnectionStatus (ssm-stub-proxy.ts).
 *
 * moto does not implement iam:SimulatePrincipalPolicy either (it answers HTTP 500 with an HTML
 * page, which the SDK reports as an XML parse error): what runs here is the fallback of
 * src/steps/check-rights.ts, which reads the role's attached and inline policies and evaluates
 * them. moto's caller (`user/moto`) is no IAM user of the account, so the operator's policies
 * cannot be read: the operator findings are warnings ("could not be proven"), not errors.
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const READ_NOTE = '(read from its policies; iam:SimulatePrincipalPolicy not available)';
const ec2 = () => sdk(EC2Client);

let proxy: SsmStubProxy;
/** Every run goes through the proxy: the env override comes after the harness's AWS_ENDPOINT_URL (moto's). */
const viaProxy = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: proxy.url } });

async function instance(name: string): Promise<string> {
  const out = await ec2().send(
    new RunInstancesCommand({
      ImageId: 'ami-0ed094fb1304fd857',
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: name }] }],
    }),
  );
  return out.Instances![0]!.InstanceId!;
}

/**
 * moto's default VPC has no 0.0.0.0/0 route in its main table: give it one through a NAT
 * gateway, so that the instances reach Systems Manager as in a usual private subnet.
 */
async function natRoute(instanceId: string): Promise<void> {
  const i = (await ec2().send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!.Instances![0]!;
  const { AllocationId } = await ec2().send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat = await ec2().send(new CreateNatGatewayCommand({ SubnetId: i.SubnetId, AllocationId }));
  const tables = await ec2().send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [i.VpcId!] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  const RouteTableId = tables.RouteTables![0]!.RouteTableId!;
  await ec2().send(new CreateRouteCommand({ RouteTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGateway!.NatGatewayId }));
}

const parse = (run: CliRun) => {
  try {
    return JSON.parse(run.stdout) as RunReport;
  } catch {
    throw new Error(`not one JSON object on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
};

let withProfile: string;
let bare: string;

beforeAll(async () => {
  await reset();
  proxy = await startSsmStubProxy(endpoint());
  expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(proxy.url).not.toBe(endpoint());

  const init = await viaProxy(['init', '--yes']);
  expect(init.code, init.stdout + init.stderr).toBe(0);

  withProfile = await instance('check-a');
  bare = await instance('check-b');
  await natRoute(withProfile);
  const role = await viaProxy(['run', 'instance-role', '--yes', '--instance-ids', withProfile]);
  expect(role.code, role.stdout + role.stderr).toBe(0);

  // Systems Manager as the proxy tells it: the instance with a profile registered and Online,
  // the bare one (no credentials) never registered.
  proxy.table.instances[withProfile] = { pingStatus: 'Online', agentVersion: '3.3.1142.0' };
  proxy.table.connection[withProfile] = 'connected';
});

afterAll(async () => {
  await proxy?.close();
});

describe('ssm-setup check against moto_server, with the SSM inventory stubbed', () => {
  it('check --json --instance-ids a,b: the first ready, the second not (no instance profile), exit 3', async () => {
    const answeredBefore = proxy.answered.length;
    const run = await viaProxy(['check', '--json', '--instance-ids', `${withProfile},${bare}`]);
    expect(run.code, run.stderr).toBe(3);
    const report = parse(run);

    // The contract shape.
    // The contract shape; ok follows the exit code (3 here).
    expect(report).toMatchObject({ command: 'check', account: ACCOUNT, region: REGION, ok: false });
    expect(report.targets!.map((t) => t.instanceId)).toEqual([withProfile, bare].sort());
    for (const t of report.targets!) {
      expect(typeof t.ready).toBe('boolean');
      expect(t.findings.length).toBeGreaterThan(0);
      for (const f of t.findings) {
        expect(
          Object.keys(f).every((k) => ['check', 'status', 'detail', 'fix'].includes(k)),
          JSON.stringify(f),
        ).toBe(true);
        expect(['ok', 'warning', 'error']).toContain(f.status);
        expect(f.detail).toEqual(expect.any(String));
        if (f.status === 'error') expect(f.fix, JSON.stringify(f)).toEqual(expect.any(String));
      }
    }
    expect(Object.keys(report.checks!).sort()).toEqual(['account', 'local', 'operator']);
    expect(report.checks!.local.map((f) => f.check)).toEqual(['aws-cli', 'session-manager-plugin', 'ssh-config']);

    // What init made agrees with itself: preferences, key, bucket (encryption, public access).
    const account = report.checks!.account;
    expect(account.map((f) => f.check)).toEqual(expect.arrayContaining(['preferences', 'key', 'bucket-encryption', 'bucket-public-access']));
    expect(account.filter((f) => f.status !== 'ok')).toEqual([]);
    // Operator: moto's caller has no readable policies → not provable, never an error.
    expect(report.checks!.operator.length).toBeGreaterThan(0);
    expect(report.checks!.operator.filter((f) => f.status === 'error')).toEqual([]);

    // The instance with the profile made by `run instance-role`: its role's rights, read from
    // ssm-setup's own instance policy (the fallback: moto has no SimulatePrincipalPolicy), hold.
    const a = report.targets!.find((t) => t.instanceId === withProfile)!;
    const rights = a.findings.filter((f) => f.check === 'role-rights');
    expect(rights.length).toBeGreaterThanOrEqual(4);
    for (const f of rights) {
      expect(f.status, f.detail).toBe('ok');
      expect(f.detail).toContain(READ_NOTE);
    }
    expect(a.findings.find((f) => f.check === 'instance-profile')).toMatchObject({ status: 'ok', detail: 'SSMSessionManagerInstanceRole' });
    expect(a.findings.find((f) => f.check === 'managed')).toMatchObject({ status: 'ok', detail: 'managed, Online, agent 3.3.1142.0' });
    expect(a.findings.find((f) => f.check === 'connection')).toMatchObject({ status: 'ok', detail: 'GetConnectionStatus: connected' });
    expect(a.findings.find((f) => f.check === 'route')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/sends 0\.0\.0\.0\/0 to nat-/) });
    // Every link holds: ready, and the command to connect names it.
    expect(a.findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(a.ready).toBe(true);
    expect(report.connect).toBe(`aws ssm start-session --target ${withProfile} --region ${REGION}`);

    // The bare instance: not ready, for want of an instance profile, with the command that gives it one.
    const b = report.targets!.find((t) => t.instanceId === bare)!;
    expect(b.ready).toBe(false);
    expect(b.findings.find((f) => f.check === 'instance-profile')).toEqual({
      check: 'instance-profile',
      status: 'error',
      detail: 'no instance profile',
      fix: `ssm-setup run instance-role --instance-ids ${bare}`,
    });
    expect(b.findings.find((f) => f.check === 'managed')).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(/^not managed by Systems Manager: no instance profile/),
    });
    expect(b.findings.some((f) => f.check === 'connection')).toBe(false);

    // The stubbed calls were answered by the proxy (so the env override reached the CLI), and
    // the fallback path ran: SimulatePrincipalPolicy was tried, then the policies were read.
    expect(proxy.answered.slice(answeredBefore)).toEqual(expect.arrayContaining(['AmazonSSM.DescribeInstanceInformation', 'AmazonSSM.GetConnectionStatus']));
    const ops = run.calls.map((c) => `${c.service}.${c.operation}`);
    expect(ops).toContain('IAM.SimulatePrincipalPolicy');
    expect(ops).toEqual(expect.arrayContaining(['IAM.ListAttachedRolePolicies', 'IAM.GetPolicyVersion']));
    expect(run.writes).toEqual([]);
  });

  it('check --all --json lists both instances of the region', async () => {
    const run = await viaProxy(['check', '--all', '--json']);
    expect(run.code, run.stderr).toBe(3);
    const report = parse(run);
    expect(report.targets!.map((t) => t.instanceId).sort()).toEqual([withProfile, bare].sort());
    expect(report.targets!.find((t) => t.instanceId === withProfile)!.ready).toBe(true);
    expect(report.targets!.find((t) => t.instanceId === bare)!.ready).toBe(false);
    expect(report.connect).toBe(`aws ssm start-session --target ${withProfile} --region ${REGION}`);
    expect(run.writes).toEqual([]);
  });
});
