import type { Finding } from '../core/report.js';

export type { Finding };

/**
 * The finding constructors of `diagnose` and `check`: one row each, in the `--json` key order
 * (check, status, detail, fix). A `fix` is set only when there is one.
 */
export const ok = (check: string, detail: string): Finding => ({ check, status: 'ok', detail });

/** Something that may stop a session, or could not be told; the fix when there is one. */
export const warn = (check: string, detail: string, fix?: string): Finding =>
  fix === undefined ? { check, status: 'warning', detail } : { check, status: 'warning', detail, fix };

/** Something that stops a session (or registration), always with the one line that fixes it. */
export const error = (check: string, detail: string, fix: string): Finding => ({ check, status: 'error', detail, fix });
