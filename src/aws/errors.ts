import { type ErrorCode, SetupError, StepError } from '../base/errors.js';
import { cloudWatchLogsStatement } from '../policies/kms-key-policy.js';
import { CALL_KEY } from './calls.js';

interface SdkErrorLike {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  [CALL_KEY]?: string;
}

export const errorName = (err: unknown) => (err as SdkErrorLike | undefined)?.name ?? '';

/** True when AWS says the thing does not exist (names differ per service). */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkErrorLike;
  return /NotFound|NoSuch|DoesNotExist|InvalidDocument$/.test(e?.name ?? '') || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Whether a failed call may nevertheless have been carried out: the answer was lost (a reset or
 * timed-out connection) or the service failed after accepting it (5xx). A throttling or
 * validation error means it was not. After an ambiguous failure of a create that is not
 * idempotent, look for what it may have made before trying again.
 */
export function isAmbiguous(err: unknown): boolean {
  const e = err as SdkErrorLike & { code?: string; $fault?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(errorName(err))) return false;
  const network = /ECONNRESET|EPIPE|ETIMEDOUT|ECONNABORTED|socket hang up|TimeoutError|RequestTimeout|NetworkingError/;
  return network.test(`${e?.name ?? ''} ${e?.code ?? ''} ${e?.message ?? ''}`) || (status === undefined && e?.$fault === 'server');
}

export const isAccessDenied = (err: unknown) =>
  /AccessDenied|UnauthorizedOperation|AuthorizationError|Forbidden/.test(errorName(err)) || (err as SdkErrorLike)?.$metadata?.httpStatusCode === 403;

/**
 * The call's result, or undefined when AWS answers that the thing is not there (a bucket
 * without a policy, a key without tags…). Other errors pass through.
 */
export async function unlessMissing<T>(call: Promise<T>, ...missing: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (missing.includes(errorName(err))) return undefined;
    throw err;
  }
}

/**
 * A read the credentials may not make (AccessDenied and the like): undefined, so that a check
 * reports what it could read instead of dropping it all. Other errors pass through.
 */
export async function unlessDenied<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isAccessDenied(err)) return undefined;
    throw err;
  }
}

/**
 * The commands a fix hint tells the operator to run, carrying the settings of the run (built by
 * src/engine/rerun.ts): a bare `ssm-setup run <step>` would converge to other settings.
 */
export interface RerunCommands {
  /** Reruns this run as it was started. */
  readonly again: string;
  /** Runs other steps with the same settings, plus `extra` switches: `ssm-setup run kms-key … --cloudwatch-logs`. */
  readonly run: (steps: readonly string[], extra?: readonly string[]) => string;
}

/**
 * Wraps anything a step throws into a StepError naming the step and the failed AWS call, with a
 * fix. `rerun` is the command that repeats the run with its settings (a string, or the commands
 * of src/engine/rerun.ts): every hint that says "rerun" names it. The default names the step
 * without any setting: callers that know the run's settings pass them.
 */
export function toStepError(stepId: string, err: unknown, rerun: string | RerunCommands = `ssm-setup run ${stepId}`): SetupError {
  if (err instanceof SetupError) return err;
  const e = err as SdkErrorLike;
  const call = e?.[CALL_KEY];
  const name = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const { code, hint } = classify(
    err,
    call,
    typeof rerun === 'string' ? { again: rerun, run: (steps, extra = []) => ['ssm-setup run', ...steps, ...extra].join(' ') } : rerun,
  );
  return new StepError(stepId, code, `${name}${e?.message ?? String(err)}`, { call, cause: err, hint });
}

const isExpired = (err: unknown) => /ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch/.test(errorName(err));
/** AWS refused the call for its rate: it was not carried out, so sending it again is safe. */
export const isThrottled = (err: unknown) => /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(errorName(err));

/** The stable code of an AWS failure, and the fix to print under it. */
function classify(err: unknown, call: string | undefined, commands: RerunCommands): { code: ErrorCode; hint: string } {
  const rerun = `rerun \`${commands.again}\`: finished work is not repeated`;
  const refused = keyRefusedToLogs(err, commands);
  if (refused) return { code: 'KEY_POLICY_DENIES_LOGS', hint: `${refused}; then ${rerun}` };
  if (isAccessDenied(err)) {
    const action = call ? iamActionFor(call) : undefined;
    const what = action ? `${action} (needed by ${call})` : 'the permission for this call';
    return { code: 'ACCESS_DENIED', hint: `grant the credentials in use ${what}: README, "IAM permissions ssm-setup itself needs"; then ${rerun}` };
  }
  if (isExpired(err)) return { code: 'CREDENTIALS_EXPIRED', hint: `refresh your AWS credentials (for SSO: aws sso login), then ${rerun}` };
  if (isThrottled(err)) return { code: 'THROTTLED', hint: `AWS throttled the requests; wait a moment and ${rerun}` };
  return { code: 'AWS_ERROR', hint: rerun };
}

/**
 * CloudWatch Logs refuses the key of CreateLogGroup/AssociateKmsKey with AccessDeniedException
 * "The specified KMS key does not exist or is not allowed to be used with Arn '<log group>'"
 * when the key policy does not admit `logs.<region>.amazonaws.com` (aws-reference.md, gotcha 5):
 * no IAM permission of the caller fixes that. The fix, built from the group's ARN, or undefined
 * for any other error.
 */
function keyRefusedToLogs(err: unknown, commands: RerunCommands): string | undefined {
  const message = (err as SdkErrorLike | undefined)?.message ?? '';
  if (!isAccessDenied(err) || !/KMS key does not exist or is not allowed to be used/i.test(message)) return undefined;
  const arn = /arn:([\w-]+):logs:([\w-]+):(\d{12}):log-group:[^'"\s]*/.exec(message);
  const statement = arn
    ? ` add this statement to the key policy: ${JSON.stringify(cloudWatchLogsStatement({ partition: arn[1]!, region: arn[2]!, account: arn[3]! }))}`
    : ' add a statement for logs.<region>.amazonaws.com to the key policy';
  return `the session key's policy does not let CloudWatch Logs use the key (or denies it): run \`${commands.run(['kms-key'], ['--cloudwatch-logs'])}\`, which adds the statement, or${statement} (and remove any Deny on it); a key policy that just changed can take a few minutes to apply`;
}

const IAM_PREFIX: Record<string, string> = {
  KMS: 'kms',
  S3: 's3',
  CloudWatchLogs: 'logs',
  STS: 'sts',
  IAM: 'iam',
  SSM: 'ssm',
  EC2: 'ec2',
  Organizations: 'organizations',
};

/** S3 operations whose IAM action has another name. */
const S3_ACTIONS: Record<string, string> = {
  HeadBucket: 'ListBucket',
  ListBuckets: 'ListAllMyBuckets',
  GetBucketEncryption: 'GetEncryptionConfiguration',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  GetBucketLifecycleConfiguration: 'GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
  ListObjectVersions: 'ListBucketVersions',
  ListObjectsV2: 'ListBucket',
  DeleteObjects: 'DeleteObject',
  HeadObject: 'GetObject',
};

/** The IAM action behind an SDK call, e.g. `S3.GetBucketEncryption` → `s3:GetEncryptionConfiguration`. */
export function iamActionFor(call: string): string | undefined {
  const [service = '', operation = ''] = call.split('.');
  const prefix = IAM_PREFIX[service];
  if (!prefix || !operation) return undefined;
  return `${prefix}:${(prefix === 's3' && S3_ACTIONS[operation]) || operation}`;
}
