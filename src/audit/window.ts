import { UsageError } from '../base/errors.js';

/** `--since` when not given. */
export const DEFAULT_SINCE = '7d';

/** Session Manager keeps the history of ended sessions this long (DescribeSessions, State History). */
export const HISTORY_DAYS = 30;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Pure: the start of the audit window. `7d` and `24h` count back from `now`; a date
 * (`2026-11-01`, midnight UTC) or a date and time (`2026-11-01T08:00:00Z`) is taken as it is.
 * Anything else, zero, or a moment after `now` is a UsageError naming `--since` (exit 2, before
 * any AWS call).
 */
export function parseSince(value: string | undefined, now: Date): Date {
  const text = (value ?? DEFAULT_SINCE).trim();
  const relative = /^(\d+)([dh])$/.exec(text);
  let since: Date | undefined;
  if (relative) {
    const n = Number(relative[1]);
    if (n > 0) since = new Date(now.getTime() - n * (relative[2] === 'd' ? DAY : HOUR));
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    since = new Date(`${text}T00:00:00Z`);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    since = new Date(text);
  }
  if (!since || Number.isNaN(since.getTime()) || since.getTime() > now.getTime()) {
    throw new UsageError('INVALID_SETTINGS', `--since: "${text}" is not a window ssm-setup understands`, {
      hint: 'give a number of days or hours back (7d, 24h), or a past date (2026-11-01) or date and time (2026-11-01T08:00:00Z)',
    });
  }
  return since;
}

/** The moment as DescribeSessions' InvokedAfter filter takes it: `2026-11-01T00:00:00Z`, without milliseconds. */
export const filterTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Pure: the warning when the window reaches back further than the session history Session Manager keeps. */
export function historyWarning(since: Date, now: Date): string | undefined {
  if (now.getTime() - since.getTime() <= HISTORY_DAYS * DAY) return undefined;
  return `Session Manager keeps ${HISTORY_DAYS} days of session history: sessions that ended before ${filterTime(new Date(now.getTime() - HISTORY_DAYS * DAY))} are not listed (their records, if any, stay in the bucket and the log group)`;
}
