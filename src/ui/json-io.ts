import type { RunReport } from '../core/report.js';
import { PlainIo } from './base-io.js';

/** `--json`: progress on stderr, and exactly one JSON object on stdout when the command ends. */
export class JsonIo extends PlainIo {
  override plan(_report: RunReport): void {
    // The plan is part of the final object; stdout carries nothing else.
  }
  override result(report: RunReport): void {
    this.out.write(`${JSON.stringify(report, null, 2)}\n`);
  }
}
