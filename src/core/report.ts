import type { ErrorCode, SetupError } from '../base/errors.js';

/**
 * What a run produced: the shape of `--json` output (docs/product.md, "Output")
 * and the input of the terminal summary.
 */
export type ChangeAction = 'create' | 'update' | 'delete';

/**
 * Why a change needs a second look before it is made: it weakens what protects the sessions or
 * their audit trail (logging off, a shorter retention, public access unblocked…), or it changes
 * a resource someone else owns (an adopted bucket's encryption). Such a change is marked in the
 * plan and, in a terminal, confirmed on its own (default No); `--yes` makes it with a warning.
 */
export interface ChangeRisk {
  readonly kind: 'weakens-audit' | 'weakens-security' | 'foreign';
  /** One line: what is weakened or whose resource it is. */
  readonly why: string;
}

/** One line of a plan: what would change, on which resource, and why. */
export interface ChangeView {
  readonly action: ChangeAction;
  /** Human name, e.g. `KMS key alias/ssm-session-manager`. */
  readonly resource: string;
  /** One readable line, e.g. `rotation disabled → enabled`. */
  readonly detail: string;
  readonly risk?: ChangeRisk;
}

/**
 * `pending` only appears in `plan` output (changes found, not applied);
 * `skipped` also covers steps not run after a failure (see `note`); `deleted` only in `destroy`,
 * and `scheduled` too: the key is scheduled for deletion (`note`: the date, and how to undo it).
 */
export type StepStatus = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'pending' | 'deleted' | 'scheduled';

/** How an error shows in a report and in `--json`. */
export interface ErrorView {
  /** The stable code (src/base/errors.ts, ERROR_CODES). */
  readonly code: ErrorCode;
  readonly message: string;
  /** The AWS call that failed, `Service.Operation`. */
  readonly call?: string;
  readonly hint?: string;
  /** The AWS request id of the failed call, for AWS Support. */
  readonly requestId?: string;
}

/** A published output: an ARN or name, a list of names, or a map (instance id → profile). */
export type OutputValue = string | readonly string[] | Readonly<Record<string, string>>;

export interface StepReport {
  readonly id: string;
  /** Set in a several-regions run (`--regions`). */
  readonly region?: string;
  /** Set in a run over many accounts (`--accounts`, `--organization`): the account id, and its alias when it has one. */
  readonly account?: string;
  readonly accountAlias?: string;
  readonly title: string;
  status: StepStatus;
  changes: ChangeView[];
  outputs: Record<string, OutputValue>;
  note?: string;
  error?: ErrorView;
}

/** One finding of `check`: ok, warning or error, with the fix. */
export interface Finding {
  readonly check: string;
  readonly status: 'ok' | 'warning' | 'error';
  readonly detail: string;
  readonly fix?: string;
}

export interface TargetView {
  readonly instanceId: string;
  readonly name?: string;
  readonly ready: boolean;
  readonly findings: readonly Finding[];
}

/**
 * `audit`: what one session left in the audit trail. `logged`: every destination the
 * preferences configure has its record; `missing`: a shell session lacks one (exit 3);
 * `not-logged`: SSH, SCP, port forwarding (and a command session without any record), whose
 * content Session Manager never records; `active`: still running (the agent uploads at the end).
 */
export type AuditStatus = 'logged' | 'missing' | 'not-logged' | 'active';

/** One session of `audit --json`, matched with its S3 object and CloudWatch Logs stream. */
export interface AuditSessionView {
  readonly sessionId: string;
  /** The instance (or managed node) the session was opened on. */
  readonly target: string;
  /** The ARN of whoever started it. */
  readonly owner: string;
  /** The session document, e.g. `SSM-SessionManagerRunShell` or `AWS-StartSSHSession`. */
  readonly document: string;
  /** ISO 8601; `end` is null while the session runs. */
  readonly start: string | null;
  readonly end: string | null;
  readonly status: AuditStatus;
  /** The object `<s3KeyPrefix><SessionId>.log`; null when no bucket is configured or the session was not looked up (active, never logged). */
  readonly s3: {
    readonly bucket: string;
    readonly key: string;
    readonly exists: boolean;
    /** `aws:kms`, `AES256`, or null when not read (not required, or no object). */
    readonly encryption: string | null;
    readonly kmsKeyId?: string;
  } | null;
  /** The stream `<SessionId>` in the log group; null when CloudWatch logging is off or the session was not looked up. */
  readonly cloudwatch: { readonly logGroup: string; readonly stream: string; readonly exists: boolean } | null;
  /** Why it is `missing` or `not-logged`, with the likely cause. */
  readonly reason?: string;
  /** The command that fixes the likely cause. */
  readonly fix?: string;
}

/** The counts of `audit`, by status. */
export interface AuditSummary {
  readonly total: number;
  readonly logged: number;
  readonly missing: number;
  readonly notLogged: number;
  readonly active: number;
}

export interface RunReport {
  readonly command: string;
  account?: string;
  /** The account's alias (iam:ListAccountAliases), in a run over many accounts. */
  accountAlias?: string;
  region?: string;
  ok: boolean;
  steps: StepReport[];
  /** A failure outside any step (bad input, credentials). */
  error?: ErrorView;
  /** `check`: one entry per instance. */
  targets?: readonly TargetView[];
  /** `check`: account-level, operator and local findings. */
  checks?: { readonly account: readonly Finding[]; readonly operator: readonly Finding[]; readonly local: readonly Finding[] };
  /** `check`: the command that opens a session on a ready target. */
  connect?: string;
  /** What to run next, e.g. after `plan`: the command that applies it. */
  next?: string;
  /** `audit`: the start of the window, ISO 8601. */
  since?: string;
  /** `audit`: every session of the window (newest first), matched with its records. */
  sessions?: readonly AuditSessionView[];
  /** `audit`: the counts by status; `ok` is false when `missing` is not 0 (exit 3). */
  summary?: AuditSummary;
  /**
   * A run over several accounts or regions: one entry per account and region, each with its own
   * `ok`, steps and error (`steps` above holds them all, each tagged with its account and region).
   */
  runs?: RunReport[];
}

/** The report form of an error: its code, message, failed call and fix. */
export function errorView(e: SetupError & { readonly call?: string }, prefix = ''): ErrorView {
  const requestId = (e.cause as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
  return {
    code: e.code,
    message: `${prefix}${e.message}`,
    ...(e.call ? { call: e.call } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
    ...(requestId ? { requestId } : {}),
  };
}
