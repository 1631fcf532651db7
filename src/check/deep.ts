import { type ManagedInfo, runOnFleet } from '../aws/fleet.js';
import type { Clients } from '../core/clients.js';
import type { Io } from '../core/io.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { compareVersions } from '../policies/agent-versions.js';
import type { TargetReport } from './index.js';

/** The first agent release whose ssm-cli has `get-diagnostics` (amazon-ssm-agent RELEASENOTES: "Add diagnostics command to ssm-cli"). */
export const DIAGNOSTICS_AGENT = '3.1.501.0';
/** What the scripts print when the instance has no ssm-cli at all. */
export const NO_SSM_CLI = 'SSM_SETUP_NO_SSM_CLI';

/**
 * The scripts Run Command runs. ssm-cli prints indented JSON (MarshalIndent); the whitespace is
 * squeezed so that more of it fits in the 2,500 characters ListCommandInvocations returns. On
 * Ubuntu the agent (and ssm-cli) comes as a snap, outside Run Command's PATH.
 */
export const DEEP_SCRIPTS = {
  linux: [
    `for c in ssm-cli /usr/bin/ssm-cli /snap/amazon-ssm-agent/current/ssm-cli; do if command -v "$c" >/dev/null 2>&1; then "$c" get-diagnostics --output json | tr -s ' \\n\\t' ' '; exit 0; fi; done; echo ${NO_SSM_CLI}`,
  ],
  windows: [
    `$c = Join-Path $env:ProgramFiles 'Amazon\\SSM\\ssm-cli.exe'; if (Test-Path $c) { ((& $c get-diagnostics --output json) | Out-String) -replace '\\s+', ' ' } else { '${NO_SSM_CLI}' }`,
  ],
} as const;

/** One row of `ssm-cli get-diagnostics --output json`: `{"DiagnosticsOutput":[{"Check","Status","Note"}]}`, Status Success, Failed or Skipped. */
export interface Diagnostic {
  readonly Check: string;
  readonly Status: string;
  readonly Note: string;
}

const ROW = /\{\s*"Check"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"Status"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"Note"\s*:\s*"((?:[^"\\]|\\.)*)"\s*\}/g;

/**
 * The rows of ssm-cli's JSON: the whole document when it parses, else every complete row of it
 * (the output Run Command returns is cut at 2,500 characters). Undefined when there is none.
 */
export function parseDiagnostics(output: string): { rows: Diagnostic[]; truncated: boolean } | undefined {
  const start = output.indexOf('{');
  if (start < 0) return undefined;
  try {
    const doc = JSON.parse(output.slice(start)) as { DiagnosticsOutput?: Diagnostic[] };
    if (Array.isArray(doc.DiagnosticsOutput)) return { rows: doc.DiagnosticsOutput, truncated: false };
  } catch {
    // Cut short: read the rows that are whole.
  }
  const rows = [...output.slice(start).matchAll(ROW)].map((m) => ({
    Check: JSON.parse(`"${m[1]}"`) as string,
    Status: JSON.parse(`"${m[2]}"`) as string,
    Note: JSON.parse(`"${m[3]}"`) as string,
  }));
  return rows.length ? { rows, truncated: true } : undefined;
}

/** The fix for a failed get-diagnostics row, by its check. */
function fixFor(row: Diagnostic, id: string, region: string, windows: boolean): string {
  if (/^Connectivity to /.test(row.Check)) return `ssm-setup run vpc-endpoints --vpc-endpoints --instance-ids ${id} --region ${region}`;
  if (row.Check === 'EC2 IMDS') return `aws ec2 modify-instance-metadata-options --instance-id ${id} --http-endpoint enabled --region ${region}`;
  if (row.Check === 'AWS Credentials') return `ssm-setup run instance-role --instance-ids ${id} --region ${region}`;
  if (row.Check === 'SSM Agent version') return `ssm-setup run agents --instance-ids ${id} --region ${region}`;
  if (row.Check === 'Agent service') return windows ? 'Restart-Service AmazonSSMAgent' : 'sudo systemctl restart amazon-ssm-agent';
  return windows
    ? 'read C:\\ProgramData\\Amazon\\SSM\\Logs\\amazon-ssm-agent.log on the instance'
    : 'read /var/log/amazon/ssm/amazon-ssm-agent.log on the instance';
}

/**
 * The findings of one target's diagnostics, pure: each Failed row an error (the agent version
 * a warning), one ok line for the rest; a target without ssm-cli, or whose agent predates
 * get-diagnostics, gets a note (ok), never an error.
 */
export function deepFindings(
  id: string,
  result: { status: string; detail?: string; output?: string } | undefined,
  region: string,
  windows: boolean,
): Finding[] {
  const check = 'deep';
  if (!result) return [warn(check, 'ssm-cli get-diagnostics did not run')];
  const out = result.output ?? '';
  if (out.includes(NO_SSM_CLI)) return [ok(check, `note: no ssm-cli on the instance (it ships with SSM Agent ${DIAGNOSTICS_AGENT} and later): not run`)];
  const parsed = parseDiagnostics(out);
  if (!parsed) {
    if (result.status !== 'Success') return [warn(check, `ssm-cli get-diagnostics: Run Command ${result.status}${result.detail ? ` (${result.detail})` : ''}`)];
    return [ok(check, `note: ssm-cli gave no diagnostics (an agent older than ${DIAGNOSTICS_AGENT} has no get-diagnostics)`)];
  }
  const failed = parsed.rows.filter((r) => r.Status === 'Failed');
  const findings = failed.map((r) => {
    const detail = `${r.Check}: ${r.Note}`;
    const fix = fixFor(r, id, region, windows);
    return r.Check === 'SSM Agent version' ? warn(`${check}`, detail, fix) : error(check, detail, fix);
  });
  const passed = parsed.rows.filter((r) => r.Status === 'Success').length;
  const cut = parsed.truncated ? ' (output cut at 2,500 characters: the rows after it are not seen)' : '';
  return [ok(check, `ssm-cli get-diagnostics: ${passed} of ${parsed.rows.length} checks passed${cut}`), ...findings];
}

/**
 * `check --deep`: `ssm-cli get-diagnostics --output json` on each managed, Online target,
 * through Run Command (AWS-RunShellScript on Linux and macOS, AWS-RunPowerShellScript on
 * Windows): one SendCommand per 50 targets and one ListCommandInvocations poll per command
 * (aws/fleet.ts runOnFleet). Its failed checks (endpoint reachability, IMDS, credentials, the
 * agent service, proxy) join the target's row, and an error makes it not ready. Targets not
 * Online are left as they are; an agent older than get-diagnostics gets a note without a call.
 */
export async function deepChecks(
  aws: Clients,
  io: Io,
  region: string,
  reports: readonly TargetReport[],
  managed: ReadonlyMap<string, ManagedInfo>,
): Promise<TargetReport[]> {
  const online = reports.map((t) => managed.get(t.instanceId)).filter((m): m is ManagedInfo => m?.pingStatus === 'Online');
  const old = new Set(online.filter((m) => m.agentVersion && compareVersions(m.agentVersion, DIAGNOSTICS_AGENT) < 0).map((m) => m.instanceId));
  const run = online.filter((m) => !old.has(m.instanceId));
  const windows = new Set(run.filter((m) => m.platformType === 'Windows').map((m) => m.instanceId));
  const results = new Map<string, { status: string; detail?: string; output?: string }>();
  for (const [kind, ids] of [
    ['linux', run.filter((m) => !windows.has(m.instanceId)).map((m) => m.instanceId)],
    ['windows', [...windows]],
  ] as const) {
    if (!ids.length) continue;
    const spec = {
      document: kind === 'windows' ? 'AWS-RunPowerShellScript' : 'AWS-RunShellScript',
      parameters: { commands: [...DEEP_SCRIPTS[kind]] },
      label: 'Running ssm-cli get-diagnostics',
      output: true,
    };
    for (const r of await runOnFleet(aws, io, spec, ids)) results.set(r.instanceId, r);
  }
  return reports.map((t) => {
    const m = managed.get(t.instanceId);
    if (m?.pingStatus !== 'Online') return t;
    const found = old.has(t.instanceId)
      ? [ok('deep', `note: agent ${m.agentVersion} predates ssm-cli get-diagnostics (${DIAGNOSTICS_AGENT}): not run`)]
      : deepFindings(t.instanceId, results.get(t.instanceId), region, windows.has(t.instanceId));
    const findings = [...t.findings, ...found];
    return { ...t, ready: t.ready && !found.some((f) => f.status === 'error'), findings };
  });
}
