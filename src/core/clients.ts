/** Where AWS calls go: the region, the shared-config profile, an endpoint override (an emulator). */
export interface AwsTarget {
  readonly region: string;
  readonly profile?: string;
  readonly endpointUrl?: string;
  /**
   * Credentials of another account (an assumed role, src/aws/accounts.ts), held in memory only;
   * without them the SDK's default chain (and `profile`) applies.
   */
  readonly credentials?: () => Promise<{
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
    readonly expiration?: Date;
  }>;
}

/** Who is running ssm-setup, resolved once per run with sts:GetCallerIdentity. */
export interface Identity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
  /** `aws`, `aws-cn`, `aws-us-gov`…, taken from the caller ARN. */
  readonly partition: string;
}

/** An SDK v3 client class, as the port takes it: `clients.get(KMSClient)`. */
export type ClientClass<C> = new (config: Record<string, unknown>) => C;

/**
 * The Clients port: how steps, checks and teardown reach AWS. `src/aws/clients.ts` implements
 * it (region, profile, endpoint, retries and the call recorder set once); tests use the same
 * implementation with aws-sdk-client-mock in front of the SDK.
 */
export interface Clients {
  readonly target: AwsTarget;
  /** The shared client of this class, created on first use. */
  get<C extends object>(Client: ClientClass<C>): C;
  /**
   * The same client without the SDK's automatic retries, for creates that are not idempotent
   * (CreateKey, SendCommand, CreateAssociation, CreatePolicyVersion): when the answer is lost
   * (a 5xx, a reset connection) the call may have succeeded, and a blind retry makes a second
   * one. The caller looks for what the call may have made (`isAmbiguous` in src/aws/errors.ts)
   * before it tries again.
   */
  once<C extends object>(Client: ClientClass<C>): C;
  /**
   * Runs `work` with the read calls it makes answered once each: the same read (service,
   * operation and input) is sent once and its answer shared, within this span only. A plan reads
   * the deployed settings, asks, then reads each step: the same document or bucket is read once.
   * Never spans a write: apply and the re-plan under the lease read afresh.
   */
  withReadCache<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` with its calls sent even after the run was interrupted (Io.signal): the
   * clean-up that leaves the account as it should be, such as releasing the lease. Everywhere
   * else a call after Ctrl-C fails with INTERRUPTED before it is sent.
   */
  evenIfInterrupted<T>(work: () => Promise<T>): Promise<T>;
  /** sts:GetCallerIdentity, once per run; an AwsError when the credentials are not usable. */
  identity(): Promise<Identity>;
  /**
   * Resolves once the HTTP requests started from now on have been handed to the operating
   * system (the first calls of a run start together), or when
   * `orWhen` settles if that comes first (a test's mocked `send` sends nothing). CPU work started
   * then, such as compiling the steps' modules, overlaps the round trip instead of holding the
   * request back.
   */
  sent(orWhen: Promise<unknown>): Promise<void>;
}
