// Issue 14.4: init's closing check agrees with the run. An instance that got its instance profile
// in this very run is "not registered yet", a warning to check again, never "no instance
// profile" with a fix the same run has just applied.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { type FakeAccount, fakeAccount } from '../helpers/fake-account.js';
import { settle } from '../helpers/fake-fleet.js';
import { fakeParameters } from '../helpers/fake-parameters.js';

const REGION = 'eu-west-1';
let account: FakeAccount;
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  account = fakeAccount({ region: REGION });
  fakeParameters({ mock: account.fleet.ssm, region: REGION });
});
afterEach(() => {
  account.restore();
  vi.useRealTimers();
});

describe('the closing check of init', () => {
  const { out, err, clear } = captureOutput();
  const init = async (...args: string[]) => {
    clear();
    const code = await settle(main(['node', 'ssm-setup', 'init', '--yes', ...args, '--region', REGION, '--json']), tick);
    return { code, report: JSON.parse(out()) as RunReport };
  };

  it('reads the targets again: a just-associated instance is waiting for its agent, not missing a profile', async () => {
    // No profile and (so) not managed: the agent has no credentials until init gives it a profile.
    const id = account.fleet.add({ managed: false });
    const { code, report } = await init('--instance-ids', id, '--no-agent-update', '--no-cloudwatch-agent', '--no-host-management');
    expect(code, err()).toBe(0);
    expect(report.steps.find((s) => s.id === 'instance-role')?.outputs.justAssociated).toEqual([id]);
    const readiness = report.steps.find((s) => s.id === 'check')?.outputs.readiness as Record<string, string>;
    expect(readiness[id]).not.toContain('no instance profile');
    expect(readiness[id]).toMatch(/^managed: agent has not registered yet/);
  });
});
