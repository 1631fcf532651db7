// Issue 14.8: destroy --delete-logs, in process against every strict fake: the summary says the
// key is scheduled for deletion (its real id, the date KMS gave, the command that undoes it), and
// a second destroy says "Nothing to remove." and nothing else.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { captureOutput } from '../helpers/capture.js';
import { settle } from '../helpers/fake-fleet.js';
import { fakeParameters } from '../helpers/fake-parameters.js';
import { type TeardownAccount, teardownAccount } from '../teardown/fake-teardown.js';

const REGION = 'eu-west-1';
let account: TeardownAccount;
const tick = async () => {
  if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  else await new Promise((r) => setImmediate(r));
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  account = teardownAccount({ region: REGION });
  fakeParameters({ mock: account.fleet.ssm, region: REGION });
});
afterEach(() => {
  account.restore();
  vi.useRealTimers();
});

describe('destroy --delete-logs', () => {
  const { out, err, clear } = captureOutput();
  const ssmSetup = async (...args: string[]) => {
    clear();
    return settle(main(['node', 'ssm-setup', ...args, '--region', REGION]), tick);
  };

  it('the summary says when the key will be deleted and how to undo it; a second destroy says "Nothing to remove."', async () => {
    expect(await ssmSetup('init', '--yes', '--json'), err()).toBe(0);
    const [keyId, meta] = [...account.kms.keys].find(([, k]) => k.meta.KeyState === 'Enabled')!;
    expect(await ssmSetup('destroy', '--yes', '--delete-logs', '--force'), err()).toBe(0);
    const day = meta.meta.DeletionDate!.toISOString().slice(0, 10);
    const line = out()
      .split('\n')
      .find((l) => /^\s+kms-key\s+✔/.test(l));
    expect(line).toContain(`✔ scheduled (key ${keyId} scheduled for deletion on ${day}; undo with aws kms cancel-key-deletion --key-id ${keyId})`);
    expect(line).not.toContain('removed');

    expect(await ssmSetup('destroy', '--yes', '--delete-logs', '--force'), err()).toBe(0);
    expect(out().trim().split('\n').at(-1)).toBe('Nothing to remove.');
    expect(out()).not.toContain('Summary');
    expect(out()).not.toContain('log group');
  });

  it('--json: the key row is `scheduled`, its note the same line', async () => {
    expect(await ssmSetup('init', '--yes', '--json'), err()).toBe(0);
    expect(await ssmSetup('destroy', '--yes', '--delete-logs', '--force', '--json'), err()).toBe(0);
    const report = JSON.parse(out()) as RunReport;
    const key = report.steps.find((s) => s.id === 'kms-key')!;
    expect(key).toMatchObject({
      status: 'scheduled',
      note: expect.stringMatching(/^key \S+ scheduled for deletion on \d{4}-\d\d-\d\d; undo with aws kms cancel-key-deletion --key-id \S+$/),
    });
    expect(report.ok).toBe(true);
  });
});
