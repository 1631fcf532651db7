import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { mockIdentity } from '../helpers/aws.js';
import { captureOutput } from '../helpers/capture.js';

// The flags of a run over many accounts are bad input (exit 2, naming the flag) before any AWS
// call: not even sts:GetCallerIdentity, let alone an AssumeRole or a write.
let sts: ReturnType<typeof mockIdentity>;
beforeEach(() => {
  sts = mockIdentity();
});
afterEach(() => sts.restore());

describe('--accounts, --organization and the role flags: bad input', () => {
  const { out, clear } = captureOutput();
  const json = () => JSON.parse(out()) as RunReport;

  it.each([
    [['--accounts', '12345'], 'INVALID_SETTINGS', '--accounts "12345": is not an AWS account id (12 digits)'],
    [['--accounts', '111122223333,111122223333'], 'INVALID_SETTINGS', '--accounts "111122223333": is given twice'],
    [['--organization', '--exclude-accounts', 'abc'], 'INVALID_SETTINGS', '--exclude-accounts "abc": is not an AWS account id'],
    [['--organization', '--ous', 'ou-1'], 'INVALID_SETTINGS', '--ous "ou-1": is not an organizational unit id'],
    [['--accounts', '111122223333', '--role-name', 'no spaces'], 'INVALID_SETTINGS', '--role-name: must be 1 to 64 characters'],
    [['--accounts', '111122223333', '--external-id', 'x'], 'INVALID_SETTINGS', '--external-id: must be 2 to 1224 characters'],
    [['--accounts', '111122223333', '--role-session-name', 'a b'], 'INVALID_SETTINGS', '--role-session-name: must be 2 to 64 characters'],
    [['--accounts', '111122223333', '--max-concurrency', '0'], 'INVALID_SETTINGS', '--max-concurrency: must be from 1 to 32'],
    [['--accounts', '111122223333', '--organization'], 'CONFLICTING_FLAGS', '--accounts and --organization cannot be used together'],
    [['--ous', 'ou-ab12-11111111'], 'CONFLICTING_FLAGS', '--ous narrows --organization'],
  ])('%j: exit 2 naming the flag, no AWS call', async (args, code, message) => {
    for (const command of ['init', 'plan', 'check', 'audit', 'destroy']) {
      clear();
      expect(await main(['node', 'ssm-setup', command, '--yes', '--region', 'eu-west-1', ...args, '--json']), command).toBe(2);
      expect(json().error?.code).toBe(code);
      expect(json().error?.message).toContain(message);
    }
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('the config keys are checked as the flags are', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'ssm-setup-accounts-')), 'ssm-setup.json');
    writeFileSync(file, JSON.stringify({ accounts: ['111122223333', 'x'], roleName: 'Setup' }));
    expect(await main(['node', 'ssm-setup', 'plan', '--config', file, '--json'])).toBe(2);
    expect(json().error?.message).toContain(`"accounts" in ${file} "x": is not an AWS account id`);
    expect(sts.calls()).toHaveLength(0);
  });
});
