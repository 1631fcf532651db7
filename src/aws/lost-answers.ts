import { sleep } from '../base/batch.js';
import { StepError } from '../base/errors.js';
import { errorName, isAmbiguous, isThrottled } from './errors.js';

/** Pauses of `sendOnce` after a throttled send; tests shorten them. */
export const onceTiming = { throttleDelayMs: 1_000, throttleRetries: 4 };

/**
 * Sends a create that a blind retry would make twice (CreateKey, CreatePolicyVersion,
 * CreateAssociation, SendCommand: `send` goes through `Clients.once`). After an ambiguous
 * failure (`isAmbiguous`: the answer was lost, the call may have been carried out) `find` looks
 * for what it may have made; only when nothing is found is it sent again, `sends` times at most
 * in all. A throttled send (refused, so not made) is sent again after a pause, as the SDK's
 * retries would. Returns what the send answered or what `find` found; throws the last error
 * when every send was lost and nothing was found (still ambiguous: see `lostAnswer`), and any
 * other error at once. `onLost` is told before each search (for a progress line).
 */
export async function sendOnce<T>(send: () => Promise<T>, find: () => Promise<T | undefined>, opts: { sends?: number; onLost?: () => void } = {}): Promise<T> {
  const sends = opts.sends ?? 2;
  let sent = 0;
  let pauses = 0;
  for (;;) {
    try {
      sent++;
      return await send();
    } catch (err) {
      if (isThrottled(err) && pauses < onceTiming.throttleRetries) {
        sent--;
        await sleep(onceTiming.throttleDelayMs * 2 ** pauses++);
        continue;
      }
      if (!isAmbiguous(err)) throw err;
      opts.onLost?.();
      const found = await find();
      if (found !== undefined) return found;
      if (sent >= sends) throw err;
    }
  }
}

/** The error of a create whose answers were all lost and whose result was not found: rerunning is safe, it looks first. */
export function lostAnswer(stepId: string, call: string, err: unknown, what: string): StepError {
  return new StepError(
    stepId,
    'LOST_ANSWER',
    `${call.split('.')[1]}: ${what}: the answer was lost (${errorName(err) || (err as Error).message}) and nothing it made was found`,
    {
      call,
      cause: err,
      hint: `rerun \`ssm-setup run ${stepId}\`: it looks for what these calls made before it makes anything, so nothing is made twice`,
    },
  );
}

/**
 * Sends a create whose answer may be lost through a client WITH retries, and tells "it exists
 * already" apart from a failure: when AWS carries a create out but the answer is lost, the SDK
 * sends it again and the second attempt meets what the first made (AlreadyExists for a name that
 * must be unique). That is success when the thing now there is what we asked for, so on such an
 * answer (`exists`: the error names that mean it), or on an ambiguous failure that outlived the
 * retries, `found()` reads it back: a value means it is there, ours and as wanted (done);
 * undefined means it is not, and the original error is thrown.
 */
export async function createOrFind<T, F = T>(create: () => Promise<T>, exists: readonly string[], found: () => Promise<F | undefined>): Promise<T | F> {
  try {
    return await create();
  } catch (err) {
    if (!exists.includes(errorName(err)) && !isAmbiguous(err)) throw err;
    const there = await found();
    if (there === undefined) throw err;
    return there;
  }
}
