import { type ErrorCode, SetupError, StepError } from '../base/errors.js';
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
  return (
    /NotFound|NoSuch|DoesNotExist|InvalidDocument$/.test(e?.name ?? '') || e?.$metadata?.httpStatusCode === 404
  );
}

export const isAccessDenied = (err: unknown) =>
  /AccessDenied|UnauthorizedOperation|AuthorizationError|Forbidden/.test(errorName(err)) ||
  (err as SdkErrorLike)?.$metadata?.httpStatusCode === 403;

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

/** Wraps anything a step throws into a StepError naming the step and the failed AWS call, with a fix. */
export function toStepError(stepId: string, err: unknown, rerunCommand = `ssm-setup run ${stepId}`): SetupError {
  if (err instanceof SetupError) return err;
  const e = err as SdkErrorLike;
  const call = e?.[CALL_KEY];
  const name = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const { code, hint } = classify(err, call, rerunCommand);
  return new StepError(stepId, code, `${name}${e?.message ?? String(err)}`, { call, cause: err, hint });
}

const isExpired = (err: unknown) => /ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch/.test(errorName(err));
const isThrottled = (err: unknown) => /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/.test(errorName(err));

/** The stable code of an AWS failure, and the fix to print under it. */
function classify(err: unknown, call: string | undefined, rerunCommand: string): { code: ErrorCode; hint: string } {
  const rerun = `rerun \`${rerunCommand}\`: finished work is not repeated`;
  if (isAccessDenied(err)) {
    const action = call ? iamActionFor(call) : undefined;
    const what = action ? `${action} (needed by ${call})` : 'the permission for this call';
    return { code: 'ACCESS_DENIED', hint: `grant the credentials in use ${what}: README, "IAM permissions ssm-setup itself needs"; then ${rerun}` };
  }
  if (isExpired(err)) return { code: 'CREDENTIALS_EXPIRED', hint: `refresh your AWS credentials (for SSO: aws sso login), then ${rerun}` };
  if (isThrottled(err)) return { code: 'THROTTLED', hint: `AWS throttled the requests; wait a moment and ${rerun}` };
  return { code: 'AWS_ERROR', hint: rerun };
}

const IAM_PREFIX: Record<string, string> = { KMS: 'kms', S3: 's3', CloudWatchLogs: 'logs', STS: 'sts', IAM: 'iam', SSM: 'ssm', EC2: 'ec2' };

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
};

/** The IAM action behind an SDK call, e.g. `S3.GetBucketEncryption` → `s3:GetEncryptionConfiguration`. */
export function iamActionFor(call: string): string | undefined {
  const [service = '', operation = ''] = call.split('.');
  const prefix = IAM_PREFIX[service];
  if (!prefix || !operation) return undefined;
  return `${prefix}:${(prefix === 's3' && S3_ACTIONS[operation]) || operation}`;
}
