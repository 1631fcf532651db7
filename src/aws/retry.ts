import { errorName } from './errors.js';

/** A retry budget: stop when the next wait would pass `timeoutMs`; waits double up to `maxDelayMs` when given. */
export interface RetryTiming {
  timeoutMs: number;
  delayMs: number;
  maxDelayMs?: number;
}

/** How long to wait for eventual consistency; tests shorten it. */
export const consistency: RetryTiming = { timeoutMs: 120_000, delayMs: 2_000 };

/**
 * How long to wait for KMS after a key was created or its policy changed: seconds, usually
 * (KMS developer guide, "eventual consistency"), so the budget is short; tests shorten it.
 */
export const kmsConsistency: RetryTiming = { timeoutMs: 30_000, delayMs: 500, maxDelayMs: 8_000 };

/**
 * Calls `work` until it succeeds, retrying while `retryable(err)` and the time allows
 * (IAM → EC2 propagation of a new instance profile takes seconds to minutes). `onWait` is
 * told how long it has waited, for progress.
 */
export async function retryWhile<T>(
  work: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  onWait: (waitedMs: number) => void = () => {},
  timing: RetryTiming = consistency,
): Promise<T> {
  const started = Date.now();
  let delay = timing.delayMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      const waited = Date.now() - started;
      if (!retryable(err) || waited + delay > timing.timeoutMs) throw err;
      onWait(waited);
      await new Promise((r) => setTimeout(r, delay));
      if (timing.maxDelayMs !== undefined) delay = Math.min(Math.max(delay * 2, 1), timing.maxDelayMs);
    }
  }
}

/** EC2 does not see a just-created instance profile yet (aws-reference.md, gotcha 12). */
export function profileNotYetVisible(err: unknown): boolean {
  const { message = '' } = err as { message?: string };
  const name = errorName(err);
  return (
    (name === 'InvalidParameterValue' && /instance profile/i.test(message)) ||
    (name === 'IncorrectState' && /InstanceIdentityProfileNotFound|profile/i.test(message) && !/existing association/i.test(message))
  );
}

/**
 * KMS does not see a just-created key yet: CreateAlias, EnableKeyRotation, TagResource or
 * PutKeyPolicy naming it answer NotFoundException, or KMSInvalidStateException while the new
 * key settles. Retry only right after CreateKey: elsewhere these errors are real.
 */
export function kmsKeyNotYetVisible(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NotFoundException' || name === 'KMSInvalidStateException';
}

/**
 * CloudWatch Logs cannot use a key that was just created or whose policy just changed: it
 * answers CreateLogGroup/AssociateKmsKey with AccessDeniedException "The specified KMS key does
 * not exist or is not allowed to be used with Arn …", or InvalidParameterException "The
 * specified KMS Key Id could not be found" / "Unable to validate if specified KMS key is valid".
 * Retry only right after the change: otherwise the key policy really refuses (KEY_POLICY_DENIES_LOGS).
 */
export function logsKeyNotYetUsable(err: unknown): boolean {
  const { message = '' } = err as { message?: string };
  const name = errorName(err);
  return (
    (name === 'AccessDeniedException' && /KMS key does not exist or is not allowed to be used/i.test(message)) ||
    (name === 'InvalidParameterException' && /KMS key/i.test(message) && /could not be found|does not exist|unable to validate/i.test(message))
  );
}
