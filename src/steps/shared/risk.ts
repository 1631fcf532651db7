import type { ChangeRisk } from '../../core/report.js';

const RANK: readonly ChangeRisk['kind'][] = ['weakens-security', 'weakens-audit', 'foreign'];

/**
 * Several risks of one change as one: the gravest kind (security, then audit, then someone
 * else's resource), naming every reason; undefined when there is none.
 */
export function oneRisk(risks: readonly (ChangeRisk | undefined)[]): ChangeRisk | undefined {
  const all = risks.filter((r): r is ChangeRisk => !!r);
  if (!all.length) return undefined;
  const kind = RANK.find((k) => all.some((r) => r.kind === k))!;
  return { kind, why: all.map((r) => r.why).join('; ') };
}

/** `{ risk }` to spread into a change, or nothing. */
export const withRisk = (risk: ChangeRisk | undefined): { risk?: ChangeRisk } => (risk ? { risk } : {});
