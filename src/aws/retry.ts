import { errorName } from './errors.js';

/** How long to wait for eventual consistency; tests shorten it. */
export const consistency = { timeoutMs: 120_000, delayMs: 2_000 };

/**
 * Calls `work` until it succeeds, retrying while `retryable(err)` and the time allows
 * (IAM → EC2 propagation of a new instance profile takes seconds to minutes). `onWait` is
 * told how long it has waited, for progress.
 */
export async function retryWhile<T>(
  work: () => Promise<T>,
  retryable: (err: unknown) => boolean,
  onWait: (waitedMs: number) => void = () => {},
  timing = consistency,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await work();
    } catch (err) {
      const waited = Date.now() - started;
      if (!retryable(err) || waited + timing.delayMs > timing.timeoutMs) throw err;
      onWait(waited);
      await new Promise((r) => setTimeout(r, timing.delayMs));
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
