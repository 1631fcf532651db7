/**
 * The SSM Agent version each Session Manager feature needs, from the agent's release notes
 * (github.com/aws/amazon-ssm-agent, RELEASENOTES.md) and the Session Manager user guide.
 */
export const MIN_AGENT_VERSION = {
  'KMS encryption': '2.3.539.0',
  'SSH/port forwarding': '2.3.672.0',
  'Run As': '2.3.672.0',
  'shell profile': '3.0.196.0',
  'CloudWatch streaming': '3.0.356.0',
} as const;
export type AgentFeature = keyof typeof MIN_AGENT_VERSION;

/** -1, 0 or 1, comparing dotted numeric versions (missing parts count as 0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

const isTrue = (v: unknown) => v === true || v === 'true';

/** The features the preferences (document `inputs`) put to use; SSH is always offered to operators. */
export function featuresInUse(inputs: Record<string, unknown> | undefined): AgentFeature[] {
  const i = inputs ?? {};
  const shell = (i.shellProfile ?? {}) as { linux?: string; windows?: string };
  return [
    ...(i.kmsKeyId ? (['KMS encryption'] as const) : []),
    'SSH/port forwarding' as const,
    ...(isTrue(i.runAsEnabled) ? (['Run As'] as const) : []),
    ...(shell.linux || shell.windows ? (['shell profile'] as const) : []),
    ...(isTrue(i.cloudWatchStreamingEnabled) ? (['CloudWatch streaming'] as const) : []),
  ];
}

/** The features an agent of this version is too old for. */
export const tooOldFor = (version: string, features: readonly AgentFeature[]) => features.filter((f) => compareVersions(version, MIN_AGENT_VERSION[f]) < 0);
