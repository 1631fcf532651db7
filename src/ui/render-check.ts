import type { Finding, RunReport } from '../core/report.js';
import { NO_STYLE, type Style } from './style.js';

const MARK = { ok: '✔', warning: '!', error: '✖' } as const;

/** The readiness table: one row per target, its first problem and fix; then the other sections. */
export function renderCheck(report: RunReport, st: Style = NO_STYLE): string {
  const targets = report.targets ?? [];
  const lines = [st.bold(`Readiness in account ${report.account ?? '?'}, ${report.region ?? '?'}:`)];
  if (!targets.length) lines.push(st.dim('  no target instances (--instance-ids, --tag, or --all)'));
  const width = Math.max(...targets.map((t) => label(t).length), 10);
  for (const t of targets) {
    const problems = t.findings.filter((f) => f.status !== 'ok');
    const first = problems.find((f) => f.status === 'error') ?? problems[0];
    const status = t.ready ? st.green('✔ ready') : st.red('✖ not ready');
    lines.push(`  ${label(t).padEnd(width)}  ${status}${first ? `  ${first.check}: ${first.detail}` : ''}`);
    if (first?.fix) lines.push(`  ${' '.repeat(width)}  ${st.yellow(`fix: ${first.fix}`)}`);
    const more = problems.length - 1;
    if (more > 0) lines.push(`  ${' '.repeat(width)}  ${st.dim(`(+${more} more; --json lists every finding)`)}`);
  }
  for (const [title, findings] of Object.entries(report.checks ?? {}) as [string, readonly Finding[]][]) {
    const problems = findings.filter((f) => f.status !== 'ok');
    lines.push(`${st.bold(title[0]!.toUpperCase() + title.slice(1))}: ${problems.length ? '' : st.green(`✔ ${findings.length} checks ok`)}`);
    for (const f of problems) {
      lines.push(`  ${f.status === 'error' ? st.red(MARK.error) : st.yellow(MARK.warning)} ${f.check}: ${f.detail}`);
      if (f.fix) lines.push(`    ${st.yellow(`fix: ${f.fix}`)}`);
    }
  }
  const ready = targets.filter((t) => t.ready).length;
  lines.push(st.bold(`${ready} of ${targets.length} target${targets.length === 1 ? '' : 's'} ready.`));
  if (report.connect) lines.push(`Connect: ${st.cyan(report.connect)}`);
  const why = notReady(report);
  if (why.length) lines.push(st.red(`Not ready (exit 3): ${why.join('; ')}.`));
  return lines.join('\n');
}

/** Why check exits 3, in one line: the targets that are not ready, and each section with an error. */
function notReady(report: RunReport): string[] {
  const why: string[] = [];
  const down = (report.targets ?? []).filter((t) => !t.ready);
  if (down.length)
    why.push(
      `${down.length} target${down.length === 1 ? ' is' : 's are'} not ready (${down
        .slice(0, 3)
        .map((t) => t.instanceId)
        .join(', ')}${down.length > 3 ? ', …' : ''})`,
    );
  const SECTION: Record<string, string> = { account: 'the account', operator: 'your own rights', local: 'this machine' };
  for (const [title, findings] of Object.entries(report.checks ?? {}) as [string, readonly Finding[]][]) {
    const errors = findings.filter((f) => f.status === 'error').map((f) => f.check);
    if (errors.length) why.push(`${SECTION[title] ?? title}: ${errors.join(', ')}`);
  }
  return why;
}

const label = (t: { instanceId: string; name?: string }) => (t.name ? `${t.instanceId} (${t.name})` : t.instanceId);
