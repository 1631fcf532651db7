import { AwsError, UsageError } from '../base/errors.js';
import type { AwsTarget, ClientClass, Clients, Identity } from '../core/clients.js';
import { CALL_KEY, CallRecorder } from './calls.js';

export type { AwsTarget, Identity } from '../core/clients.js';

/** The part of an SDK v3 client the factory touches. */
interface SdkClient {
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
  private identityPromise?: Promise<Identity>;

  constructor(
    readonly target: AwsTarget,
    readonly recorder = new CallRecorder(),
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
      client = new Client(config);
      instrument(client as unknown as SdkClient, this.recorder);
      cache.set(Client, client);
    }
    return client;
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
    ...(target.profile ? { profile: target.profile } : {}),
    // Adaptive adds client-side rate limiting: useful when fanning out IAM/SSM calls.
    retryMode: 'adaptive',
    ...(target.endpointUrl
      ? {
          endpoint: target.endpointUrl,
          // Only S3 reads these; emulators serve buckets by path, not by virtual host.
          forcePathStyle: true,
        }
      : {}),
  };
}

/** Records every logical call and tags its errors with `Service.Operation` for the failure message. */
function instrument(client: SdkClient, recorder: CallRecorder): void {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => async (args: unknown) => {
      const call = recorder.record(context.clientName ?? 'AWS', context.commandName ?? 'Call');
      try {
        return await next(args);
      } catch (err) {
        if (err && typeof err === 'object') (err as Record<string, unknown>)[CALL_KEY] = `${call.service}.${call.operation}`;
        throw err;
      }
    },
    { step: 'initialize', name: 'ssmSetupCallRecorder' },
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
