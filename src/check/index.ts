import { type ManagedInfo, managedInventory } from '../aws/fleet.js';
import type { Finding, TargetView } from '../core/report.js';
import type { ReadContext, TargetInstance } from '../core/step.js';
import { type Diagnosis, networkFindings } from '../diagnose/index.js';
import { readPreferences } from '../steps/preferences/read.js';
import { accountFindings } from './account.js';
import { operatorFindings } from './operator.js';
import { agentFinding, connection, diagnoses, managedFinding, profileFinding, roleFindings, stateFinding } from './targets.js';

/** One row of the readiness report: a target, whether a session can open now, and why not. */
export type TargetReport = TargetView;

export interface CheckResult {
  readonly targets: readonly TargetReport[];
  readonly account: readonly Finding[];
  readonly operator: readonly Finding[];
  /** `aws ssm start-session …` for the first ready target. */
  readonly connect?: string;
  /** Instance id → what Systems Manager knows of it (agent version, platform), for the version-skew guard and `--deep`. */
  readonly managed: ReadonlyMap<string, ManagedInfo>;
}

/**
 * Read-only: can a session be opened on each target right now, and if not, what exactly to
 * fix. Account-level findings first (the preferences and what they point at), then per target
 * the EC2 state, profile, role rights, agent, network path and connection status, then the
 * operator's own rights.
 */
export function runChecks(ctx: ReadContext, seen: readonly TargetInstance[]): Promise<CheckResult> {
  // The findings read the same things (each profile, the preferences): each once.
  return ctx.aws.withReadCache(() => checks(ctx, seen));
}

async function checks(ctx: ReadContext, seen: readonly TargetInstance[]): Promise<CheckResult> {
  const targets = withJustAssociated(ctx, seen);
  const prefs = await readPreferences(ctx);
  const { findings: account, claims } = await accountFindings(ctx, prefs);
  const ids = targets.map((t) => t.id);
  // The inventory, the diagnoses, the roles' rights and the operator's own rights need only the
  // targets and the account's claims: all in flight together.
  const [managed, diagnosed, roleRights, operator] = await Promise.all([
    ids.length ? managedInventory(ctx.aws, ids) : new Map<string, ManagedInfo>(),
    ids.length ? diagnoses(ctx, targets, claims) : new Map<string, Diagnosis>(),
    roleFindings(ctx, targets, claims),
    operatorFindings(ctx, targets, claims),
  ]);
  const registering = new Set(ctx.outputs.justAssociated ?? []);
  // GetConnectionStatus takes one target: the Online ones are asked all at once (the SSM client
  // bounds the calls in flight), and the rows keep the targets' order.
  const online = targets.filter((t) => managed.get(t.id)?.pingStatus === 'Online');
  const connections = new Map(await Promise.all(online.map(async (t) => [t.id, await connection(ctx, t.id)] as const)));
  const reports: TargetReport[] = targets.map((t) => {
    const info = managed.get(t.id);
    const waiting = registering.has(t.id) && info?.pingStatus !== 'Online';
    const findings: Finding[] = [
      stateFinding(t, ctx.region),
      profileFinding(t),
      ...(t.profileArn ? (roleRights.get(t.profileArn) ?? []) : []),
      managedFinding(info, diagnosed.get(t.id), waiting),
      ...agentFinding(info, claims),
      ...(diagnosed.has(t.id) ? networkFindings(diagnosed.get(t.id)!) : []),
      ...(connections.has(t.id) ? [connections.get(t.id)!] : []),
    ];
    return { instanceId: t.id, name: t.name, ready: !waiting && !findings.some((f) => f.status === 'error'), findings };
  });
  // A broken account or operator link stops every session, whatever the rows say.
  const blocked = [...account, ...operator].some((f) => f.status === 'error');
  const ready = blocked ? undefined : reports.find((r) => r.ready);
  const connect =
    ready && `aws ssm start-session --target ${ready.instanceId}${ctx.settings.profile ? ` --profile ${ctx.settings.profile}` : ''} --region ${ctx.region}`;
  return { targets: reports, account, operator, connect, managed };
}

/**
 * The profiles this run associated (instance-role's outputs), on targets EC2 does not show
 * them on yet: DescribeInstances can lag an association by seconds, and the check must not
 * report as missing what the same run has just done.
 */
function withJustAssociated(ctx: ReadContext, targets: readonly TargetInstance[]): TargetInstance[] {
  const { partition, account } = ctx.identity;
  const just = new Set(ctx.outputs.justAssociated ?? []);
  return targets.map((t) => {
    const name = ctx.outputs.instanceProfiles?.[t.id];
    return just.has(t.id) && !t.profileArn && name ? { ...t, profileArn: `arn:${partition}:iam::${account}:instance-profile/${name}` } : t;
  });
}
