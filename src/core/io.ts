import type { RunReport } from './report.js';

/**
 * The only way the engine (runner, steps) reaches a person. Three implementations, chosen once
 * in src/cli/main.ts: TerminalIo (TTY), PlainIo (no TTY / CI), JsonIo (`--json`).
 * Progress goes to stderr; plans and results go to stdout.
 */
export interface Io {
  /** True when prompts reach a person; false under `--yes`, `--json`, CI or without a TTY. */
  readonly interactive: boolean;
  /**
   * Aborted when the person presses Ctrl-C while the run works (not at a prompt, which ends
   * with CANCELLED): the AWS call in flight finishes, no further call is sent, and the runner
   * applies nothing more. Absent where nobody can interrupt (tests that do not ask for it).
   */
  readonly signal?: AbortSignal;
  info(message: string): void;
  warn(message: string): void;
  /** A failure the run ends with (printed once, by src/cli/main.ts). */
  error(message: string): void;
  /** Shown only with `--verbose`. */
  debug(message: string): void;
  /** Runs `work` under a spinner (TTY) or between start/done lines. */
  task<T>(title: string, work: () => Promise<T>): Promise<T>;
  /** A live count of a fleet-wide operation: a spinner line on a TTY, a line per change elsewhere. */
  progress(title: string, total: number): Progress;
  /** Non-interactive: true under `--yes` (saying so), else a UsageError naming `--yes`. */
  confirm(req: ConfirmRequest): Promise<boolean>;
  /** Non-interactive: the default, else a UsageError naming `req.flag`. */
  select<T>(req: SelectRequest<T>): Promise<T>;
  /** Non-interactive: the default, else a UsageError naming `req.flag`. */
  input(req: InputRequest): Promise<string>;
  /** Several of the choices. Non-interactive: the default, else a UsageError naming `req.flag`. */
  checkbox<T>(req: CheckboxRequest<T>): Promise<T[]>;
  /** The plan of a run, before any change is made (the `plan` command's result). */
  plan(report: RunReport): void;
  /** The end result: a summary on stdout, or the one JSON object of `--json`. */
  result(report: RunReport): void;
}

interface PromptBase {
  /** Stable id, e.g. `kms-key.alias`: tests and scripts answer by id, never by text. */
  readonly id: string;
  readonly message: string;
}

export interface ConfirmRequest extends PromptBase {
  readonly default: boolean;
}

export interface Choice<T> {
  readonly value: T;
  readonly label: string;
  readonly hint?: string;
}

export interface SelectRequest<T> extends PromptBase {
  readonly choices: readonly Choice<T>[];
  readonly default?: T;
  /** The flag that answers this question without a prompt. */
  readonly flag: string;
}

export interface CheckboxRequest<T> extends PromptBase {
  readonly choices: readonly Choice<T>[];
  readonly default?: readonly T[];
  readonly flag: string;
}

export interface InputRequest extends PromptBase {
  readonly default?: string;
  readonly flag: string;
  /** Returns an error message, or true when the value is acceptable. */
  readonly validate?: (value: string) => string | true;
}

export interface ProgressCounts {
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  stop(): void;
}

/** `12/50 done, 1 failed, 37 pending`. */
export const formatCounts = (c: ProgressCounts, total: number) => `${c.done}/${total} done, ${c.failed} failed, ${c.pending} pending`;
