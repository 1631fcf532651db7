import { removeBlock } from '../policies/ssh-config.js';
import { readSshConfig, resolveSshConfigPath, writeSshConfig } from '../steps/ssh-config/index.js';
import type { Removal, TeardownContext } from './types.js';

/** The managed ~/.ssh/config block, when it is there; the rest of the file stays as it is. */
export async function sshConfigRemovals(ctx: TeardownContext): Promise<Removal[]> {
  const path = resolveSshConfigPath(ctx.settings.sshConfigPath);
  const file = await readSshConfig(path);
  const removed = removeBlock(file.text);
  if (!removed.removed) return [];
  return [
    {
      step: 'ssh-config',
      action: 'update',
      resource: `SSH config ${path}`,
      detail: 'remove the ssm-setup block (a backup is kept)',
      run: async () => void (await writeSshConfig(path, removed.text, file)),
    },
  ];
}
