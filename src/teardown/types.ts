import type { Settings } from '../config/schema.js';
import type { Clients, Identity } from '../core/clients.js';
import type { Io } from '../core/io.js';

/**
 * Deleting this loses data for good: before it, the operator types `name` (the bucket's name,
 * the key's alias), as `gh repo delete` asks for the repository's; `--yes --force` skips it.
 */
export interface TypedConfirmation {
  /** The prompt's stable id (`destroy.confirm-bucket-name`). */
  readonly id: string;
  readonly name: string;
  /** What typing it allows, e.g. `delete bucket X and every session log in it`. */
  readonly what: string;
}

/** One thing `destroy` will do, shown before it is done. */
export interface Removal {
  /** Which part of the setup it belongs to (a step id). */
  readonly step: string;
  readonly action: 'delete' | 'update';
  readonly resource: string;
  readonly detail: string;
  /** Does it; a removal that is only scheduled (the key) says so, for the summary to say instead of "removed". */
  // biome-ignore lint/suspicious/noConfusingVoidType: most removals return nothing at all
  readonly run: () => Promise<RemovalOutcome | void>;
  readonly typed?: TypedConfirmation;
}

/** A removal that is not done at once: one line for the summary, with the date and how to undo it. */
export interface RemovalOutcome {
  readonly scheduled: string;
}

/** Something of ssm-setup's (or named like it) that `destroy` leaves, and why: shown in the plan. */
export interface Kept {
  readonly step: string;
  readonly resource: string;
  readonly why: string;
}

/** What one part of the setup reads to: the removals, in order, and what it keeps. */
export interface Teardown {
  readonly removals: readonly Removal[];
  readonly kept: readonly Kept[];
}

export const NOTHING: Teardown = { removals: [], kept: [] };

/** The parts in the order given: their removals run in that order. */
export const merge = (...parts: readonly Teardown[]): Teardown => ({
  removals: parts.flatMap((p) => p.removals),
  kept: parts.flatMap((p) => p.kept),
});

export interface TeardownContext {
  readonly settings: Settings;
  readonly identity: Identity;
  readonly region: string;
  readonly aws: Clients;
  readonly io: Io;
  /** `--delete-logs`: the log group, the emptied bucket and (scheduled) the key go too. */
  readonly deleteLogs: boolean;
}

export const isOurs = (tags: Readonly<Record<string, string>> | undefined) => tags?.ManagedBy === 'ssm-setup';

/** `a, b, c and 4 more`: a few names of a long list. */
export function someOf(names: readonly string[], shown = 5): string {
  const more = names.length - shown;
  return more > 0 ? `${names.slice(0, shown).join(', ')} and ${more} more` : names.join(', ');
}
