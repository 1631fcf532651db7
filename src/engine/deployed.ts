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

  // Operator access and the Deny of unlogged sessions, from the policy's own statements.
  if (runs('operator-policy') && (open('operatorAccess') || open('denyUnloggedSessions'))) {
    const { partition, account } = ctx.identity;
    const name = ctx.settings.operatorPolicy;
    const policy = await readManagedPolicy(ctx.aws.get(IAMClient), name, policyArn(partition, account, name));
    if (policy.kind === 'present' && policy.document) {
      const variant = operatorPolicyVariant(policy.document);
      put('operatorAccess', variant.access);
      put('denyUnloggedSessions', variant.denyUnlogged);
    }
  }
  if (!runs('preferences', 'log-bucket', 'log-group', 'kms-key')) return found;

  // The preferences name the bucket, the prefix, the log group and the key, and hold the session settings.
  const prefs = await readPreferences(ctx);
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
    const keyId = text(i.kmsKeyId);
    if (keyId && open('keyAlias') && runs('kms-key')) put('keyAlias', await aliasOf(ctx, keyId));
  }

  // The days and the retention, on the bucket and the group those names settle.
  const named = { ...ctx, settings: { ...ctx.settings, ...(found as Partial<Settings>) } };
  if (runs('log-bucket') && (open('logTransitionDays') || open('logExpirationDays'))) {
    const bucket = await readBucket(named);
    const rule = bucket.kind === 'present' ? bucket.bucket.rules.find((r) => r.ID === LIFECYCLE_RULE_ID) : undefined;
    if (rule) {
      put('logTransitionDays', rule.Transitions?.[0]?.Days ?? 0);
      put('logExpirationDays', rule.Expiration?.Days ?? 0);
    }
  }
  if (runs('log-group') && named.settings.cloudwatchLogs && open('logRetentionDays')) {
    const group = (await listGroups(ctx, Number.POSITIVE_INFINITY, named.settings.logGroup)).find((g) => g.name === named.settings.logGroup);
    put('logRetentionDays', group?.retentionDays);
  }
  return found;
}

/** The customer alias of the key the preferences name (the first, sorted), if it has one. */
async function aliasOf(ctx: ReadContext, keyId: string): Promise<string | undefined> {
  if (keyId.startsWith('alias/')) return keyId;
  return (await aliasesOfKey(ctx.aws.get(KMSClient), keyId.slice(keyId.lastIndexOf('/') + 1)))[0];
}
