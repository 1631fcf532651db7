import { GetInstanceProfileCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetConnectionStatusCommand, SSMClient } from '@aws-sdk/client-ssm';
import { unlessMissing } from '../aws/errors.js';
import type { ManagedInfo } from '../aws/fleet.js';
import type { ReadContext, TargetInstance } from '../core/step.js';
import { error, type Finding, ok, warn } from '../diagnose/finding.js';
import { type Diagnosis, diagnoseUnmanaged } from '../diagnose/index.js';
import { featuresInUse, MIN_AGENT_VERSION, tooOldFor } from '../policies/agent-versions.js';
import type { Claims } from './account.js';
import { resourcePolicyFindings } from './resource-policies.js';
import { type Requirement, rightsFindings } from './rights.js';

/** The EC2 state: only a running instance takes a session. Pure. */
export function stateFinding(t: TargetInstance, region: string): Finding {
  return t.state === 'running' ? ok('state', 'running') : error('state', t.state, `aws ec2 start-instances --instance-ids ${t.id} --region ${region}`);
}

/** The instance profile, by name: without one the agent has no credentials. Pure. */
export function profileFinding(t: TargetInstance): Finding {
  return t.profileArn
    ? ok('instance-profile', t.profileArn.split('/').pop()!)
    : error('instance-profile', 'no instance profile', `ssm-setup run instance-role --instance-ids ${t.id}`);
}

/**
 * Managed and Online, else the diagnosis' cause with its fix as one line to run. An instance
 * that got its profile in this very run (`registering`) is not broken yet: its agent picks the
 * credentials up within minutes, so it is a warning to check again. Pure.
 */
export function managedFinding(info: ManagedInfo | undefined, d: Diagnosis | undefined, registering = false): Finding {
  if (info?.pingStatus === 'Online') return ok('managed', `managed, Online, agent ${info.agentVersion ?? '?'}`);
  if (registering && !info) {
    return warn('managed', 'agent has not registered yet (usually within a few minutes of getting its instance profile)', 'ssm-setup check');
  }
  const cause = d ? `: ${d.cause}` : '';
  // One line to run: the commands of the diagnosis' fix, without its prose.
  const commands = (d?.fix ?? []).filter((line) => /^(sudo |aws |ssm-setup )/.test(line));
  const fix = commands.join(' && ') || d?.fix[0] || 'sudo systemctl restart amazon-ssm-agent';
  return error('managed', info ? `managed but ${info.pingStatus}${cause}` : `not managed by Systems Manager${cause}`, fix);
}

/** The agent must be recent enough for every feature the preferences use. Pure. */
export function agentFinding(info: ManagedInfo | undefined, claims: Claims | undefined): Finding[] {
  if (!info?.agentVersion) return [];
  const old = tooOldFor(info.agentVersion, featuresInUse(claims?.inputs));
  if (!old.length) return [ok('agent-version', `agent ${info.agentVersion} supports ${featuresInUse(claims?.inputs).join(', ')}`)];
  const needs = old.map((f) => `${f} ≥ ${MIN_AGENT_VERSION[f]}`).join(', ');
  return [error('agent-version', `agent ${info.agentVersion} is too old for ${needs}`, 'ssm-setup run agents')];
}

/** The diagnosis of every target, by id: its network findings go in the row, its cause in `managed`. */
export async function diagnoses(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Map<string, Diagnosis>> {
  const needs = { kms: !!claims?.keyArn, logs: !!claims?.logGroup, s3: !!claims?.bucket };
  const all = await diagnoseUnmanaged(ctx.aws, { region: ctx.region, partition: ctx.identity.partition, needs }, targets);
  return new Map(all.map((d) => [d.instanceId, d]));
}

/** What the agent needs for these preferences, on the real resources. Pure. */
export function instanceNeeds(ctx: Pick<ReadContext, 'identity' | 'region'>, claims: Claims | undefined): Requirement[] {
  const { partition, account } = ctx.identity;
  const needs: Requirement[] = [
    {
      what: 'session channels (ssmmessages, ssm:UpdateInstanceInformation)',
      actions: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
        'ssm:UpdateInstanceInformation',
      ],
      resources: ['*'],
    },
  ];
  if (claims?.keyArn) needs.push({ what: 'kms:Decrypt on the session key', actions: ['kms:Decrypt'], resources: [claims.keyArn] });
  if (claims?.bucket) {
    needs.push({
      what: `s3:PutObject on s3://${claims.bucket}/${claims.prefix}`,
      actions: ['s3:PutObject'],
      resources: [`arn:${partition}:s3:::${claims.bucket}/${claims.prefix}ssm-setup-check.log`],
    });
    needs.push({
      what: 's3:GetEncryptionConfiguration on the bucket',
      actions: ['s3:GetEncryptionConfiguration'],
      resources: [`arn:${partition}:s3:::${claims.bucket}`],
    });
    if (claims.bucketKeyArn) needs.push({ what: 'kms:GenerateDataKey on the bucket key', actions: ['kms:GenerateDataKey'], resources: [claims.bucketKeyArn] });
  }
  if (claims?.logGroup) {
    const group = `arn:${partition}:logs:${ctx.region}:${account}:log-group:${claims.logGroup}`;
    needs.push({
      what: `log stream writes to ${claims.logGroup}`,
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${group}:log-stream:ssm-setup-check`],
    });
  }
  return needs;
}

/** Rights of each distinct profile's role, proven once per role. */
export async function roleFindings(ctx: ReadContext, targets: readonly TargetInstance[], claims: Claims | undefined): Promise<Map<string, Finding[]>> {
  const iam = ctx.aws.get(IAMClient);
  const byProfile = new Map<string, Finding[]>();
  const needs = instanceNeeds(ctx, claims);
  // Each distinct profile at once (the IAM client bounds the calls in flight); kept in target order.
  const arns = [...new Set(targets.map((t) => t.profileArn).filter((a): a is string => !!a))];
  const found = await Promise.all(
    arns.map(async (arn): Promise<Finding[]> => {
      const profile = (await unlessMissing(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: arn.split('/').pop()! })), 'NoSuchEntityException'))
        ?.InstanceProfile;
      const role = profile?.Roles?.[0];
      return role?.Arn
        ? [...(await rightsFindings(ctx.aws, 'role-rights', role.Arn, needs)), ...resourcePolicyFindings(ctx, role.Arn, claims, 'instance')]
        : [
            error(
              'role-rights',
              `instance profile ${arn.split('/').pop()} has no role`,
              `aws iam add-role-to-instance-profile --instance-profile-name ${arn.split('/').pop()} --role-name <role>`,
            ),
          ];
    }),
  );
  for (const [i, arn] of arns.entries()) byProfile.set(arn, found[i]!);
  return byProfile;
}

/** GetConnectionStatus of an Online target: `connected`, or what to look at. */
export async function connection(ctx: ReadContext, Target: string): Promise<Finding> {
  const out = await ctx.aws.get(SSMClient).send(new GetConnectionStatusCommand({ Target }));
  return out.Status === 'connected'
    ? ok('connection', 'GetConnectionStatus: connected')
    : error(
        'connection',
        `GetConnectionStatus: ${out.Status ?? 'unknown'}`,
        'look at the findings above; the agent log is /var/log/amazon/ssm/amazon-ssm-agent.log',
      );
}
