import { DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { TargetInstance } from '../../../src/core/step.js';
import { CHECKS } from '../../../src/diagnose/index.js';
import { checkEndpointGroups } from '../../../src/diagnose/instance/endpoint-groups.js';
import { ACCOUNT, REGION } from '../../helpers/fixtures.js';
import {
  addEndpoints,
  addGroups,
  ctx,
  denied,
  diagnoseOne,
  endpoint,
  finding,
  GENERIC,
  group,
  guarded,
  https,
  instance,
  net,
  privateInstance,
  readsOf,
  SSM,
  useWorld,
  values,
} from '../harness.js';

useWorld();

describe('diagnoseUnmanaged: endpoint security groups', () => {
  it.each<[string, IpPermission]>([
    ['a CIDR containing the private IP', https({ IpRanges: [{ CidrIp: '10.0.0.0/22' }] })],
    ['a /32 of the private IP', https({ IpRanges: [{ CidrIp: '10.0.2.15/32' }] })],
    ['a group of the instance', https({ UserIdGroupPairs: [{ GroupId: 'sg-app', UserId: ACCOUNT }] })],
    ['0.0.0.0/0', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] })],
    ['all traffic (protocol -1) from the VPC', { IpProtocol: '-1', IpRanges: [{ CidrIp: '10.0.0.0/16' }] }],
    ['a port range around 443', https({ FromPort: 400, ToPort: 500, IpRanges: [{ CidrIp: '10.0.0.0/16' }] })],
  ])('ok when a rule admits TCP 443 from %s', async (_, rule) => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '192.168.0.0/16' }] }), rule)]);
    const d = await diagnoseOne(privateInstance());
    const sg = finding(d, CHECKS.endpointSg);
    expect(sg?.status).toBe('ok');
    expect(sg?.detail).toMatch(/^TCP 443 from the instance \(10\.0\.2\.15\) is admitted: vpce-vpc-a-ssm \(ssm\) by sg-endpoints \(/);
    expect(d.cause).toBe(GENERIC);
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(values(net.ec2.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input.Filters, 'group-id')).toEqual(['sg-app', 'sg-endpoints']);
  });

  it.each<[string, IpPermission[]]>([
    ['no rule', []],
    ['SSH only', [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]],
    ['UDP 443', [{ IpProtocol: 'udp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]],
    ['443 from a neighbouring CIDR', [https({ IpRanges: [{ CidrIp: '10.0.4.0/22' }] })]],
    ['443 from another group', [https({ UserIdGroupPairs: [{ GroupId: 'sg-bastion' }] })]],
  ])('an error naming the endpoints and the group when it admits %s', async (_, rules) => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', ...rules)]);
    const d = await diagnoseOne(privateInstance());
    const fix = `aws ec2 authorize-security-group-ingress --group-id sg-endpoints --protocol tcp --port 443 --cidr <CIDR of vpc-a or subnet-private> --region ${REGION}`;
    expect(finding(d, CHECKS.endpointSg)).toEqual({
      check: 'endpoint-sg',
      status: 'error',
      detail:
        'no security group admits TCP 443 from the instance (10.0.2.15): vpce-vpc-a-ssm (ssm) with sg-endpoints; vpce-vpc-a-ssmmessages (ssmmessages) with sg-endpoints; vpce-vpc-a-ec2messages (ec2messages) with sg-endpoints',
      fix,
    });
    // The endpoints exist, so the route is fine; the closed group is why the agent cannot register.
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(d.cause).toBe(
      'the ssm and ssmmessages endpoints of VPC vpc-a (security groups sg-endpoints) do not admit TCP 443 from the instance, and private DNS sends the agent there',
    );
    expect(d.fix).toEqual([fix]);
  });

  it('a group admitting the instance on one endpoint does not open another endpoint: each is named with its group', async () => {
    addEndpoints([...guarded(['ssm', 'ssmmessages']), ...guarded(['ec2messages'], 'sg-closed')]);
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] })), group('sg-closed')]);
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({
      status: 'error',
      detail: 'no security group admits TCP 443 from the instance (10.0.2.15): vpce-vpc-a-ec2messages (ec2messages) with sg-closed',
      fix: expect.stringContaining('--group-id sg-closed '),
    });
    // ec2messages only: an error in the row, not the cause.
    expect(d.cause).toBe(GENERIC);
  });

  it("one open group among an endpoint's groups is enough", async () => {
    addEndpoints(SSM.map((s) => endpoint('vpc-a', s, { Groups: [{ GroupId: 'sg-closed' }, { GroupId: 'sg-open' }] })));
    addGroups([group('sg-closed'), group('sg-open', https({ UserIdGroupPairs: [{ GroupId: 'sg-app' }] }))]);
    const d = await diagnoseOne(privateInstance({ securityGroupIds: ['sg-other', 'sg-app'] }));
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'ok', detail: expect.stringContaining('vpce-vpc-a-ssm (ssm) by sg-open (sg-app)') });
  });

  it('the kms and logs endpoints are checked when the preferences use them', async () => {
    addEndpoints([...guarded(SSM), ...guarded(['kms', 'logs'], 'sg-kms')]);
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] })), group('sg-kms', https({ IpRanges: [{ CidrIp: '172.16.0.0/12' }] }))]);
    const d = await diagnoseOne(privateInstance(), { ...ctx, needs: { kms: true, logs: true } });
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(/: vpce-vpc-a-kms \(kms\) with sg-kms; vpce-vpc-a-logs \(logs\) with sg-kms$/),
      fix: expect.stringContaining('--group-id sg-kms '),
    });
    expect(d.cause).toBe(GENERIC);
    // Both groups in one read.
    expect(net.ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupsCommand, 1);
    expect(values(net.ec2.commandCalls(DescribeSecurityGroupsCommand)[0]!.args[0].input.Filters, 'group-id')).toEqual(['sg-app', 'sg-endpoints', 'sg-kms']);
    // Without the need, the kms endpoint is not looked at.
    net.ec2.resetHistory();
    const without = await diagnoseOne(privateInstance());
    expect(finding(without, CHECKS.endpointSg)?.status).toBe('ok');
  });

  it('private DNS sends even an instance with an internet route to the endpoints: a closed group is still the cause', async () => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints')]);
    const d = await diagnoseOne(instance({ privateIp: '10.0.1.5', publicIp: '203.0.113.5', securityGroupIds: ['sg-app'] }));
    expect(finding(d, CHECKS.route)?.status).toBe('ok');
    expect(finding(d, CHECKS.endpointSg)?.status).toBe('error');
    expect(d.cause).toMatch(/^the ssm and ssmmessages endpoints of VPC vpc-a/);
  });

  it('no endpoint in use: no security group is read and no finding made', async () => {
    addEndpoints([endpoint('vpc-a', 'ssm', { PrivateDnsEnabled: false, Groups: [{ GroupId: 'sg-endpoints' }] })]);
    const d = await diagnoseOne(instance({ subnetId: 'subnet-nat', privateIp: '10.0.3.7' }));
    expect(finding(d, CHECKS.endpointSg)).toBeUndefined();
    expect(net.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  });

  it.each<[string, IpPermission, Partial<TargetInstance>, string]>([
    ['a prefix list', https({ PrefixListIds: [{ PrefixListId: 'pl-123' }] }), {}, 'sg-endpoints admits prefix list pl-123'],
    ['a CIDR, with the private IP unknown', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] }), { privateIp: undefined }, "the instance's private IP is unknown"],
    [
      'a group, with the instance groups unknown',
      https({ UserIdGroupPairs: [{ GroupId: 'sg-app' }] }),
      { securityGroupIds: undefined },
      "the instance's security groups are unknown",
    ],
  ])('a warning when only %s might admit it', async (_, rule, over, why) => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', rule)]);
    const d = await diagnoseOne(privateInstance(over));
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'warning', detail: expect.stringContaining(why) });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });

  it('a group that is gone is a warning', async () => {
    addEndpoints(guarded(SSM, 'sg-deleted'));
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toMatchObject({ status: 'warning', detail: expect.stringContaining('sg-deleted was not found') });
  });

  it('access denied on the security groups is a warning naming the missing action', async () => {
    addEndpoints(guarded(SSM));
    net.refuse(DescribeSecurityGroupsCommand, denied('UnauthorizedOperation'));
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.endpointSg)).toEqual({
      check: 'endpoint-sg',
      status: 'warning',
      detail:
        'could not read the security groups of vpce-vpc-a-ssm (ssm), vpce-vpc-a-ssmmessages (ssmmessages), vpce-vpc-a-ec2messages (ec2messages) (missing ec2:DescribeSecurityGroups)',
    });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
  });
});

describe('checkEndpointGroups (pure)', () => {
  const inVpc = (list: ReturnType<typeof endpoint>[]) => new Map([['vpc-a', list]]);
  const groups = (...list: ReturnType<typeof group>[]) => new Map(list.map((g) => [g.GroupId!, g]));

  it('nothing to judge: no subnet known, endpoints not read, none in use, or in use without groups', () => {
    expect(checkEndpointGroups(instance({ subnetId: undefined }), readsOf({ endpoints: inVpc(guarded(SSM)) }), ctx)).toBeUndefined();
    expect(checkEndpointGroups(privateInstance(), readsOf({ endpoints: { denied: 'ec2:DescribeVpcEndpoints' } }), ctx)).toBeUndefined();
    expect(checkEndpointGroups(privateInstance(), readsOf({ endpoints: inVpc([]) }), ctx)).toBeUndefined();
    expect(checkEndpointGroups(privateInstance(), readsOf({ endpoints: inVpc(SSM.map((s) => endpoint('vpc-a', s))) }), ctx)).toBeUndefined();
  });

  it('protocol 6 is TCP; a rule whose ports stop below 443 does not take it', () => {
    const tcp6 = checkEndpointGroups(
      privateInstance(),
      readsOf({
        endpoints: inVpc(guarded(SSM)),
        groups: groups(group('sg-endpoints', { IpProtocol: '6', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] })),
      }),
      ctx,
    );
    expect(tcp6?.findings[0]?.status).toBe('ok');
    const low = checkEndpointGroups(
      privateInstance(),
      readsOf({
        endpoints: inVpc(guarded(SSM)),
        groups: groups(group('sg-endpoints', https({ FromPort: 22, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }))),
      }),
      ctx,
    );
    expect(low?.findings[0]?.status).toBe('error');
    expect(low?.cause?.text).toMatch(/^the ssm and ssmmessages endpoints of VPC vpc-a \(security groups sg-endpoints\)/);
  });

  it('only the ec2messages endpoint closed: an error in the row, not a cause; one endpoint alone is named in the singular', () => {
    const checked = checkEndpointGroups(
      privateInstance(),
      readsOf({
        endpoints: inVpc([...guarded(['ssm', 'ssmmessages']), ...guarded(['ec2messages'], 'sg-closed')]),
        groups: groups(group('sg-endpoints', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] })), group('sg-closed')),
      }),
      ctx,
    );
    expect(checked?.findings[0]?.status).toBe('error');
    expect(checked?.cause).toBeUndefined();
    const one = checkEndpointGroups(
      privateInstance(),
      readsOf({
        endpoints: inVpc([...guarded(['ssm'], 'sg-closed'), ...guarded(['ssmmessages', 'ec2messages'])]),
        groups: groups(group('sg-endpoints', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] })), group('sg-closed')),
      }),
      ctx,
    );
    expect(one?.cause?.text).toMatch(/^the ssm endpoint of VPC vpc-a \(security groups sg-closed\) do not admit/);
  });
});
