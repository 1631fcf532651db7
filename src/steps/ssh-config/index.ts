import { AWS_CLI_INSTALL_URL, detectLocalTools, type LocalTools, PLUGIN_INSTALL_URL } from '../../aws/local-tools.js';
import { StepError } from '../../base/errors.js';
import type { Settings } from '../../config/schema.js';
import type { Change, Step } from '../../core/step.js';
import { applyBlock, HOST_PATTERNS, sshConfigBlock } from '../../policies/ssh-config.js';
import { unanswered } from '../shared/ask.js';
import { assertSshConfigPath, backupPath, readSshConfig, resolveSshConfigPath, writeSshConfig } from './file.js';

export { assertSshConfigPath, backupPath, readSshConfig, resolveSshConfigPath, type SshConfigFile, writeSshConfig } from './file.js';

const STEP = 'ssh-config';
/** session-manager-plugin that can carry SSH (AWS-StartSSHSession). */
const MIN_PLUGIN_FOR_SSH = '1.1.23.0';

export interface SshConfigState {
  /** The SSH config file, absolute. */
  readonly path: string;
  readonly existed: boolean;
  /** Its text; empty when it does not exist. */
  readonly text: string;
  /** OpenSSH for Windows: the PowerShell form of the ProxyCommand. */
  readonly windows: boolean;
  readonly tools: LocalTools;
}

/** The block for these settings: `--profile`/`--region` are carried when they were given. */
export const blockFor = (settings: Pick<Settings, 'profile' | 'region'>, windows: boolean) =>
  sshConfigBlock({ profile: settings.profile, region: settings.region, windows });

/** Whole-dot-number comparison, e.g. 1.2.650.0 < 1.10.0. */
function older(version: string, than: string): boolean {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  if (a.some(Number.isNaN)) return false;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  }
  return false;
}

/** What is missing on this machine for `ssh i-…` to work, each with where to get it. */
export function toolProblems(tools: LocalTools): string[] {
  const problems: string[] = [];
  if (!tools.aws) problems.push(`AWS CLI not found on PATH (the ProxyCommand runs \`aws ssm start-session\`): install it, ${AWS_CLI_INSTALL_URL}`);
  if (!tools.plugin)
    problems.push(`session-manager-plugin not found on PATH (\`aws ssm start-session\` cannot open a session without it): install it, ${PLUGIN_INSTALL_URL}`);
  else if (older(tools.plugin, MIN_PLUGIN_FOR_SSH))
    problems.push(`session-manager-plugin ${tools.plugin} is too old for SSH (needs ${MIN_PLUGIN_FOR_SSH} or later): update it, ${PLUGIN_INSTALL_URL}`);
  return problems;
}

/** The conflict of `text` with the block, as one sentence with its fix. */
export const conflictMessage = (path: string, conflict: string) =>
  `${path} ${conflict}: an entry for ${HOST_PATTERNS.join('/')} hosts outside the ssm-setup block, so the file was not changed; remove that entry (the block replaces it), then run again`;

/** Why the step does nothing under --deny-unlogged-sessions; check's ssh-config finding says it too. */
export const SSH_OFF_BY_CHOICE =
  'SSH over Session Manager is off by choice: --deny-unlogged-sessions denies AWS-StartSSHSession, whose sessions are never content-logged (a block written earlier: `ssm-setup ssh-config --remove`)';

/** Runbook step 10: ssh/scp to instances through Session Manager, via a managed block in the SSH config. */
export const sshConfigStep: Step<SshConfigState, 'write-block'> = {
  id: STEP,

  skip: (settings) => {
    // The operator policy denies AWS-StartSSHSession then: a block would only lead to refusals.
    if (settings.denyUnloggedSessions) return SSH_OFF_BY_CHOICE;
    return settings.sshConfig ? undefined : 'SSH config not written; --ssh-config writes it (or `ssm-setup ssh-config --write`)';
  },

  async ask(ctx) {
    if (!unanswered(ctx, 'sshConfig') || ctx.settings.denyUnloggedSessions) return {};
    const path = resolveSshConfigPath(ctx.settings.sshConfigPath);
    // Only offered when it can be written: the session checked the rest before any AWS call.
    const problem = await assertSshConfigPath(path, { write: true, label: '--ssh-config-path' }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    if (problem) {
      ctx.io.warn(`${problem}: the SSH block is not offered (\`ssm-setup ssh-config\` prints it)`);
      return {};
    }
    const write = await ctx.io.confirm({
      id: 'ssh-config.write',
      message: `Set up ssh and scp to instances through Session Manager (a managed block for ${HOST_PATTERNS.join(' ')} in ${path})?`,
      default: true,
    });
    return write ? { sshConfig: true } : {};
  },

  async read(ctx) {
    const path = resolveSshConfigPath(ctx.settings.sshConfigPath);
    const [file, tools] = await Promise.all([readSshConfig(path), detectLocalTools()]);
    return { path, existed: file.existed, text: file.text, windows: process.platform === 'win32', tools };
  },

  plan(state, input) {
    const { change } = applyBlock(state.text, blockFor(input.settings, state.windows));
    // A conflict leaves the file as it is (change none): the note says why.
    if (change === 'none') return [];
    const form = state.windows ? 'PowerShell' : 'sh -c';
    const kept = state.existed ? `; previous file kept as ${backupPath(state.path)}` : ' (new file, mode 0600)';
    const changes: Change<'write-block'>[] = [
      change === 'create'
        ? {
            kind: 'write-block',
            action: 'create',
            resource: `SSH config block in ${state.path}`,
            detail: `Host ${HOST_PATTERNS.join(' ')} through Session Manager (${form} ProxyCommand)${kept}`,
          }
        : {
            kind: 'write-block',
            action: 'update',
            resource: `SSH config block in ${state.path}`,
            detail: `differs from this run's (profile, region or version) → rewritten in place${kept}`,
          },
    ];
    return changes;
  },

  async apply(ctx, state) {
    const now = await readSshConfig(state.path);
    if (now.text !== state.text) {
      throw new StepError(STEP, 'FILE_CHANGED', `${state.path} changed while ssm-setup was running; it was not written`, { hint: 'run the command again' });
    }
    const { text } = applyBlock(now.text, blockFor(ctx.settings, state.windows));
    await writeSshConfig(state.path, text, now);
    return {};
  },

  outputs: () => ({}),

  note(state, input) {
    const { conflict } = applyBlock(state.text, blockFor(input.settings, state.windows));
    const notes = [...(conflict ? [conflictMessage(state.path, conflict)] : []), ...toolProblems(state.tools)];
    return notes.length ? notes.join('\n') : undefined;
  },
};
