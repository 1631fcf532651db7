import { describe, expect, it } from 'vitest';
import type { RunReport, StepReport } from '../../src/core/report.js';
import { renderPlan, total } from '../../src/ui/render-plan.js';
import { wrap } from '../../src/ui/wrap.js';

const step = (id: string, over: Partial<StepReport> = {}): StepReport => ({ id, title: `the ${id}`, status: 'unchanged', changes: [], outputs: {}, ...over });
const report = (steps: StepReport[], over: Partial<RunReport> = {}): RunReport => ({
  command: 'plan',
  account: '123456789012',
  region: 'eu-west-1',
  ok: true,
  steps,
  ...over,
});

const LONG =
  'logs to s3://ssm-session-logs-123456789012-eu-west-1/session-logs/, CloudWatch /aws/ssm/session-logs; encrypted with alias/ssm-session-manager; idle 20 min; Run As off';
const plan = report(
  [
    step('kms-key', {
      status: 'pending',
      changes: [
        { action: 'create', resource: 'KMS key', detail: 'symmetric' },
        { action: 'update', resource: 'key rotation', detail: 'off → on' },
      ],
    }),
    step('log-bucket'),
    step('log-group', { status: 'skipped', note: 'CloudWatch Logs off' }),
    step('preferences', {
      status: 'pending',
      changes: [
        { action: 'create', resource: 'preferences SSM-SessionManagerRunShell', detail: LONG },
        {
          action: 'update',
          resource: 'preferences cloudWatchStreamingEnabled',
          detail: 'true → false',
          risk: { kind: 'weakens-audit', why: 'sessions are no longer streamed' },
        },
      ],
    }),
    step('instance-role', { note: 'no target instances (--instance-ids or --tag): only the instance policy is managed' }),
    step('agents', { status: 'skipped', note: 'CloudWatch Logs off' }),
  ],
  { next: 'ssm-setup init --yes' },
);

describe('renderPlan', () => {
  it('at 160 columns: only what changes, the unchanged collapsed, skipped by reason, a legend and the total', () => {
    expect(renderPlan(plan, { width: 160 }).split('\n')).toEqual([
      'Plan for account 123456789012 in eu-west-1:',
      '  kms-key (the kms-key)',
      '    + create KMS key: symmetric',
      '    ~ update key rotation: off → on',
      '  preferences (the preferences)',
      '    + create preferences SSM-SessionManagerRunShell: logs to s3://ssm-session-logs-123456789012-eu-west-1/session-logs/, CloudWatch /aws/ssm/session-logs;',
      '             encrypted with alias/ssm-session-manager; idle 20 min; Run As off',
      '    ~ update preferences cloudWatchStreamingEnabled: true → false',
      '      ! weakens audit: sessions are no longer streamed',
      '  › instance-role: no target instances (--instance-ids or --tag): only the instance policy is managed',
      '  = 2 steps unchanged: log-bucket, instance-role',
      '  · skipped (CloudWatch Logs off): log-group, agents',
      'Legend: + create  ~ update  - delete  ! weakens security or audit, or changes a resource ssm-setup did not create',
      'Plan: 2 to create, 2 to update, 0 to delete (1 weakens audit).',
      'To apply: ssm-setup init --yes',
    ]);
  });

  it('at 80 columns: every line fits, continuation lines hang under their change', () => {
    const lines = renderPlan(plan, { width: 80 }).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    const at = lines.indexOf('    + create preferences SSM-SessionManagerRunShell: logs to');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ {13}s3:\/\/ssm-session-logs/);
    expect(lines.at(-2)).toBe('Plan: 2 to create, 2 to update, 0 to delete (1 weakens audit).');
  });

  it('no change: one line, no legend, no total, no command to apply', () => {
    const text = renderPlan(report([step('kms-key'), step('log-bucket')], { next: 'ssm-setup init' }), { width: 80 });
    expect(text.split('\n')).toEqual([
      'Plan for account 123456789012 in eu-west-1:',
      '  = 2 steps unchanged: kms-key, log-bucket',
      'No changes: the account matches these settings.',
    ]);
  });

  it('a plan that failed never also says there is nothing to change', () => {
    const text = renderPlan(
      report([step('kms-key', { status: 'failed', error: { code: 'ACCESS_DENIED', message: 'no' } }), step('log-bucket')], { ok: false }),
    );
    expect(text).toContain('✖ could not be planned');
    expect(text).toContain('Plan incomplete');
    expect(text).not.toContain('No changes');
  });

  it('a skipped step does not look like a delete', () => {
    const text = renderPlan(plan, { width: 160 });
    expect(text).toContain('· skipped');
    expect(text).not.toMatch(/^\s+- skipped/m);
  });
});

describe('total and wrap', () => {
  it('counts each action and each kind of risk', () => {
    expect(
      total([
        { action: 'delete', resource: 'r', detail: '', risk: { kind: 'foreign', why: 'x' } },
        { action: 'update', resource: 'r', detail: '', risk: { kind: 'weakens-security', why: 'y' } },
      ]),
    ).toBe("Plan: 0 to create, 1 to update, 1 to delete (1 weakens security, 1 someone else's resource).");
  });

  it('colours do not count toward the width', () => {
    const red = (s: string) => `\u001b[31m${s}\u001b[39m`;
    expect(wrap(red('aaaa bbbb'), 9, 0)).toEqual([red('aaaa bbbb')]);
    expect(wrap('aaaa bbbb cccc', 9, 0, 2)).toEqual(['aaaa bbbb', '  cccc']);
  });
});
