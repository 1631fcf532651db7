// Issue 14.1: a rerun with fewer flags keeps what an earlier run set up. Against every strict
// fake at once: deployed with CloudWatch Logs, idle 45, a 90-day retention and full operator
// access with the Deny of unlogged sessions, a bare
// `init --yes` plans nothing and writes nothing; `--reset-defaults` goes back to the built-in ones.
import { describe, expect, it } from 'vitest';
import { PREFERENCES_DOCUMENT } from '../../src/policies/preferences-document.js';
import { fakeAccount } from '../helpers/fake-account.js';
import { inProcessCli } from '../helpers/in-process.js';

const GROUP = '/aws/ssm/session-logs';
const cli = inProcessCli((region) => {
  const made = fakeAccount({ region });
  made.iam.addUser('alice');
  return made;
});

describe('the deployed state as defaults', () => {
  const { err } = cli;
  const ssmSetup = (...args: string[]) => cli.json(args);
  const deploy = () =>
    ssmSetup(
      'init',
      '--yes',
      '--cloudwatch-logs',
      '--idle-timeout',
      '45',
      '--log-retention-days',
      '90',
      '--operator-users',
      'alice',
      '--operator-access',
      'full',
      '--deny-unlogged-sessions',
    );

  it('a bare rerun keeps CloudWatch Logs, idle 45 and the retention: no change, no write', async () => {
    expect((await deploy()).code, err()).toBe(0);
    const before = cli.account().writes().length;
    const { code, report } = await ssmSetup('init', '--yes', '--operator-users', 'alice');
    expect(code, err()).toBe(0);
    expect(report.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(cli.account().writes().slice(before)).toEqual([]);
    expect(cli.account().ssm.content(PREFERENCES_DOCUMENT).inputs).toMatchObject({ cloudWatchLogGroupName: GROUP, idleSessionTimeout: '45' });
    expect(cli.account().logs.groups.get(GROUP)).toMatchObject({ retentionDays: 90 });
  });

  it('a flag still wins over the deployed value, and changes only that', async () => {
    expect((await deploy()).code, err()).toBe(0);
    const { code, report } = await ssmSetup('plan', '--idle-timeout', '30', '--operator-users', 'alice');
    expect(code, err()).toBe(0);
    const changed = report.steps.filter((s) => s.changes.length).map((s) => s.id);
    expect(changed).toEqual(['preferences']);
    // The plan says how to apply exactly it: the same flags, through init --yes.
    expect(report.next).toMatch(/^ssm-setup init .*--idle-timeout 30/);
    expect(report.next).toContain('--yes');
  });

  it('--reset-defaults plans the built-in defaults again: CloudWatch off (the group is then left alone), idle 20', async () => {
    expect((await deploy()).code, err()).toBe(0);
    const { code, report } = await ssmSetup('plan', '--reset-defaults', '--operator-users', 'alice');
    expect(code, err()).toBe(0);
    const changed = report.steps.filter((s) => s.changes.length).map((s) => s.id);
    expect(changed).toEqual(['instance-role', 'operator-policy', 'preferences']);
    // The command that applies this plan keeps --reset-defaults (without it the account's values come back).
    expect(report.next).toContain('--reset-defaults');
  });
});
