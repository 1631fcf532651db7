import { execFile } from 'node:child_process';

/** Where to get session-manager-plugin: without it `aws ssm start-session` (and SSH through it) cannot work. */
export const PLUGIN_INSTALL_URL = 'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html';
export const AWS_CLI_INSTALL_URL = 'https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html';

/** Versions of the operator's local tools; undefined when the tool is not on PATH. */
export interface LocalTools {
  /** `aws --version`, e.g. `2.15.30`. */
  readonly aws?: string;
  /** `session-manager-plugin --version`, e.g. `1.2.650.0`. */
  readonly plugin?: string;
}

export interface DetectOptions {
  /** Environment whose PATH is searched (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Per tool; a tool that does not answer in time counts as present, version unknown. */
  readonly timeoutMs?: number;
}

/** Finds the AWS CLI and session-manager-plugin on PATH and asks each for its version, side by side. */
export async function detectLocalTools(opts: DetectOptions = {}): Promise<LocalTools> {
  const [aws, plugin] = await Promise.all([
    // v2: `aws-cli/2.15.30 Python/3.11.8 …` on stdout; v1 printed it on stderr.
    versionOf('aws', /aws-cli\/(\S+)/, opts),
    versionOf('session-manager-plugin', /(\d+(?:\.\d+)+)/, opts),
  ]);
  return { ...(aws !== undefined && { aws }), ...(plugin !== undefined && { plugin }) };
}

function versionOf(command: string, pattern: RegExp, opts: DetectOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, ['--version'], { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 5000, windowsHide: true }, (err, stdout, stderr) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      // Not on PATH, or found but not executable: not usable, so not found.
      if (code === 'ENOENT' || code === 'EACCES') return resolve(undefined);
      const output = `${stdout}\n${stderr}`;
      resolve(pattern.exec(output)?.[1] ?? 'unknown version');
    });
  });
}
