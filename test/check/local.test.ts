import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { localFindings, sshConfigFinding } from '../../src/check/local.js';
import { main } from '../../src/cli/main.js';
import type { RunReport } from '../../src/core/report.js';
import { BEGIN_MARKER, END_MARKER } from '../../src/policies/ssh-config.js';
import { blockFor } from '../../src/steps/ssh-config/index.js';
import { captureOutput } from '../helpers/capture.js';
import { REGION, settingsFrom } from '../helpers/fixtures.js';
import { A, B, useWorld } from './harness.js';

// The local section: the AWS CLI, the Session Manager plugin, the SSH config block.

// The operator's local tools are detected by running `aws --version` and
// `session-manager-plugin --version`: mocked, so the tests do not depend on what is installed.
const tools = vi.hoisted(() => ({ current: { aws: '2.15.30', plugin: '1.2.650.0' } as { aws?: string; plugin?: string } }));
vi.mock('../../src/aws/local-tools.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/aws/local-tools.js')>()),
  detectLocalTools: vi.fn(async () => tools.current),
}));
beforeEach(() => {
  tools.current = { aws: '2.15.30', plugin: '1.2.650.0' };
});
useWorld();

describe('ssm-setup check: the local tools', () => {
  const { out } = captureOutput();

  const run = (...args: string[]) => main(['node', 'ssm-setup', 'check', '--region', REGION, ...args]);
  const json = () => JSON.parse(out()) as RunReport;

  it('a missing session-manager-plugin is a clear error with the install pointer', async () => {
    tools.current = { aws: '2.15.30' };
    await run('--instance-ids', `${A},${B}`, '--json');
    const local = json().checks!.local;
    expect(local.find((f) => f.check === 'session-manager-plugin')).toEqual({
      check: 'session-manager-plugin',
      status: 'error',
      detail: 'session-manager-plugin not found on PATH: `aws ssm start-session` fails without it',
      fix: 'install it: https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html',
    });
    expect(local.find((f) => f.check === 'aws-cli')!.status).toBe('ok');
  });

  it('a missing AWS CLI is a warning with the install pointer', async () => {
    tools.current = { plugin: '1.2.650.0' };
    await run('--instance-ids', A, '--json');
    expect(json().checks!.local.find((f) => f.check === 'aws-cli')).toMatchObject({
      status: 'warning',
      fix: expect.stringContaining('https://docs.aws.amazon.com/cli/'),
    });
  });
});

describe('localFindings and sshConfigFinding', () => {
  it('both tools found: two ok findings with their versions', () => {
    expect(localFindings({ aws: '2.15.30', plugin: '1.2.650.0' })).toEqual([
      { check: 'aws-cli', status: 'ok', detail: 'AWS CLI 2.15.30' },
      { check: 'session-manager-plugin', status: 'ok', detail: 'session-manager-plugin 1.2.650.0' },
    ]);
    expect(localFindings({}).map((f) => f.status)).toEqual(['warning', 'error']);
  });

  it('the ssh-config block: missing, not current, or current', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ssm-setup-check-'));
    try {
      const path = join(dir, 'config');
      const { settings } = await settingsFrom({ sshConfigPath: path, region: REGION });
      expect(await sshConfigFinding(settings, 'linux')).toEqual({
        check: 'ssh-config',
        status: 'warning',
        detail: `no ssm-setup block in ${path}: ssh i-… does not go through Session Manager`,
        fix: 'ssm-setup ssh-config --write',
      });
      await writeFile(path, `${BEGIN_MARKER}\nHost i-*\n  ProxyCommand old\n${END_MARKER}\n`);
      expect(await sshConfigFinding(settings, 'linux')).toMatchObject({
        status: 'warning',
        detail: `the ssm-setup block in ${path} is not current (other --profile/--region?)`,
      });
      await writeFile(path, `Host bastion\n  User me\n\n${blockFor(settings, false)}`);
      expect(await sshConfigFinding(settings, 'linux')).toEqual({
        check: 'ssh-config',
        status: 'ok',
        detail: `SSH over Session Manager configured in ${path}`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
