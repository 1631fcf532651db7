import {
  CreateVpcEndpointCommand,
  DeleteRouteCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { type CliRun, endpoint, reset, runCli, sdk, setupWrites } from './harness.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';

/**
 * The vpc-endpoints step end to end, against moto_server: moto implements DescribeVpcs,
 * DescribeVpcAttribute, DescribeSubnets, CreateSecurityGroup, AuthorizeSecurityGroupIngress,
 * CreateVpcEndpoint (interface endpoints for ssm, ssmmessages, ec2messages, kms and logs, and the
 * S3 gateway), ModifyVpcEndpoint, DeleteVpcEndpoints and DeleteSecurityGroup. What moto lacks:
 * DescribeVpcEndpoints ignores MaxResults (one page), deleted endpoints stay listed as `deleted`,
 * a second private-DNS interface endpoint for one service is accepted (AWS refuses the DNS
 * conflict: the unit fake models it), and Systems Manager's inventory and connection status:
 * those SSM calls only go through the loopback stub (ssm-stub-proxy.ts).
 *
 * The harness makes the default VPC private (its main table loses any 0.0.0.0/0 route) and
 * pre-creates one foreign `ssm` interface endpoint. Agent update and the CloudWatch agent are
 * off: moto has no ListCommandInvocations to follow Run Command (the agents' wait is unit-tested).
 */

const REGION = 'us-east-1';
const ec2 = () => sdk(EC2Client);
const FLAGS = ['--vpc-endpoints', '--no-agent-update', '--no-cloudwatch-agent'];
let proxy: SsmStubProxy;
let ids: string[];
let vpcId: string;
let foreign: string;
const viaProxy = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: proxy.url } });
const cli = (args: string[]) => viaProxy([...args, '--instance-ids', ids.join(','), ...FLAGS]);
const parse = (run: CliRun) => {
  try {
    return JSON.parse(run.stdout) as RunReport;
  } catch {
    throw new Error(`not one JSON object on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
};
const live = async (): Promise<VpcEndpoint[]> =>
  ((await ec2().send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).VpcEndpoints ?? []).filter(
    (e) => e.State?.toLowerCase() !== 'deleted',
  );
const service = (e: VpcEndpoint) => e.ServiceName!.split('.').pop();
const isOurs = (e: VpcEndpoint) => (e.Tags ?? []).some((t) => t.Key === 'ManagedBy' && t.Value === 'ssm-setup');

beforeAll(async () => {
  await reset();
  proxy = await startSsmStubProxy(endpoint());
  const vpc = (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
  vpcId = vpc.VpcId!;
  // Private: no 0.0.0.0/0 route in the main table (moto's default VPC has none; remove one if there).
  const tables = (await ec2().send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables ?? [];
  for (const t of tables)
    for (const r of t.Routes ?? [])
      if (r.DestinationCidrBlock === '0.0.0.0/0') await ec2().send(new DeleteRouteCommand({ RouteTableId: t.RouteTableId, DestinationCidrBlock: '0.0.0.0/0' }));
  const subnets = (await ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!;
  const inZone = (az: string) => subnets.find((s) => s.AvailabilityZone === az)!.SubnetId!;
  ids = [];
  for (const SubnetId of [inZone(`${REGION}a`), inZone(`${REGION}b`)]) {
    const out = await ec2().send(new RunInstancesCommand({ ImageId: 'ami-0ed094fb1304fd857', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId }));
    ids.push(out.Instances![0]!.InstanceId!);
  }
  // Someone else's ssm endpoint (no tags): adopted, never duplicated, never changed.
  const made = await ec2().send(
    new CreateVpcEndpointCommand({
      VpcId: vpcId,
      ServiceName: `com.amazonaws.${REGION}.ssm`,
      VpcEndpointType: 'Interface',
      SubnetIds: [inZone(`${REGION}a`)],
      PrivateDnsEnabled: true,
    }),
  );
  foreign = made.VpcEndpoint!.VpcEndpointId!;
  // Systems Manager as the stub tells it: both agents registered through the endpoints.
  for (const id of ids) {
    proxy.table.instances[id] = { pingStatus: 'Online', agentVersion: '3.3.1142.0' };
    proxy.table.connection[id] = 'connected';
  }
});
afterAll(async () => {
  await proxy?.close();
});

describe('vpc-endpoints against moto_server', () => {
  it('plan --vpc-endpoints shows each endpoint with its monthly price and the total, and writes nothing', async () => {
    const run = await cli(['plan', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const row = parse(run).steps.find((s) => s.id === 'vpc-endpoints')!;
    expect(row.status).toBe('pending');
    const endpoints = row.changes.filter((c) => c.resource.startsWith('VPC endpoint'));
    expect(endpoints.map((c) => c.resource)).toEqual([`VPC endpoint ssmmessages in ${vpcId}`, `VPC endpoint kms in ${vpcId}`, `VPC endpoint s3 in ${vpcId}`]);
    expect(endpoints[0]!.detail).toContain('$14.60/month (2 AZ × 730 h × $0.01) + $0.01/GB processed');
    expect(endpoints[2]!.detail).toContain('free');
    expect(row.note).toContain('monthly total of the planned interface endpoints: $29.20');
    expect(row.note).toContain(`ssm: ${foreign} adopted`);
    expect(setupWrites(run)).toEqual([]);
  });

  it('init --yes --vpc-endpoints creates the missing endpoints, the security group and the S3 gateway; the foreign one is adopted', async () => {
    const run = await cli(['init', '--yes', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const now = await live();
    expect(now.filter((e) => service(e) === 'ssm').map((e) => e.VpcEndpointId)).toEqual([foreign]);
    expect(now.find((e) => e.VpcEndpointId === foreign)!.Tags ?? []).toEqual([]);
    const ours = now.filter(isOurs);
    expect(ours.map(service).sort()).toEqual(['kms', 's3', 'ssmmessages']);
    expect(ours.find((e) => service(e) === 's3')).toMatchObject({ VpcEndpointType: 'Gateway' });
    const group = (await ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`ssm-setup-endpoints-${vpcId}`] }] })))
      .SecurityGroups![0]!;
    expect(group.IpPermissions).toEqual([
      expect.objectContaining({ FromPort: 443, ToPort: 443, IpRanges: [expect.objectContaining({ CidrIp: '172.31.0.0/16' })] }),
    ]);
    for (const e of ours.filter((x) => service(x) !== 's3')) {
      expect(e.Groups!.map((g) => g.GroupId)).toEqual([group.GroupId]);
      expect(e.SubnetIds).toHaveLength(2);
      expect(e.PrivateDnsEnabled).toBe(true);
    }
  });

  it('check reports the network path ready through the endpoints, with no network error', async () => {
    const run = await viaProxy(['check', '--json', '--instance-ids', ids.join(',')]);
    const report = parse(run);
    for (const t of report.targets!) {
      const net = t.findings.filter((f) => f.check === 'route' || f.check.startsWith('endpoint'));
      expect(net.filter((f) => f.status === 'error')).toEqual([]);
      expect(net.find((f) => f.check === 'route')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/the VPC endpoints are used$/) });
    }
    expect(run.writes).toEqual([]);
  });

  it('a rerun makes no write call', async () => {
    const run = await cli(['init', '--yes', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(parse(run).steps.find((s) => s.id === 'vpc-endpoints')!.status).toBe('unchanged');
    expect(setupWrites(run)).toEqual([]);
  });

  it('destroy --yes removes exactly ours: the three endpoints and the group; the foreign endpoint stays', async () => {
    const ours = (await live()).filter(isOurs).map((e) => e.VpcEndpointId!);
    const run = await viaProxy(['destroy', '--yes', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const deleted = run.calls.filter((c) => c.operation === 'DeleteVpcEndpoints').length;
    expect(deleted).toBe(ours.length);
    expect((await live()).map((e) => e.VpcEndpointId)).toEqual([foreign]);
    const groups = await ec2().send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`ssm-setup-endpoints-${vpcId}`] }] }));
    expect(groups.SecurityGroups).toEqual([]);
  });
});
