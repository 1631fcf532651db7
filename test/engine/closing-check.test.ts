// Issue 14.4: init's closing check agrees with the run. An instance that got its instance profile
// in this very run is "not registered yet", a warning to check again, never "no instance
// profile" with a fix the same run has just applied.
import { describe, expect, it } from 'vitest';
import { fakeAccount } from '../helpers/fake-account.js';
import { inProcessCli } from '../helpers/in-process.js';

const cli = inProcessCli((region) => fakeAccount({ region }));

describe('the closing check of init', () => {
  const init = (...args: string[]) => cli.json(['init', '--yes', ...args]);
  const err = cli.err;

  it('reads the targets again: a just-associated instance is waiting for its agent, not missing a profile', async () => {
    // No profile and (so) not managed: the agent has no credentials until init gives it a profile.
    const id = cli.account().fleet.add({ managed: false });
    const { code, report } = await init('--instance-ids', id, '--no-agent-update', '--no-cloudwatch-agent', '--no-host-management');
    expect(code, err()).toBe(0);
    expect(report.steps.find((s) => s.id === 'instance-role')?.outputs.justAssociated).toEqual([id]);
    const readiness = report.steps.find((s) => s.id === 'check')?.outputs.readiness as Record<string, string>;
    expect(readiness[id]).not.toContain('no instance profile');
    expect(readiness[id]).toMatch(/^managed: agent has not registered yet/);
  });
});
