import { errorName } from '../../aws/errors.js';
import { type CommandSpec, type InvocationResult, type ManagedInfo, managedInventory, runOnFleet } from '../../aws/fleet.js';
import { chunks } from '../../base/batch.js';
import { StepError } from '../../base/errors.js';
import type { Change, PlanInput, ReadContext, Step, StepContext, TargetInstance } from '../../core/step.js';
import type { Diagnosis } from '../../diagnose/index.js';
import { policyArn } from '../shared/managed-policy.js';
import { awaitedTargets, onlineWait, waitUntilOnline } from './await-online.js';
import { atTagLimit, succeededInHistory } from './read.js';
import { isOutdated, windowsFloor } from './versions.js';

/** Set on an instance once the CloudWatch agent was installed through ssm-setup, so a rerun skips it. */
export const CW_AGENT_TAG = 'ssm-setup:cloudwatch-agent';

export interface AgentsState {
  readonly targets: readonly TargetInstance[];
  readonly managed: ReadonlyMap<string, ManagedInfo>;
  /** Why each target that Run Command cannot reach is not reachable. */
  readonly diagnoses: readonly Diagnosis[];
  /**
   * Targets at EC2's 50-tag limit (no room for CW_AGENT_TAG) whose CloudWatch agent install
   * shows in the Run Command history: installed, as the tag would have said.
   */
  readonly installedBefore: ReadonlySet<string>;
}

type AgentsChange = 'update-agent' | 'install-cloudwatch-agent' | 'await-online';

export const UPDATE_AGENT: CommandSpec = { document: 'AWS-UpdateSSMAgent', parameters: { allowDowngrade: ['false'] }, label: 'Updating SSM Agent' };
export const INSTALL_CW_AGENT: CommandSpec = {
  document: 'AWS-ConfigureAWSPackage',
  parameters: { action: ['Install'], name: ['AmazonCloudWatchAgent'] },
  label: 'Installing CloudWatch agent',
};

const online = (s: Pick<AgentsState, 'targets' | 'managed'>) => s.targets.filter((t) => s.managed.get(t.id)?.pingStatus === 'Online');
export const needsUpdate = (s: AgentsState, input: PlanInput) => {
  if (!input.settings.agentUpdate) return [];
  const outdated = isOutdated(s.managed, windowsFloor(input.settings));
  return online(s).filter((t) => outdated(s.managed.get(t.id)!));
};
export const needsCloudWatch = (s: AgentsState, input: PlanInput) =>
  input.settings.cloudwatchAgent ? online(s).filter((t) => t.tags[CW_AGENT_TAG] !== 'installed' && !s.installedBefore.has(t.id)) : [];
/** The Online targets that cannot take the tag: their install is remembered from the history. */
const fullOfTags = (s: Pick<AgentsState, 'targets' | 'managed'>) => online(s).filter((t) => atTagLimit(t, CW_AGENT_TAG));

const list = (ts: readonly TargetInstance[]) =>
  `${ts
    .slice(0, 5)
    .map((t) => t.id)
    .join(', ')}${ts.length > 5 ? ` and ${ts.length - 5} more` : ''}`;

/** Runbook steps 1 and 11: the SSM Agent current and the CloudWatch agent installed, through Run Command. */
export const agentsStep: Step<AgentsState, AgentsChange> = {
  id: 'agents',
  skip: (s) => (!s.agentUpdate && !s.cloudwatchAgent ? 'agent update and CloudWatch agent both off' : undefined),

  async read(ctx) {
    const targets = await ctx.targets();
    if (!targets.length) return { targets, managed: new Map(), diagnoses: [], installedBefore: new Set() };
    const managed = await managedInventory(
      ctx.aws,
      targets.map((t) => t.id),
    );
    const unreachable = targets.filter((t) => managed.get(t.id)?.pingStatus !== 'Online');
    const diagnoses = unreachable.length ? await diagnose(ctx, unreachable) : [];
    const full = ctx.settings.cloudwatchAgent ? fullOfTags({ targets, managed }) : [];
    const installedBefore = full.length
      ? await succeededInHistory(
          ctx.aws,
          full.map((t) => t.id),
          INSTALL_CW_AGENT,
        )
      : new Set<string>();
    return { targets, managed, diagnoses, installedBefore };
  },

  plan(state, input) {
    const changes: Change<AgentsChange>[] = [];
    // Targets the vpc-endpoints step opens a way for in this run: Online only once it has.
    const awaited = awaitedTargets(state.targets, state.managed, input.outputs.endpointTargets);
    if (awaited.length)
      changes.push({
        kind: 'await-online',
        action: 'update',
        resource: `SSM Agent on ${awaited.length} instance${awaited.length > 1 ? 's' : ''}`,
        detail: `wait up to ${Math.round(onlineWait.timeoutMs / 60_000)} min for them to come Online through the new VPC endpoints, then update or install what they lack: ${list(awaited)}`,
      });
    const update = needsUpdate(state, input);
    if (update.length)
      changes.push({
        kind: 'update-agent',
        action: 'update',
        resource: `SSM Agent on ${update.length} instance${update.length > 1 ? 's' : ''}`,
        detail: `AWS-UpdateSSMAgent to the latest version: ${list(update)}`,
      });
    const cw = needsCloudWatch(state, input);
    if (cw.length)
      changes.push({
        kind: 'install-cloudwatch-agent',
        action: 'create',
        resource: `CloudWatch agent on ${cw.length} instance${cw.length > 1 ? 's' : ''}`,
        detail: `AWS-ConfigureAWSPackage Install AmazonCloudWatchAgent: ${list(cw)}`,
      });
    return changes;
  },

  async apply(ctx, planned, changes) {
    const results: InvocationResult[] = [];
    const summary: Record<string, string> = {};
    const waiting = changes.some((c) => c.kind === 'await-online') ? awaitedTargets(planned.targets, planned.managed, ctx.outputs.endpointTargets) : [];
    const state = waiting.length ? await afterWaiting(ctx, planned, waiting, summary) : planned;
    if (waiting.length || changes.some((c) => c.kind === 'update-agent')) {
      for (const r of await runOnFleet(
        ctx.aws,
        ctx.io,
        UPDATE_AGENT,
        needsUpdate(state, ctx).map((t) => t.id),
      )) {
        results.push(r);
        summary[r.instanceId] = r.status === 'Success' ? 'agent updated' : `agent update ${r.status}`;
      }
    }
    if (waiting.length || changes.some((c) => c.kind === 'install-cloudwatch-agent')) {
      const cw = await runOnFleet(
        ctx.aws,
        ctx.io,
        INSTALL_CW_AGENT,
        needsCloudWatch(state, ctx).map((t) => t.id),
      );
      results.push(...cw);
      for (const r of cw)
        summary[r.instanceId] = [summary[r.instanceId], r.status === 'Success' ? 'CloudWatch agent installed' : `CloudWatch agent ${r.status}`]
          .filter(Boolean)
          .join(', ');
      // Not where EC2 has no room for the tag: the next read finds the install in the history.
      const full = new Set(fullOfTags(state).map((t) => t.id));
      await markInstalled(
        ctx,
        cw.filter((r) => r.status === 'Success' && !full.has(r.instanceId)).map((r) => r.instanceId),
      );
    }
    const failed = results.filter((r) => r.status !== 'Success');
    if (failed.length) {
      const lines = failed.map((r) => `${r.instanceId}: ${r.status}${r.detail ? ` (${r.detail})` : ''}`);
      throw new StepError('agents', 'RUN_COMMAND_FAILED', `${failed.length} of ${results.length} Run Command invocations failed:\n  ${lines.join('\n  ')}`, {
        hint: 'the other instances are done; look at the failed ones (Run Command history in the console), then rerun `ssm-setup run agents`',
        outputs: { agentResults: summary, ...unmanagedOutput(state) },
      });
    }
    return { agentResults: summary, ...unmanagedOutput(state) };
  },

  outputs: (state) => unmanagedOutput(state),
  note: (state, input) => [unmanagedNote(state), tagLimitNote(state, input)].filter(Boolean).join('\n') || undefined,
};

/** The state once the awaited targets came Online (or the wait ended); those still not Online say so in the summary. */
async function afterWaiting(ctx: StepContext, state: AgentsState, waiting: readonly TargetInstance[], summary: Record<string, string>): Promise<AgentsState> {
  const now = await waitUntilOnline(
    ctx,
    waiting.map((t) => t.id),
  );
  for (const t of waiting)
    if (now.get(t.id)?.pingStatus !== 'Online') summary[t.id] = 'not Online yet through the VPC endpoints: rerun `ssm-setup run agents` later';
  return { ...state, managed: new Map([...state.managed, ...now]) };
}

/** The targets whose install is remembered from the Run Command history instead of the tag. */
function tagLimitNote(state: AgentsState, input: PlanInput): string | undefined {
  const full = input.settings.cloudwatchAgent ? fullOfTags(state) : [];
  if (!full.length) return undefined;
  return (
    `${list(full)}: at EC2's 50-tag limit, no room for the ${CW_AGENT_TAG} tag; the CloudWatch agent install is ` +
    'remembered from the Run Command history instead (AWS keeps it 30 days: after that the install is sent once more)'
  );
}

/** The unreachable targets and their causes, for --json. */
function unmanagedOutput(state: AgentsState) {
  return state.diagnoses.length ? { unmanaged: Object.fromEntries(state.diagnoses.map((d) => [d.instanceId, `${d.cause} → ${d.fix[0] ?? ''}`])) } : {};
}

/** One line per unreachable target with its most likely cause and the first command of the fix. */
export function unmanagedNote(state: AgentsState): string | undefined {
  if (!state.targets.length) return 'no target instances (--instance-ids or --tag)';
  if (!state.diagnoses.length) return undefined;
  const name = (id: string) => state.targets.find((t) => t.id === id)?.name;
  const lines = state.diagnoses.map(
    (d) => `${d.instanceId}${name(d.instanceId) ? ` (${name(d.instanceId)})` : ''}: ${d.cause}${d.fix.length ? `\n    fix: ${d.fix.join('\n         ')}` : ''}`,
  );
  return `${state.diagnoses.length} of ${state.targets.length} targets cannot be reached by Run Command (left alone):\n  ${lines.join('\n  ')}`;
}

async function diagnose(ctx: ReadContext, instances: readonly TargetInstance[]): Promise<Diagnosis[]> {
  const { diagnoseUnmanaged } = await import('../../diagnose/index.js');
  const instancePolicyArn = policyArn(ctx.identity.partition, ctx.identity.account, ctx.settings.instancePolicy);
  return diagnoseUnmanaged(ctx.aws, { region: ctx.region, partition: ctx.identity.partition, instancePolicyArn }, instances);
}

/**
 * Tags the instances where the CloudWatch agent went in, 50 per CreateTags call. EC2 refuses a
 * whole call when one of its instances is at the 50-tag limit (TagLimitExceeded, naming none,
 * tagging none): such a call, where an instance filled up since the read, is made again one
 * instance at a time, and those refused are left to the history.
 */
async function markInstalled(ctx: StepContext, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const { CreateTagsCommand, EC2Client } = await import('@aws-sdk/client-ec2');
  const ec2 = ctx.aws.get(EC2Client);
  const tag = (Resources: string[]) => ec2.send(new CreateTagsCommand({ Resources, Tags: [{ Key: CW_AGENT_TAG, Value: 'installed' }] }));
  const full = (err: unknown) => errorName(err) === 'TagLimitExceeded';
  for (const batch of chunks(ids)) {
    try {
      await tag(batch);
    } catch (err) {
      if (!full(err)) throw err;
      for (const id of batch) await tag([id]).catch((e: unknown) => (full(e) ? undefined : Promise.reject(e)));
    }
  }
}
