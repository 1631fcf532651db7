import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureOutput } from '../helpers/capture.js';

// Each command's help: its own options first, then the settings it uses by group, then the global
// options, then examples. A command does not list settings it ignores.
describe('--help of each command', () => {
  const { out } = captureOutput();
  const help = async (...cmd: string[]) => {
    expect(await main(['node', 'ssm-setup', ...cmd, '--help'])).toBe(0);
    return out();
  };
  const headings = (text: string) => text.split('\n').filter((l) => /^[A-Z][^:]*:$/.test(l));

  it('init: own options, then the setting groups in order, then the globals and examples', async () => {
    expect(headings(await help('init'))).toEqual([
      'Options:',
      'Target instances:',
      'Accounts (several at once, by assuming a role in each):',
      'Storage settings (key, bucket, log group, tags):',
      'IAM settings:',
      'Session preferences:',
      'Fleet settings (agents, associations, endpoints):',
      'Local settings:',
      'Global Options:',
      'Examples:',
    ]);
  });

  it.each([
    [
      'destroy',
      ['--key-alias', '--bucket', '--log-group', '--delete-logs', '--accounts', '--organization'],
      ['--idle-timeout', '--cloudwatch-logs', '--instance-ids', '--log-retention-days'],
    ],
    ['check', ['--all', '--live', '--instance-ids', '--tag', '--accounts', '--role-name'], ['--idle-timeout', '--bucket', '--log-transition-days', '--dhmc']],
    [
      'export',
      ['--format', '--output', '--bucket', '--idle-timeout'],
      ['--instance-ids', '--tag <', '--dhmc', '--no-agent-update', '--accounts', '--organization'],
    ],
  ])('%s lists what it uses and none of the settings it ignores', async (cmd, shown, hidden) => {
    const text = await help(cmd);
    const option = (flag: string) => new RegExp(`^ +(-\\w, )?${flag.replace(/[<]/g, '\\<')}`, 'm');
    for (const flag of shown) expect(text).toMatch(option(flag));
    for (const flag of hidden) expect(text).not.toMatch(option(flag));
    expect(text).toContain('Examples:');
  });

  it('the old --tags is accepted but not shown', async () => {
    const text = await help('init');
    expect(text).toContain('--resource-tags');
    expect(text).not.toMatch(/^ {2}--tags /m);
  });
});
