import { checkbox, confirm, input, select } from '@inquirer/prompts';
import { Chalk } from 'chalk';
import ora, { type Ora } from 'ora';
import { AbortedError } from '../base/errors.js';
import {
  type CheckboxRequest,
  type ConfirmRequest,
  formatCounts,
  type InputRequest,
  type Progress,
  type ProgressCounts,
  type SelectRequest,
} from '../core/io.js';
import { BaseIo, type IoOptions, seconds } from './base-io.js';
import { guardStdin } from './stdin-guard.js';

export interface TerminalIoOptions extends IoOptions {
  /** False under `--yes`: output stays rich, answers come from BaseIo. */
  readonly interactive: boolean;
  readonly color: boolean;
}

/** A person at a TTY: colours, one spinner per task, inquirer prompts (on stderr, so stdout stays clean). */
export class TerminalIo extends BaseIo {
  readonly interactive: boolean;

  constructor(topts: TerminalIoOptions) {
    super(topts);
    this.interactive = topts.interactive;
    const chalk = new Chalk({ level: topts.color ? 1 : 0 });
    this.style = { bold: chalk.bold, dim: chalk.dim, green: chalk.green, yellow: chalk.yellow, red: chalk.red, cyan: chalk.cyan };
  }

  protected override width(): number {
    return (this.out as NodeJS.WriteStream).columns || 100;
  }

  /**
   * The one spinner, shared by the tasks in progress (steps applied side by side): its text
   * names them all; a task that ends is printed above it, and the last stops it. Progress and
   * messages go through it.
   */
  private spinner?: Ora;
  private running: string[] = [];
  private releaseStdin = () => {};

  override async task<T>(title: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.running.push(title);
    if (!this.spinner) {
      this.spinner = ora({ text: title, stream: this.err, color: 'cyan', discardStdin: false }).start();
      this.releaseStdin = guardStdin();
    } else this.spinner.text = this.running.join(' · ');
    try {
      const value = await work();
      this.ended(title, this.style.green('✔'), `${title} ${this.style.dim(seconds(started))}`);
      return value;
    } catch (err) {
      const stopped = this.signal?.aborted === true;
      this.ended(title, stopped ? this.style.yellow('■') : this.style.red('✖'), stopped ? `${title} (interrupted)` : title);
      throw err;
    }
  }

  /** One task is over: its line goes above the spinner, which goes on for the others, or stops. */
  private ended(title: string, symbol: string, text: string): void {
    this.running.splice(this.running.indexOf(title), 1);
    const spinner = this.spinner!;
    if (this.running.length) {
      this.above(`${symbol} ${text}`);
      spinner.text = this.running.join(' · ');
      return;
    }
    spinner.stopAndPersist({ symbol, text });
    this.spinner = undefined;
    this.releaseStdin();
  }

  /** A fleet-wide count on the running task's spinner (ora cannot run two at once), or on its own. */
  override progress(title: string, total: number): Progress {
    const owner = this.spinner;
    const spinner = owner ?? ora({ stream: this.err, discardStdin: false }).start();
    const release = owner ? () => {} : guardStdin();
    const before = spinner.text;
    const show = (counts: ProgressCounts) => {
      const width = 20;
      const filled = Math.round(((counts.done + counts.failed) / Math.max(total, 1)) * width);
      spinner.text = `${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatCounts(counts, total)}`;
    };
    show({ done: 0, failed: 0, pending: total });
    return {
      update: show,
      stop: () => {
        release();
        if (!owner) return void spinner.stopAndPersist({ symbol: this.style.green('✔'), text: spinner.text });
        this.above(`${this.style.green('✔')} ${spinner.text}`);
        spinner.text = before;
      },
    };
  }

  override info(message: string): void {
    this.above(message);
  }
  override warn(message: string): void {
    this.above(this.style.yellow(`! ${message}`));
  }
  override debug(message: string): void {
    if (this.opts.verbose) this.above(this.style.dim(message));
  }

  /** A line printed above the spinner, which then goes on turning below it. */
  private above(line: string): void {
    if (!this.spinner?.isSpinning) return void this.err.write(`${line}\n`);
    this.spinner.clear();
    this.err.write(`${line}\n`);
    this.spinner.render();
  }

  override async confirm(req: ConfirmRequest): Promise<boolean> {
    if (!this.interactive) return super.confirm(req);
    return this.ask(() => confirm({ message: req.message, default: req.default }, this.context()));
  }

  override async select<T>(req: SelectRequest<T>): Promise<T> {
    if (!this.interactive) return super.select(req);
    const choices = req.choices.map((c) => ({ name: c.label, value: c.value, description: c.hint }));
    return this.ask(() => select<T>({ message: req.message, choices, default: req.default }, this.context()));
  }

  override async input(req: InputRequest): Promise<string> {
    if (!this.interactive) return super.input(req);
    return this.ask(() => input({ message: req.message, default: req.default, validate: req.validate }, this.context()));
  }

  override async checkbox<T>(req: CheckboxRequest<T>): Promise<T[]> {
    if (!this.interactive) return super.checkbox(req);
    const chosen = new Set(req.default ?? []);
    const choices = req.choices.map((c) => ({ name: c.label, value: c.value, description: c.hint, checked: chosen.has(c.value) }));
    return this.ask(() => checkbox<T>({ message: req.message, choices, pageSize: 15 }, this.context()));
  }

  private context() {
    return { output: this.err as NodeJS.WritableStream & { isTTY?: boolean } } as Parameters<typeof input>[1];
  }

  /** Ctrl-C inside a prompt is the operator leaving: exit 130, not a crash. */
  private async ask<T>(prompt: () => Promise<T>): Promise<T> {
    try {
      return await prompt();
    } catch (err) {
      if ((err as Error).name === 'ExitPromptError') throw new AbortedError('CANCELLED', 'Cancelled: nothing more was changed.');
      throw err;
    }
  }
}
