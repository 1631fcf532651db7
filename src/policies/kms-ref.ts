/** A KMS key as ssm-setup knows it; `arn` is undefined while the key is created in this run. */
export interface KeyRef {
  readonly arn?: string;
  readonly id?: string;
  readonly alias: string;
}

/**
 * True when `ref` (as found in a bucket's encryption or a document's kmsKeyId) names this key:
 * by ARN, key id, alias name or alias ARN.
 */
export function isSameKey(ref: string | undefined, key: KeyRef): boolean {
  if (!ref || !key.arn) return false;
  const aliasArn = key.arn.replace(/:key\/.*/, `:${key.alias}`);
  return [key.arn, key.id, key.alias, aliasArn].includes(ref);
}
