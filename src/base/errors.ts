/**
 * Typed errors with stable codes. Nothing below src/cli prints or exits: it throws one of these,
 * and src/cli/main.ts turns it into one message and one exit code (src/cli/exit-codes.ts). The
 * `code` is part of the contract (docs/product.md, "Errors"): scripts and tests rely on it, so a
 * message may be reworded but a code never changes meaning.
 */
export const ERROR_CODES = {
  // Bad input (exit 2): nothing was changed.
  INVALID_SETTINGS: 'a flag, config key or environment variable has an invalid value',
  BAD_ARGUMENTS: 'the command line does not parse (unknown flag, missing argument)',
  CONFLICTING_FLAGS: 'flags that cannot be used together',
  CONFIG_UNREADABLE: 'the settings file cannot be read',
  CONFIG_NOT_JSON: 'the settings file is not valid JSON',
  CONFIG_NOT_OBJECT: 'the settings file does not hold one JSON object',
  UNKNOWN_PROFILE: 'the AWS profile is not in the shared config or credentials file',
  NO_REGION: 'no AWS region was given and the profile has none',
  UNKNOWN_STEP: '`run` was given a step id that does not exist',
  UNKNOWN_INSTANCE: 'an instance id is not in the region (or terminated)',
  UNKNOWN_PRINCIPAL: 'an IAM user or group to attach the operator policy to does not exist',
  UNKNOWN_FORMAT: '`export` was given a format it does not write',
  NOT_EXPORTABLE: 'a setting cannot be carried by the exported template',
  OUTPUT_IS_CONFIG: 'the export output file is the settings file of this run',
  PROFILE_UNSAFE_FOR_SSH: 'the profile name cannot be put safely into an SSH ProxyCommand',
  SSH_CONFIG_PATH_INVALID: 'the SSH config path is not a file that can be written',
  MISSING_INPUT: 'a value is needed and there is no terminal to ask for it',
  NEEDS_YES: 'a confirmation is needed and there is no terminal: pass --yes',
  NEEDS_FORCE: '`destroy --delete-logs --yes` also needs --force',
  UNKNOWN_OU: 'an --ous id is not an organizational unit or root of the organization',
  PREFIX_WHOLE_BUCKET: 'an empty --s3-prefix on a bucket ssm-setup did not create would expire every object in it',
  BUCKET_OTHER_ACCOUNT: 'the bucket belongs to another AWS account',
  // Declined or interrupted (exit 130).
  DECLINED: 'the operator answered no to a confirmation',
  CANCELLED: 'the operator pressed Ctrl-C at a prompt',
  INTERRUPTED: 'the operator pressed Ctrl-C during a run: the AWS call in flight finished, nothing more was applied',
  // AWS and the steps (exit 1).
  CREDENTIALS_UNUSABLE: 'sts:GetCallerIdentity failed with the credentials in use',
  ASSUME_ROLE_FAILED: 'the role could not be assumed in a target account (--accounts, --organization)',
  NO_ORGANIZATION: '--organization, and the caller cannot list the accounts of an AWS Organization',
  CREDENTIALS_EXPIRED: 'AWS refused the credentials as expired or invalid',
  ACCESS_DENIED: 'the credentials in use lack an IAM permission',
  THROTTLED: 'AWS throttled the requests beyond the retries',
  AWS_ERROR: "an AWS call failed for another reason (the message has AWS's error name)",
  DEPENDENCY_MISSING: 'a step the chosen steps need is not set up yet',
  LEASE_HELD: 'another ssm-setup run holds the lease on this account and region (--force-unlock clears a stale one)',
  LOST_ANSWER: 'a create was answered by a lost connection and what it made could not be found: rerun',
  KEY_UNKNOWN: 'the session key is not known to a step that needs it',
  KEY_AWS_MANAGED: 'the alias names an AWS managed key, which cannot carry the key policy',
  KEY_NOT_SYMMETRIC: 'the alias names a key that is not a symmetric encryption key',
  KEY_DISABLED: 'the session key is disabled',
  KEY_PENDING_DELETION: 'the session key is scheduled for deletion',
  KEY_NOT_ENABLED: 'the session key is in another state than Enabled',
  BUCKET_OTHER_REGION: 'the log bucket exists in another region',
  BUCKET_NAME_TAKEN: 'the bucket name belongs to another AWS account',
  PROFILE_HOLDS_OTHER_ROLE: 'the instance profile already holds another role',
  DOCUMENT_NOT_ACTIVE: 'the preferences document did not become Active',
  DEFAULT_VERSION_MISMATCH: 'the preferences default version is not the one just written',
  DOCUMENT_VERIFY_FAILED: 'the preferences read back differ from what was written',
  RUN_COMMAND_FAILED: 'Run Command invocations failed on some instances',
  VPC_DNS_OFF: "a VPC of private targets has DNS support or DNS hostnames off, which the endpoints' private DNS needs",
  ENDPOINT_GROUP_TAKEN: "a security group named ssm-setup-endpoints-<vpc> exists and is not ssm-setup's",
  KEY_POLICY_DENIES_LOGS: 'the key policy does not admit CloudWatch Logs, so a log group cannot be encrypted with the key',
  POLICY_QUOTA: 'a role, user or group cannot take more managed policies (IAM quota)',
  OBJECTS_NOT_DELETED: 'S3 refused to delete some object versions (Object Lock, or a missing permission)',
  SSH_CONFIG_CONFLICT: 'the SSH config has a block that cannot be updated safely',
  FILE_UNREADABLE: 'a local file cannot be read',
  FILE_UNWRITABLE: 'a local file cannot be written',
  FILE_CHANGED: 'a local file changed while ssm-setup was running',
  // A bug (exit 70).
  INTERNAL: 'an unexpected error: please report it',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  /** One line telling the operator what to do next, printed under the message. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/** The base of every error ssm-setup throws on purpose: a stable code, a message, a fix. */
export class SetupError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
  }
}

/** Bad flag, config key, step id or instance id: nothing was changed (exit 2). */
export class UsageError extends SetupError {
  /** Every problem found, each naming its flag or config key; `message` joins them. */
  readonly problems: readonly string[];
  constructor(code: ErrorCode, problems: string | readonly string[], opts: { hint?: string } = {}) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(code, list.length === 1 ? list[0]! : `Invalid input:\n${list.map((p) => `  - ${p}`).join('\n')}`, opts);
    this.problems = list;
  }
}

/** The operator declined a confirmation or pressed Ctrl-C (exit 130). */
export class AbortedError extends SetupError {}

/** A step could not be read, planned or applied (exit 1). */
export class StepError extends SetupError {
  /** The AWS call that failed, as `Service.Operation`, when an AWS call failed. */
  readonly call?: string;
  /** What the step did finish before it failed (e.g. the instances that succeeded), for the report. */
  readonly outputs?: Record<string, unknown>;
  constructor(
    readonly stepId: string,
    code: ErrorCode,
    message: string,
    opts: ErrorOptions & { call?: string; outputs?: Record<string, unknown> } = {},
  ) {
    super(code, message, opts);
    this.call = opts.call;
    this.outputs = opts.outputs;
  }
}

/** Anything else with AWS that is not a step's fault: credentials, identity (exit 1). */
export class AwsError extends SetupError {}

/**
 * What `--verbose` adds under an error: the chain of causes (an SDK error's name and message)
 * and the AWS request id, which AWS Support asks for.
 */
export function causeLines(err: unknown): string[] {
  const lines: string[] = [];
  for (let e = err instanceof SetupError ? err.cause : err, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) {
    const { name, message, $metadata } = e as Error & { $metadata?: { requestId?: string; httpStatusCode?: number } };
    lines.push(`cause: ${name && name !== 'Error' ? `${name}: ` : ''}${message ?? String(e)}`);
    if ($metadata?.requestId) lines.push(`AWS request id: ${$metadata.requestId}${$metadata.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : ''}`);
  }
  return lines;
}
