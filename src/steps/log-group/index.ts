import {
  AssociateKmsKeyCommand,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { createOrFind } from '../../aws/lost-answers.js';
import { kmsConsistency, logsKeyNotYetUsable, retryWhile } from '../../aws/retry.js';
import { LOG_RETENTION_DAYS, MANAGED_BY_TAG, resourceTagsFor } from '../../config/schema.js';
import type { Step, StepContext } from '../../core/step.js';
import { pickName, unanswered } from '../shared/ask.js';
import { requireKeyArn } from '../shared/session-key.js';
import { keyPolicyUpdate, type LogGroupChange, type LogGroupState, ownsKeyPolicy, planLogGroup } from './plan.js';
import { listGroups, readLogGroup } from './read.js';

/** The wizard lists at most this many groups; beyond that the operator types a name. */
const MAX_LISTED = 100;

/** Runbook step 8 (optional): CloudWatch Logs for sessions, encrypted with the session key. */
export const logGroupStep: Step<LogGroupState, LogGroupChange> = {
  id: 'log-group',
  // The key policy is read only when this step owns its statement: by the ARN kms-key finds.
  readAfter: (input) => (ownsKeyPolicy(input) ? ['kms-key'] : []),

  skip: (settings) => (settings.cloudwatchLogs ? undefined : 'CloudWatch Logs off; --cloudwatch-logs turns it on'),

  async ask(ctx) {
    const answers: Record<string, unknown> = {};
    if (unanswered(ctx, 'cloudwatchLogs') && unanswered(ctx, 'logGroup')) {
      const on = await ctx.io.confirm({
        id: 'log-group.enable',
        message: 'Also stream session logs to CloudWatch Logs (encrypted with the session key)?',
        default: false,
      });
      answers.cloudwatchLogs = on;
      if (!on) return answers;
    } else if (!ctx.settings.cloudwatchLogs) {
      return answers;
    }
    if (unanswered(ctx, 'logGroup')) {
      const existing = (await listGroups(ctx, MAX_LISTED)).map((g) => g.name);
      answers.logGroup = await pickName(ctx, {
        id: 'log-group.name',
        message: 'CloudWatch Logs group for session logs',
        key: 'logGroup',
        proposed: ctx.settings.logGroup,
        existing,
        what: 'log group',
      });
    }
    if (unanswered(ctx, 'logRetentionDays')) {
      const choices = LOG_RETENTION_DAYS.map((d) => ({ value: d, label: `${d} days` }));
      answers.logRetentionDays = await ctx.io.select({
        id: 'log-group.retention',
        message: 'Keep session logs in CloudWatch for',
        choices,
        default: ctx.settings.logRetentionDays,
        flag: '--log-retention-days',
      });
    }
    return answers;
  },

  read: readLogGroup,

  plan: planLogGroup,

  async apply(ctx, state, changes) {
    const logs = ctx.aws.get(CloudWatchLogsClient);
    const name = state.kind === 'absent' ? state.name : state.group.name;
    // Always the key ARN: CloudWatch Logs takes no key id or alias here.
    const kmsKeyId = requireKeyArn(ctx, 'log-group');
    const kinds = new Set(changes.map((c) => c.kind));
    // The key was just created or its policy changed (by kms-key in this run, or just below).
    let keyChanged = ctx.outputs.kmsKeyChanged === true;
    const policy = kinds.has('key-policy') ? keyPolicyUpdate(state, ctx) : undefined;
    if (policy) {
      // Before the group uses the key: without the statement CreateLogGroup/AssociateKmsKey are AccessDenied.
      await ctx.aws.get(KMSClient).send(new PutKeyPolicyCommand({ KeyId: kmsKeyId, PolicyName: 'default', Policy: JSON.stringify(policy) }));
      keyChanged = true;
    }
    // CloudWatch Logs may not see a key change for a few seconds: retry briefly, only then.
    const withKey = <T>(work: () => Promise<T>): Promise<T> =>
      keyChanged
        ? retryWhile(
            work,
            logsKeyNotYetUsable,
            (ms) => ctx.io.info(`  waiting for CloudWatch Logs to accept the key (${Math.round(ms / 1000)}s)…`),
            kmsConsistency,
          )
        : work();
    if (kinds.has('create-group')) {
      // A lost answer: the SDK's retry meets ResourceAlreadyExists, done when the group is ours with our key.
      await withKey(() =>
        createOrFind(
          () => logs.send(new CreateLogGroupCommand({ logGroupName: name, kmsKeyId, tags: resourceTagsFor(ctx.settings) })),
          ['ResourceAlreadyExistsException'],
          () => ourGroup(ctx, name, kmsKeyId),
        ),
      );
      kinds.add('retention');
    }
    if (kinds.has('encrypt')) await withKey(() => logs.send(new AssociateKmsKeyCommand({ logGroupName: name, kmsKeyId })));
    if (kinds.has('retention')) await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: ctx.settings.logRetentionDays }));
    // Tagging takes the ARN without `:*`.
    const arn = state.kind === 'present' ? state.group.arn : `arn:${ctx.identity.partition}:logs:${ctx.region}:${ctx.identity.account}:log-group:${name}`;
    if (kinds.has('tags')) await logs.send(new TagResourceCommand({ resourceArn: arn, tags: resourceTagsFor(ctx.settings) }));
    return { logGroupName: name, logGroupArn: arn };
  },

  outputs: (state) => (state.kind === 'present' ? { logGroupName: state.group.name, logGroupArn: state.group.arn } : undefined),
};

/** The group `name` as this step creates it (encrypted with the key, tagged ManagedBy), or undefined. */
async function ourGroup(ctx: StepContext, name: string, kmsKeyId: string): Promise<true | undefined> {
  const group = (await listGroups(ctx, Infinity, name)).find((g) => g.name === name);
  if (!group || group.kmsKeyId !== kmsKeyId) return undefined;
  const { tags } = await ctx.aws.get(CloudWatchLogsClient).send(new ListTagsForResourceCommand({ resourceArn: group.arn }));
  return tags?.[MANAGED_BY_TAG.key] === MANAGED_BY_TAG.value ? true : undefined;
}
