import type { ChangeAction, ChangeView, OutputValue, RunReport, StepReport, StepStatus } from '../core/report.js';

/** Colour functions; identity functions when colour is off. Keeps this module chalk-free. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const same = (s: string) => s;
export const NO_STYLE: Style = { bold: same, dim: same, green: same, yellow: same, red: same, cyan: same };

const MARK: Record<ChangeAction, [string, keyof Style]> = {
  create: ['+', 'green'],
  update: ['~', 'yellow'],
  delete: ['-', 'red'],
};

const RISK: Record<NonNullable<ChangeView['risk']>['kind'], string> = {
  'weakens-audit': 'weakens audit',
  'weakens-security': 'weakens security',
  foreign: "someone else's resource",
};

/** The plan, step by step: `+ create`, `~ update`, `- delete`, or `no changes`. */
export function renderPlan(report: RunReport, st: Style = NO_STYLE): string {
  const lines = [st.bold(`Plan for account ${report.account ?? '?'} in ${report.region ?? '?'}:`)];
  const [skipped, shown] = partition(report.steps, (s) => s.status === 'skipped');
  for (const step of shown) {
    lines.push(`  ${st.bold(step.region ? `${step.region} ${step.id}` : step.id)} ${st.dim(`(${step.title})`)}`);
    if (step.status === 'failed') {
      lines.push(`    ${st.red('✖ could not be planned (see below)')}`);
      continue;
    }
    if (step.note) lines.push(`    ${st.yellow(`! ${step.note.replace(/\n/g, '\n      ')}`)}`);
    if (step.changes.length === 0) lines.push(`    ${st.dim('= no changes')}`);
    for (const c of step.changes) {
      const [mark, colour] = MARK[c.action];
      lines.push(`    ${st[colour](`${mark} ${c.action}`)} ${c.resource}${c.detail ? st.dim(`: ${c.detail}`) : ''}`);
      if (c.risk) lines.push(`      ${st.red(`! ${RISK[c.risk.kind]}: ${c.risk.why}`)}`);
    }
  }
  lines.push(...skippedLines(skipped, st));
  const n = report.steps.reduce((sum, s) => sum + s.changes.length, 0);
  lines.push(n === 0 ? st.green('Everything is up to date: no changes.') : st.bold(`${n} change${n === 1 ? '' : 's'} to apply.`));
  return lines.join('\n');
}

const STATUS: Record<StepStatus, [string, keyof Style]> = {
  created: ['✔ created', 'green'],
  updated: ['✔ updated', 'green'],
  unchanged: ['= unchanged', 'dim'],
  pending: ['~ pending', 'yellow'],
  skipped: ['- skipped', 'dim'],
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

/** Skipped steps share one line per reason, e.g. `- skipped (CloudWatch Logs off): log-group`. */
function skippedLines(steps: StepReport[], st: Style): string[] {
  const byNote = new Map<string, string[]>();
  for (const s of steps) byNote.set(s.note ?? '', [...(byNote.get(s.note ?? '') ?? []), s.region ? `${s.region} ${s.id}` : s.id]);
  return [...byNote].map(([note, ids]) => `  ${st.dim(`- skipped${note ? ` (${note})` : ''}: ${ids.join(', ')}`)}`);
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
