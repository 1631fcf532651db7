// Issue 14.2, a whole run against every strict fake: an account deployed with CloudWatch Logs, a
// 60-minute maximum session, a 731-day retention and logs kept 731 days in S3, then
// `--reset-defaults` (the built-in defaults weaken all but the retention: CloudWatch Logs off leaves the group alone). Under --yes each weakening change
// goes ahead, printed as a warning; --json lists each with its mark.
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { fakeAccount } from '../helpers/fake-account.js';
import { inProcessCli } from '../helpers/in-process.js';

const cli = inProcessCli((region) => fakeAccount({ region }));

describe('weakening changes in a whole run', () => {
  const { out, err } = cli;
  const ssmSetup = (...args: string[]) => cli.run(args);
  const deploy = () =>
    ssmSetup('init', '--yes', '--json', '--cloudwatch-logs', '--max-session-duration', '60', '--log-retention-days', '731', '--log-expiration-days', '731');
  /** step id → resource of each marked change, with its kind. */
  const marks = (report: RunReport) => report.steps.flatMap((s) => s.changes.filter((c) => c.risk).map((c) => `${s.id}: ${c.resource}: ${c.risk!.kind}`));
  const EXPECTED = [
    'log-bucket: lifecycle rule ssm-setup-session-logs of bucket ssm-session-logs-123456789012-eu-west-1: weakens-audit',
    'instance-role: IAM policy SSMSessionManagerInstancePolicy: weakens-audit',
    'preferences: preferences SSM-SessionManagerRunShell cloudWatchLogGroupName: weakens-audit',
    'preferences: preferences SSM-SessionManagerRunShell maxSessionDuration: weakens-security',
  ];

  it('--json: plan lists each weakening change with its mark, and the total counts them', async () => {
    expect(await deploy(), err()).toBe(0);
    expect(await ssmSetup('plan', '--json', '--reset-defaults'), err()).toBe(0);
    const report = JSON.parse(out()) as RunReport;
    expect(marks(report).sort()).toEqual([...EXPECTED].sort());
    for (const c of report.steps.flatMap((s) => s.changes.filter((x) => x.risk))) expect(c.risk!.why.length).toBeGreaterThan(10);
  });

  it('init --yes applies them, printing each as a warning first; --json lists them in the result', async () => {
    expect(await deploy(), err()).toBe(0);
    expect(await ssmSetup('init', '--yes', '--json', '--reset-defaults'), err()).toBe(0);
    const report = JSON.parse(out()) as RunReport;
    expect(report.ok).toBe(true);
    expect(marks(report).sort()).toEqual([...EXPECTED].sort());
    const warned = err()
      .split('\n')
      .filter((l) => /weakens (audit|security)/.test(l));
    expect(warned).toHaveLength(EXPECTED.length);
    expect(warned.join('\n')).toContain('cloudWatchLogGroupName');
    expect(warned.join('\n')).toContain('maxSessionDuration');
  });

  it('plain output: the plan marks each one under its change and counts them in the total', async () => {
    expect(await deploy(), err()).toBe(0);
    expect(await ssmSetup('plan', '--reset-defaults'), err()).toBe(0);
    const lines = out().split('\n');
    expect(lines.filter((l) => /^\s+! weakens (audit|security): /.test(l))).toHaveLength(EXPECTED.length);
    expect(lines).toContainEqual(expect.stringMatching(/^Plan: \d+ to create, \d+ to update, \d+ to delete \(3 weakens audit, 1 weakens security\)\.$/));
  });
});
