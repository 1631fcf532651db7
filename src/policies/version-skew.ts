import { compareVersions } from './agent-versions.js';

/** A closed range of dotted versions; either end may be open. */
export interface VersionRange {
  readonly from?: string;
  readonly to?: string;
}

/**
 * A known-bad plugin version, agent version or pair of them, with what goes wrong and the
 * public evidence. An entry with only `plugin` is bad with any agent; with both, only the pair
 * is. To add one: a new entry here, with its evidence; nothing else changes.
 */
export interface KnownBad {
  readonly id: string;
  /** The local session-manager-plugin versions concerned. */
  readonly plugin?: VersionRange;
  /** The SSM Agent versions concerned (on the target). */
  readonly agent?: VersionRange;
  /** What the operator sees. */
  readonly effect: string;
  /** What to install or update. */
  readonly fix: string;
  /** Public reports and release notes (issue threads, changelogs). */
  readonly evidence: readonly string[];
}

export const KNOWN_BAD: readonly KnownBad[] = [
  {
    id: 'plugin-resume-403',
    plugin: { from: '1.2.792.0', to: '1.2.804.0' },
    effect: 'sessions (SSH and port forwarding included) drop after about 60 minutes: the plugin’s ResumeSession is refused with 403',
    fix: 'install session-manager-plugin 1.2.553.0, the last release reported stable, or one newer than 1.2.804.0 once it is fixed',
    evidence: ['https://github.com/aws/session-manager-plugin/issues/136'],
  },
  {
    id: 'plugin-323-idle',
    plugin: { from: '1.2.323.0', to: '1.2.323.0' },
    agent: { to: '3.1.1475.99' },
    effect: 'port-forwarding sessions close after 30 to 60 seconds without traffic, ignoring the idle timeout of the preferences',
    fix: 'install session-manager-plugin 1.2.331.0 or later, and update the agent to 3.1.1476.0 or later (ssm-setup run agents)',
    evidence: ['https://github.com/aws/session-manager-plugin/issues/39', 'https://github.com/aws/amazon-ssm-agent/issues/450'],
  },
];

const within = (version: string, r: VersionRange | undefined) =>
  !r || ((!r.from || compareVersions(version, r.from) >= 0) && (!r.to || compareVersions(version, r.to) <= 0));

/**
 * The entries this plugin and agent meet: an entry naming the plugin needs a known plugin
 * version, one naming the agent a known agent version. Pure.
 */
export function knownBadFor(plugin: string | undefined, agent: string | undefined, table: readonly KnownBad[] = KNOWN_BAD): KnownBad[] {
  const known = (v: string | undefined) => !!v && /^\d+(\.\d+)+$/.test(v);
  return table.filter(
    (e) => (!e.plugin || (known(plugin) && within(plugin!, e.plugin))) && (!e.agent || (known(agent) && within(agent!, e.agent))) && (e.plugin || e.agent),
  );
}
