import {
  type CheckboxRequest,
  type ConfirmRequest,
  formatCounts,
  type InputRequest,
  type Io,
  type Progress,
  type ProgressCounts,
  type SelectRequest,
} from '../../src/core/io.js';
import type { RunReport } from '../../src/core/report.js';

/**
 * A scripted person: answers prompts by id (never by text), records everything shown, and
 * fails the test on a prompt it has no answer for.
 */
export class TestIo implements Io {
  readonly interactive: boolean;
  readonly prompts: string[] = [];
  readonly lines: string[] = [];
  readonly plans: RunReport[] = [];
  readonly results: RunReport[] = [];

  constructor(
    private readonly answers: Record<string, unknown> = {},
    opts: { interactive?: boolean; signal?: AbortSignal } = {},
  ) {
    this.interactive = opts.interactive ?? true;
    this.signal = opts.signal;
  }
  /** A test's Ctrl-C (Io.signal). */
  readonly signal?: AbortSignal;

  info(m: string) {
    this.lines.push(m);
  }
  warn(m: string) {
    this.lines.push(`warn: ${m}`);
  }
  error(m: string) {
    this.lines.push(`error: ${m}`);
  }
  debug() {}
  progress(title: string, total: number): Progress {
    return {
      update: (c: ProgressCounts) => this.lines.push(`progress: ${title}: ${formatCounts(c, total)}`),
      stop: () => {},
    };
  }
  async task<T>(title: string, work: () => Promise<T>): Promise<T> {
    this.lines.push(`task: ${title}`);
    return work();
  }
  private answer<T>(id: string): T {
    this.prompts.push(id);
    if (!(id in this.answers)) throw new Error(`TestIo: unexpected prompt "${id}"`);
    return this.answers[id] as T;
  }
  async confirm(req: ConfirmRequest) {
    return this.answer<boolean>(req.id);
  }
  async select<T>(req: SelectRequest<T>) {
    return this.answer<T>(req.id);
  }
  async checkbox<T>(req: CheckboxRequest<T>) {
    return this.answer<T[]>(req.id);
  }
  async input(req: InputRequest) {
    const value = this.answer<string>(req.id);
    const ok = req.validate?.(value) ?? true;
    if (ok !== true) throw new Error(`TestIo: answer to ${req.id} rejected: ${ok}`);
    return value;
  }
  plan(r: RunReport) {
    this.plans.push(structuredClone(r));
  }
  result(r: RunReport) {
    this.results.push(structuredClone(r));
  }
}
