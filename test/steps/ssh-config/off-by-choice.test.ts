import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sshConfigFinding } from '../../../src/check/local.js';
import { sshConfigStep } from '../../../src/steps/ssh-config/index.js';
import { makeContext, REGION, settingsFrom } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

// --deny-unlogged-sessions denies AWS-StartSSHSession to operators: SSH over Session Manager is
// then off by choice. The step says so instead of writing a block that cannot work, the wizard
// does not offer it, and check's ssh-config finding is no warning.

describe('SSH over Session Manager, off by choice (--deny-unlogged-sessions)', () => {
  it('the step is skipped, its note naming the switch, also with --ssh-config', async () => {
    for (const flags of [{}, { sshConfig: true }]) {
      const { settings } = await settingsFrom({ ...flags, denyUnloggedSessions: true });
      expect(sshConfigStep.skip!(settings)).toContain('--deny-unlogged-sessions');
      expect(sshConfigStep.skip!(settings)).toContain('ssm-setup ssh-config --remove');
    }
  });

  it('the wizard does not offer the SSH block', async () => {
    const io = new TestIo({});
    const ctx = await makeContext({ denyUnloggedSessions: true }, io);
    expect(await sshConfigStep.ask!(ctx)).toEqual({});
    expect(io.prompts).toEqual([]);
  });

  it('check: the ssh-config finding is ok, with or without a block', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ssm-setup-ssh-off-'));
    try {
      const path = join(dir, 'config');
      const { settings } = await settingsFrom({ sshConfigPath: path, region: REGION, denyUnloggedSessions: true });
      const none = await sshConfigFinding(settings, 'linux');
      expect(none).toMatchObject({ check: 'ssh-config', status: 'ok' });
      expect(none.detail).toContain('--deny-unlogged-sessions');
      await writeFile(path, 'Host bastion\n  User me\n');
      expect((await sshConfigFinding(settings, 'linux')).status).toBe('ok');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
