import { GetInstanceProfileCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetConnectionStatusCommand, SSMClient } from '@aws-sdk/client-ssm';
import { diagnoseUnmanaged, networkFindings, type Diagnosis, type Finding } from '../diagnose/index.js';
import { unlessMissing } from '../aws/errors.js';
import { managedInventory, type ManagedInfo } from '../aws/fleet.js';
import type { ReadContext, TargetInstance } from '../core/step.js';
import { featuresInUse, MIN_AGENT_VERSION, tooOldFor } from '../policies/agent-versions.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import { accountFindings, type Claims } from './account.js';
import { rightsFindings, type Requirement } from './rights.js';
import { readPreferences } from '../steps/preferences/read.js';
import { chunks } from '../base/batch.js';

export interface TargetReport {
  readonly instanceId: string;
  readonly name?: string;
  readonly ready: boolean;
  readonly findings: readonly Finding[];
}

export interface CheckResult {
  readonly targets: readonly TargetReport[];
  readonly account: readonly Finding[];
  readonly operator: readonly Finding[];
  /** `aws ssm start-session …` for the first ready target. */
  readonly connect?: string;
}

const ok = (check: string, detail: string): Finding => ({ check, status: 'ok', detail });
const err = (check: string, detail: string, fix: string): Finding => ({ check, status: 'error', detail, fix });

/**
 * Read-only: can a session be opened on each target right now, and if not, what exactly to
 * fix. Account-level findings first (the preferences and what they point at), then per target
 * the EC2 state, profile, role rights, agent, network path and connection status, then the
 * operator's own rights.
 */
export async function runChecks(ctx: ReadContext, targets: readonly TargetInstance[]): Promise<CheckResult> {
  const prefs = await readPreferences(ctx);
  const { findings: account, claims } = await accountFindings(ctx, prefs);
  const ids = targets.map((t) => t.id);
  const managed = ids.length ? await managedInventory(ctx.aws, ids) : new Map<string, ManagedInfo>();
  const diagnoses = ids.length ? await network(ctx, targets, claims) : new Map<string, Diagnosis>();
  const roleRights = await roleFindings(ctx, targets, claims);
  const reports: TargetReport[] = [];
  for (const t of targets) {
    const info = managed.get(t.id);
    const findings: Finding[] = [
      t.state === 'running' ? ok('state', 'running') : err('state', t.state, `aws ec2 start-instances --instance-ids ${t.id} --region ${ctx.region}`),
      t.profileArn ? ok('instance-profile', t.profileArn.split('/').pop()!) : err('instance-profile', 'no instance profile', `ssm-setup run instance-role --instance-ids ${t.id}`),
      ...(t.profileArn ? (roleRights.get(t.profileArn) ?? []) : []),
      managedFinding(info, diagnoses.get(t.id)),
      ...agentFinding(info, claims),
      ...(diagnoses.has(t.id) ? networkFindings(diagnoses.get(t.id)!) : []),
    ];
    if (info?.pingStatus === 'Online') findings.push(await connection(ctx, t.id));
    reports.push({ instanceId: t.id, name: t.name, ready: !findings.some((f) => f.status === 'error'), findings });
  }
  const operator = await operatorFindings(ctx, targets, claims);
  // A broken account or operator link stops every session, whatever the rows say.
  const blocked = [...account, ...operator].some((f) => f.status === 'error');
  const ready = blocked ? undefined : reports.find((r) => r.ready);
  const connect = ready && `aws ssm start-session --target ${ready.instanceId}${ctx.settings.profile ? ` --profile ${ctx.settings.profile}` : ''} --region ${ctx.region}`;
  return { targets: reports, account, operator, connect };
}

function managedFinding(info: ManagedInfo | undefined, d: Diagnosis | undefined): Finding {
  if (info?.pingStatus === 'Online') return ok('managed', `managed, Online, agent ${info.agentVersion ?? '?'}`);
  const cause = d ? `: ${d.cause}` : '';
  // One line to run: the commands of the diagnosis' fix, without its prose.
  const commands = (d?.fix ?? []).filter((line) => /^(sudo |aws |ssm-setup )/.test(line));
  const fix = commands.join(' && ') || d?.fix[0] || 'sudo systemctl restart amazon-ssm-agent';
  return err('managed', info ? `managed but ${info.pingStatus}${cause}` : `not managed by Systems Manager${cause}`, fix);
}

/** The agent must be recent enough for every feature the preferences use. */
function agentFinding(info: ManagedInfo | undefined, claims: Claims | undefined): Finding[] {
  if (!info?.agentVersion) return [];
  const old = tooOldFor(info.agentVersion, featuresInUse(claims?.inputs));
  if (!old.length) return [ok('agent-version', `agent ${info.agentVersion} supports ${featuresInUse(claims?.inputs).join(', ')}`)];
  const needs = old.map((f) => `${f} ≥ ${MIN_AGENT_VERSION[f]}`).join(', ');
  return [err('agent-version', `agent ${info.agentVersion} is too old for ${needs}`, 'ssm-setup run agents')];
}

async function network(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Map<string, Diagnosis>> {
  const needs = { kms: !!claims?.keyArn, logs: !!claims?.logGroup, s3: !!claims?.bucket };
  const all = await diagnoseUnmanaged(ctx.aws, { region: ctx.region, partition: ctx.identity.partition, needs }, targets);
  return new Map(all.map((d) => [d.instanceId, d]));
}

/** What the agent needs for these preferences, on the real resources. */
function instanceNeeds(ctx: ReadContext, claims: Claims | undefined): Requirement[] {
  const { partition, account } = ctx.identity;
  const needs: Requirement[] = [{
    what: 'session channels (ssmmessages, ssm:UpdateInstanceInformation)',
    actions: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel', 'ssm:UpdateInstanceInformation'],
    resources: ['*'],
  }];
  if (claims?.keyArn) needs.push({ what: 'kms:Decrypt on the session key', actions: ['kms:Decrypt'], resources: [claims.keyArn] });
  if (claims?.bucket) {
    needs.push({ what: `s3:PutObject on s3://${claims.bucket}/${claims.prefix}`, actions: ['s3:PutObject'], resources: [`arn:${partition}:s3:::${claims.bucket}/${claims.prefix}ssm-setup-check.log`] });
    needs.push({ what: 's3:GetEncryptionConfiguration on the bucket', actions: ['s3:GetEncryptionConfiguration'], resources: [`arn:${partition}:s3:::${claims.bucket}`] });
    if (claims.bucketKeyArn) needs.push({ what: 'kms:GenerateDataKey on the bucket key', actions: ['kms:GenerateDataKey'], resources: [claims.bucketKeyArn] });
  }
  if (claims?.logGroup) {
    const group = `arn:${partition}:logs:${ctx.region}:${account}:log-group:${claims.logGroup}`;
    needs.push({ what: `log stream writes to ${claims.logGroup}`, actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${group}:log-stream:ssm-setup-check`] });
  }
  return needs;
}

/** Rights of each distinct profile's role, proven once per role. */
async function roleFindings(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Map<string, Finding[]>> {
  const iam = ctx.aws.get(IAMClient);
  const byProfile = new Map<string, Finding[]>();
  const needs = instanceNeeds(ctx, claims);
  for (const arn of new Set(targets.map((t) => t.profileArn).filter((a): a is string => !!a))) {
    const profile = (await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: arn.split('/').pop()! })), 'NoSuchEntityException'))?.InstanceProfile;
    const role = profile?.Roles?.[0];
    byProfile.set(arn, role?.Arn
      ? await rightsFindings(ctx.aws, 'role-rights', role.Arn, needs)
      : [err('role-rights', `instance profile ${arn.split('/').pop()} has no role`, `aws iam add-role-to-instance-profile --instance-profile-name ${arn.split('/').pop()} --role-name <role>`)]);
  }
  return byProfile;
}

/** The caller may start sessions on the targets with the preferences document, make data keys, end its own sessions. */
async function operatorFindings(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Finding[]> {
  const { partition, account, arn, userId } = ctx.identity;
  const principal = await principalArn(ctx, arn);
  if (!principal) return [{ check: 'operator', status: 'warning', detail: `cannot check the rights of ${arn}` }];
  const caller = arn.split('/').pop() ?? '';
  const needs: Requirement[] = [];
  for (const batch of chunks(targets)) {
    needs.push({ what: 'ssm:StartSession on the targets', actions: ['ssm:StartSession'], resources: batch.map((t) => `arn:${partition}:ec2:${ctx.region}:${account}:instance/${t.id}`) });
  }
  needs.push({ what: `ssm:StartSession with ${PREFERENCES_DOCUMENT}`, actions: ['ssm:StartSession'], resources: [`arn:${partition}:ssm:${ctx.region}:${account}:document/${PREFERENCES_DOCUMENT}`] });
  if (claims?.keyArn) needs.push({ what: 'kms:GenerateDataKey on the session key', actions: ['kms:GenerateDataKey'], resources: [claims.keyArn] });
  needs.push({
    what: 'ending its own sessions (ssm:TerminateSession)',
    actions: ['ssm:TerminateSession'],
    resources: [`arn:${partition}:ssm:${ctx.region}:${account}:session/${caller}-0123456789abcdef0`],
    context: [
      { ContextKeyName: 'aws:username', ContextKeyValues: [caller], ContextKeyType: 'string' },
      { ContextKeyName: 'aws:userid', ContextKeyValues: [userId], ContextKeyType: 'string' },
      { ContextKeyName: 'ssm:resourceTag/aws:ssmmessages:session-id', ContextKeyValues: [userId], ContextKeyType: 'string' },
    ],
  });
  return rightsFindings(ctx.aws, 'operator', principal, needs);
}

/** IAM users as they are; an assumed role's session → its role (with its path). */
async function principalArn(ctx: ReadContext, arn: string): Promise<string | undefined> {
  if (/:user\//.test(arn)) return arn;
  const m = /:assumed-role\/([^/]+)\//.exec(arn);
  if (!m) return undefined;
  const role = await unlessMissing(ctx.aws.get(IAMClient).send(new GetRoleCommand({ RoleName: m[1] })), 'NoSuchEntityException');
  return role?.Role?.Arn;
}

async function connection(ctx: ReadContext, Target: string): Promise<Finding> {
  const out = await ctx.aws.get(SSMClient).send(new GetConnectionStatusCommand({ Target }));
  return out.Status === 'connected' ? ok('connection', 'GetConnectionStatus: connected') : err('connection', `GetConnectionStatus: ${out.Status ?? 'unknown'}`, 'look at the findings above; the agent log is /var/log/amazon/ssm/amazon-ssm-agent.log');
}
