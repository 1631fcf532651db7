import { describe, expect, it } from 'vitest';
import { filterTime, historyWarning, parseSince } from '../../src/audit/window.js';
import { UsageError } from '../../src/base/errors.js';

// --since: days or hours back, or a date; anything else is exit 2 naming the flag.
const NOW = new Date('2026-12-02T10:30:00.123Z');

describe('parseSince', () => {
  it('7d by default; days and hours count back from now; a date is midnight UTC; a date and time as given', () => {
    expect(parseSince(undefined, NOW).toISOString()).toBe('2026-11-25T10:30:00.123Z');
    expect(parseSince('24h', NOW).toISOString()).toBe('2026-12-01T10:30:00.123Z');
    expect(parseSince('30d', NOW).toISOString()).toBe('2026-11-02T10:30:00.123Z');
    expect(parseSince('2026-11-01', NOW).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseSince('2026-11-01T08:00:00+02:00', NOW).toISOString()).toBe('2026-11-01T06:00:00.000Z');
  });

  it.each(['', 'week', '7', '0d', '-1d', '7w', '2026-13-01', '2027-01-01', '2026-11-01 08:00'])('refuses %j: INVALID_SETTINGS naming --since', (v) => {
    let err: unknown;
    try {
      parseSince(v, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('INVALID_SETTINGS');
    expect((err as UsageError).message).toContain('--since');
  });
});

describe('filterTime and historyWarning', () => {
  it('InvokedAfter takes seconds, without milliseconds', () => {
    expect(filterTime(NOW)).toBe('2026-12-02T10:30:00Z');
  });

  it('warns only when the window reaches back beyond the 30 days of session history', () => {
    expect(historyWarning(parseSince('30d', NOW), NOW)).toBeUndefined();
    expect(historyWarning(parseSince('31d', NOW), NOW)).toContain('30 days');
  });
});
