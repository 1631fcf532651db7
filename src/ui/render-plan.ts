import type { ChangeAction, ChangeRisk, ChangeView, RunReport, StepReport } from '../core/report.js';
import { NO_STYLE, type Style } from './style.js';
import { wrap } from './wrap.js';

/** One glyph per meaning, the same in the plan, the summary and the legend. */
export const GLYPH = {
  create: '+',
  update: '~',
  delete: '-',
  risk: '!',
  unchanged: '=',
  skipped: '·',
  note: '›',
  failed: '✖',
} as const;

const ACTION_COLOUR: Record<ChangeAction, keyof Style> = { create: 'green', update: 'yellow', delete: 'red' };

const RISK_LABEL: Record<ChangeRisk['kind'], string> = {
  'weakens-audit': 'weakens audit',
  'weakens-security': 'weakens security',
  foreign: "someone else's resource",
};

export interface PlanOptions {
  readonly style?: Style;
  /** The terminal's width: long lines wrap there with a hanging indent. Infinity: never. */
  readonly width?: number;
}

/**
 * The plan as Terraform shows one: only the steps and resources that change, each change under
 * its step with one glyph per meaning (a weakening or foreign change gets its `!` line), the
 * unchanged steps collapsed to one line, skipped steps by reason, then a legend and the total
 * (`Plan: 2 to create, 3 to update, 0 to delete (1 weakens audit)`). A plan with no change
 * says so in one line; a plan that failed says that instead of a total.
 */
export function renderPlan(report: RunReport, opts: PlanOptions = {}): string {
  const st = opts.style ?? NO_STYLE;
  const out: string[] = [];
  const push = (text: string, indent: number, hang = 2) => out.push(...wrap(text, opts.width ?? Number.POSITIVE_INFINITY, indent, hang));
  push(st.bold(`Plan for account ${report.account ?? '?'} in ${report.region ?? '?'}:`), 0);
  const label = rowLabel;
  const changed = report.steps.filter((s) => s.changes.length || s.status === 'failed');
  const unchanged = report.steps.filter((s) => !s.changes.length && s.status !== 'failed' && s.status !== 'skipped');
  const skipped = report.steps.filter((s) => s.status === 'skipped' && !s.changes.length);
  for (const step of changed) {
    push(`${st.bold(label(step))} ${st.dim(`(${step.title})`)}`, 2);
    if (step.status === 'failed') push(st.red(`${GLYPH.failed} could not be planned (see below)`), 4);
    if (step.note) for (const line of step.note.split('\n')) push(st.dim(`${GLYPH.note} ${line.trim()}`), 4);
    for (const c of step.changes) {
      push(`${st[ACTION_COLOUR[c.action]](`${GLYPH[c.action]} ${c.action}`)} ${c.resource}${c.detail ? st.dim(`: ${c.detail}`) : ''}`, 4, 9);
      if (c.risk) push(st.red(`${GLYPH.risk} ${RISK_LABEL[c.risk.kind]}: ${c.risk.why}`), 6);
    }
  }
  // Notes of unchanged steps still matter (no targets, a form left alone): one line each.
  for (const step of unchanged.filter((s) => s.note)) push(st.dim(`${GLYPH.note} ${label(step)}: ${step.note!.split('\n')[0]}`), 2);
  // destroy's rows without a removal only keep something: their notes above say what.
  if (unchanged.length && report.command !== 'destroy') {
    push(st.dim(`${GLYPH.unchanged} ${unchanged.length} step${unchanged.length === 1 ? '' : 's'} unchanged: ${unchanged.map(label).join(', ')}`), 2, 4);
  }
  const byReason = new Map<string, string[]>();
  for (const s of skipped) byReason.set(s.note ?? '', [...(byReason.get(s.note ?? '') ?? []), label(s)]);
  for (const [why, ids] of byReason) push(st.dim(`${GLYPH.skipped} skipped${why ? ` (${why})` : ''}: ${ids.join(', ')}`), 2, 4);

  for (const line of perAccount(report, (runs) => {
    const changes = runs.flatMap((r) => r.steps.flatMap((s) => s.changes));
    if (runs.some((r) => r.error && !r.steps.length)) return st.red(`${GLYPH.failed} ${runs.find((r) => r.error)!.error!.message}`);
    if (runs.some((r) => r.steps.some((s) => s.status === 'failed'))) return st.red(`${GLYPH.failed} could not be planned`);
    return changes.length ? total(changes) : 'no changes';
  }))
    push(line, 2, 4);
  const failed = report.steps.some((s) => s.status === 'failed') || !!report.error;
  const changes = report.steps.flatMap((s) => s.changes);
  if (failed && report.runs) {
    // Over many accounts or regions the others still apply: their total is what a yes makes.
    push(st.red('Plan incomplete: some accounts or regions could not be planned (see above); the others go on.'), 0);
    if (changes.length) push(st.bold(total(changes)), 0);
  } else if (failed) {
    push(st.red('Plan incomplete: a step could not be planned (see the error).'), 0);
  } else if (!changes.length) {
    push(st.green(report.command === 'destroy' ? 'Nothing to remove.' : 'No changes: the account matches these settings.'), 0);
  } else {
    push(
      st.dim(
        `Legend: ${GLYPH.create} create  ${GLYPH.update} update  ${GLYPH.delete} delete  ${GLYPH.risk} weakens security or audit, or changes a resource ssm-setup did not create`,
      ),
      0,
      8,
    );
    push(st.bold(total(changes)), 0);
    if (report.next) push(`To apply: ${st.cyan(report.next)}`, 0, 10);
  }
  return out.join('\n');
}

/** A step's row: `<account> <region> <step>` in a run over many accounts (the alias when it has one), `<region> <step>` over regions. */
export const rowLabel = (s: Pick<StepReport, 'id' | 'region' | 'account' | 'accountAlias'>) =>
  [s.account ? (s.accountAlias ?? s.account) : undefined, s.region, s.id].filter(Boolean).join(' ');

/**
 * In a run over many accounts, one line per account: `alias (id): <what line() says of its runs>`,
 * the runs of all its regions together. Nothing for a run over one account.
 */
export function perAccount(report: RunReport, line: (runs: readonly RunReport[]) => string): string[] {
  // A run over regions only names no account in its rows: it has no line per account.
  if (!report.runs?.length || !report.steps.some((s) => s.account !== undefined)) return [];
  const byAccount = new Map<string, RunReport[]>();
  for (const r of report.runs) byAccount.set(r.account ?? '?', [...(byAccount.get(r.account ?? '?') ?? []), r]);
  return [...byAccount].map(([id, runs]) => `${runs[0]!.accountAlias ? `${runs[0]!.accountAlias} (${id})` : id}: ${line(runs)}`);
}

/** `Plan: 2 to create, 3 to update, 0 to delete (1 weakens audit).` */
export function total(changes: readonly ChangeView[]): string {
  const count = (a: ChangeAction) => changes.filter((c) => c.action === a).length;
  const risks = Object.entries(RISK_LABEL)
    .map(([kind, text]) => [changes.filter((c) => c.risk?.kind === kind).length, text] as const)
    .filter(([n]) => n)
    .map(([n, text]) => `${n} ${text}`);
  return `Plan: ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete${risks.length ? ` (${risks.join(', ')})` : ''}.`;
}
