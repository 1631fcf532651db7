import type { ReadContext } from '../core/step.js';
import { error, type Finding, ok } from '../diagnose/finding.js';
import { PREFERENCES_DOCUMENT } from '../policies/preferences-document.js';
import { keyArnOf } from './records.js';

/** A setting the operator gave (flag, config file, environment, answer): not a default, nor read back from what is deployed. */
const given = (ctx: Pick<ReadContext, 'sources'>, key: string) => !!ctx.sources[key] && !['default', 'deployed'].includes(ctx.sources[key]!);

/**
 * The preferences point at the key, bucket and log group the settings name. Judged only for
 * settings the operator gave: without them the document itself is what ssm-setup adopted. A
 * console edit or another tool that pointed sessions elsewhere turns the account red, with the
 * run that points them back. The key is compared by ARN (the alias resolved with DescribeKey).
 */
export async function oursFindings(
  ctx: Pick<ReadContext, 'sources' | 'settings' | 'aws'>,
  inputs: Record<string, unknown>,
  keyArn: string | undefined,
): Promise<Finding[]> {
  const s = ctx.settings;
  const differs: string[] = [];
  const fix: string[] = [];
  const doc = (k: string) => (typeof inputs[k] === 'string' ? (inputs[k] as string) : '');
  if (given(ctx, 'bucket') && s.bucket && doc('s3BucketName') !== s.bucket) {
    differs.push(`logs go to bucket ${doc('s3BucketName') || '(none)'}, not ${s.bucket}`);
    fix.push(`--bucket ${s.bucket}`);
  }
  if (given(ctx, 'logGroup') && s.cloudwatchLogs && doc('cloudWatchLogGroupName') !== s.logGroup) {
    differs.push(`logs stream to ${doc('cloudWatchLogGroupName') || '(no log group)'}, not ${s.logGroup}`);
    fix.push(`--cloudwatch-logs --log-group ${s.logGroup}`);
  }
  if (given(ctx, 'keyAlias')) {
    const ours = await keyArnOf(ctx.aws, s.keyAlias);
    if (ours && ours !== keyArn) {
      differs.push(`sessions are encrypted with ${doc('kmsKeyId') || '(no key)'}, not ${s.keyAlias}`);
      fix.push(`--key-alias ${s.keyAlias}`);
    }
  }
  const judged = ['bucket', 'logGroup', 'keyAlias'].some((k) => given(ctx, k));
  if (!differs.length) return judged ? [ok('preferences-target', `${PREFERENCES_DOCUMENT} points at the key, bucket and log group the settings name`)] : [];
  return [error('preferences-target', `${PREFERENCES_DOCUMENT} is not pointed at ours: ${differs.join('; ')}`, `ssm-setup run preferences ${fix.join(' ')}`)];
}
