/**
 * The "lose the answer" mode of the stateful fakes: AWS carries a call out, then its answer
 * never reaches the client (the connection is reset, or a 5xx comes back after the work was
 * done). aws-sdk-client-mock stubs `send`, so the SDK's retry middleware never runs in unit
 * tests; this models it where it matters: a client that retries (`Clients.get`, three attempts)
 * sends the call again and gets the answer of that second attempt (a second key, or
 * AlreadyExists), and a client without retries (`Clients.once`, maxAttempts 1) gets the
 * ambiguous error itself.
 */

/** How a lost answer looks to the client. */
export interface LossOptions {
  /** How many attempts lose their answer (default 1). */
  readonly times?: number;
  /**
   * Whether AWS carried the call out before the answer was lost (default true). False: an
   * ambiguous failure after which nothing was made (a 500 before the work).
   */
  readonly carriedOut?: boolean;
  /** `reset`: Node's `socket hang up` (ECONNRESET), as the SDK passes it on; `500`: InternalFailure. */
  readonly as?: 'reset' | '500';
}

interface Loss {
  readonly carriedOut: boolean;
  readonly as: 'reset' | '500';
}

/** The error the client sees for a lost answer. */
export function lostAnswerError(as: 'reset' | '500' = 'reset'): Error {
  if (as === '500') {
    return Object.assign(new Error('We encountered an internal error. Please try again.'), {
      name: 'InternalFailure',
      $fault: 'server' as const,
      $metadata: { httpStatusCode: 500 },
    });
  }
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
}

/** The SDK's attempts per call for a client: its `maxAttempts` (3 unless set; 1 for `Clients.once`). */
async function attemptsOf(client: unknown): Promise<number> {
  const maxAttempts = (client as { config?: { maxAttempts?: number | (() => Promise<number>) } } | undefined)?.config?.maxAttempts;
  if (typeof maxAttempts === 'function') return Math.max(1, await maxAttempts());
  return typeof maxAttempts === 'number' ? maxAttempts : 3;
}

type Handler<I> = (input: I) => unknown;

/**
 * One fake's lost answers: `wrap` a handler (as given to `callsFake`), then `lose(command)`
 * makes its next calls lose their answers. `attempts(command)` counts the requests that
 * reached the fake, the SDK's retries included (`mock.calls()` counts one per `send`).
 */
export function lossyAnswers() {
  const pending = new Map<string, Loss[]>();
  const reached = new Map<string, number>();

  const wrap =
    <I>(command: { name: string }, fn: Handler<I>) =>
    (input: I, getClient?: () => unknown): Promise<unknown> => {
      // The client of this send: asked at once, as aws-sdk-client-mock keeps only the latest.
      const client = getClient?.();
      return (async () => {
        const attempts = await attemptsOf(client);
        let last: Loss | undefined;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          reached.set(command.name, (reached.get(command.name) ?? 0) + 1);
          const loss = pending.get(command.name)?.shift();
          if (!loss) return fn(input);
          last = loss;
          // Carried out; whatever it answered is lost on the way back.
          if (loss.carriedOut) await Promise.resolve(fn(structuredClone(input))).catch(() => undefined);
        }
        throw lostAnswerError(last?.as);
      })();
    };

  return {
    wrap,
    /** The next `times` attempts of `command` lose their answer (see LossOptions). */
    lose(command: { name: string }, opts: LossOptions = {}) {
      const loss: Loss = { carriedOut: opts.carriedOut ?? true, as: opts.as ?? 'reset' };
      pending.set(command.name, [...(pending.get(command.name) ?? []), ...Array.from({ length: opts.times ?? 1 }, () => loss)]);
    },
    /** Requests of `command` that reached the fake, retries included. */
    attempts: (command: { name: string }) => reached.get(command.name) ?? 0,
  };
}

export type LossyAnswers = ReturnType<typeof lossyAnswers>;
