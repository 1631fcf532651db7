import { StepError } from '../core/errors.js';
import type { StepContext } from '../core/step.js';

/** The session key's ARN, which every step after kms-key writes into what it makes. */
export function requireKeyArn(ctx: Pick<StepContext, 'outputs'>, stepId: string): string {
  const arn = ctx.outputs.kmsKeyArn;
  if (!arn) throw new StepError(stepId, 'the session key is unknown', { hint: 'run `ssm-setup run kms-key` first' });
  return arn;
}
