import { AbortedError } from '../base/errors.js';
import type { Io } from '../core/io.js';
import type { Removal } from './types.js';

const declined = () => new AbortedError('DECLINED', 'Declined: nothing was removed.');

/**
 * Asks once for all the removals (default No), then, for each one that loses data for good
 * (the session logs, the key), has the operator type its name, as `gh repo delete` does: an
 * empty answer keeps it, and nothing at all is removed. `--yes` confirms; with --delete-logs it
 * also needed --force (src/cli/commands/destroy.ts), which stands for the typing.
 */
export async function confirmTeardown(io: Io, removals: readonly Removal[], opts: { readonly yes: boolean }): Promise<void> {
  if (!(await io.confirm({ id: 'destroy.confirm', message: `Remove these ${removals.length}?`, default: false }))) throw declined();
  if (opts.yes) return;
  for (const { typed } of removals) {
    if (!typed) continue;
    const answer = await io.input({
      id: typed.id,
      message: `To ${typed.what} for good, type ${typed.name} (empty: keep everything)`,
      flag: '--yes --force',
      validate: (v) => v === typed.name || v === '' || `type ${typed.name} exactly, or nothing to keep everything`,
    });
    if (answer !== typed.name) throw declined();
  }
}
