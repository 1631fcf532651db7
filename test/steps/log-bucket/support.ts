import type { StepContext } from '../../../src/core/step.js';
import { ACCOUNT, makeContext, REGION } from '../../helpers/fixtures.js';
import type { TestIo } from '../../helpers/test-io.js';

export const BUCKET = `ssm-session-logs-${ACCOUNT}-${REGION}`;
export const ALIAS = 'alias/ssm-session-manager';
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;

/** The bucket name the contract gives this account in `region`. */
export const defaultBucket = (region: string) => `ssm-session-logs-${ACCOUNT}-${region}`;

/**
 * A context with the session key known (kms-key ran before), as the runner builds it, in
 * `region` with its clients aimed at that region (the strict fake checks CreateBucket against it).
 */
export async function context(flags: Record<string, unknown> = {}, opts: { region?: string; keyKnown?: boolean; io?: TestIo } = {}): Promise<StepContext> {
  const ctx = await makeContext(flags, opts.io, [], opts.region);
  return { ...ctx, outputs: opts.keyKnown === false ? {} : { kmsKeyId: KEY_ID, kmsKeyArn: KEY_ARN, kmsKeyAlias: ALIAS } };
}

/** The command class names of mock calls, e.g. `CreateBucketCommand`. */
export const commandNames = (calls: readonly { args: readonly unknown[] }[]) => calls.map((c) => (c.args[0] as object).constructor.name);
