import { execFileSync } from 'node:child_process';
import { motoEnv } from '../../scripts/moto.mjs';
import { BIN, endpoint } from './harness.js';

/**
 * A real terminal for the interactive tests: a detached tmux session on its own socket,
 * typed into with send-keys and read with capture-pane, the way a person sees it.
 */
export class TmuxTerminal {
  private readonly socket = `ssm-setup-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly target = 'main';

  constructor(command: string, opts: { cwd: string; env: Record<string, string>; width?: number; height?: number }) {
    const env = Object.entries(opts.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The shell keeps the pane open after the command, printing its exit code for the test.
    const shell = `${command}; echo "EXIT=$?"; sleep 600`;
    this.tmux('new-session', '-d', '-s', this.target, '-x', String(opts.width ?? 140), '-y', String(opts.height ?? 50), '-c', opts.cwd, ...env, shell);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** The screen and its scrollback, as plain text. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.target, '-S', '-1000');
  }

  /** Keys as tmux names them: 'Enter', 'Down', 'C-c', or literal text. */
  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.target, ...keys);
  }

  /** Until the screen shows `text` (or matches it, or the predicate holds); returns the screen. */
  async waitFor(text: string | RegExp | ((screen: string) => boolean), timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (typeof text === 'string' ? screen.includes(text) : typeof text === 'function' ? text(screen) : text.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

/** The variables a person's shell would have for a run against the emulator (fake credentials). */
const PASSED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'PATH',
  'HOME',
];

/** `ssm-setup <args>` in a real pseudo-terminal against moto, as an operator would start it. */
export function ssmSetupTerminal(args: string, cwd: string, extra: Record<string, string> = {}): TmuxTerminal {
  const env = motoEnv(endpoint(), extra);
  const pass = Object.fromEntries([...PASSED, ...Object.keys(extra)].map((k) => [k, env[k] ?? '']));
  // A person's terminal: no CI variable, colours allowed.
  return new TmuxTerminal(`env -u CI -u NO_COLOR TERM=xterm-256color ${process.execPath} ${BIN} ${args}`, { cwd, env: pass });
}
