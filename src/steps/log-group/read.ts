import { CloudWatchLogsClient, ListTagsForResourceCommand, paginateDescribeLogGroups } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import type { ReadContext } from '../../core/step.js';
import { readKeyPolicy } from '../kms-key/read.js';
import { type LogGroupInfo, type LogGroupState, ownsKeyPolicy } from './plan.js';

/** The group of `--log-group` (exact name), and the key policy when this step owns its CloudWatch Logs statement. */
export async function readLogGroup(ctx: ReadContext): Promise<LogGroupState> {
  const name = ctx.settings.logGroup;
  const keyArn = ctx.outputs.kmsKeyArn;
  const [group, keyPolicy] = await Promise.all([
    listGroups(ctx, Infinity, name).then((all) => all.find((g) => g.name === name)),
    // Unknown ARN: kms-key creates the key in this run, with the statement.
    keyArn && ownsKeyPolicy(ctx) ? readKeyPolicy(ctx.aws.get(KMSClient), keyArn) : undefined,
  ]);
  const policy = keyPolicy ? { keyPolicy } : {};
  if (!group) return { kind: 'absent', name, ...policy };
  // Tags are read by the ARN without `:*` (the `arn` field's suffix is stripped in listGroups).
  const { tags } = await ctx.aws.get(CloudWatchLogsClient).send(new ListTagsForResourceCommand({ resourceArn: group.arn }));
  return { kind: 'present', group: { ...group, tags: tags ?? {} }, ...policy };
}

/** Log groups of the region (starting with `prefix`), up to `max`, following every page. */
export async function listGroups(ctx: Pick<ReadContext, 'aws'>, max: number, prefix?: string): Promise<Omit<LogGroupInfo, 'tags'>[]> {
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
