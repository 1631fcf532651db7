import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  ListTagsForResourceCommand,
  paginateDescribeLogGroups,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { LOG_RETENTION_DAYS, resourceTagsFor } from '../../config/schema.js';
import type { Step, ReadContext, StepContext } from '../../core/step.js';
import { pickName, unanswered } from '../shared/ask.js';
import { planLogGroup, type LogGroupChange, type LogGroupInfo, type LogGroupState } from './plan.js';
import { requireKeyArn } from '../shared/session-key.js';

/** The wizard lists at most this many groups; beyond that the operator types a name. */
const MAX_LISTED = 100;

/** Runbook step 8 (optional): CloudWatch Logs for sessions, encrypted with the session key. */
export const logGroupStep: Step<LogGroupState, LogGroupChange> = {
  id: 'log-group',

  skip: (settings) => (settings.cloudwatchLogs ? undefined : 'CloudWatch Logs off; --cloudwatch-logs turns it on'),

  async ask(ctx) {
    const answers: Record<string, unknown> = {};
    if (unanswered(ctx, 'cloudwatchLogs') && unanswered(ctx, 'logGroup')) {
      const on = await ctx.io.confirm({ id: 'log-group.enable', message: 'Also stream session logs to CloudWatch Logs (encrypted with the session key)?', default: false });
      answers.cloudwatchLogs = on;
      if (!on) return answers;
    } else if (!ctx.settings.cloudwatchLogs) {
      return answers;
    }
    if (unanswered(ctx, 'logGroup')) {
      const existing = (await listGroups(ctx, MAX_LISTED)).map((g) => g.name);
      answers.logGroup = await pickName(ctx, { id: 'log-group.name', message: 'CloudWatch Logs group for session logs', key: 'logGroup', proposed: ctx.settings.logGroup, existing, what: 'log group' });
    }
    if (unanswered(ctx, 'logRetentionDays')) {
      const choices = LOG_RETENTION_DAYS.map((d) => ({ value: d, label: `${d} days` }));
      answers.logRetentionDays = await ctx.io.select({ id: 'log-group.retention', message: 'Keep session logs in CloudWatch for', choices, default: ctx.settings.logRetentionDays, flag: '--log-retention-days' });
    }
    return answers;
  },

  async read(ctx) {
    const name = ctx.settings.logGroup;
    const group = (await listGroups(ctx, Infinity, name)).find((g) => g.name === name);
    if (!group) return { kind: 'absent', name };
    const { tags } = await ctx.aws.get(CloudWatchLogsClient).send(new ListTagsForResourceCommand({ resourceArn: group.arn }));
    return { kind: 'present', group: { ...group, tags: tags ?? {} } };
  },

  plan: planLogGroup,

  async apply(ctx, state, changes) {
    const logs = ctx.aws.get(CloudWatchLogsClient);
    const name = state.kind === 'absent' ? state.name : state.group.name;
    const kmsKeyId = requireKeyArn(ctx, 'log-group');
    const kinds = new Set(changes.map((c) => c.kind));
    if (kinds.has('create-group')) {
      // The key policy already admits logs.<region> (kms-key runs first), or this is AccessDenied.
      await logs.send(new CreateLogGroupCommand({ logGroupName: name, kmsKeyId, tags: resourceTagsFor(ctx.settings) }));
      kinds.add('retention');
    }
    if (kinds.has('encrypt')) await logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId }));
    if (kinds.has('retention')) await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: ctx.settings.logRetentionDays }));
    const arn = state.kind === 'present' ? state.group.arn : `arn:${ctx.identity.partition}:logs:${ctx.region}:${ctx.identity.account}:log-group:${name}`;
    if (kinds.has('tags')) await logs.send(new TagResourceCommand({ resourceArn: arn, tags: resourceTagsFor(ctx.settings) }));
    return { logGroupName: name, logGroupArn: arn };
  },

  outputs: (state) => (state.kind === 'present' ? { logGroupName: state.group.name, logGroupArn: state.group.arn } : undefined),
};

/** Log groups of the region (starting with `prefix`), up to `max`. */
async function listGroups(ctx: ReadContext, max: number, prefix?: string): Promise<Omit<LogGroupInfo, 'tags'>[]> {
  const found: Omit<LogGroupInfo, 'tags'>[] = [];
  const pages = paginateDescribeLogGroups({ client: ctx.aws.get(CloudWatchLogsClient) }, prefix ? { logGroupNamePrefix: prefix } : {});
  for await (const page of pages) {
    for (const g of page.logGroups ?? []) {
      if (!g.logGroupName) continue;
      const arn = g.logGroupArn ?? g.arn?.replace(/:\*$/, '') ?? '';
      found.push({ name: g.logGroupName, arn, kmsKeyId: g.kmsKeyId, retentionDays: g.retentionInDays });
      if (found.length >= max) return found;
    }
  }
  return found;
}
