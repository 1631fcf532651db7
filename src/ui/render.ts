import type { OutputValue, RunReport, StepReport, StepStatus } from '../core/report.js';
import { GLYPH, perAccount, rowLabel } from './render-plan.js';
import { NO_STYLE, type Style } from './style.js';

export { NO_STYLE, type Style } from './style.js';

const STATUS: Record<StepStatus, [string, keyof Style]> = {
  created: ['✔ created', 'green'],
  updated: ['✔ updated', 'green'],
  unchanged: [`${GLYPH.unchanged} unchanged`, 'dim'],
  pending: [`${GLYPH.update} pending`, 'yellow'],
  skipped: [`${GLYPH.skipped} skipped`, 'dim'],
  failed: ['✖ failed', 'red'],
  deleted: ['✔ removed', 'green'],
  scheduled: ['✔ scheduled', 'green'],
};

/** One line per step with its status and outputs, then the failure with its fix, if any. */
export function renderSummary(report: RunReport, st: Style = NO_STYLE): string {
  const width = Math.max(...report.steps.map((s) => rowLabel(s).length), 4);
  const lines = [st.bold(`Summary (${report.command}, account ${report.account ?? '?'}, ${report.region ?? '?'}):`)];
  const [skipped, shown] = partition(report.steps, (s) => s.status === 'skipped');
  for (const step of shown) lines.push(...stepLines(step, width, st));
  lines.push(...skippedLines(skipped, st));
  for (const line of perAccount(report, accountTotal)) lines.push(`  ${line}`);
  // A run over many accounts or regions: its own error names each failed one.
  const failed = report.runs && report.error ? undefined : report.steps.find((s) => s.error);
  const error = failed?.error ?? report.error;
  if (error) {
    lines.push('', st.red(`Error${failed ? ` in step ${failed.id}` : ''}${error.call ? `, AWS call ${error.call}` : ''}: ${error.message}`));
    if (error.hint) lines.push(st.yellow(`Fix: ${error.hint}`));
  }
  return lines.join('\n');
}

function stepLines(step: StepReport, width: number, st: Style): string[] {
  const [label, colour] = STATUS[step.status];
  const note = step.note?.split('\n')[0];
  const id = rowLabel(step);
  const lines = [`  ${id.padEnd(width)}  ${st[colour](label)}${note ? st.dim(` (${note})`) : ''}`];
  for (const [k, v] of Object.entries(step.outputs)) {
    if (formatOutput(v)) lines.push(`  ${' '.repeat(width)}    ${st.dim(`${k}:`)} ${formatOutput(v)}`);
  }
  return lines;
}

/** Skipped steps share one line per reason, e.g. `· skipped (CloudWatch Logs off): log-group`. */
function skippedLines(steps: StepReport[], st: Style): string[] {
  const byNote = new Map<string, string[]>();
  for (const s of steps) byNote.set(s.note ?? '', [...(byNote.get(s.note ?? '') ?? []), rowLabel(s)]);
  return [...byNote].map(([note, ids]) => `  ${st.dim(`${GLYPH.skipped} skipped${note ? ` (${note})` : ''}: ${ids.join(', ')}`)}`);
}

/** An account's line of the summary: `failed` or `ok`, then its steps by status (`3 created, 5 unchanged`). */
function accountTotal(runs: readonly RunReport[]): string {
  const failed = runs.some((r) => r.error || r.steps.some((s) => s.status === 'failed'));
  const counts = new Map<StepStatus, number>();
  for (const s of runs.flatMap((r) => r.steps)) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const parts = [...counts].map(([status, n]) => `${n} ${status}`);
  return `${failed ? '✖ failed' : '✔ ok'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/**
 * `check` and `audit` over several accounts or regions: each target's own report under a heading
 * (`== alias (id) us-east-1 ==`), a target that could not run by its error, then the failure of
 * the whole run with its fix.
 */
export function renderRuns(report: RunReport, one: (r: RunReport) => string, st: Style = NO_STYLE): string {
  const lines: string[] = [];
  for (const r of report.runs ?? []) {
    const who = r.accountAlias ? `${r.accountAlias} (${r.account})` : r.account;
    lines.push(st.bold(`== account ${who ?? '?'}, ${r.region ?? '?'} ==`));
    lines.push(r.error && !r.steps.length && !r.targets && !r.sessions ? st.red(`${GLYPH.failed} ${r.error.message}`) : one(r), '');
  }
  if (report.error) {
    lines.push(st.red(`Error: ${report.error.message}`));
    if (report.error.hint) lines.push(st.yellow(`Fix: ${report.error.hint}`));
  }
  return lines.join('\n');
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((i) => !test(i))];
}

function formatOutput(v: OutputValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(', ');
  return Object.entries(v)
    .map(([k, x]) => `${k} → ${x}`)
    .join(', ');
}
