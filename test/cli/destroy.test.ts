// Issue 14.8: destroy --delete-logs, in process against every strict fake: the summary says the
// key is scheduled for deletion (its real id, the date KMS gave, the command that undoes it), and
// a second destroy says "Nothing to remove." and nothing else.
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { inProcessCli } from '../helpers/in-process.js';
import { teardownAccount } from '../teardown/fake-teardown.js';

const cli = inProcessCli((region) => teardownAccount({ region }));

describe('destroy --delete-logs', () => {
  const { out, err } = cli;
  const ssmSetup = (...args: string[]) => cli.run(args);

  it('the summary says when the key will be deleted and how to undo it; a second destroy says "Nothing to remove."', async () => {
    expect(await ssmSetup('init', '--yes', '--json'), err()).toBe(0);
    const [keyId, meta] = [...cli.account().kms.keys].find(([, k]) => k.meta.KeyState === 'Enabled')!;
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
