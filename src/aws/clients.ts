import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { limiter } from '../base/batch.js';
import { AbortedError, AwsError, UsageError } from '../base/errors.js';
import type { AwsTarget, ClientClass, Clients, Identity } from '../core/clients.js';
import { CALL_KEY, CallRecorder, isWriteCall } from './calls.js';

export type { AwsTarget, Identity } from '../core/clients.js';

/**
 * Calls in flight at once per service (a client and its no-retry twin share the bound): reads
 * and writes that do not depend on each other go out together, up to this many; above it they
 * queue. Throttling beyond that is the SDK's adaptive retry mode's to absorb.
 */
export const IN_FLIGHT_PER_SERVICE = 8;

/** Node's diagnostics channel of every outgoing HTTP request, as it is created. */
const HTTP_REQUEST_START = 'http.client.request.start';

/** The part of an SDK v3 client the factory touches. */
interface SdkClient {
  /** The resolved configuration; `credentials` is the client's memoized credential provider. */
  config: { credentials?: unknown };
  middlewareStack: { add(mw: unknown, opts: { step: 'initialize'; name: string }): void };
  send(command: unknown): Promise<unknown>;
}

/**
 * One factory for every AWS client: region, profile, endpoint override (S3 in path style),
 * adaptive retries and the call recorder are set here once. Clients are created on first use
 * and the SDK packages are imported by the steps that need them, so a command loads only its own.
 */
export class AwsClients implements Clients {
  private readonly clients = new Map<unknown, unknown>();
  private readonly onceClients = new Map<unknown, unknown>();
  /** One bound per service (client class), shared by `get` and `once`. */
  private readonly bounds = new Map<unknown, <T>(work: () => Promise<T>) => Promise<T>>();
  private identityPromise?: Promise<Identity>;
  /** The first client's memoized credential provider, given to every later client. */
  private credentials?: unknown;
  /** The answers of the read calls of the current read-cache span, by call and input. */
  private readCache?: Map<string, Promise<unknown>>;

  /** Inside `evenIfInterrupted`: calls go out after Ctrl-C too. */
  private readonly cleanup = new AsyncLocalStorage<true>();

  constructor(
    readonly target: AwsTarget,
    readonly recorder = new CallRecorder(),
    /** Ctrl-C (Io.signal): once aborted, every call but the clean-up fails with INTERRUPTED before it is sent. */
    readonly signal?: AbortSignal,
  ) {}

  /** The shared client of this class, e.g. `aws.get(KMSClient)`. */
  get<C extends object>(Client: ClientClass<C>): C {
    return this.make(this.clients, Client, clientConfig(this.target));
  }

  /** Without automatic retries: for creates that a blind retry would make twice (see Clients.once). */
  once<C extends object>(Client: ClientClass<C>): C {
    return this.make(this.onceClients, Client, { ...clientConfig(this.target), maxAttempts: 1 });
  }

  private make<C extends object>(cache: Map<unknown, unknown>, Client: ClientClass<C>, config: Record<string, unknown>): C {
    let client = cache.get(Client) as C | undefined;
    if (!client) {
      // One credential resolution per run: a client of its own would resolve a profile again,
      // and an SSO or assume-role profile costs a call before each new client's first call.
      client = new Client(this.credentials ? { ...config, credentials: this.credentials } : config);
      this.credentials ??= (client as unknown as SdkClient).config?.credentials;
      const bound = this.bounds.get(Client) ?? limiter(IN_FLIGHT_PER_SERVICE);
      this.bounds.set(Client, bound);
      instrument(
        client as unknown as SdkClient,
        this.recorder,
        () => this.readCache,
        () => this.stopped(),
        bound,
      );
      cache.set(Client, client);
    }
    return client;
  }

  /**
   * Node's diagnostics channel shows each HTTP request as it is created (any client's: the first
   * calls of a run start together, in one turn of the event loop); a request's 'finish' is its
   * hand-over to the operating system. Resolves when every request started since has been
   * handed over (or has failed).
   */
  sent(orWhen: Promise<unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      let pending = 0;
      const done = () => {
        unsubscribe(HTTP_REQUEST_START, started);
        resolve();
      };
      const started = (message: unknown) => {
        const { request } = message as { request: ClientRequest };
        pending++;
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          if (--pending === 0) done();
        };
        request.once('finish', end);
        request.once('close', end);
      };
      subscribe(HTTP_REQUEST_START, started);
      orWhen.then(done, done);
    });
  }

  evenIfInterrupted<T>(work: () => Promise<T>): Promise<T> {
    return this.cleanup.run(true, work);
  }

  /** Whether a call must not go out now: interrupted, outside the clean-up. */
  private stopped(): boolean {
    return this.signal?.aborted === true && !this.cleanup.getStore();
  }

  async withReadCache<T>(work: () => Promise<T>): Promise<T> {
    if (this.readCache) return work();
    this.readCache = new Map();
    try {
      return await work();
    } finally {
      this.readCache = undefined;
    }
  }

  /** sts:GetCallerIdentity, once per run; fails with a clear message when there are no usable credentials. */
  identity(): Promise<Identity> {
    this.identityPromise ??= (async () => {
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      try {
        const out = await this.get(STSClient).send(new GetCallerIdentityCommand({}));
        const arn = out.Arn ?? '';
        return { account: out.Account ?? '', arn, userId: out.UserId ?? '', partition: arn.split(':')[1] || 'aws' };
      } catch (err) {
        if (err instanceof AbortedError) throw err;
        throw new AwsError('CREDENTIALS_UNUSABLE', `Cannot use the AWS credentials: ${(err as Error).message}`, {
          cause: err,
          hint: this.target.profile
            ? `check profile "${this.target.profile}" (for SSO: aws sso login --profile ${this.target.profile})`
            : 'set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
        });
      }
    })();
    return this.identityPromise;
  }
}

export function clientConfig(target: AwsTarget): Record<string, unknown> {
  return {
    region: target.region,
    ...(target.profile && !target.credentials ? { profile: target.profile } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
    // Adaptive adds client-side rate limiting: useful when fanning out IAM/SSM calls.
    retryMode: 'adaptive',
    // The middleware stack is resolved once per command class, not for every call: the stack
    // is complete when the client is made (instrument), and no call passes per-call options.
    cacheMiddleware: true,
    ...(target.endpointUrl
      ? {
          endpoint: target.endpointUrl,
          // Only S3 reads these; emulators serve buckets by path, not by virtual host.
          forcePathStyle: true,
        }
      : {}),
  };
}

/**
 * Records every logical call and tags its errors with `Service.Operation` for the failure
 * message. Inside a read-cache span a read already sent (or in flight) is answered from its
 * first answer (neither sent nor recorded again). At most `bound`'s limit of calls per service
 * are in flight; the others wait for a slot. After Ctrl-C no call is sent but the clean-up (INTERRUPTED).
 */
function instrument(
  client: SdkClient,
  recorder: CallRecorder,
  cache: () => Map<string, Promise<unknown>> | undefined,
  stopped: () => boolean,
  bound: <T>(work: () => Promise<T>) => Promise<T>,
): void {
  client.middlewareStack.add(
    (next: (args: { input?: unknown }) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: { input?: unknown }) => {
      // After Ctrl-C the call in flight finishes, and nothing more is sent.
      if (stopped()) throw interrupted();
      const span = cache();
      const key = span && !isWriteCall(context.commandName ?? '') ? `${context.clientName}.${context.commandName} ${stableJson(args.input)}` : undefined;
      const hit = key ? span!.get(key) : undefined;
      if (hit) return answerCopy(await hit);
      const call = recorder.record(context.clientName ?? 'AWS', context.commandName ?? 'Call');
      const sent = (async () => {
        try {
          // Ctrl-C while waiting for a slot: not sent either.
          return await bound(() => (stopped() ? Promise.reject(interrupted()) : next(args)));
        } catch (err) {
          if (err && typeof err === 'object') (err as Record<string, unknown>)[CALL_KEY] = `${call.service}.${call.operation}`;
          throw err;
        }
      })();
      if (key) {
        // Each hit gets its own copy: what one caller changes, the next does not see.
        const stored = sent.then(answerCopy);
        stored.catch(() => {});
        span!.set(key, stored);
      }
      return sent;
    },
    { step: 'initialize', name: 'ssmSetupCallRecorder' },
  );
}

/**
 * After reads that all finished in flight (nothing was left to refuse), Ctrl-C still ends the
 * command before its result or its first write: the person asked to stop.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw interrupted();
}

/** What a call after Ctrl-C fails with; the runner reports what was and was not done, exit 130. */
export const interrupted = () =>
  new AbortedError('INTERRUPTED', 'Interrupted: the AWS call in flight finished and nothing more was applied.', {
    hint: 'rerun the same command: it picks up where this run stopped',
  });

/** The middleware's result is `{output, response}`: the parsed answer is copied, the raw response kept. */
const answerCopy = (result: unknown) => {
  const { output, ...rest } = result as { output?: unknown };
  return { ...rest, output: copy(output) };
};

/** A deep copy of an SDK answer: plain data (objects, arrays, dates, bytes); functions are left out. */
function copy<T>(value: T): T {
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return value.slice() as T;
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => typeof v !== 'function')
        .map(([k, v]) => [k, copy(v)]),
    ) as T;
  }
  return value;
}

/**
 * JSON with object keys sorted: the same input, whatever the order its fields were set in. By code
 * unit, not `localeCompare`: the first locale-aware comparison of a process sets up ICU's
 * collator, ~5 ms before the first read goes out.
 */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The region to use: the setting (flag, AWS_REGION or AWS_DEFAULT_REGION, config file), else the
 * profile's region as the SDK itself resolves it.
 */
export async function resolveRegion(settings: { region?: string; profile?: string }): Promise<string> {
  if (settings.region) return settings.region;
  const { STSClient } = await import('@aws-sdk/client-sts');
  const probe = new STSClient(settings.profile ? { profile: settings.profile } : {});
  try {
    return await probe.config.region();
  } catch {
    throw new UsageError('NO_REGION', 'No AWS region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), or set a region in your AWS profile', {
      hint: 'for example: --region eu-west-1',
    });
  } finally {
    probe.destroy();
  }
}
