import type { Finding } from '../core/report.js';
import { warn } from '../diagnose/finding.js';
import { type KnownBad, knownBadFor } from '../policies/version-skew.js';
import type { TargetReport } from './index.js';

const warning = (check: string, e: KnownBad, what: string) => warn(check, `${what}: ${e.effect} (${e.evidence.join(', ')})`, e.fix);

/** The local plugin's own known-bad releases (entries without an agent side): one warning each. Pure. */
export function pluginFindings(plugin: string | undefined): Finding[] {
  return knownBadFor(plugin, undefined)
    .filter((e) => !e.agent)
    .map((e) => warning('plugin-version', e, `session-manager-plugin ${plugin} is a known-bad release`));
}

/**
 * The version-skew guard: each target whose agent meets a known-bad pair with the local plugin
 * gets a warning in its row (a warning: the session opens, and then misbehaves). Targets of
 * unknown agent version, or a plugin of unknown version, are not judged. Pure.
 */
export function withSkew(reports: readonly TargetReport[], agents: Readonly<Record<string, string | undefined>>, plugin: string | undefined): TargetReport[] {
  return reports.map((t) => {
    const agent = agents[t.instanceId];
    // Entries with an agent side: the pairs, and agent releases bad with any plugin.
    const bad = knownBadFor(plugin, agent).filter((e) => e.agent);
    if (!bad.length) return t;
    const what = (e: KnownBad) => (e.plugin ? `agent ${agent} with the local session-manager-plugin ${plugin}` : `agent ${agent}`);
    return { ...t, findings: [...t.findings, ...bad.map((e) => warning('version-skew', e, what(e)))] };
  });
}
