import { AWS_CLI_INSTALL_URL, detectLocalTools, type LocalTools, PLUGIN_INSTALL_URL } from '../aws/local-tools.js';
import type { Settings } from '../config/schema.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { pluginFindings } from './skew.js';

/** The operator's own machine: the AWS CLI, the Session Manager plugin (and its known-bad releases), the SSH config block. */
export async function localChecks(settings: Settings, tools?: LocalTools): Promise<Finding[]> {
  const found = tools ?? (await detectLocalTools());
  return [...localFindings(found), ...pluginFindings(found.plugin), await sshConfigFinding(settings)];
}

/** The AWS CLI and the Session Manager plugin must be on PATH for `aws ssm start-session` and SSH. Pure. */
export function localFindings(tools: LocalTools): Finding[] {
  return [
    tools.aws ? ok('aws-cli', `AWS CLI ${tools.aws}`) : warn('aws-cli', 'AWS CLI not found on PATH', `install it: ${AWS_CLI_INSTALL_URL}`),
    tools.plugin
      ? ok('session-manager-plugin', `session-manager-plugin ${tools.plugin}`)
      : error(
          'session-manager-plugin',
          'session-manager-plugin not found on PATH: `aws ssm start-session` fails without it',
          `install it: ${PLUGIN_INSTALL_URL}`,
        ),
  ];
}

/**
 * Whether the managed `~/.ssh/config` block is there, as `ssm-setup ssh-config --write` would
 * write it now; ok without it under --deny-unlogged-sessions (SSH is then off by choice).
 */
export async function sshConfigFinding(settings: Settings, platform: NodeJS.Platform = process.platform): Promise<Finding> {
  const { blockFor, readSshConfig, resolveSshConfigPath, SSH_OFF_BY_CHOICE } = await import('../steps/ssh-config/index.js');
  if (settings.denyUnloggedSessions) return ok('ssh-config', SSH_OFF_BY_CHOICE);
  const { BEGIN_MARKER, hasCurrentBlock } = await import('../policies/ssh-config.js');
  const path = resolveSshConfigPath(settings.sshConfigPath);
  const file = await readSshConfig(path).catch(() => ({ text: '', existed: false }));
  if (hasCurrentBlock(file.text, blockFor(settings, platform === 'win32'))) return ok('ssh-config', `SSH over Session Manager configured in ${path}`);
  const outdated = file.text.includes(BEGIN_MARKER);
  return warn(
    'ssh-config',
    outdated
      ? `the ssm-setup block in ${path} is not current (other --profile/--region?)`
      : `no ssm-setup block in ${path}: ssh i-… does not go through Session Manager`,
    'ssm-setup ssh-config --write',
  );
}
