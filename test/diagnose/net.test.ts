import { describe, expect, it } from 'vitest';
import { ipv4InCidr } from '../../src/diagnose/index.js';
import { endpointFor, serviceNames, usedEndpoints } from '../../src/diagnose/net.js';
import { ctx, endpoint } from './harness.js';

describe('ipv4InCidr', () => {
  it.each([
    ['10.0.2.15', '10.0.0.0/16', true],
    ['10.0.2.15', '10.0.0.0/22', true],
    ['10.0.4.1', '10.0.0.0/22', false],
    ['10.1.0.1', '10.0.0.0/16', false],
    ['10.0.2.15', '10.0.2.15/32', true],
    ['10.0.2.16', '10.0.2.15/32', false],
    ['10.0.2.15', '10.0.2.15', true],
    ['192.168.1.1', '0.0.0.0/0', true],
    ['255.255.255.255', '128.0.0.0/1', true],
    ['127.255.255.255', '128.0.0.0/1', false],
    ['10.0.2.15', '10.0.0.0/33', false],
    ['10.0.2.15', '10.0.0.0/x', false],
    ['10.0.2.256', '10.0.0.0/8', false],
    ['10.0.2', '10.0.0.0/8', false],
    ['fd00::1', '10.0.0.0/8', false],
  ])('%s in %s: %s', (ip, cidr, inside) => {
    expect(ipv4InCidr(ip, cidr)).toBe(inside);
  });
});

describe('endpoint helpers', () => {
  it('service names: one per region, and the cn. form too in China', () => {
    expect(serviceNames('eu-west-1', 'ssm')).toEqual(['com.amazonaws.eu-west-1.ssm']);
    expect(serviceNames('cn-north-1', 'ssm')).toEqual(['com.amazonaws.cn-north-1.ssm', 'cn.com.amazonaws.cn-north-1.ssm']);
  });

  it('endpointFor: the usable one first, else a pending one, else an available one (DNS off), else any', () => {
    const dnsOff = endpoint('vpc-a', 'ssm', { VpcEndpointId: 'vpce-off', PrivateDnsEnabled: false });
    const pending = endpoint('vpc-a', 'ssm', { VpcEndpointId: 'vpce-pending', State: 'Pending' as never });
    const usable = endpoint('vpc-a', 'ssm', { VpcEndpointId: 'vpce-ok', State: 'AVAILABLE' as never });
    expect(endpointFor([dnsOff, pending, usable], ctx.region, 'ssm')).toEqual({ endpoint: usable, usable: true, pending: false });
    expect(endpointFor([dnsOff, pending], ctx.region, 'ssm')).toEqual({ endpoint: pending, usable: false, pending: true });
    expect(endpointFor([dnsOff], ctx.region, 'ssm')).toEqual({ endpoint: dnsOff, usable: false, pending: false });
    expect(endpointFor([endpoint('vpc-a', 'ssmmessages')], ctx.region, 'ssm')).toEqual({ endpoint: undefined, usable: false, pending: false });
  });

  it('usedEndpoints: the usable ones, kms and logs only when the preferences use them', () => {
    const all = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs'].map((s) => endpoint('vpc-a', s));
    expect(usedEndpoints(all, ctx).map((u) => u.service)).toEqual(['ssm', 'ssmmessages', 'ec2messages']);
    expect(usedEndpoints(all, { ...ctx, needs: { kms: true, logs: true } }).map((u) => u.service)).toEqual([
      'ssm',
      'ssmmessages',
      'ec2messages',
      'kms',
      'logs',
    ]);
    expect(usedEndpoints([endpoint('vpc-a', 'ssm', { PrivateDnsEnabled: false })], ctx)).toEqual([]);
  });
});
