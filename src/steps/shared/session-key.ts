import { StepError } from '../../base/errors.js';
import type { PlanInput, StepContext } from '../../core/step.js';

/** The session key's ARN, which every step after kms-key writes into what it makes. */
export function requireKeyArn(ctx: Pick<StepContext, 'outputs'>, stepId: string): string {
  const arn = ctx.outputs.kmsKeyArn;
  if (!arn) throw new StepError(stepId, 'KEY_UNKNOWN', 'the session key is unknown', { hint: 'run `ssm-setup run kms-key` first' });
  return arn;
}

/**
 * The key's ARN for a plan: the real one, or, while kms-key will only create the key in this
 * run, a stand-in that no existing document can equal (so the plan shows the change).
 */
export const plannedKeyArn = (input: PlanInput): string =>
  input.outputs.kmsKeyArn ?? `arn:${input.identity.partition}:kms:${input.region}:${input.identity.account}:key/(created in this run)`;
