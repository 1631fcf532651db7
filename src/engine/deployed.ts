import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Settings } from '../config/schema.js';
import type { ReadContext } from '../core/step.js';
import { LIFECYCLE_RULE_ID } from '../policies/log-bucket.js';
import { operatorPolicyVariant } from '../policies/operator-policy.js';
import { aliasesOfKey } from '../steps/kms-key/read.js';
import { readBucket } from '../steps/log-bucket/read.js';
import { listGroups } from '../steps/log-group/read.js';
import { readPreferences } from '../steps/preferences/read.js';
import { policyArn, readManagedPolicy } from '../steps/shared/managed-policy.js';

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const isTrue = (v: unknown) => v === true || v === 'true';

/**
 * The settings the account already has, for the settings nobody gave: the layer between the
 * built-in defaults and the config file (loader `withDeployed`). A rerun with fewer flags, or a
 * person pressing Enter in the wizard, then keeps what an earlier run set up instead of undoing
 * it. Read from what ssm-setup's own steps read (the preferences document, the log group, the
 * bucket's lifecycle rule, the key's alias, the operator policy's variant), inside the run's read cache, so the plan that
 * follows reads none of it again. Only what the run's steps (`stepIds`, dependencies included)
 * would read is read, and only for the keys still at their default.
 */
export async function deployedSettings(ctx: ReadContext, stepIds: readonly string[]): Promise<Record<string, unknown>> {
  const runs = (...ids: string[]) => ids.some((id) => stepIds.includes(id));
  const open = (key: keyof Settings) => (ctx.sources[key] ?? 'default') === 'default';
  if (!runs('preferences', 'log-bucket', 'log-group', 'kms-key', 'operator-policy')) return {};
  const found: Record<string, unknown> = {};
  const put = (key: keyof Settings, value: unknown) => {
    if (value !== undefined && open(key)) found[key] = value;
  };

  // The operator policy and the preferences do not depend on each other: both in flight at once.
  const { partition, account } = ctx.identity;
  const operatorName = ctx.settings.operatorPolicy;
  const [policy, prefs] = await Promise.all([
    runs('operator-policy') && (open('operatorAccess') || open('denyUnloggedSessions'))
      ? readManagedPolicy(ctx.aws.get(IAMClient), operatorName, policyArn(partition, account, operatorName))
      : undefined,
    runs('preferences', 'log-bucket', 'log-group', 'kms-key') ? readPreferences(ctx) : undefined,
  ]);
  // Operator access and the Deny of unlogged sessions, from the policy's own statements.
  if (policy?.kind === 'present' && policy.document) {
    const variant = operatorPolicyVariant(policy.document);
    put('operatorAccess', variant.access);
    put('denyUnloggedSessions', variant.denyUnlogged);
  }
  if (!prefs) return found;

  // The preferences name the bucket, the prefix, the log group and the key, and hold the session settings.
  const i = prefs.kind === 'present' ? (prefs.doc.defaultInputs ?? {}) : undefined;
  if (i) {
    const group = text(i.cloudWatchLogGroupName);
    put('cloudwatchLogs', !!group);
    if (group) put('logGroup', group);
    if (text(i.s3BucketName)) put('bucket', text(i.s3BucketName));
    if (typeof i.s3KeyPrefix === 'string') put('s3Prefix', i.s3KeyPrefix);
    const idle = Number(i.idleSessionTimeout);
    if (Number.isInteger(idle) && idle > 0) put('idleTimeout', idle);
    // null: the account settles it as "none" (asked no more, left at the built-in none).
    const max = Number(i.maxSessionDuration);
    put('maxSessionDuration', Number.isInteger(max) && max > 0 ? max : null);
    put('runAs', isTrue(i.runAsEnabled) && text(i.runAsDefaultUser) ? text(i.runAsDefaultUser) : null);
    const shell = (i.shellProfile ?? {}) as { linux?: unknown; windows?: unknown };
    put('shellProfileLinux', text(shell.linux) ?? '');
    put('shellProfileWindows', text(shell.windows) ?? '');
  }
  const keyId = text(i?.kmsKeyId);

  // The key's alias, the days and the retention (on the bucket and the group those names
  // settle): three reads that need only the preferences, in flight together.
  const named = { ...ctx, settings: { ...ctx.settings, ...(found as Partial<Settings>) } };
  const [alias, bucket, group] = await Promise.all([
    keyId && open('keyAlias') && runs('kms-key') ? aliasOf(ctx, keyId) : undefined,
    runs('log-bucket') && (open('logTransitionDays') || open('logExpirationDays')) ? readBucket(named) : undefined,
    runs('log-group') && named.settings.cloudwatchLogs && open('logRetentionDays')
      ? listGroups(ctx, Number.POSITIVE_INFINITY, named.settings.logGroup).then((all) => all.find((g) => g.name === named.settings.logGroup) ?? null)
      : undefined,
  ]);
  put('keyAlias', alias);
  const rule = bucket?.kind === 'present' ? bucket.bucket.rules.find((r) => r.ID === LIFECYCLE_RULE_ID) : undefined;
  if (rule) {
    put('logTransitionDays', rule.Transitions?.[0]?.Days ?? 0);
    put('logExpirationDays', rule.Expiration?.Days ?? 0);
  }
  if (group !== undefined) put('logRetentionDays', group?.retentionDays);
  return found;
}

/** The customer alias of the key the preferences name (the first, sorted), if it has one. */
async function aliasOf(ctx: ReadContext, keyId: string): Promise<string | undefined> {
  if (keyId.startsWith('alias/')) return keyId;
  return (await aliasesOfKey(ctx.aws.get(KMSClient), keyId.slice(keyId.lastIndexOf('/') + 1)))[0];
}
