import type { Step } from '../core/step.js';
import { type CheckResult, runChecks } from './index.js';

/** Runbook step 13, at the end of init: is each target ready for a session now? Read-only. */
export const checkStep: Step<CheckResult, never> = {
  id: 'check',
  afterApply: true,
  read: async (ctx) => runChecks(ctx, await ctx.targets()),
  plan: () => [],
  apply: async () => ({}),
  outputs: (r) => ({
    readiness: Object.fromEntries(
      r.targets.map((t) => {
        // Not ready without an error: waiting (an agent that has not registered yet).
        const problem = t.findings.find((f) => f.status === 'error') ?? (t.ready ? undefined : t.findings.find((f) => f.status === 'warning'));
        return [t.instanceId, problem ? `${problem.check}: ${problem.detail}${problem.fix ? ` (fix: ${problem.fix})` : ''}` : 'ready'];
      }),
    ),
  }),
  note: (r) => {
    const problems = [...r.account, ...r.operator].filter((f) => f.status === 'error').map((f) => `${f.check}: ${f.detail}`);
    const ready = r.targets.filter((t) => t.ready).length;
    const lines = [`${ready} of ${r.targets.length} targets ready${r.connect ? `; connect: ${r.connect}` : ''}`, ...problems];
    return r.targets.length || problems.length ? lines.join('\n') : 'no target instances; `ssm-setup check --all` checks the whole region';
  },
};
