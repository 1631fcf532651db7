import type { NetworkAcl, NetworkAclEntry } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../src/diagnose/index.js';
import { aclVerdict, EPHEMERAL } from '../../../src/diagnose/instance/nacl.js';
import { addEndpoints, addGroups, diagnoseOne, finding, group, guarded, https, net, privateInstance, SSM, useWorld } from '../harness.js';

// Network ACLs are stateless and ordered: the first rule that matches decides, both ways.
useWorld();

const acl = (...Entries: NetworkAclEntry[]): NetworkAcl => ({
  NetworkAclId: 'acl-1',
  Entries: [...Entries, { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0' }],
});
const inbound = (RuleNumber: number, RuleAction: 'allow' | 'deny', From: number, To: number, CidrBlock = '0.0.0.0/0'): NetworkAclEntry => ({
  RuleNumber,
  Protocol: '6',
  RuleAction,
  Egress: false,
  CidrBlock,
  PortRange: { From, To },
});

describe('aclVerdict (pure)', () => {
  it('the first matching rule decides; a rule on part of the ports leaves the rest to later rules', () => {
    expect(aclVerdict(acl(inbound(100, 'allow', 1024, 65535)), false, EPHEMERAL, 'internet')).toEqual({ verdict: 'allow', rule: 100 });
    expect(aclVerdict(acl(inbound(90, 'deny', 1024, 2000), inbound(100, 'allow', 0, 65535)), false, EPHEMERAL, 'internet')).toEqual({
      verdict: 'deny',
      rule: 90,
    });
    // Linux's ephemeral range only: the answers to a NAT gateway's ports below 32768 are dropped.
    expect(aclVerdict(acl(inbound(100, 'allow', 32768, 65535)), false, EPHEMERAL, 'internet').verdict).toBe('partial');
    expect(aclVerdict(acl(inbound(100, 'allow', 32768, 65535), inbound(110, 'allow', 1024, 32767)), false, EPHEMERAL, 'internet').verdict).toBe('allow');
  });

  it('a peer range: rules on a range holding it decide, unrelated ranges do not; for the internet only 0.0.0.0/0 rules count', () => {
    const rules = acl(inbound(100, 'allow', 443, 443, '10.1.0.0/16'));
    expect(aclVerdict(rules, false, [443, 443], '10.1.1.10/32').verdict).toBe('allow');
    expect(aclVerdict(rules, false, [443, 443], '10.2.1.10/32')).toEqual({ verdict: 'deny', rule: 32767 });
    expect(aclVerdict(acl(inbound(90, 'deny', 0, 65535, '52.0.0.0/8'), inbound(100, 'allow', 0, 65535)), false, [443, 443], 'internet').verdict).toBe('allow');
  });
});

describe('an unmanaged instance whose subnet ACL blocks the endpoints', () => {
  it('the ACL is the cause, with the create-network-acl-entry that fixes it', async () => {
    net.addSubnet('subnet-endpoints', 'vpc-a', { cidr: '10.0.9.0/24' });
    addEndpoints(guarded(SSM).map((e) => ({ ...e, SubnetIds: ['subnet-endpoints'] })));
    addGroups([group('sg-endpoints', https({ IpRanges: [{ CidrIp: '10.0.0.0/16' }] }))]);
    net.addNacl('acl-private', 'vpc-a', {
      entries: [
        { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' },
        { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0', PortRange: { From: 80, To: 80 } },
      ],
      subnets: ['subnet-private'],
    });
    const d = await diagnoseOne(privateInstance());
    expect(finding(d, CHECKS.nacl)).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(/^acl-private of subnet-private denies 443 out to vpce-vpc-a-ssm \(ssm\)/),
    });
    expect(d.cause).toMatch(/^the network ACL blocks the agent's HTTPS: acl-private of subnet-private denies 443 out/);
    expect(d.fix[0]).toBe(
      'aws ec2 create-network-acl-entry --network-acl-id acl-private --egress --rule-number 110 --protocol tcp --port-range From=443,To=443 --cidr-block 10.0.9.0/24 --rule-action allow --region eu-west-1',
    );
  });
});
