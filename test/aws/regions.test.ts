import { describe, expect, it } from 'vitest';
import { isKnownRegion, knownRegions, suggestRegion } from '../../src/aws/regions.js';

describe('regions from the SDK partition data', () => {
  it('knows the listed regions of every partition, and nothing else', () => {
    for (const r of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'cn-north-1', 'us-gov-west-1']) expect(isKnownRegion(r)).toBe(true);
    for (const r of ['eu-west-9', 'moon-1', 'us-east-1a', 'useast1']) expect(isKnownRegion(r)).toBe(false);
  });

  it('lists the regions, and suggests the nearest one for a typo', () => {
    expect(knownRegions()).toEqual(expect.arrayContaining(['us-east-1', 'eu-central-1', 'sa-east-1', 'cn-northwest-1']));
    expect(knownRegions().length).toBeGreaterThan(30);
    expect(suggestRegion('eu-wset-1')).toBe('eu-west-1');
    expect(suggestRegion('us-esat-2')).toBe('us-east-2');
    expect(suggestRegion('mars-north-7')).toBeUndefined();
  });
});
