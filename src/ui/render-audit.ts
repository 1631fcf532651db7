import type { AuditSessionView, AuditStatus, RunReport } from '../core/report.js';
import { NO_STYLE, type Style } from './style.js';

const STATUS: Record<AuditStatus, [string, keyof Style]> = {
  logged: ['✔ logged', 'green'],
  missing: ['✖ missing', 'red'],
  'not-logged': ['! not-logged', 'yellow'],
  active: ['… active', 'dim'],
};

/** `1h02m`, `3m12s`, `45s`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** `user/alice` of `arn:aws:iam::123456789012:user/alice`: the part a person reads. */
const ownerLabel = (arn: string) => arn.slice(arn.lastIndexOf(':') + 1) || arn;
/** `2026-11-01 08:00` (UTC). */
const when = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '?');

/**
 * The audit table: session, target, owner, document, start, duration, status; then each missing
 * record with its likely cause and fix; then the counts and what the exit code says. `now` is
 * the end of a session still running.
 */
export function renderAudit(report: RunReport, st: Style = NO_STYLE, now: Date = new Date()): string {
  const sessions = report.sessions ?? [];
  const lines = [st.bold(`Sessions since ${when(report.since ?? null)} UTC in account ${report.account ?? '?'}, ${report.region ?? '?'}:`)];
  if (!sessions.length) lines.push(st.dim('  no session in the window (--since widens it)'));
  else {
    const rows = sessions.map((s) => [
      s.sessionId,
      s.target,
      ownerLabel(s.owner),
      s.document,
      when(s.start),
      s.start ? duration((s.end ? Date.parse(s.end) : now.getTime()) - Date.parse(s.start)) : '?',
    ]);
    const header = ['SESSION', 'TARGET', 'OWNER', 'DOCUMENT', 'START (UTC)', 'DURATION', 'STATUS'];
    const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: readonly string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`;
    lines.push(st.dim(`${line(header.slice(0, -1))}  ${header.at(-1)}`));
    sessions.forEach((s, i) => {
      const [text, colour] = STATUS[s.status];
      lines.push(`${line(rows[i]!)}  ${st[colour](text)}`);
    });
  }
  const missing = sessions.filter((s) => s.status === 'missing');
  if (missing.length) lines.push(st.bold('Missing records:'));
  for (const s of missing) lines.push(...problem(s, st));
  const c = report.summary ?? { total: sessions.length, logged: 0, missing: missing.length, notLogged: 0, active: 0 };
  lines.push(
    st.bold(`${c.total} session${c.total === 1 ? '' : 's'}: ${c.logged} logged, ${c.missing} missing, ${c.notLogged} not logged, ${c.active} active.`),
  );
  if (c.missing) lines.push(st.red(`Missing (exit 3): ${c.missing} shell session${c.missing === 1 ? ' has' : 's have'} no record the preferences require.`));
  return lines.join('\n');
}

function problem(s: AuditSessionView, st: Style): string[] {
  return [`  ${st.red('✖')} ${s.sessionId} (${s.target}): ${s.reason ?? 'no record'}`, ...(s.fix ? [`    ${st.yellow(`fix: ${s.fix}`)}`] : [])];
}
