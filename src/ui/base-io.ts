import { UsageError } from '../base/errors.js';
import { type CheckboxRequest, type ConfirmRequest, formatCounts, type InputRequest, type Io, type Progress, type SelectRequest } from '../core/io.js';
import type { RunReport } from '../core/report.js';
import { renderRuns, renderSummary } from './render.js';
import { renderAudit } from './render-audit.js';
import { renderCheck } from './render-check.js';
import { renderPlan } from './render-plan.js';
import { NO_STYLE, type Style } from './style.js';

export interface IoOptions {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  readonly verbose?: boolean;
  /** `--yes`: confirmations are accepted (and say so). */
  readonly yes?: boolean;
  /** Aborted on Ctrl-C during the run (Io.signal), by src/cli/main.ts. */
  readonly signal?: AbortSignal;
}

/**
 * Output and the non-interactive answers shared by every Io: never prompts; `--yes` confirms,
 * defaults answer questions, and anything else is a UsageError naming the flag to pass.
 */
export abstract class BaseIo implements Io {
  abstract readonly interactive: boolean;
  protected readonly out: NodeJS.WritableStream;
  protected readonly err: NodeJS.WritableStream;
  protected style: Style = NO_STYLE;

  constructor(protected readonly opts: IoOptions = {}) {
    this.out = opts.stdout ?? process.stdout;
    this.err = opts.stderr ?? process.stderr;
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  info(message: string): void {
    this.err.write(`${message}\n`);
  }
  warn(message: string): void {
    this.err.write(`${this.style.yellow(`! ${message}`)}\n`);
  }
  error(message: string): void {
    this.err.write(`${this.style.red(message)}\n`);
  }
  debug(message: string): void {
    if (this.opts.verbose) this.err.write(`${this.style.dim(message)}\n`);
  }

  async task<T>(title: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.err.write(`- ${title}…\n`);
    try {
      const value = await work();
      this.err.write(`✔ ${title} (${seconds(started)})\n`);
      return value;
    } catch (err) {
      this.err.write(`✖ ${title}\n`);
      throw err;
    }
  }

  progress(title: string, total: number): Progress {
    let last = '';
    return {
      update: (counts) => {
        const line = formatCounts(counts, total);
        if (line !== last) this.err.write(`  ${title}: ${line}\n`);
        last = line;
      },
      stop: () => {},
    };
  }

  async confirm(req: ConfirmRequest): Promise<boolean> {
    if (this.opts.yes) {
      this.info(`${req.message} yes ${this.style.dim('(auto-confirmed: --yes)')}`);
      return true;
    }
    throw new UsageError('NEEDS_YES', `--yes is required: no terminal to ask "${req.message}"`, {
      hint: 'pass --yes to accept, or run the command in a terminal',
    });
  }

  async select<T>(req: SelectRequest<T>): Promise<T> {
    if (req.default !== undefined) return req.default;
    throw missing(req.flag, req.message);
  }

  async input(req: InputRequest): Promise<string> {
    if (req.default !== undefined) return req.default;
    throw missing(req.flag, req.message);
  }

  async checkbox<T>(req: CheckboxRequest<T>): Promise<T[]> {
    if (req.default !== undefined) return [...req.default];
    throw missing(req.flag, req.message);
  }

  /** Where long lines wrap: the terminal's width; plain output (logs, pipes) never wraps. */
  protected width(): number {
    return Number.POSITIVE_INFINITY;
  }

  plan(report: RunReport): void {
    this.out.write(`${renderPlan(report, { style: this.style, width: this.width() })}\n`);
  }

  result(report: RunReport): void {
    // A plan that did not fail was the result itself, already shown by plan() (`ok` is also false for --detailed-exitcode's 3).
    if (report.command === 'plan' && !report.error && !report.steps.some((s) => s.status === 'failed')) return;
    // A destroy that found nothing to remove said so in its plan: no summary of nothing.
    if (report.command === 'destroy' && report.ok && !report.runs && report.steps.every((s) => !s.changes.length)) return;
    if (report.runs && report.command === 'audit') return void this.out.write(`${renderRuns(report, (r) => renderAudit(r, this.style), this.style)}\n`);
    if (report.runs && report.command === 'check') return void this.out.write(`${renderRuns(report, (r) => renderCheck(r, this.style), this.style)}\n`);
    if (report.command === 'audit' && report.sessions) return void this.out.write(`${renderAudit(report, this.style)}\n`);
    if (report.command === 'check') {
      this.out.write(`${renderCheck(report, this.style)}\n`);
      return;
    }
    this.out.write(`${renderSummary(report, this.style)}\n`);
  }
}

const missing = (flag: string, question: string) =>
  new UsageError('MISSING_INPUT', `${flag} is required: no terminal to ask "${question}"`, { hint: `pass ${flag} or set it in ssm-setup.json` });

export const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/** No TTY, or CI: plain lines, no colour, no animation, never a prompt. */
export class PlainIo extends BaseIo {
  readonly interactive = false;
}
