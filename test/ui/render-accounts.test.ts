import { describe, expect, it } from 'vitest';
import type { RunReport, StepReport } from '../../src/core/report.js';
import { renderSummary } from '../../src/ui/render.js';
import { renderPlan } from '../../src/ui/render-plan.js';

const A = '111122223333';
const B = '444455556666';
const row = (account: string, region: string, status: StepReport['status'], changes = 0, alias?: string): StepReport => ({
  id: 'kms-key',
  title: 'KMS key',
  status,
  outputs: {},
  account,
  ...(alias ? { accountAlias: alias } : {}),
  region,
  changes: Array.from({ length: changes }, () => ({ action: 'create' as const, resource: 'KMS key alias/x', detail: '' })),
});
const run = (account: string, steps: StepReport[], extra: Partial<RunReport> = {}): RunReport => ({
  command: 'init',
  account,
  region: 'us-east-1',
  ok: true,
  steps,
  ...extra,
});

describe('a run over many accounts: rows and totals per account', () => {
  const prod = row(A, 'us-east-1', 'pending', 2, 'prod');
  const refused = run(B, [], {
    ok: false,
    error: { code: 'ASSUME_ROLE_FAILED', message: `cannot assume arn:aws:iam::${B}:role/OrganizationAccountAccessRole: AccessDenied` },
  });
  const combined: RunReport = {
    command: 'init',
    account: `${A},${B}`,
    region: 'us-east-1',
    ok: false,
    steps: [prod],
    runs: [run(A, [prod], { accountAlias: 'prod' }), refused],
  };

  it('the plan: `<alias> <region> <step>` rows, then one line per account (its total, or why it could not be planned)', () => {
    const text = renderPlan(combined);
    expect(text).toContain('prod us-east-1 kms-key');
    expect(text).toContain(`prod (${A}): Plan: 2 to create, 0 to update, 0 to delete.`);
    expect(text).toContain(`${B}: ✖ cannot assume arn:aws:iam::${B}:role/OrganizationAccountAccessRole`);
  });

  it('the summary: a line per account, ok or failed, with its steps by status', () => {
    const done = { ...prod, status: 'created' as const };
    const text = renderSummary({ ...combined, steps: [done], runs: [run(A, [done], { accountAlias: 'prod' }), refused] });
    expect(text).toMatch(/prod us-east-1 kms-key\s+✔ created/);
    expect(text).toContain(`prod (${A}): ✔ ok: 1 created`);
    expect(text).toContain(`${B}: ✖ failed`);
  });

  it('a run over regions only has no line per account', () => {
    const regional: StepReport = { ...prod, account: undefined, accountAlias: undefined };
    const { account: _a, accountAlias: _b, ...bare } = regional;
    const text = renderPlan({ ...combined, steps: [bare], runs: [run(A, [bare])] });
    expect(text).toContain('us-east-1 kms-key');
    expect(text).not.toContain(`${A}:`);
  });
});
