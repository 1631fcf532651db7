import type { ManagedInfo } from '../../aws/fleet.js';
import type { Settings } from '../../config/schema.js';
import { compareVersions, MIN_AGENT_VERSION } from '../../policies/agent-versions.js';

/** Default Host Management Configuration needs this agent (AWS user guide, DHMC). */
const DHMC_AGENT_VERSION = '3.2.582.0';

/**
 * The oldest agent the chosen settings work with: the newest minimum among the features they
 * use (KMS session encryption and SSH always, Run As, shell profiles, CloudWatch streaming and
 * DHMC when chosen). It is what a Windows agent is held to when no node tells the latest version.
 */
export function windowsFloor(settings: Settings): string {
  const needs: string[] = [MIN_AGENT_VERSION['KMS encryption'], MIN_AGENT_VERSION['SSH/port forwarding']];
  if (settings.runAs) needs.push(MIN_AGENT_VERSION['Run As']);
  if (settings.shellProfileWindows || settings.shellProfileLinux) needs.push(MIN_AGENT_VERSION['shell profile']);
  if (settings.cloudwatchLogs) needs.push(MIN_AGENT_VERSION['CloudWatch streaming']);
  if (settings.dhmc) needs.push(DHMC_AGENT_VERSION);
  return needs.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b));
}

/**
 * Whether a managed node's agent needs AWS-UpdateSSMAgent. SSM's IsLatestVersion is trusted on
 * Linux and macOS. On Windows it does not tell (the SSM model says so: older Windows Server
 * answers through EC2Config), and it is false there whatever the version, so the version decides:
 * older than the newest version SSM calls latest on a non-Windows node of the same inventory,
 * or, without such a node, older than `floor`. An unknown version is never updated blindly:
 * that would resend the update on every run.
 */
export function isOutdated(inventory: ReadonlyMap<string, ManagedInfo>, floor: string): (node: ManagedInfo) => boolean {
  const latest = [...inventory.values()]
    .filter((i) => i.platformType !== 'Windows' && i.isLatest && i.agentVersion)
    .map((i) => i.agentVersion!)
    .reduce<string | undefined>((a, b) => (a && compareVersions(a, b) >= 0 ? a : b), undefined);
  const reference = latest ?? floor;
  return (node) => {
    if (node.platformType !== 'Windows') return !node.isLatest;
    if (node.isLatest) return false;
    return !!node.agentVersion && compareVersions(node.agentVersion, reference) < 0;
  };
}
