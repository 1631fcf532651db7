import { describe, expect, it } from 'vitest';
import { costLine, ENDPOINT_PRICES, endpointPrice, monthlyCost, subnetPerZone, wantedServices } from '../../src/policies/vpc-endpoints.js';

describe('the endpoints a private subnet needs', () => {
  const none = { kms: false, logs: false, s3: false, oldAgents: false };
  it('ssm and ssmmessages always; kms, logs and ec2messages only when used', () => {
    expect(wantedServices(none)).toEqual(['ssm', 'ssmmessages']);
    expect(wantedServices({ ...none, kms: true })).toEqual(['ssm', 'ssmmessages', 'kms']);
    expect(wantedServices({ ...none, logs: true })).toEqual(['ssm', 'ssmmessages', 'logs']);
    expect(wantedServices({ kms: true, logs: true, s3: true, oldAgents: true })).toEqual(['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs']);
  });

  it('one subnet per zone: the one with most targets, ties by id', () => {
    const picked = subnetPerZone([
      { subnetId: 'subnet-b', az: 'eu-west-1a', targets: 1 },
      { subnetId: 'subnet-a', az: 'eu-west-1a', targets: 1 },
      { subnetId: 'subnet-z', az: 'eu-west-1b', targets: 1 },
      { subnetId: 'subnet-y', az: 'eu-west-1b', targets: 3 },
    ]);
    expect([...picked]).toEqual([
      ['eu-west-1a', 'subnet-a'],
      ['eu-west-1b', 'subnet-y'],
    ]);
  });
});

describe('the price table', () => {
  it('is dated and names its source', () => {
    expect(ENDPOINT_PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(ENDPOINT_PRICES.source).toBe('https://aws.amazon.com/privatelink/pricing/');
  });

  it('prices a listed region by its group, endpoint-hours × zones', () => {
    expect(endpointPrice('us-east-1')).toEqual({ hourly: 0.01, perGb: 0.01 });
    expect(endpointPrice('eu-central-1').hourly).toBe(0.012);
    expect(monthlyCost('us-east-1', 3)).toBeCloseTo(21.9);
    expect(costLine('us-east-1', 2)).toBe('$14.60/month (2 AZ × 730 h × $0.01) + $0.01/GB processed');
  });

  it('falls back to the us-east-1 price for a region it does not list, and says so', () => {
    expect(endpointPrice('sa-east-1')).toEqual({ hourly: 0.01, perGb: 0.01, note: '(price for us-east-1)' });
    expect(costLine('sa-east-1', 1)).toBe('$7.30/month (1 AZ × 730 h × $0.01) + $0.01/GB processed (price for us-east-1)');
  });
});
