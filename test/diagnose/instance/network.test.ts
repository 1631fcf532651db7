import { DescribeRouteTablesCommand, DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../src/diagnose/index.js';
import { checkNetwork } from '../../../src/diagnose/instance/network.js';
import { REGION } from '../../helpers/fixtures.js';
import {
  ALL_NEEDS,
  addEndpoints,
  ctx,
  diagnoseOne,
  endpoint,
  finding,
  GENERIC,
  instance,
  net,
  privateInstance,
  readsOf,
  SSM,
  s3Gateway,
  state,
  statuses,
  useWorld,
  values,
} from '../harness.js';

useWorld();

describe('route and endpoints, in a diagnosis', () => {
  it('a private subnet without NAT/internet route and without endpoints: create the endpoints or a NAT route', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(d.cause).toBe(
      'no route to the SSM endpoints: subnet subnet-private has no internet or NAT route and VPC vpc-a has no usable ssm or ssmmessages interface endpoint',
    );
    expect(statuses(d)).toMatchObject({ route: 'error', 'endpoint:ssm': 'error', 'endpoint:ssmmessages': 'error', 'endpoint:ec2messages': 'warning' });
    expect(d.fix).toHaveLength(3);
    expect(d.fix[0]).toBe(
      `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com.amazonaws.${REGION}.ssm --subnet-ids subnet-private --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled --region ${REGION}`,
    );
    expect(d.fix[1]).toContain(`--service-name com.amazonaws.${REGION}.ssmmessages`);
    expect(d.fix[2]).toContain('aws ec2 create-route --route-table-id rtb-private --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id>');
    // The endpoints were asked for by VPC and service name.
    const input = net.ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input;
    expect(values(input.Filters, 'vpc-id')).toEqual(['vpc-a']);
    expect(values(input.Filters, 'service-name')).toEqual([
      `com.amazonaws.${REGION}.ssm`,
      `com.amazonaws.${REGION}.ssmmessages`,
      `com.amazonaws.${REGION}.ec2messages`,
    ]);
  });

  it('a subnet without its own table uses the main table of its VPC', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-unassociated', vpcId: 'vpc-b' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'error', detail: expect.stringContaining('rtb-main-b (main table of vpc-b)') });
    expect(d.cause).toMatch(/^no route to the SSM endpoints/);
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeRouteTablesCommand, 2);
    const fallback = net.ec2.commandCalls(DescribeRouteTablesCommand)[1]!.args[0].input;
    expect(values(fallback.Filters, 'vpc-id')).toEqual(['vpc-b']);
    expect(values(fallback.Filters, 'association.main')).toEqual(['true']);
  });

  it('a subnet routed through a NAT gateway needs no endpoints', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'ok', detail: 'rtb-nat sends 0.0.0.0/0 to nat-1' });
    expect(finding(d, 'endpoint:ssm')).toMatchObject({ status: 'ok', detail: expect.stringContaining('not needed') });
    expect(d.cause).toBe(GENERIC);
  });

  it('a private subnet with the endpoints: the network is ok', async () => {
    addEndpoints(['ssm', 'ssmmessages', 'ec2messages'].map((s) => endpoint('vpc-a', s)));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:ssm': 'ok', 'endpoint:ssmmessages': 'ok', 'endpoint:ec2messages': 'ok' });
    expect(finding(d, 'endpoint:ssm')?.detail).toBe('vpce-vpc-a-ssm available, private DNS on');
    expect(d.cause).toBe(GENERIC);
  });

  it('a private subnet without ec2messages only: a warning, not the cause', async () => {
    addEndpoints(['ssm', 'ssmmessages'].map((s) => endpoint('vpc-a', s)));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:ec2messages': 'warning' });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });

  it.each(['available', 'Available', 'AVAILABLE'])('accepts the endpoint state %s (compared case-insensitively)', async (State) => {
    addEndpoints(['ssm', 'ssmmessages'].map((s) => endpoint('vpc-a', s, { State: state(State) })));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')?.status).toBe('ok');
    expect(finding(d, 'endpoint:ssmmessages')?.status).toBe('ok');
  });

  it('an endpoint with private DNS off, or failed, does not count', async () => {
    addEndpoints([endpoint('vpc-a', 'ssm', { PrivateDnsEnabled: false }), endpoint('vpc-a', 'ssmmessages', { State: state('failed') })]);
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')).toMatchObject({
      status: 'error',
      detail: 'vpce-vpc-a-ssm has private DNS off',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-vpc-a-ssm --private-dns-enabled --region ${REGION}`,
    });
    expect(finding(d, 'endpoint:ssmmessages')).toMatchObject({ status: 'error', detail: 'vpce-vpc-a-ssmmessages is failed' });
    expect(d.cause).toMatch(/^no route to the SSM endpoints/);
  });

  it('an endpoint of another VPC does not count', async () => {
    addEndpoints(['ssm', 'ssmmessages'].map((s) => endpoint('vpc-b', s)));
    const d = await diagnoseOne(instance({ subnetId: 'subnet-private' }));
    expect(finding(d, 'endpoint:ssm')?.status).toBe('error');
  });
});

describe('diagnoseUnmanaged: kms, logs and S3 endpoints (needs)', () => {
  it('without route out, missing kms, logs and S3 gateway endpoints are errors with the create commands', async () => {
    addEndpoints(SSM.map((s) => endpoint('vpc-a', s)));
    const d = await diagnoseOne(privateInstance(), ALL_NEEDS);
    expect(statuses(d)).toMatchObject({ route: 'ok', 'endpoint:kms': 'error', 'endpoint:logs': 'error', 'endpoint:s3': 'error' });
    expect(finding(d, 'endpoint:kms')).toEqual({
      check: 'endpoint:kms',
      status: 'error',
      detail: 'no interface endpoint (KMS session encryption needs it)',
      fix: `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Interface --service-name com.amazonaws.${REGION}.kms --subnet-ids subnet-private --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled --region ${REGION}`,
    });
    expect(finding(d, 'endpoint:logs')).toMatchObject({
      detail: 'no interface endpoint (CloudWatch Logs session logging needs it)',
      fix: expect.stringContaining(`--service-name com.amazonaws.${REGION}.logs `),
    });
    expect(finding(d, 'endpoint:s3')).toEqual({
      check: 'endpoint:s3',
      status: 'error',
      detail: 'no S3 gateway endpoint (S3 session logging needs it)',
      fix: `aws ec2 create-vpc-endpoint --vpc-id vpc-a --vpc-endpoint-type Gateway --service-name com.amazonaws.${REGION}.s3 --route-table-ids rtb-private --region ${REGION}`,
    });
    // They break sessions, not registration: not the cause of an unmanaged instance.
    expect(d.cause).toBe(GENERIC);
    // The endpoints are read in the same call, the needed services added to the filter.
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeVpcEndpointsCommand, 1);
    expect(values(net.ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).toEqual(
      ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs', 's3'].map((s) => `com.amazonaws.${REGION}.${s}`),
    );
  });

  it('only what the preferences use is checked', async () => {
    addEndpoints(SSM.map((s) => endpoint('vpc-a', s)));
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { logs: true } });
    expect(finding(d, 'endpoint:logs')?.status).toBe('error');
    expect(finding(d, 'endpoint:kms')).toBeUndefined();
    expect(finding(d, 'endpoint:s3')).toBeUndefined();
    expect(values(net.ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).toContain(`com.amazonaws.${REGION}.logs`);
    expect(values(net.ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters, 'service-name')).not.toContain(`com.amazonaws.${REGION}.kms`);
  });

  it('present kms and logs interface endpoints (state in any case) and the S3 gateway on the subnet table are ok', async () => {
    addEndpoints([
      ...SSM.map((s) => endpoint('vpc-a', s)),
      endpoint('vpc-a', 'kms', { State: state('Available') }),
      endpoint('vpc-a', 'logs', { State: state('AVAILABLE') }),
      s3Gateway({ RouteTableIds: ['rtb-other', 'rtb-private'] }),
    ]);
    const d = await diagnoseOne(privateInstance(), ALL_NEEDS);
    expect(finding(d, 'endpoint:kms')).toEqual({ check: 'endpoint:kms', status: 'ok', detail: 'vpce-vpc-a-kms available, private DNS on' });
    expect(finding(d, 'endpoint:logs')?.status).toBe('ok');
    expect(finding(d, 'endpoint:s3')).toEqual({ check: 'endpoint:s3', status: 'ok', detail: 'vpce-s3 (gateway) available, on route table rtb-private' });
    expect(d.findings.filter((f) => f.status !== 'ok')).toEqual([]);
  });

  it('a kms endpoint with private DNS off is an error with the modify command', async () => {
    addEndpoints([...SSM.map((s) => endpoint('vpc-a', s)), endpoint('vpc-a', 'kms', { PrivateDnsEnabled: false })]);
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { kms: true } });
    expect(finding(d, 'endpoint:kms')).toMatchObject({
      status: 'error',
      detail: 'vpce-vpc-a-kms has private DNS off (KMS session encryption needs it)',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-vpc-a-kms --private-dns-enabled --region ${REGION}`,
    });
  });

  it('an S3 gateway endpoint on another route table is an error: add the subnet table to it', async () => {
    addEndpoints([...SSM.map((s) => endpoint('vpc-a', s)), s3Gateway({ RouteTableIds: ['rtb-nat'] })]);
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toEqual({
      check: 'endpoint:s3',
      status: 'error',
      detail: 'vpce-s3 (gateway) is not on route table rtb-private: it is on rtb-nat (S3 session logging needs it)',
      fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-s3 --add-route-table-ids rtb-private --region ${REGION}`,
    });
  });

  it('an S3 interface endpoint is not the gateway endpoint the subnet needs', async () => {
    addEndpoints([...SSM.map((s) => endpoint('vpc-a', s)), endpoint('vpc-a', 's3', { RouteTableIds: ['rtb-private'] })]);
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toMatchObject({ status: 'error', detail: expect.stringMatching(/^no S3 gateway endpoint/) });
  });

  it('the S3 gateway endpoint on the main table serves a subnet without a table of its own', async () => {
    addEndpoints([...SSM.map((s) => endpoint('vpc-b', s)), s3Gateway({ VpcId: 'vpc-b', RouteTableIds: ['rtb-main-b'] })]);
    const d = await diagnoseOne(privateInstance({ subnetId: 'subnet-unassociated', vpcId: 'vpc-b' }), { ...ctx, needs: { s3: true } });
    expect(finding(d, 'endpoint:s3')).toMatchObject({ status: 'ok', detail: 'vpce-s3 (gateway) available, on route table rtb-main-b' });
  });

  it('with an internet or NAT route the missing endpoints are ok, via the internet route', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }), ALL_NEEDS);
    for (const check of ['endpoint:kms', 'endpoint:logs', 'endpoint:s3']) {
      expect(finding(d, check)).toMatchObject({ status: 'ok', detail: expect.stringContaining('not needed: via the internet route to nat-1') });
      expect(finding(d, check)?.fix).toBeUndefined();
    }
  });
});

describe('diagnoseUnmanaged: public subnet route without public IP', () => {
  it('an internet gateway route but no public IP, and no endpoints: an error with EIP, NAT and endpoint fixes', async () => {
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5' }), { ...ctx, needs: { kms: true } });
    const eip = `aws ec2 associate-address --instance-id i-0000000000000001 --allocation-id <eipalloc-id> --region ${REGION}`;
    expect(finding(d, CHECKS.route)).toEqual({
      check: 'route',
      status: 'error',
      detail: 'rtb-public sends 0.0.0.0/0 to the internet gateway igw-1, but the instance has no public IP (public subnet route but no public IP)',
      fix: eip,
    });
    expect(d.cause).toBe(
      'public subnet route but no public IP: subnet subnet-public routes to igw-1, which carries only instances with a public IP, and VPC vpc-a has no usable ssm or ssmmessages interface endpoint',
    );
    expect(d.fix[0]).toBe(`associate an Elastic IP: aws ec2 allocate-address --domain vpc --region ${REGION}, then ${eip}`);
    expect(d.fix[1]).toMatch(/^or use a NAT gateway: .*associate-route-table --subnet-id subnet-public/);
    expect(d.fix[2]).toMatch(/^or add the endpoints: aws ec2 create-vpc-endpoint .*com\.amazonaws\.eu-west-1\.ssm /);
    expect(d.fix[3]).toContain(`com.amazonaws.${REGION}.ssmmessages `);
    // No way out: the endpoints are needed, kms included.
    expect(statuses(d)).toMatchObject({ 'endpoint:ssm': 'error', 'endpoint:ssmmessages': 'error', 'endpoint:kms': 'error' });
  });

  it('an internet gateway route without public IP is ok when the endpoints exist', async () => {
    addEndpoints(SSM.map((s) => endpoint('vpc-a', s)));
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5' }));
    expect(finding(d, CHECKS.route)).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/no public IP \(public subnet route but no public IP\): the VPC endpoints are used$/),
    });
    expect(d.cause).toBe(GENERIC);
  });

  it('with a public IP the internet gateway route is ok', async () => {
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5', publicIp: '203.0.113.5' }));
    expect(finding(d, CHECKS.route)).toMatchObject({ status: 'ok', detail: 'rtb-public sends 0.0.0.0/0 to igw-1' });
    expect(d.cause).toBe(GENERIC);
  });

  it('a NAT route needs no public IP', async () => {
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
  });

  it('a stopped instance has no public IP until it starts: not held against it', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped', privateIp: '10.0.1.5' }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(d.cause).toBe('the instance is stopped');
  });
});

describe('checkNetwork (pure)', () => {
  const t = privateInstance();
  const route = (egress: 'internet' | 'other' | 'none', target?: string) => new Map([['subnet-private', { tableId: 'rtb-x', main: false, egress, target }]]);
  const inVpc = (...list: ReturnType<typeof endpoint>[]) => new Map([['vpc-a', list]]);

  it('no subnet known: a route warning only', () => {
    expect(checkNetwork(instance({ subnetId: undefined }), readsOf(), ctx)).toEqual({
      findings: [{ check: CHECKS.route, status: 'warning', detail: 'no VPC subnet known for this instance' }],
    });
  });

  it('a route to another target (transit gateway): ok when the endpoints are usable, else a warning; never a cause', () => {
    const without = checkNetwork(t, readsOf({ routes: route('other', 'tgw-1') }), ctx);
    expect(without.findings[0]).toEqual({
      check: CHECKS.route,
      status: 'warning',
      detail: 'rtb-x sends 0.0.0.0/0 to tgw-1: it reaches Systems Manager only if that path has a NAT or the endpoints',
    });
    // The way out is unknown: the missing endpoints are suspicions only.
    expect(without.findings.slice(1).map((f) => f.status)).toEqual(['warning', 'warning', 'warning']);
    expect(without.cause).toBeUndefined();
    const withEndpoints = checkNetwork(t, readsOf({ routes: route('other', 'tgw-1'), endpoints: inVpc(...SSM.map((s) => endpoint('vpc-a', s))) }), ctx);
    expect(withEndpoints.findings[0]!.status).toBe('ok');
  });

  it('a pending endpoint without a route out: wait for it, a warning, not the cause', () => {
    const checked = checkNetwork(
      t,
      readsOf({ routes: route('none'), endpoints: inVpc(endpoint('vpc-a', 'ssm', { State: state('pending') }), endpoint('vpc-a', 'ssmmessages')) }),
      ctx,
    );
    expect(finding(checked, 'endpoint:ssm')).toEqual({
      check: 'endpoint:ssm',
      status: 'warning',
      detail: 'vpce-vpc-a-ssm is pending',
      fix: `wait until vpce-vpc-a-ssm is available: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids vpce-vpc-a-ssm --region ${REGION}`,
    });
    expect(finding(checked, CHECKS.route)).toEqual({
      check: CHECKS.route,
      status: 'warning',
      detail:
        'rtb-x has no 0.0.0.0/0 route to an internet or NAT gateway (private subnet), and the ssm and ssmmessages endpoints are not all usable yet or could not be read',
    });
    expect(checked.cause).toBeUndefined();
  });

  it('a route table that could not be read: a warning naming the action, the endpoints still listed', () => {
    const checked = checkNetwork(t, readsOf({ routes: { denied: 'ec2:DescribeRouteTables' } }), ctx);
    expect(checked.findings.map((f) => [f.check, f.status])).toEqual([
      ['route', 'warning'],
      ['endpoint:ssm', 'warning'],
      ['endpoint:ssmmessages', 'warning'],
      ['endpoint:ec2messages', 'warning'],
    ]);
    expect(checked.findings[0]!.detail).toBe('could not read the route table of subnet-private (missing ec2:DescribeRouteTables)');
  });

  it('an S3 gateway endpoint still pending: wait for it, a warning even without a route out', () => {
    const checked = checkNetwork(
      t,
      readsOf({
        routes: route('none'),
        endpoints: inVpc(...SSM.map((s) => endpoint('vpc-a', s)), s3Gateway({ State: state('pendingAcceptance'), RouteTableIds: ['rtb-x'] })),
      }),
      { ...ctx, needs: { s3: true } },
    );
    expect(finding(checked, 'endpoint:s3')).toMatchObject({
      status: 'warning',
      detail: 'vpce-s3 (gateway) is pendingAcceptance (S3 session logging needs it)',
      fix: expect.stringMatching(/^wait until vpce-s3 is available/),
    });
  });
});
