import { type RecordGap, type RecordPlaces, recordGaps, type SessionRecords, sameKey } from '../check/records.js';
import type { AuditSessionView, AuditStatus, AuditSummary, Finding } from '../core/report.js';
import type { AuditSession, DocumentInfo } from './sessions.js';

/**
 * The rules of `audit`, pure: what kind of session each document opens, which status its
 * records give it, and the report's shape. The reads are in sessions.ts and check/records.ts.
 */

/** `shell`: content logged (Standard_Stream); `tunnel`: never content-logged (Port); `command`: logged unless it carries a tunnel. */
export type SessionKind = 'shell' | 'tunnel' | 'command';

const SESSION_TYPES: Record<string, SessionKind> = {
  Standard_Stream: 'shell',
  Port: 'tunnel',
  InteractiveCommands: 'command',
  NonInteractiveCommands: 'command',
};

/** The kind of a session by its document: AWS's own by name, the others by their session type (shell when unknown). */
export function kindOf(document: string, info?: DocumentInfo): SessionKind {
  if (document === 'AWS-StartSSHSession' || document.startsWith('AWS-StartPortForwardingSession')) return 'tunnel';
  if (document === 'AWS-StartInteractiveCommand' || document === 'AWS-StartNonInteractiveCommand') return 'command';
  return SESSION_TYPES[info?.sessionType ?? ''] ?? 'shell';
}

/** Why SSH, SCP and port-forwarding sessions have no record, said once in the report. */
export const NOT_LOGGED_REASON =
  'SSH, SCP and port-forwarding sessions carry an encrypted byte stream: Session Manager never records their content, only their start and end (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-logging.html)';

/** The fix for the not-logged sessions: the operator policy's switch. */
export const NOT_LOGGED_FIX = 'ssm-setup run operator-policy --deny-unlogged-sessions';

/** What the audit knows beyond the session's own records: the account findings of `check`, the bucket's default key. */
export interface Causes {
  readonly findings: readonly Finding[];
  readonly bucketKeyArn?: string;
}

export interface Verdict {
  readonly status: AuditStatus;
  readonly reason?: string;
  readonly fix?: string;
}

/** The account findings that explain a missing record of each destination, first to last. */
const EXPLAINS: Record<'s3' | 'cloudwatch', readonly string[]> = {
  s3: ['preferences', 'key', 'bucket', 'bucket-encryption'],
  cloudwatch: ['preferences', 'key', 'key-policy', 'log-group'],
};

/**
 * One session's status: `active` while it runs; `not-logged` for a tunnel, a failed session
 * without records (nothing was recorded because nothing ran), and a command session without any
 * record; else `logged` when every configured destination has its record, `missing` when one
 * lacks it, with the likely cause from `check`'s account findings.
 */
export function judge(
  session: AuditSession,
  kind: SessionKind,
  places: RecordPlaces | undefined,
  records: SessionRecords | undefined,
  causes: Causes,
): Verdict {
  if (session.state === 'Active') return { status: 'active' };
  if (kind === 'tunnel') return { status: 'not-logged', reason: NOT_LOGGED_REASON, fix: NOT_LOGGED_FIX };
  const any = !!records?.s3?.exists || !!records?.cloudwatch?.exists;
  if (session.status === 'Failed' && !any) return { status: 'not-logged', reason: 'the session failed before it opened: there was nothing to record' };
  if (!places?.s3 && !places?.cloudwatch) {
    const own = session.document && session.document !== 'SSM-SessionManagerRunShell';
    const which = own ? `the session document ${session.document} sends` : 'the preferences send';
    const fix = own
      ? `give ${session.document} an s3BucketName or a cloudWatchLogGroupName, or start sessions with the preferences`
      : 'ssm-setup run preferences';
    return { status: 'missing', reason: `${which} session logs nowhere (no S3 bucket, no log group)`, fix };
  }
  const gaps = recordGaps(places, records);
  if (!gaps.length) return { status: 'logged' };
  if (kind === 'command' && !any) {
    return {
      status: 'not-logged',
      reason: `${session.document} session without any record: a command that carries a tunnel (nc, socat, ssh -W) is not content-logged`,
      fix: NOT_LOGGED_FIX,
    };
  }
  const cause = likelyCause(gaps, session, places, causes);
  return { status: 'missing', reason: `${gaps.map((g) => g.problem).join('; ')}; likely: ${cause.reason}`, fix: cause.fix };
}

function likelyCause(gaps: readonly RecordGap[], session: AuditSession, places: RecordPlaces, causes: Causes): { reason: string; fix: string } {
  const keyArn = places.s3?.keyArn;
  const bucketKey = causes.bucketKeyArn;
  if (gaps.some((g) => g.kind === 'encryption')) {
    if (keyArn && bucketKey && !sameKey(bucketKey, keyArn))
      return { reason: `the bucket's default key is ${bucketKey}, not the session key`, fix: 'ssm-setup run log-bucket' };
    return {
      reason: "the object was written with other encryption than the bucket's default now (before the bucket was set up, or by another writer)",
      fix: `ssm-setup check --instance-ids ${session.target}`,
    };
  }
  for (const destination of new Set(gaps.map((g) => g.destination))) {
    const checks = EXPLAINS[destination];
    for (const status of ['error', 'warning'] as const) {
      const f = causes.findings.find((x) => x.status === status && checks.includes(x.check));
      if (f) return { reason: f.detail, fix: f.fix ?? `ssm-setup check --instance-ids ${session.target}` };
    }
  }
  return {
    reason:
      'the account is set up right, so the instance: its role may not write the records (s3:PutObject, kms:GenerateDataKey, logs:PutLogEvents), its agent may be too old, or its network path may miss an endpoint',
    fix: `ssm-setup check --instance-ids ${session.target}`,
  };
}

/** Pure: the `--json` entry of a session. Records are shown only where they were looked up. */
export function sessionView(session: AuditSession, verdict: Verdict, records: SessionRecords | undefined): AuditSessionView {
  const s3 = records?.s3;
  return {
    sessionId: session.id,
    target: session.target,
    owner: session.owner,
    document: session.document || 'SSM-SessionManagerRunShell',
    start: session.start?.toISOString() ?? null,
    end: session.end?.toISOString() ?? null,
    status: verdict.status,
    s3: s3 ? { bucket: s3.bucket, key: s3.key, exists: s3.exists, encryption: s3.encryption ?? null, ...(s3.kmsKeyId ? { kmsKeyId: s3.kmsKeyId } : {}) } : null,
    cloudwatch: records?.cloudwatch ? { ...records.cloudwatch } : null,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
    ...(verdict.fix ? { fix: verdict.fix } : {}),
  };
}

/** Pure: the counts by status. */
export function summarize(views: readonly Pick<AuditSessionView, 'status'>[]): AuditSummary {
  const count = (s: AuditStatus) => views.filter((v) => v.status === s).length;
  return { total: views.length, logged: count('logged'), missing: count('missing'), notLogged: count('not-logged'), active: count('active') };
}
