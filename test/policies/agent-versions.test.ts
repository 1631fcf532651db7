import { describe, expect, it } from 'vitest';
import { type AgentFeature, compareVersions, featuresInUse, MIN_AGENT_VERSION, tooOldFor } from '../../src/policies/agent-versions.js';

describe('compareVersions', () => {
  it.each([
    ['3.3.40.0', '3.3.40.0', 0],
    ['3.3.40', '3.3.40.0', 0],
    ['3.3.40.0', '3.3.40', 0],
    ['2.3.672.0', '2.3.539.0', 1],
    ['2.3.539.0', '2.3.672.0', -1],
    // Numeric, not lexicographic: 10 > 9, 1000 > 999.
    ['3.10.0.0', '3.9.0.0', 1],
    ['2.3.1000.0', '2.3.999.0', 1],
    ['3.0.0.0', '2.99.9999.9', 1],
    ['2.3.672.1', '2.3.672.0', 1],
    ['2.3.672.0', '2.3.672.1', -1],
  ])('%s vs %s → %i', (a, b, expected) => {
    expect(compareVersions(a, b)).toBe(expected);
    // Antisymmetric.
    expect(compareVersions(b, a)).toBe(expected === 0 ? 0 : -expected);
  });
});

describe('featuresInUse', () => {
  it('offers SSH always, and nothing else without preferences', () => {
    expect(featuresInUse(undefined)).toEqual(['SSH/port forwarding']);
    expect(featuresInUse({})).toEqual(['SSH/port forwarding']);
  });

  it('lists every feature the preferences turn on, in table order', () => {
    const inputs = {
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      runAsEnabled: true,
      shellProfile: { linux: 'exec bash', windows: '' },
      cloudWatchStreamingEnabled: true,
    };
    expect(featuresInUse(inputs)).toEqual(['KMS encryption', 'SSH/port forwarding', 'Run As', 'shell profile', 'CloudWatch streaming']);
  });

  it('takes the string booleans the console writes ("true"), and not "false"', () => {
    expect(featuresInUse({ runAsEnabled: 'true', cloudWatchStreamingEnabled: 'true' })).toEqual(['SSH/port forwarding', 'Run As', 'CloudWatch streaming']);
    expect(featuresInUse({ runAsEnabled: 'false', cloudWatchStreamingEnabled: false })).toEqual(['SSH/port forwarding']);
  });

  it('does not count empty values as in use: no key id, empty shell profiles', () => {
    expect(featuresInUse({ kmsKeyId: '', shellProfile: { linux: '', windows: '' }, runAsEnabled: false })).toEqual(['SSH/port forwarding']);
  });

  it('counts a Windows-only shell profile', () => {
    expect(featuresInUse({ shellProfile: { windows: 'Set-Location C:\\' } })).toContain('shell profile');
  });
});

describe('tooOldFor', () => {
  const all = Object.keys(MIN_AGENT_VERSION) as AgentFeature[];

  it('an agent at exactly each minimum is not too old for that feature; one patch below is', () => {
    for (const f of all) {
      const min = MIN_AGENT_VERSION[f];
      expect(tooOldFor(min, [f])).toEqual([]);
      const parts = min.split('.').map(Number);
      const below = [...parts.slice(0, 2), parts[2]! - 1, 0].join('.');
      expect(tooOldFor(below, [f])).toEqual([f]);
    }
  });

  it('2.3.500.0 is too old for Run As (2.3.672.0), KMS (2.3.539.0) and SSH', () => {
    expect(tooOldFor('2.3.500.0', ['KMS encryption', 'SSH/port forwarding', 'Run As'])).toEqual(['KMS encryption', 'SSH/port forwarding', 'Run As']);
  });

  it('2.3.600.0 has KMS encryption but not Run As', () => {
    expect(tooOldFor('2.3.600.0', ['KMS encryption', 'Run As'])).toEqual(['Run As']);
  });

  it('a 3.0.200 agent has the shell profile (3.0.196.0) but not CloudWatch streaming (3.0.356.0)', () => {
    expect(tooOldFor('3.0.200.0', ['shell profile', 'CloudWatch streaming'])).toEqual(['CloudWatch streaming']);
  });

  it('a current agent is too old for nothing', () => {
    expect(tooOldFor('3.3.1142.0', all)).toEqual([]);
  });

  it('only judges the features asked about', () => {
    expect(tooOldFor('2.0.0.0', [])).toEqual([]);
  });

  it('holds the minimums of the reference (aws-reference.md section 8)', () => {
    expect(MIN_AGENT_VERSION).toEqual({
      'KMS encryption': '2.3.539.0',
      'SSH/port forwarding': '2.3.672.0',
      'Run As': '2.3.672.0',
      'shell profile': '3.0.196.0',
      'CloudWatch streaming': '3.0.356.0',
    });
  });
});
