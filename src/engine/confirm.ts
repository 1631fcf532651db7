import { AbortedError } from '../base/errors.js';
import type { Io } from '../core/io.js';
import type { ChangeRisk, ChangeView } from '../core/report.js';

/**
 * The one confirmation of a run, for any list of changes (`where`: e.g. ` in 3 accounts`), then
 * the risky ones on their own. `--yes` confirms (saying so); No is DECLINED (exit 130).
 */
export async function confirmChanges(changes: readonly ChangeView[], io: Io, id: string, where = ''): Promise<void> {
  const count = changes.length;
  if (!(await io.confirm({ id, message: `Apply ${count} change${count === 1 ? '' : 's'}${where}?`, default: true }))) {
    throw new AbortedError('DECLINED', 'Declined: nothing was changed.');
  }
  await confirmRisks(changes, io);
}

const RISK_LABEL: Record<ChangeRisk['kind'], string> = {
  'weakens-audit': 'weakens audit',
  'weakens-security': 'weakens security',
  foreign: "changes someone else's resource",
};

/**
 * Changes that weaken security or audit, or touch what someone else owns, are confirmed on their
 * own, default No (a person pressing Enter keeps what is deployed); under `--yes` they go ahead,
 * each printed as a warning first.
 */
async function confirmRisks(changes: readonly ChangeView[], io: Io): Promise<void> {
  const risky = changes.filter((c) => c.risk);
  if (!risky.length) return;
  for (const c of risky) io.warn(`${RISK_LABEL[c.risk!.kind]}: ${c.resource}: ${c.detail} (${c.risk!.why})`);
  const n = risky.length;
  const message = `${n} of these change${n === 1 ? 's' : ''} weaken${n === 1 ? 's' : ''} security or audit, or change${n === 1 ? 's' : ''} a resource ssm-setup did not create. Make ${n === 1 ? 'it' : 'them'} too?`;
  if (!(await io.confirm({ id: 'runner.confirm-risky', message, default: false }))) {
    throw new AbortedError(
      'DECLINED',
      'Declined: nothing was changed. Keep the deployed value (drop the flag or config key that changes it) to apply the rest.',
    );
  }
}
