import type { OutputValue, RunReport, StepReport, StepStatus } from '../core/report.js';
import { GLYPH } from './render-plan.js';
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
};

/** One line per step with its status and outputs, then the failure with its fix, if any. */
export function renderSummary(report: RunReport, st: Style = NO_STYLE): string {
  const width = Math.max(...report.steps.map((s) => s.id.length + (s.region ? s.region.length + 1 : 0)), 4);
  const lines = [st.bold(`Summary (${report.command}, account ${report.account ?? '?'}, ${report.region ?? '?'}):`)];
  const [skipped, shown] = partition(report.steps, (s) => s.status === 'skipped');
  for (const step of shown) lines.push(...stepLines(step, width, st));
  lines.push(...skippedLines(skipped, st));
  const failed = report.steps.find((s) => s.error);
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
  const id = step.region ? `${step.region} ${step.id}` : step.id;
  const lines = [`  ${id.padEnd(width)}  ${st[colour](label)}${note ? st.dim(` (${note})`) : ''}`];
  for (const [k, v] of Object.entries(step.outputs)) {
    if (formatOutput(v)) lines.push(`  ${' '.repeat(width)}    ${st.dim(`${k}:`)} ${formatOutput(v)}`);
  }
  return lines;
}

/** Skipped steps share one line per reason, e.g. `· skipped (CloudWatch Logs off): log-group`. */
function skippedLines(steps: StepReport[], st: Style): string[] {
  const byNote = new Map<string, string[]>();
  for (const s of steps) byNote.set(s.note ?? '', [...(byNote.get(s.note ?? '') ?? []), s.region ? `${s.region} ${s.id}` : s.id]);
  return [...byNote].map(([note, ids]) => `  ${st.dim(`${GLYPH.skipped} skipped${note ? ` (${note})` : ''}: ${ids.join(', ')}`)}`);
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
