import { DescribeVpcEndpointsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CHECKS, diagnose, networkFindings } from '../../src/diagnose/index.js';
import { REGION } from '../helpers/fixtures.js';
import {
  ALL_NEEDS,
  addEndpoints,
  addGroups,
  ctx,
  denied,
  diagnoseOne,
  finding,
  GENERIC,
  group,
  guarded,
  https,
  instance,
  net,
  privateInstance,
  profileArn,
  readsOf,
  SSM,
  statuses,
  useWorld,
} from './harness.js';

// The list of checks and the ranking of causes: every check is listed in the row's order, the
// first cause found is the cause, the fixes of the others follow; nothing found → the agent.
useWorld();

describe('diagnoseUnmanaged', () => {
  it('falls back to "agent not running" with the status command and the log path when every check passes', async () => {
    const d = await diagnoseOne(instance());
    expect(d.cause).toBe(GENERIC);
    expect(d.fix).toEqual([
      'sudo systemctl status amazon-ssm-agent',
      'read /var/log/amazon/ssm/amazon-ssm-agent.log (and errors.log beside it) on the instance',
      'sudo systemctl restart amazon-ssm-agent',
    ]);
    expect(d.userData).toBeUndefined();
    // Every check is listed, ok ones included.
    expect(statuses(d)).toEqual({
      state: 'ok',
      'instance-profile': 'ok',
      'role-rights': 'ok',
      route: 'ok',
      'endpoint:ssm': 'ok',
      'endpoint:ssmmessages': 'ok',
      'endpoint:ec2messages': 'ok',
      nacl: 'ok',
      agent: 'ok',
    });
    expect(finding(d, CHECKS.route)?.detail).toBe('rtb-public sends 0.0.0.0/0 to igw-1');
    expect(finding(d, CHECKS.agent)?.detail).toContain('Amazon Linux AMIs ship the SSM Agent');
    expect(finding(d, CHECKS.rights)?.detail).toBe('role good-role has AmazonSSMManagedInstanceCore');
  });

  it('puts the most likely cause first and every fix in order: start, profile, agent', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped', profileArn: undefined, platform: 'Red Hat Enterprise Linux' }));
    expect(d.cause).toBe('the instance is stopped');
    expect(d.fix[0]).toMatch(/^aws ec2 start-instances/);
    expect(d.fix[1]).toBe('ssm-setup run instance-role --instance-ids i-0000000000000001');
    expect(d.fix.findIndex((f) => f.startsWith('sudo dnf install'))).toBeGreaterThan(1);
    expect(d.userData).toContain('dnf install');
  });
});

describe('networkFindings', () => {
  it('keeps the route and endpoint findings of a diagnosis, in order', async () => {
    addEndpoints(guarded(SSM));
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '0.0.0.0/0' }] }))]);
    const d = await diagnoseOne(privateInstance({ state: 'stopped' }), ALL_NEEDS);
    expect(networkFindings(d).map((f) => f.check)).toEqual([
      'route',
      'endpoint:ssm',
      'endpoint:ssmmessages',
      'endpoint:ec2messages',
      'endpoint:kms',
      'endpoint:logs',
      'endpoint:s3',
      'endpoint-sg',
      'vpc-dns',
      'instance-sg',
      'nacl',
    ]);
    expect(networkFindings(d)).toEqual(d.findings.filter((f) => !['state', 'instance-profile', 'role-rights', 'agent'].includes(f.check)));
  });

  it('keeps the endpoints warning when they could not be read', async () => {
    net.refuse(DescribeVpcEndpointsCommand, denied('UnauthorizedOperation'));
    const d = await diagnoseOne(privateInstance());
    expect(networkFindings(d).map((f) => [f.check, f.status])).toEqual([
      ['route', 'warning'],
      ['endpoints', 'warning'],
    ]);
  });
});

describe('diagnose (pure, from the reads)', () => {
  const good = () =>
    readsOf({
      profiles: new Map([[profileArn('good-profile'), { name: 'good-profile', roles: ['good-role'] }]]),
      roles: new Map([['good-role', { attached: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'] }]]),
      routes: new Map([['subnet-public', { tableId: 'rtb-public', main: false, egress: 'internet' as const, via: 'igw' as const, target: 'igw-1' }]]),
      endpoints: new Map([['vpc-a', []]]),
      images: new Map([['ami-al2023', { name: 'al2023-ami-2023.5.20240805.0-kernel-6.1-x86_64', description: 'Amazon Linux 2023' }]]),
    });

  it('the checks in the order of the row, and the agent as the cause when none found one', () => {
    const d = diagnose(instance(), good(), ctx);
    expect(d.findings.map((f) => f.check)).toEqual([
      'state',
      'instance-profile',
      'role-rights',
      'route',
      'endpoint:ssm',
      'endpoint:ssmmessages',
      'endpoint:ec2messages',
      'agent',
    ]);
    expect(d.cause).toBe(GENERIC);
    expect(d).not.toHaveProperty('userData');
  });

  it('the first cause wins; the fixes of the others follow it, each once', () => {
    const d = diagnose(instance({ state: 'stopped', profileArn: undefined, platform: 'Red Hat Enterprise Linux' }), good(), ctx);
    expect(d.cause).toBe('the instance is stopped');
    expect(d.fix.slice(0, 3)).toEqual([
      `aws ec2 start-instances --instance-ids i-0000000000000001 --region ${REGION}`,
      'ssm-setup run instance-role --instance-ids i-0000000000000001',
      'or, without any profile: Default Host Management Configuration, `ssm-setup run host-management --dhmc` (agent 3.2.582.0 or later, IMDSv2)',
    ]);
    expect(new Set(d.fix).size).toBe(d.fix.length);
    expect(d.userData).toMatch(/^#!\/bin\/bash\n/);
  });

  it('a closed endpoint group ranks after the network and before the agent', () => {
    const reads = { ...good(), endpoints: new Map([['vpc-a', guarded(SSM)]]), groups: new Map([['sg-endpoints', group('sg-endpoints')]]) };
    const d = diagnose(instance({ platform: 'Red Hat Enterprise Linux', privateIp: '10.0.1.5', publicIp: '203.0.113.5' }), reads, ctx);
    expect(d.cause).toMatch(/^the ssm and ssmmessages endpoints of VPC vpc-a/);
    expect(d.findings.map((f) => f.check).slice(-2)).toEqual(['endpoint-sg', 'agent']);
    expect(d.fix.at(-1)).toMatch(/^docs: /);
  });
});
