import { describe, expect, it } from 'vitest';
import type { TargetReport } from '../../src/check/index.js';
import { localFindings } from '../../src/check/local.js';
import { pluginFindings, withSkew } from '../../src/check/skew.js';
import { KNOWN_BAD, knownBadFor } from '../../src/policies/version-skew.js';

// The local plugin and the version-skew guard: known-bad plugin releases are a local warning,
// known-bad plugin and agent pairs a warning on each target whose agent meets the local plugin.
const reports = (...ids: string[]): TargetReport[] => ids.map((instanceId) => ({ instanceId, ready: true, findings: [] }));

describe('the local plugin', () => {
  it('present with its version, or an error with where to get it', () => {
    expect(localFindings({ aws: '2.15.30', plugin: '1.2.650.0' })[1]).toEqual({
      check: 'session-manager-plugin',
      status: 'ok',
      detail: 'session-manager-plugin 1.2.650.0',
    });
    expect(localFindings({ aws: '2.15.30' })[1]).toMatchObject({
      check: 'session-manager-plugin',
      status: 'error',
      fix: expect.stringMatching(/^install it: https:/),
    });
  });

  it('a release whose ResumeSession fails after 60 minutes (1.2.792.0–1.2.804.0): a warning with the evidence; others nothing', () => {
    expect(pluginFindings('1.2.804.0')).toEqual([
      {
        check: 'plugin-version',
        status: 'warning',
        detail: expect.stringMatching(
          /^session-manager-plugin 1\.2\.804\.0 is a known-bad release: sessions .* drop after about 60 minutes.*\(https:\/\/github\.com\/aws\/session-manager-plugin\/issues\/136\)$/,
        ),
        fix: expect.stringContaining('1.2.553.0'),
      },
    ]);
    for (const v of ['1.2.553.0', '1.2.791.0', '1.2.805.0', 'unknown version', undefined]) expect(pluginFindings(v), String(v)).toEqual([]);
  });
});

describe('the version-skew guard', () => {
  it('only the target whose agent meets the bad pair with the local plugin gets the warning', () => {
    const out = withSkew(reports('i-old', 'i-new', 'i-unknown'), { 'i-old': '3.1.1446.0', 'i-new': '3.1.1476.0' }, '1.2.323.0');
    expect(out[0]!.findings).toEqual([
      {
        check: 'version-skew',
        status: 'warning',
        detail: expect.stringMatching(
          /^agent 3\.1\.1446\.0 with the local session-manager-plugin 1\.2\.323\.0: port-forwarding sessions close .*issues\/39, .*issues\/450\)$/,
        ),
        fix: expect.stringContaining('ssm-setup run agents'),
      },
    ]);
    expect(out[0]!.ready).toBe(true);
    expect(out[1]!.findings).toEqual([]);
    expect(out[2]!.findings).toEqual([]);
    // A fixed plugin meets no pair with the same agent.
    expect(withSkew(reports('i-old'), { 'i-old': '3.1.1446.0' }, '1.2.331.0')[0]!.findings).toEqual([]);
  });

  it('the table is data: every entry names a side, an effect, a fix and public evidence; a new entry needs no code', () => {
    for (const e of KNOWN_BAD) {
      expect(e.plugin ?? e.agent, e.id).toBeDefined();
      expect(e.evidence.length, e.id).toBeGreaterThan(0);
      for (const url of e.evidence) expect(url, e.id).toMatch(/^https:\/\//);
    }
    const extra = [{ id: 'agent-only', agent: { from: '3.2.0.0', to: '3.2.9.0' }, effect: 'x', fix: 'y', evidence: ['https://example.org'] }];
    expect(knownBadFor(undefined, '3.2.5.0', extra).map((e) => e.id)).toEqual(['agent-only']);
    expect(knownBadFor('1.2.0.0', '3.3.0.0', extra)).toEqual([]);
  });
});
