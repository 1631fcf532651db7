import type { Command } from 'commander';
import { ALL_SETTINGS, RENAMED } from '../config/settings.js';

/** Global switches that are not settings. */
export interface CliSwitches {
  readonly config?: string;
  readonly yes?: boolean;
  readonly json?: boolean;
  /** False with --no-color. */
  readonly color?: boolean;
  readonly verbose?: boolean;
}

/**
 * The settings the operator typed on the command line, by config key. Only values whose
 * source is the command line count, so commander's implicit `true` for `--no-x` flags
 * never overrides the config file.
 */
export function typedSettings(cmd: Command): Record<string, unknown> {
  const values = cmd.optsWithGlobals();
  const typed: Record<string, unknown> = {};
  for (const key of [...ALL_SETTINGS.map((s) => s.key), ...RENAMED.map((r) => r.from)]) {
    if (cmd.getOptionValueSourceWithGlobals(key) === 'cli') typed[key] = values[key];
  }
  return typed;
}

export const switches = (cmd: Command): CliSwitches => cmd.optsWithGlobals<CliSwitches>();
